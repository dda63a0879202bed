// Iterative program-and-verify of one core (paper Methods "Weight programming",
// EDF 5b), device by device, all 65,536 cells in one call.
//
// Per cell with signed target T (counts):
//  1. RESET all four devices.
//  2. |T| below the margin: nothing more (RESET is within the margin of 0).
//     Otherwise SET the devices of T's polarity (ODP: device 1; TDP, max-fill: 1 and 2)
//     and read their SET conductances.
//  3. Select: ODP iterates device 1 towards |T|. TDP: if |T| exceeds both SET reads, the
//     device with the lower SET is iterated towards |T| − (the other's SET read) and the
//     other stays SET; otherwise the device with the higher SET is iterated towards |T|
//     and the other is RESET. Max-fill iterates both devices, each towards |T|/2.
//  4. Iterate (a "job" is one iterated device): while the last read is not within the
//     margin and fewer than 30 pulses were given: pulse at the current, verify-read,
//     update the current by gain · error / (nominal slope at the goal), clamp to
//     125..700 µA. The first current aims with the chip-average curve inverse.
//
// Randomness: Philox blocks keyed by (seed; job or cell, step, core|purpose). Steps:
// 101 = SET noise + SET reads, k = 1..30 = pulse jitter (z0) and verify read noise (z1)
// of iteration k. RESET pulses draw nothing (see pcm.ts). Hence the same seed gives the same bits whatever the order of work.
//
// Memory: `state` holds four f32 planes (g1+, g2+, g1−, g2−) of 65,536 cells.
// `work` (WORK_BYTES) holds, per job j (j = cell, or cell + 65,536 for the second
// max-fill device): active list, current, goal, last error, plane, iterations.

import { normals4, z0, z1, z2, z3 } from "./philox";
import {
  PURPOSE_PROGRAM, P_GAIN, P_I_MAX, P_I_MIN, P_MARGIN, P_MAX_ITER, P_SCHEME, aimCurrent, dFloor, dMid,
  SLOT_BYTES, cellProps, dSet, dStuck, dWidth, loadProps, nominalSlope, param, pulse, resetPulse, seedHi, seedLo, setPulse,
  stream, useProps, verifyRead,
} from "./pcm";

const CELLS: i32 = 65536;
const JOBS: i32 = 2 * CELLS;

export const WORK_ACTIVE: usize = 0; // i32[JOBS]
export const WORK_CURRENT: usize = WORK_ACTIVE + (<usize>JOBS << 2); // f32[JOBS]
export const WORK_GOAL: usize = WORK_CURRENT + (<usize>JOBS << 2); // f32[JOBS]
export const WORK_LAST_ERR: usize = WORK_GOAL + (<usize>JOBS << 2); // f32[JOBS]
export const WORK_GSET: usize = WORK_LAST_ERR + (<usize>JOBS << 2); // f32[JOBS] SET read of the job's device
export const WORK_PLANE: usize = WORK_GSET + (<usize>JOBS << 2); // u8[JOBS], 255 = no job
export const WORK_ITERS: usize = WORK_PLANE + <usize>JOBS; // u8[JOBS]
export const WORK_STUCK: usize = WORK_ITERS + <usize>JOBS; // u8[JOBS] cached device props:
export const WORK_SET: usize = WORK_STUCK + <usize>JOBS; // f32[JOBS]
export const WORK_FLOOR: usize = WORK_SET + (<usize>JOBS << 2); // f32[JOBS]
export const WORK_MID: usize = WORK_FLOOR + (<usize>JOBS << 2); // f32[JOBS]
export const WORK_WIDTH: usize = WORK_MID + (<usize>JOBS << 2); // f32[JOBS]
export const WORK_SLOT: usize = WORK_WIDTH + (<usize>JOBS << 2); // one cell's device props
export const WORK_BYTES: usize = WORK_SLOT + SLOT_BYTES;

export function programWorkBytes(): usize {
  return WORK_BYTES;
}

