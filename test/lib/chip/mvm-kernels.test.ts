// The MVM kernels against a plain scalar reference.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mvmFloat, mvmInt, paddedCols } from "../../../lib/chip/mvm-kernels.ts";
import { WasmRuntime } from "../../../lib/runtime/wasm.ts";

let seed = 5;
const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
const randInt = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));

function reference(w: ArrayLike<number>, x: ArrayLike<number>, rows: number, cols: number, batch: number): Float64Array {
  const y = new Float64Array(batch * rows);
  for (let b = 0; b < batch; b++) for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += w[r * cols + c]! * x[b * cols + c]!;
    y[b * rows + r] = s;
  }
  return y;
}

test("int16 × int8 → int32 is exact on random and edge shapes", () => {
  const dims = [1, 2, 3, 7, 8, 9, 15, 16, 17, 100, 255, 256];
  const batches = [1, 2, 3, 17];
  let cases = 0;
  for (const rows of dims) for (const cols of dims) {
    const batch = batches[(rows + cols) % batches.length]!;
    const w = Int16Array.from({ length: rows * cols }, () => randInt(-32768, 32767));
    const x = Int8Array.from({ length: batch * cols }, () => randInt(-128, 127));
    assert.equal(Array.from(mvmInt(w, x, rows, cols, batch)), Array.from(reference(w, x, rows, cols, batch)), `${rows}×${cols}×${batch}`);
    cases++;
  }
  assert.is(cases, dims.length ** 2);
});

test("extreme values do not overflow: |Σ| reaches 2^30 exactly", () => {
  for (const [wv, xv] of [[-32768, -128], [-32768, 127], [32767, -128], [32767, 127]] as const) {
    const y = mvmInt(new Array(256 * 256).fill(wv), new Array(3 * 256).fill(xv), 256, 256, 3);
    assert.ok(y.every((v) => v === 256 * wv * xv), `${wv} × ${xv}`);
  }
  assert.is(256 * -32768 * -128, 2 ** 30);
});

test("f32 kernel agrees with float64 to f32 rounding", () => {
  for (const [rows, cols, batch] of [[256, 256, 5], [13, 77, 4], [1, 1, 1]] as const) {
    const w = Float32Array.from({ length: rows * cols }, () => rnd() * 2 - 1);
    const x = Float32Array.from({ length: batch * cols }, () => rnd() * 2 - 1);
    const got = mvmFloat(w, x, rows, cols, batch);
    const ref = reference(w, x, rows, cols, batch);
    const absSum = reference(w.map(Math.abs), x.map(Math.abs), rows, cols, batch);
    for (let i = 0; i < got.length; i++) {
      assert.ok(Math.abs(got[i]! - ref[i]!) <= 2 ** -22 * cols * absSum[i]! + 1e-30, `${rows}×${cols}: ${got[i]} vs ${ref[i]}`);
    }
  }
});

test("padding and argument errors", () => {
  assert.equal([1, 7, 8, 9, 256].map(paddedCols), [8, 8, 8, 16, 256]);
  assert.equal(WasmRuntime.get().kernels.paddedCols(250), 256);
  assert.throws(() => mvmInt([1], [1], 1, 300, 1), /cols must be an integer in 1..256, got 300/);
  assert.throws(() => mvmInt([1, 2], [1, 2], 1, 2, 0), /batch must be a positive integer/);
  assert.throws(() => mvmInt([1, 2], [1, 200], 1, 2, 1), /inputs\[1\] must be an integer in -128..127, got 200/);
  assert.throws(() => mvmInt([1.5, 2], [1, 2], 1, 2, 1), /weights\[0\] must be an integer in -32768..32767, got 1.5/);
  assert.throws(() => mvmInt([1, 2, 3], [1, 2], 1, 2, 1), /weights must be 2 values/);
});

// packI16Quads / mvmI16Packed (assembly/mvm-packed.ts): run when assembly/index.ts exports them.
type PackedKernels = { packI16Quads?: (w: number, rows: number, cols: number, out: number) => void; packedI16Bytes?: (rows: number, cols: number) => number; mvmI16Packed?: (wp: number, rows: number, cols: number, x: number, batch: number, y: number) => void };
const pk = WasmRuntime.get().kernels as unknown as PackedKernels;
if (pk.mvmI16Packed) test("packed int16 kernel (packI16Quads + mvmI16Packed) is exact on random and edge shapes", () => {
  const rt = WasmRuntime.get();
  const dims = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33, 100, 255, 256];
  const batches = [1, 2, 3, 17];
  for (const rows of dims) for (const cols of dims) {
    const batch = batches[(rows + cols) % batches.length]!;
    const extreme = (rows + cols) % 7 === 0;
    const w = Int16Array.from({ length: rows * cols }, () => (extreme ? -32768 : randInt(-32768, 32767)));
    const x = Int8Array.from({ length: batch * cols }, () => (extreme ? -128 : randInt(-128, 127)));
    const s = paddedCols(cols);
    const wp = rt.alloc(rows * s * 2), qp = rt.alloc(pk.packedI16Bytes!(rows, cols)), xp = rt.alloc(batch * s * 2), yp = rt.alloc(batch * rows * 4);
    try {
      const W = rt.i16(wp, rows * s).fill(0), X = rt.i16(xp, batch * s).fill(0);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) W[r * s + c] = w[r * cols + c]!;
      for (let b = 0; b < batch; b++) for (let c = 0; c < cols; c++) X[b * s + c] = x[b * cols + c]!;
      pk.packI16Quads!(wp, rows, cols, qp);
      pk.mvmI16Packed!(qp, rows, cols, xp, batch, yp);
      assert.equal(Array.from(rt.i32(yp, batch * rows)), Array.from(reference(w, x, rows, cols, batch)), `${rows}×${cols}×${batch}`);
    } finally {
      rt.free(yp);
      rt.free(xp);
      rt.free(qp);
      rt.free(wp);
    }
  }
});
else console.log("note: assembly/index.ts does not export mvmI16Packed yet; the packed-kernel test did not run");

test.run();
