// The characterisation workload of Fig. 2: values uniform in (−1, 1) with a fraction
// `sparsity` (in expectation) set to exactly 0. Values 2m and 2m + 1 come from Philox
// block m of the stream (counter = (m, step, streamLo, streamHi)): words 0 and 2 give
// the values' uniforms, words 1 and 3 decide whether each is zero.

import { philox, r0, r1, r2, r3, uniform } from "./philox";

/** Fill `out` (f32[n]) with sparse uniform values of stream (streamLo, streamHi), step `step`. */
export function sparseUniform(
  seedLo: u32, seedHi: u32, streamLo: u32, streamHi: u32, step: u32, sparsity: f64, out: usize, n: i32,
): void {
  for (let i = 0; i < n; i += 2) {
    philox(<u32>(i >>> 1), step, streamLo, streamHi, seedLo, seedHi);
    const a = uniform(r1) < sparsity ? 0.0 : 2.0 * uniform(r0) - 1.0;
    const b = uniform(r3) < sparsity ? 0.0 : 2.0 * uniform(r2) - 1.0;
    store<f32>(out + (<usize>i << 2), <f32>a);
    if (i + 1 < n) store<f32>(out + (<usize>(i + 1) << 2), <f32>b);
  }
}
