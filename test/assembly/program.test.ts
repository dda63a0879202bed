// The program-and-verify kernel on hand-built cells, checked against an independent
// TypeScript statement of the Methods' rules.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { P, coreDeviceStats, packParams } from "../../lib/chip/pcm-params.ts";
import { WORK } from "../../lib/chip/program.ts";
import type { Scheme } from "../../lib/chip/targets.ts";
import { WasmRuntime } from "../../lib/runtime/wasm.ts";

const CELLS = 65536;
const rt = WasmRuntime.get();
const seed = 11n;
const stats = coreDeviceStats(seed)[3]!;

/** A parameter block with every cycle-to-cycle and read noise switched off. */
function quietParams(scheme: Scheme): Float64Array {
  const b = packParams(seed, 3, stats, scheme);
  b[P.JITTER_UA] = 0;
  b[P.SET_C2C] = 0;
  b[P.READ_A] = 0;
  b[P.READ_B] = 0;
  b[P.READ_C] = 0;
  b[P.STUCK_RESET] = 0;
  b[P.STUCK_SET] = 0;
  return b;
}

function props(params: Float64Array, dev: number) {
  const pp = rt.alloc(P.COUNT * 8);
  const out = rt.alloc(64);
  try {
    rt.f64(pp, P.COUNT).set(params);
    rt.kernels.devicePropsAt(pp, dev, out);
    const v = rt.f64(out, 5);
    return { set: v[0]!, floor: v[1]!, mid: v[2]!, width: v[3]!, stuck: v[4]! };
  } finally {
    rt.free(out);
    rt.free(pp);
  }
}

function run(params: Float64Array, targets: Float32Array) {
  const pp = rt.alloc(P.COUNT * 8);
  const tp = rt.alloc(CELLS * 4);
  const sp = rt.alloc(CELLS * 16);
  const wp = rt.alloc(WORK.BYTES);
  try {
    rt.f64(pp, P.COUNT).set(params);
    rt.f32(tp, CELLS).set(targets);
    const jobs = rt.kernels.programCore(pp, tp, sp, wp);
    return {
      jobs,
      planes: [0, 1, 2, 3].map((q) => rt.f32(sp + q * CELLS * 4, CELLS).slice()),
      plane: rt.u8(wp + WORK.PLANE, 2 * CELLS).slice(),
      iters: rt.u8(wp + WORK.ITERS, 2 * CELLS).slice(),
      lastErr: rt.f32(wp + WORK.LAST_ERR, 2 * CELLS).slice(),
      goal: rt.f32(wp + WORK.GOAL, 2 * CELLS).slice(),
    };
  } finally {
    rt.free(wp);
    rt.free(sp);
    rt.free(tp);
    rt.free(pp);
  }
}

test("work-area layout in TypeScript matches the kernel's", () => {
  assert.is(rt.kernels.programWorkBytes(), WORK.BYTES);
});

test("TDP device selection follows the Methods on hand-built cells", () => {
  const params = quietParams("tdp");
  const targets = new Float32Array(CELLS);
  // Cells 0..199: alternate targets above both SET values and below both.
  const cases: { cell: number; above: boolean; negative: boolean }[] = [];
  for (let cell = 0; cell < 200; cell++) {
    const negative = cell % 3 === 0;
    const q1 = negative ? 2 : 0;
    const a = props(params, q1 * CELLS + cell);
    const b = props(params, (q1 + 1) * CELLS + cell);
    if (a.stuck || b.stuck) continue;
    const setA = Math.round(a.set + a.floor);
    const setB = Math.round(b.set + b.floor);
    if (Math.abs(setA - setB) < 2) continue; // ties are not what this test is about
    const above = cell % 2 === 0;
    const mag = above ? Math.max(setA, setB) + 20 : Math.min(setA, setB) - 20;
    targets[cell] = negative ? -mag : mag;
    cases.push({ cell, above, negative });
  }
  assert.ok(cases.length > 100, `enough cells (${cases.length})`);
  const r = run(params, targets);
  for (const { cell, above, negative } of cases) {
    const q1 = negative ? 2 : 0;
    const a = props(params, q1 * CELLS + cell);
    const b = props(params, (q1 + 1) * CELLS + cell);
    const setA = Math.round(a.set + a.floor);
    const setB = Math.round(b.set + b.floor);
    const mag = Math.abs(targets[cell]!);
    const iterated = r.plane[cell]!;
    if (above) {
      // |G| exceeds both SETs: the lower one is iterated, the other left SET.
      const lower = setA < setB ? q1 : q1 + 1;
      const other = lower === q1 ? q1 + 1 : q1;
      assert.is(iterated, lower, `cell ${cell}: lower device iterated`);
      const otherSet = lower === q1 ? b.set + b.floor : a.set + a.floor;
      assert.ok(Math.abs(r.planes[other]![cell]! - otherSet) < 1e-3, `cell ${cell}: other device still SET`);
      assert.ok(Math.abs(r.goal[cell]! - (mag - (lower === q1 ? setB : setA))) < 1e-4, `cell ${cell}: goal = |G| − other SET`);
    } else {
      // Otherwise the higher one is iterated and the other RESET.
      const higher = setA >= setB ? q1 : q1 + 1;
      const other = higher === q1 ? q1 + 1 : q1;
      assert.is(iterated, higher, `cell ${cell}: higher device iterated`);
      assert.ok(r.planes[other]![cell]! < 5, `cell ${cell}: other device RESET (${r.planes[other]![cell]})`);
      assert.ok(Math.abs(r.goal[cell]! - mag) < 1e-4);
    }
    // The opposite polarity's devices are RESET.
    const o = 2 - q1;
    assert.ok(r.planes[o]![cell]! < 5 && r.planes[o + 1]![cell]! < 5, `cell ${cell}: opposite polarity RESET`);
    assert.is(r.plane[cell + CELLS], 255, "TDP has no second job");
  }
});

