// MVM kernel speed: the int16 SIMD kernel at 256 × 256 (and its packed-weight variant
// mvmI16Packed when exported), batch 1 and 1,024, against the project's f32 SIMD kernel and
// a plain-JS loop in the same run, and numpy's float32 matrix product (one BLAS thread)
// when python3 with numpy is present.
// Usage: node --import tsx bench/mvm.bench.ts [--quick]
import { Bench } from "tinybench";
import { WasmRuntime } from "../lib/runtime/wasm.ts";
import { numpyReference } from "./numpy.ts";
import { writeResult } from "./results.ts";

const quick = process.argv.includes("--quick");
const N = 256;
const rt = WasmRuntime.get();
const k = rt.kernels;
const B = 1024;

// Operands in wasm memory, padded as the kernels expect (256 is already a multiple of 8).
const w16 = rt.alloc(N * N * 2);
const x16 = rt.alloc(B * N * 2);
const y32 = rt.alloc(B * N * 4);
const wf = rt.alloc(N * N * 4);
const xf = rt.alloc(B * N * 4);
const yf = rt.alloc(B * N * 4);
let s = 1;
const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
rt.i16(w16, N * N).forEach((_, i, a) => (a[i] = Math.floor(rnd() * 65536) - 32768));
rt.i16(x16, B * N).forEach((_, i, a) => (a[i] = Math.floor(rnd() * 256) - 128));
rt.f32(wf, N * N).forEach((_, i, a) => (a[i] = rnd() * 2 - 1));
rt.f32(xf, B * N).forEach((_, i, a) => (a[i] = rnd() * 2 - 1));
const jsW = new Float32Array(N * N).map(() => rnd());
const jsX = new Float32Array(N).map(() => rnd());
const jsY = new Float32Array(N);

const time = quick ? 200 : 1000;
const bench = new Bench({ name: "mvm", time, warmupTime: 100 });
bench
  .add("i16 batch 1", () => k.mvmI16(w16, N, N, x16, 1, y32))
  .add("i16 batch 1024", () => k.mvmI16(w16, N, N, x16, B, y32))
  .add("f32 batch 1", () => k.mvmF32(wf, N, N, xf, 1, yf))
  .add("f32 batch 1024", () => k.mvmF32(wf, N, N, xf, B, yf))
  .add("plain JS batch 1", () => {
    for (let r = 0; r < N; r++) {
      let a = 0;
      for (let c = 0; c < N; c++) a += jsW[r * N + c]! * jsX[c]!;
      jsY[r] = a;
    }
  });
// Weights repacked once for mvmI16Packed (measured when assembly/index.ts exports it).
type PackedKernels = { packI16Quads?: (w: number, rows: number, cols: number, out: number) => void; packedI16Bytes?: (rows: number, cols: number) => number; mvmI16Packed?: (wp: number, rows: number, cols: number, x: number, batch: number, y: number) => void };
const pk = k as unknown as PackedKernels;
const hasPacked = pk.mvmI16Packed !== undefined;
if (hasPacked) {
  const q16 = rt.alloc(pk.packedI16Bytes!(N, N));
  pk.packI16Quads!(w16, N, N, q16);
  bench
    .add("i16 packed batch 1", () => pk.mvmI16Packed!(q16, N, N, x16, 1, y32))
    .add("i16 packed batch 1024", () => pk.mvmI16Packed!(q16, N, N, x16, B, y32));
}
await bench.run();

// The fastest run of each kernel, the same statistic as numpy's best-of-runs reference: on
// a shared machine the median of one side and the best of the other would turn load into a
// ratio.
function gmacs(name: string, batch: number): number {
  const t = bench.tasks.find((x) => x.name === name)!;
  const r = t.result as unknown as { latency: { min: number } };
  return (N * N * batch) / (r.latency.min * 1e-3) / 1e9;
}
const np1 = numpyReference(N, 1, quick);
const np1024 = numpyReference(N, B, quick);

const result = {
  shape: { rows: N, cols: N },
  gmacs: {
    i16Batch1: gmacs("i16 batch 1", 1),
    i16Batch1024: gmacs("i16 batch 1024", B),
    i16PackedBatch1: hasPacked ? gmacs("i16 packed batch 1", 1) : null,
    i16PackedBatch1024: hasPacked ? gmacs("i16 packed batch 1024", B) : null,
    f32Batch1: gmacs("f32 batch 1", 1),
    f32Batch1024: gmacs("f32 batch 1024", B),
    plainJsBatch1: gmacs("plain JS batch 1", 1),
    numpyBatch1: np1?.gmacs ?? null,
    numpyBatch1024: np1024?.gmacs ?? null,
  },
  numpyBlasCore: np1024?.blasCore ?? null,
};
const g = result.gmacs;
const ratios = {
  i16ToF32: g.i16Batch1024 / g.f32Batch1024,
  i16ToNumpy: g.numpyBatch1024 ? g.i16Batch1024 / g.numpyBatch1024 : null,
  f32ToNumpy: g.numpyBatch1024 ? g.f32Batch1024 / g.numpyBatch1024 : null,
  i16ToPlainJsBatch1: g.i16Batch1 / g.plainJsBatch1,
};
console.table(Object.fromEntries(Object.entries(g).map(([n, v]) => [n, { "GMAC/s": v === null ? "n/a" : v.toFixed(2) }])));
console.table(Object.fromEntries(Object.entries(ratios).map(([n, v]) => [n, { ratio: v === null ? "n/a" : v.toFixed(2) }])));
console.log(`wrote ${writeResult("mvm", { ...result, ratios })}`);
