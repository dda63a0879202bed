// The paper's reference for equivalent bits (Fig. 2d dashed lines): an ideal digital
// engine with 8-bit inputs and outputs and N-bit weights on the same W and x. Outputs are
// quantised symmetrically to 8 bits over the core's max |y| (lib/study/metrics.ts
// quantiseWeight/quantiseOutputs define the grids); the error is ‖ŷ − y_fp‖/‖y_fp‖.
// Integer weights × INT8 inputs run on the exact int16 kernel, y_fp on the f32 kernel.

import type { SharedInputs } from "./characterize-core.ts";
import { maxAbs } from "../chip/targets.ts";
import { WasmRuntime } from "../runtime/wasm.ts";
import { characterisationWeights } from "../chip/workload.ts";

const N = 256;
const CELLS = N * N;
export const MAX_BITS = 8;

/** Mean over cores 0..nCores−1 of the normalised error for N = 1..MAX_BITS. */
export function digitalEngineErrors(seed: bigint, sh: SharedInputs, nCores: number, onCore?: (done: number, total: number) => void): number[] {
  const rt = WasmRuntime.get();
  const n = sh.nInputs;
  const ptrs = [rt.alloc(n * N * 2), rt.alloc(n * N * 4), rt.alloc(CELLS * 4), rt.alloc(CELLS * 2), rt.alloc(n * N * 4), rt.alloc(n * N * 4)];
  const [xi, xf, wf, wq, yi, yf] = ptrs as [number, number, number, number, number, number];
  try {
    const x = rt.i8(sh.x, n * N);
    rt.i16(xi, n * N).set(x);
    rt.f32(xf, n * N).set(x);
    const sums = new Array<number>(MAX_BITS).fill(0);
    for (let core = 0; core < nCores; core++) {
      const w = characterisationWeights(seed, core);
      const wmax = maxAbs(w);
      rt.f32(wf, CELLS).set(w);
      rt.kernels.mvmF32(wf, N, N, xf, n, yf);
      const fp = rt.f32(yf, n * N).slice();
      let norm = 0;
      for (let i = 0; i < fp.length; i++) norm += fp[i]! ** 2;
      for (let bits = 1; bits <= MAX_BITS; bits++) {
        const levels = bits === 1 ? 1 : 2 ** (bits - 1) - 1;
        const step = wmax / levels;
        const q = rt.i16(wq, CELLS);
        for (let i = 0; i < CELLS; i++) {
          const v = w[i]!;
          q[i] = bits === 1 ? Math.sign(v) : Math.max(-levels, Math.min(levels, Math.round(v / step)));
        }
        rt.kernels.mvmI16(wq, N, N, xi, n, yi);
        const y = rt.i32(yi, n * N);
        let m = 0;
        for (let i = 0; i < y.length; i++) m = Math.max(m, Math.abs(y[i]!));
        const outStep = (m * step) / 127;
        let err = 0;
        for (let i = 0; i < y.length; i++) {
          const yq = m ? Math.round((y[i]! * step) / outStep) * outStep : 0;
          err += (yq - fp[i]!) ** 2;
        }
        sums[bits - 1]! += Math.sqrt(err / norm);
      }
      onCore?.(core + 1, nCores);
    }
    return sums.map((s) => s / nCores);
  } finally {
    for (const p of ptrs) rt.free(p);
  }
}
