// The full MVM pipeline of one 256 × 256 core at batch 1,024 on one thread, through the
// public API (chip.at(t).mvm): physical (drift planes, read noise, leakage, 4-phase
// charges, ADC counters, FP16 LDPU) and functional (fitted weight noise, 12-bit ADC and
// LDPU quantisation), against numpy's float32 product, the project's f32 SIMD kernel and
// the packed int16 kernel alone (mvmI16Packed: the functional pipeline's MVM without the
// count, LDPU and copies) measured in the same run.
// Usage: node --import tsx bench/pipeline.bench.ts [--quick]
import { Bench } from "tinybench";
import { Chip } from "../lib/chip/chip.ts";
import { shutdownPool } from "../lib/runtime/pool.ts";
import { WasmRuntime } from "../lib/runtime/wasm.ts";
import { characterisationWeights, sparseUniform } from "../lib/chip/workload.ts";
import { numpyReference } from "./numpy.ts";
import { writeResult } from "./results.ts";

const quick = process.argv.includes("--quick");
const N = 256;
const B = 1024;
const W = characterisationWeights(1n, 0);
const X = Int8Array.from(sparseUniform(1n, 0, 7, B * N), (v) => Math.round(127 * v));

const phys = Chip.create({ seed: 1n });
phys.program(0, W, { scheme: "tdp" });
const func = Chip.create({ seed: 1n, fidelity: "functional" });
func.program(0, W, { scheme: "tdp" });
const atP = phys.at(25);
const atF = func.at(25);
atP.mvm(0, X.subarray(0, N)); // the drift planes and compensation are per view, measured once
atF.mvm(0, X.subarray(0, N));

const rt = WasmRuntime.get();
const wf = rt.alloc(N * N * 4);
const xf = rt.alloc(B * N * 4);
const yf = rt.alloc(B * N * 4);
rt.f32(wf, N * N).set(W);
rt.f32(xf, B * N).set(X);
// The packed kernel on int16 weights of the same spread as the functional level's.
const w16 = rt.alloc(N * N * 2), wp = rt.alloc(rt.kernels.packedI16Bytes(N, N));
const x16 = rt.alloc(B * N * 2), y32 = rt.alloc(B * N * 4);
rt.i16(w16, N * N).set(Int16Array.from(W, (v) => Math.round(v * 16384)));
rt.i16(x16, B * N).set(X);
rt.kernels.packI16Quads(w16, N, N, wp);

const bench = new Bench({ name: "pipeline", time: quick ? 300 : 1500, warmupTime: 100 });
bench
  .add("physical batch 1024", () => void atP.mvm(0, X))
  .add("functional batch 1024", () => void atF.mvm(0, X))
  .add("f32 kernel batch 1024", () => rt.kernels.mvmF32(wf, N, N, xf, B, yf))
  .add("packed i16 kernel batch 1024", () => rt.kernels.mvmI16Packed(wp, N, N, x16, B, y32));
await bench.run();

// The fastest run, the same statistic as numpy's best-of-runs reference (see mvm.bench.ts).
const gmacs = (name: string) => {
  const r = bench.tasks.find((t) => t.name === name)!.result as unknown as { latency: { min: number } };
  return (N * N * B) / (r.latency.min * 1e-3) / 1e9;
};
// Batch sharding over the pool: physical pipeline, batch 8,192, one thread vs two.
const BIG = new Int8Array(8 * B * N).map((_, i) => X[i % X.length]!);
async function best(fn: () => Promise<unknown> | unknown, reps = quick ? 2 : 4): Promise<number> {
  let m = Infinity;
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    await fn();
    m = Math.min(m, performance.now() - t);
  }
  return m;
}
await atP.mvmParallel(0, BIG, { threads: 2 }); // start the pool
const oneThread = await best(() => atP.mvm(0, BIG));
const twoThreads = await best(() => atP.mvmParallel(0, BIG, { threads: 2 }));
await shutdownPool();

const physical = gmacs("physical batch 1024");
const functional = gmacs("functional batch 1024");
const f32 = gmacs("f32 kernel batch 1024");
const packed = gmacs("packed i16 kernel batch 1024");
const npRef = numpyReference(N, B, quick);
const numpy = npRef?.gmacs ?? null;
const result = {
  shape: { rows: N, cols: N, batch: B },
  pipelinePhysical: { mvmPerS: (physical * 1e9) / (N * N), gmacs: physical, ratioToNumpy: numpy ? physical / numpy : null, ratioToF32: physical / f32 },
  pipelineFunctional: {
    mvmPerS: (functional * 1e9) / (N * N), gmacs: functional, ratioToNumpy: numpy ? functional / numpy : null, ratioToF32: functional / f32,
    ratioToPackedKernel: functional / packed,
  },
  references: { numpyGmacs: numpy, numpyBlasCore: npRef?.blasCore ?? null, f32KernelGmacs: f32, packedKernelGmacs: packed, packedKernelRatioToNumpy: numpy ? packed / numpy : null },
  threads2Speedup: { batch: 8 * B, oneThreadMs: oneThread, twoThreadsMs: twoThreads, speedup: oneThread / twoThreads },
};
console.table({
  physical: { "GMAC/s": physical.toFixed(2), "× numpy": numpy ? (physical / numpy).toFixed(2) : "n/a", "× f32 kernel": (physical / f32).toFixed(2) },
  functional: { "GMAC/s": functional.toFixed(2), "× numpy": numpy ? (functional / numpy).toFixed(2) : "n/a", "× f32 kernel": (functional / f32).toFixed(2) },
  "numpy f32 (1 thread)": { "GMAC/s": numpy?.toFixed(2) ?? "n/a" },
  "f32 SIMD kernel": { "GMAC/s": f32.toFixed(2) },
  "packed i16 kernel": { "GMAC/s": packed.toFixed(2), "× numpy": numpy ? (packed / numpy).toFixed(2) : "n/a" },
});
console.log(`batch ${8 * B} physical: 1 thread ${oneThread.toFixed(1)} ms, 2 threads ${twoThreads.toFixed(1)} ms: ${(oneThread / twoThreads).toFixed(2)}×`);
console.log(`wrote ${writeResult("pipeline", result)}`);
atP.dispose();
atF.dispose();
phys.dispose();
func.dispose();
