// A thin wrapper over the MVM kernels (assembly/mvm.ts): packs a weight matrix and a
// batch of inputs into padded arena regions, runs the kernel, copies the result out.
// Hot paths keep their operands in wasm memory and call the kernel directly.

import { ArgumentError } from "../runtime/validate.ts";
import { WasmRuntime } from "../runtime/wasm.ts";

export const MAX_DIM = 256;

/** Columns rounded up to a multiple of 8 (the kernels' row stride). */
export function paddedCols(cols: number): number {
  return (cols + 7) & ~7;
}

function dims(rows: number, cols: number, batch: number): void {
  if (!Number.isInteger(rows) || rows < 1 || rows > MAX_DIM) throw new ArgumentError("rows", `an integer in 1..${MAX_DIM}`, rows);
  if (!Number.isInteger(cols) || cols < 1 || cols > MAX_DIM) throw new ArgumentError("cols", `an integer in 1..${MAX_DIM}`, cols);
  if (!Number.isInteger(batch) || batch < 1) throw new ArgumentError("batch", "a positive integer", batch);
}

function check(values: ArrayLike<number>, n: number, lo: number, hi: number, argument: string, integer: boolean): void {
  if (values.length !== n) throw new ArgumentError(argument, `${n} values`, values);
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (!(v >= lo && v <= hi) || (integer && !Number.isInteger(v))) {
      throw new ArgumentError(`${argument}[${i}]`, `${integer ? "an integer" : "a number"} in ${lo}..${hi}`, v);
    }
  }
}

type Views = "i16" | "f32";

/** Pack W and X into padded regions, run `kernel`, copy Y (batch × rows) out. */
function packed<T extends Int32Array | Float32Array>(
  elem: Views,
  w: ArrayLike<number>,
  x: ArrayLike<number>,
  rows: number,
  cols: number,
  batch: number,
  kernel: (wp: number, xp: number, yp: number) => void,
  out: (yp: number, n: number) => T,
): T {
  const rt = WasmRuntime.get();
  const s = paddedCols(cols);
  const size = elem === "i16" ? 2 : 4;
  const wp = rt.alloc(rows * s * size);
  const xp = rt.alloc(batch * s * size);
  const yp = rt.alloc(batch * rows * 4);
  try {
    const W = elem === "i16" ? rt.i16(wp, rows * s) : rt.f32(wp, rows * s);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) W[r * s + c] = w[r * cols + c]!;
    const X = elem === "i16" ? rt.i16(xp, batch * s) : rt.f32(xp, batch * s);
    for (let b = 0; b < batch; b++) for (let c = 0; c < cols; c++) X[b * s + c] = x[b * cols + c]!;
    kernel(wp, xp, yp);
    return out(yp, batch * rows).slice() as T;
  } finally {
    rt.free(yp);
    rt.free(xp);
    rt.free(wp);
  }
}

/**
 * Y = X Wᵀ exactly in int32: `w` rows × cols int16 values (row-major), `x` batch × cols
 * 8-bit inputs (−128..127). Returns batch × rows.
 */
export function mvmInt(w: ArrayLike<number>, x: ArrayLike<number>, rows: number, cols: number, batch: number): Int32Array {
  dims(rows, cols, batch);
  check(w, rows * cols, -32768, 32767, "weights", true);
  check(x, batch * cols, -128, 127, "inputs", true);
  const rt = WasmRuntime.get();
  return packed("i16", w, x, rows, cols, batch, (wp, xp, yp) => rt.kernels.mvmI16(wp, rows, cols, xp, batch, yp), (p, n) => rt.i32(p, n));
}

/** The same product in f32 (the speed reference; f32 accumulation order is the kernel's). */
export function mvmFloat(w: ArrayLike<number>, x: ArrayLike<number>, rows: number, cols: number, batch: number): Float32Array {
  dims(rows, cols, batch);
  check(w, rows * cols, -Infinity, Infinity, "weights", false);
  check(x, batch * cols, -Infinity, Infinity, "inputs", false);
  const rt = WasmRuntime.get();
  return packed("f32", w, x, rows, cols, batch, (wp, xp, yp) => rt.kernels.mvmF32(wp, rows, cols, xp, batch, yp), (p, n) => rt.f32(p, n));
}
