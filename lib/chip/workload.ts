// Deterministic workloads: the characterisation weights and inputs of Fig. 2 (uniform,
// 30 % zeros by default), keyed by (seed, core, purpose) so that any core's matrix can be
// regenerated alone, in any order, on any thread.

import { ARCH } from "./config.ts";
import { Purpose } from "./rng.ts";
import { ArgumentError } from "../runtime/validate.ts";
import { WasmRuntime } from "../runtime/wasm.ts";

export const PURPOSE_WEIGHTS = Purpose.WEIGHTS;
export const PURPOSE_INPUTS = Purpose.INPUTS;
export const DEFAULT_SPARSITY = 0.3;

const CELLS = ARCH.crossbarRows.value * ARCH.crossbarCols.value;

/** n values uniform in (−1, 1), a fraction `sparsity` of them 0, for (seed, core, purpose, step). */
export function sparseUniform(seed: bigint, core: number, purpose: number, n: number, sparsity = DEFAULT_SPARSITY, step = 0): Float32Array {
  if (!(sparsity >= 0 && sparsity <= 1)) throw new ArgumentError("sparsity", "a number in 0..1", sparsity);
  const rt = WasmRuntime.get();
  const ptr = rt.alloc(Math.max(4, n * 4));
  try {
    rt.kernels.sparseUniform(
      Number(seed & 0xffffffffn) | 0, Number((seed >> 32n) & 0xffffffffn) | 0,
      (core & 0xff) | (purpose << 8), 0, step, sparsity, ptr, n,
    );
    return rt.f32(ptr, n).slice();
  } finally {
    rt.free(ptr);
  }
}

/** The weights of one core for the characterisation workload (256 × 256, row-major). */
export function characterisationWeights(seed: bigint, core: number, sparsity = DEFAULT_SPARSITY): Float32Array {
  return sparseUniform(seed, core, PURPOSE_WEIGHTS, CELLS, sparsity);
}