// @ts-ignore: decorator
@inline
function plane(state: usize, q: i32): usize {
  return state + (<usize>(q * CELLS) << 2);
}

/**
 * Program one core. `targets`: f32[65536] signed counts. Returns the number of jobs
 * (iterated devices); per-job results are in `work` (see layout above).
 */
export function programCore(p: usize, targets: usize, state: usize, work: usize): i32 {
  const k0 = seedLo(p), k1 = seedHi(p);
  const sProg = stream(p, PURPOSE_PROGRAM);
  const scheme = <i32>param(p, P_SCHEME);
  const margin = param(p, P_MARGIN);
  const active = work + WORK_ACTIVE;
  const cur = work + WORK_CURRENT;
  const goal = work + WORK_GOAL;
  const lastErr = work + WORK_LAST_ERR;
  const gsetArr = work + WORK_GSET;
  const planes = work + WORK_PLANE;
  const iters = work + WORK_ITERS;
  memory.fill(planes, 255, <usize>JOBS);
  memory.fill(iters, 0, <usize>JOBS);
  let n = 0; // active jobs

  for (let cell = 0; cell < CELLS; cell++) {
    const t = <f64>load<f32>(targets + (<usize>cell << 2));
    const q1 = t >= 0 ? 0 : 2; // device 1 of the weight's polarity
    const q2 = q1 + 1; // device 2
    // 1. RESET all four devices.
    const slot = work + WORK_SLOT;
    cellProps(p, cell, slot);
    for (let q = 0; q < 4; q++) {
      loadProps(slot, q);
      storeG(state, q, cell, resetPulse(p));
    }
    loadProps(slot, q2);
    const set2 = dSet, floor2 = dFloor, mid2 = dMid, width2 = dWidth, stuck2 = dStuck;
    loadProps(slot, q1);
    const set1 = dSet, floor1 = dFloor, mid1 = dMid, width1 = dWidth, stuck1 = dStuck;
    const mag = Math.abs(t);
    if (mag < margin) continue;
    // 2. SET the devices of the weight's polarity and read them.
    normals4(<u32>cell, 101, sProg, 0, k0, k1);
    const zs2 = z1, zread1 = z2, zread2 = z3;
    const g1 = <f64><f32>setPulse(p, z0);
    storeG(state, q1, cell, g1);
    const r1 = verifyRead(p, g1, zread1);
    let r2: f64 = 0;
    if (scheme != 0) {
      useProps(set2, floor2, mid2, width2, stuck2);
      const g2 = <f64><f32>setPulse(p, zs2);
      storeG(state, q2, cell, g2);
      r2 = verifyRead(p, g2, zread2);
    }
    // 3. Select the iterated device(s); cache their properties with the job.
    if (scheme == 0) {
      useProps(set1, floor1, mid1, width1, stuck1);
      n = addJob(work, n, cell, q1, mag, r1, p);
    } else if (scheme == 1) {
      if (mag > r1 && mag > r2) {
        // Iterate the lower, leave the higher SET.
        if (r1 <= r2) {
          useProps(set1, floor1, mid1, width1, stuck1);
          n = addJob(work, n, cell, q1, mag - r2, r1, p);
        } else {
          useProps(set2, floor2, mid2, width2, stuck2);
          n = addJob(work, n, cell, q2, mag - r1, r2, p);
        }
      } else {
        // Iterate the higher, RESET the other.
        if (r1 >= r2) {
          useProps(set2, floor2, mid2, width2, stuck2);
          storeG(state, q2, cell, resetPulse(p));
          useProps(set1, floor1, mid1, width1, stuck1);
          n = addJob(work, n, cell, q1, mag, r1, p);
        } else {
          useProps(set1, floor1, mid1, width1, stuck1);
          storeG(state, q1, cell, resetPulse(p));
          useProps(set2, floor2, mid2, width2, stuck2);
          n = addJob(work, n, cell, q2, mag, r2, p);
        }
      }
    } else {
      useProps(set1, floor1, mid1, width1, stuck1);
      n = addJob(work, n, cell, q1, mag * 0.5, r1, p);
      useProps(set2, floor2, mid2, width2, stuck2);
      n = addJob(work, n, cell + CELLS, q2, mag * 0.5, r2, p);
    }
  }

  // 4. Iterate all unconverged jobs together, compacting the active list each round.
  const maxIter = <i32>param(p, P_MAX_ITER);
  const gain = param(p, P_GAIN);
  const iMin = param(p, P_I_MIN), iMax = param(p, P_I_MAX);
  let live = 0;
  for (let i = 0; i < n; i++) {
    const j = load<i32>(active + (<usize>i << 2));
    if (Math.abs(<f64>load<f32>(lastErr + (<usize>j << 2))) >= margin) {
      store<i32>(active + (<usize>live << 2), j);
      live++;
    }
  }
  for (let k = 1; k <= maxIter && live > 0; k++) {
    let next = 0;
    for (let i = 0; i < live; i++) {
      const j = load<i32>(active + (<usize>i << 2));
      const cell = j & (CELLS - 1);
      const q = <i32>load<u8>(planes + <usize>j);
      const off = <usize>j << 2;
      useProps(
        <f64>load<f32>(work + WORK_SET + off), <f64>load<f32>(work + WORK_FLOOR + off),
        <f64>load<f32>(work + WORK_MID + off), <f64>load<f32>(work + WORK_WIDTH + off),
        <i32>load<u8>(work + WORK_STUCK + <usize>j),
      );
      normals4(<u32>j, <u32>k, sProg, 0, k0, k1);
      const current = <f64>load<f32>(cur + off);
      const g = <f64><f32>pulse(p, current, z0); // the device state is f32; read what is stored
      store<f32>(plane(state, q) + (<usize>cell << 2), <f32>g);
      const target = <f64>load<f32>(goal + off);
      const err = verifyRead(p, g, z1) - target;
      store<f32>(lastErr + off, <f32>err);
      store<u8>(iters + <usize>j, <u8>k);
      if (Math.abs(err) >= margin) {
        const slope = nominalSlope(p, target, <f64>load<f32>(gsetArr + off));
        const nc = min(max(current + (gain * err) / slope, iMin), iMax);
        store<f32>(cur + off, <f32>nc);
        store<i32>(active + (<usize>next << 2), j);
        next++;
      }
    }
    live = next;
  }
  return n;
}

