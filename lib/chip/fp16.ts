// IEEE binary16 helpers over the wasm kernels (assembly/fp16.ts, where the rounding model
// is documented: one round-to-nearest-even per operation, fused FMA, subnormals kept).
// Values travel as u16 bit patterns. Hot paths call the kernels on buffers directly.

import { ArgumentError } from "../runtime/validate.ts";
import { WasmRuntime } from "../runtime/wasm.ts";

function half(h: unknown, argument: string): number {
  if (typeof h !== "number" || !Number.isInteger(h) || h < 0 || h > 0xffff) {
    throw new ArgumentError(argument, "a binary16 bit pattern, an integer in 0..65535", h);
  }
  return h;
}

const k = () => WasmRuntime.get().kernels;

/** A number to the nearest binary16 (ties to even), as its bit pattern (0..0xffff). @throws {@link ArgumentError} when `x` is not a number */
export function toHalf(x: number): number {
  if (typeof x !== "number") throw new ArgumentError("x", "a number", x);
  return k().f64ToF16(x);
}

/** The value of a binary16 bit pattern (exact). @throws {@link ArgumentError} when `h` is not an integer in 0..0xffff */
export function fromHalf(h: number): number {
  return k().f16ToF64(half(h, "h"));
}

export function addHalf(a: number, b: number): number {
  return k().f16Add(half(a, "a"), half(b, "b"));
}

export function mulHalf(a: number, b: number): number {
  return k().f16Mul(half(a, "a"), half(b, "b"));
}

/** a · b + c with one rounding (the LDPU/GDPU FMA units). */
export function fmaHalf(a: number, b: number, c: number): number {
  return k().f16Fma(half(a, "a"), half(b, "b"), half(c, "c"));
}

/** Round a binary16 value to INT8 (ties to even), saturating; NaN gives 0. */
export function halfToInt8(h: number): number {
  return k().f16ToI8Sat(half(h, "h"));
}
