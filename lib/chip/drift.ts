// The crossbar as read at time t after programming: drifted unit-cell conductances, their
// sums over the four devices and per-cell read-noise variances (assembly/drift.ts, the
// HERMES fit of lib/chip/config.ts DRIFT).

import { DRIFT, type PiecewiseFit } from "./config.ts";
import { ArgumentError } from "../runtime/validate.ts";
import { WasmRuntime } from "../runtime/wasm.ts";

const CELLS = 65536;
export const DRIFT_PARAM_COUNT = 34;

const coefficients = (f: PiecewiseFit): number[] => [f.threshold, f.a, f.b, f.lo, f.hi, f.c0, f.c1, f.c2, f.c3];

/** Parameter block; layout must match assembly/drift.ts (D_* indices). */
export function driftParams(seed: bigint, core: number): Float64Array {
  const D = DRIFT;
  return Float64Array.from([
    Number(seed & 0xffffffffn), Number((seed >> 32n) & 0xffffffffn), core,
    D.gRefCounts.value, D.gRelMin.value, D.gRelMax.value, D.readNoiseFactor.value,
    ...coefficients(D.nuMean.value), ...coefficients(D.nuStd.value), ...coefficients(D.noiseQ.value),
  ]);
}

/** Check a read time: seconds since programming, finite and ≥ 0. */
export function checkTime(t: unknown, argument = "t"): number {
  if (typeof t !== "number" || !Number.isFinite(t) || t < 0) {
    throw new ArgumentError(argument, "a finite time in seconds ≥ 0 (since programming)", t);
  }
  return t;
}

/** The per-time factors the kernel takes: ln((t + t0)/t0) and √ln((t + t0 + t_r)/(t0 + t_r)). */
export function timeFactors(t: number): { logDecay: number; accumulated: number } {
  const t0 = DRIFT.t0S.value;
  const tr = DRIFT.tReadS.value;
  return { logDecay: Math.log((t + t0) / t0), accumulated: Math.sqrt(Math.log((t + t0 + tr) / (t0 + tr))) };
}

/** The noise step of a time: the bits of t as an f32 (so a time's draws do not depend on the other times read with it). */
export function timeKey(t: number): number {
  return new Uint32Array(Float32Array.of(t).buffer)[0]!;
}

export interface CoreRead {
  /** Unit-cell conductance G(t) = g1+ + g2+ − g1− − g2−, counts, 256 × 256. */
  g: Float32Array;
  /** Sum of the four device conductances, counts. */
  sum: Float32Array;
  /** Variance of one read of each cell, counts². */
  variance: Float32Array;
}

/** Fill the kernel's time block (2 f64 per time) and key block (u32 per time). */
export function writeTimes(rt: WasmRuntime, timesPtr: number, keysPtr: number, times: readonly number[]): void {
  const f = rt.f64(timesPtr, 2 * times.length);
  const k = rt.u32(keysPtr, times.length);
  times.forEach((t, i) => {
    const { logDecay, accumulated } = timeFactors(t);
    f[2 * i] = logDecay;
    f[2 * i + 1] = accumulated;
    k[i] = timeKey(t);
  });
}

/** Read a core's device planes (at `statePtr`) at time t. */
export function readCore(seed: bigint, core: number, statePtr: number, t: number): CoreRead {
  return readCoreAt(seed, core, statePtr, [t])[0]!;
}

/** Read a core's device planes at several times in one pass (ν drawn once per device). */
export function readCoreAt(seed: bigint, core: number, statePtr: number, times: readonly number[]): CoreRead[] {
  if (!Array.isArray(times) || times.length === 0) throw new ArgumentError("times", "a non-empty array of times in seconds", times);
  times.forEach((t, i) => checkTime(t, `times[${i}]`));
  const rt = WasmRuntime.get();
  const n = times.length;
  const p = rt.scratch("drift.params", DRIFT_PARAM_COUNT * 8);
  const tp = rt.scratch("drift.times", n * 16);
  const kp = rt.scratch("drift.keys", n * 4);
  const g = rt.scratch("drift.g", n * CELLS * 4);
  const s = rt.scratch("drift.s", n * CELLS * 4);
  const v = rt.scratch("drift.var", n * CELLS * 4);
  rt.f64(p, DRIFT_PARAM_COUNT).set(driftParams(seed, core));
  writeTimes(rt, tp, kp, times);
  rt.kernels.readCellsAt(p, statePtr, tp, kp, n, g, s, v);
  return times.map((_, k) => ({
    g: rt.f32(g + k * CELLS * 4, CELLS).slice(),
    sum: rt.f32(s + k * CELLS * 4, CELLS).slice(),
    variance: rt.f32(v + k * CELLS * 4, CELLS).slice(),
  }));
}