// @ts-ignore: decorator
@inline
function storeG(state: usize, q: i32, cell: i32, g: f64): void {
  store<f32>(plane(state, q) + (<usize>cell << 2), <f32>g);
}

/** Queue device `q` of a cell as job `j`, with the device properties currently loaded. */
// @ts-ignore: decorator
@inline
function addJob(work: usize, n: i32, j: i32, q: i32, target: f64, gsetRead: f64, p: usize): i32 {
  const off = <usize>j << 2;
  store<i32>(work + WORK_ACTIVE + (<usize>n << 2), j);
  store<u8>(work + WORK_PLANE + <usize>j, <u8>q);
  store<f32>(work + WORK_GOAL + off, <f32>target);
  store<f32>(work + WORK_GSET + off, <f32>gsetRead);
  // The device was just SET: its SET read is the first verify.
  store<f32>(work + WORK_LAST_ERR + off, <f32>(gsetRead - target));
  store<f32>(work + WORK_CURRENT + off, <f32>aimCurrent(p, target, gsetRead));
  store<f32>(work + WORK_SET + off, <f32>dSet);
  store<f32>(work + WORK_FLOOR + off, <f32>dFloor);
  store<f32>(work + WORK_MID + off, <f32>dMid);
  store<f32>(work + WORK_WIDTH + off, <f32>dWidth);
  store<u8>(work + WORK_STUCK + <usize>j, <u8>dStuck);
  return n + 1;
}