test("ODP iterates device 1 of the weight's polarity; zero targets stay RESET", () => {
  const params = quietParams("odp");
  const targets = new Float32Array(CELLS);
  for (let i = 0; i < CELLS; i++) targets[i] = i % 4 === 0 ? 0 : ((i % 7) - 3) * 20 + (i % 2 ? 1 : -1);
  const r = run(params, targets);
  for (let i = 0; i < 5000; i++) {
    const t = targets[i]!;
    if (Math.abs(t) < 5) {
      assert.is(r.plane[i], 255, `cell ${i}: no job for |target| < margin`);
      for (let q = 0; q < 4; q++) assert.ok(r.planes[q]![i]! < 5);
    } else {
      assert.is(r.plane[i], t > 0 ? 0 : 2, `cell ${i}: device 1 of the polarity`);
      assert.ok(r.planes[t > 0 ? 1 : 3]![i]! < 5, `cell ${i}: device 2 RESET`);
    }
  }
});

test("a converged device is within the margin at its last verify read; others used 30 pulses", () => {
  for (const scheme of ["odp", "tdp", "tdp-maxfill"] as Scheme[]) {
    const params = quietParams(scheme);
    const targets = new Float32Array(CELLS);
    const gmax = scheme === "odp" ? 80 : 160; // the default chip's Gmax (targets reachable)
    for (let i = 0; i < CELLS; i++) targets[i] = ((((i * 2654435761) >>> 0) % 2001) / 1000 - 1) * gmax;
    const r = run(params, targets);
    let converged = 0;
    let jobs = 0;
    for (let j = 0; j < 2 * CELLS; j++) {
      const q = r.plane[j]!;
      if (q === 255) continue;
      jobs++;
      const cell = j & (CELLS - 1);
      // With read noise off, the verify read is the device's conductance rounded to counts.
      if (r.iters[j]! > 0) {
        // (AssemblyScript's Math.round has JavaScript's semantics: ties round up.)
        const read = Math.round(r.planes[q]![cell]!);
        assert.ok(Math.abs(read - r.goal[j]! - r.lastErr[j]!) < 1e-3, `${scheme} job ${j}: last error is the last read − goal`);
      }
      if (Math.abs(r.lastErr[j]!) < 5) converged++;
      else assert.is(r.iters[j], 30, `${scheme} job ${j}: unconverged devices used every iteration`);
      assert.ok(r.iters[j]! <= 30);
    }
    assert.is(jobs, r.jobs);
    assert.ok(converged / jobs > 0.98, `${scheme}: ${converged}/${jobs} converged`);
  }
});

test("same parameters give bit-identical conductances; another seed differs", () => {
  const targets = new Float32Array(CELLS);
  for (let i = 0; i < CELLS; i++) targets[i] = ((i * 7919) % 301) - 150;
  const a = run(packParams(seed, 3, stats, "tdp"), targets);
  const b = run(packParams(seed, 3, stats, "tdp"), targets);
  const c = run(packParams(seed + 1n, 3, stats, "tdp"), targets);
  for (let q = 0; q < 4; q++) {
    assert.equal(new Uint32Array(a.planes[q]!.buffer), new Uint32Array(b.planes[q]!.buffer));
  }
  let diff = 0;
  for (let i = 0; i < CELLS; i++) if (a.planes[0]![i] !== c.planes[0]![i]) diff++;
  assert.ok(diff > CELLS / 4);
});

test.run();
