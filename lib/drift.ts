// The crossbar as read at time t after programming: drifted unit-cell conductances and
// per-cell read-noise variances (assembly/drift.ts), parameters from lib/config.ts.

import { DRIFT } from "./config.ts";
import { ArgumentError } from "./validate.ts";
import { WasmRuntime } from "./wasm.ts";

const CELLS = 65536;
export const DRIFT_PARAM_COUNT = 18;

/** Parameter block; layout must match assembly/drift.ts (D_* indices). */
export function driftParams(seed: bigint, core: number): Float64Array {
  const D = DRIFT;
  return Float64Array.from([
    Number(seed & 0xffffffffn), Number((seed >> 32n) & 0xffffffffn), core,
    D.t0S.value, D.gRefCounts.value,
    D.nuMeanA.value, D.nuMeanB.value, D.nuMeanMin.value, D.nuMeanMax.value,
    D.nuStdA.value, D.nuStdB.value, D.nuStdMin.value, D.nuStdMax.value, D.nuMax.value,
    D.readNoiseRel.value, D.readNoiseExponent.value, D.readNoiseRelMax.value, D.gMinCounts.value,
  ]);
}

/** Check a read time: seconds since programming, finite and positive. */
export function checkTime(t: unknown, argument = "t"): number {
  if (typeof t !== "number" || !Number.isFinite(t) || t <= 0) {
    throw new ArgumentError(argument, "a finite time in seconds > 0 (since programming)", t);
  }
  return t;
}

export interface CoreRead {
  /** Unit-cell conductance G(t), counts, 256 × 256. */
  g: Float32Array;
  /** Variance of one read of each cell, counts². */
  variance: Float32Array;
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
  const tp = rt.scratch(`drift.times`, Math.max(8, n * 8));
  const g = rt.scratch("drift.g", n * CELLS * 4);
  const v = rt.scratch("drift.var", n * CELLS * 4);
  rt.f64(p, DRIFT_PARAM_COUNT).set(driftParams(seed, core));
  rt.f64(tp, n).set(times.map((t) => Math.max(0, Math.log(t / DRIFT.t0S.value))));
  rt.kernels.readCellsAt(p, statePtr, tp, n, g, v);
  return times.map((_, k) => ({
    g: rt.f32(g + k * CELLS * 4, CELLS).slice(),
    variance: rt.f32(v + k * CELLS * 4, CELLS).slice(),
  }));
}
