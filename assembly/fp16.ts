// IEEE 754 binary16 (FP16) for the chip's digital units (LDPU, GDPU; paper §II, §III).
//
// Rounding model (an assumption: the paper says "FP16 format" and "FMA units" only):
//  - every FP16 operation rounds once, to nearest, ties to even (IEEE default);
//  - an FMA a·b + c is fused: exact product and sum, one rounding;
//  - subnormals are supported (no flush to zero); overflow gives ±Inf; any NaN operand or
//    invalid operation gives the canonical quiet NaN 0x7E00 (sign kept for conversions).
// Implementation: a binary16 value is exact in f64. Addition and multiplication of two
// halves are exact in f64 (their sum spans ≤ 51 bits, their product 22), so rounding the
// f64 result once is correct. a·b + c is not always exact in f64 (the span can reach ~80
// bits): its f64 sum is made round-to-odd with TwoSum's error term, and rounding that to
// 11 bits is then correct (53 ≥ 11 + 2). `f64ToF16` rounds by scaling with exact powers of
// two and f64.nearest, which rounds ties to even.

const F16_NAN: u16 = 0x7e00;
const F16_INF: u16 = 0x7c00;

/** f64 → binary16, round to nearest even. NaN keeps its sign and top payload bits. */
export function f64ToF16(x: f64): u16 {
  const bits = reinterpret<u64>(x);
  const sign = <u16>((bits >> 48) & 0x8000);
  const a = Math.abs(x);
  if (a != a) return sign | F16_NAN | <u16>((bits >> 42) & 0x1ff);
  if (a >= 65520.0) return sign | F16_INF; // 65520 = 65504 + half an ulp: ties go to even (Inf)
  if (a < 6.103515625e-5) {
    // Subnormal (or zero): the grid is k · 2^-24; k = 1024 is the smallest normal.
    return sign | <u16>(<u32>nearest(a * 16777216.0));
  }
  const e = <i32>((bits >> 52) & 0x7ff) - 1023; // a ≥ 2^-14 is a normal f64
  let m = <u32>nearest(a * reinterpret<f64>(<u64>(1023 + 10 - e) << 52)); // in [1024, 2048]
  let ex = e;
  if (m == 2048) {
    m = 1024;
    ex++;
  }
  return sign | <u16>(((ex + 15) << 10) | (m - 1024));
}

// The wasm f64.nearest instruction rounds ties to even (AssemblyScript's Math.round
// rounds ties up, which is not IEEE).
// @ts-ignore: decorator
@inline
function nearest(x: f64): f64 {
  return f64.nearest(x);
}

/** f32 → binary16, round to nearest even (exact via f64). */
export function f32ToF16(x: f32): u16 {
  return f64ToF16(<f64>x);
}

/** binary16 → f64 (exact). */
export function f16ToF64(h: u16): f64 {
  const sign: f64 = h & 0x8000 ? -1.0 : 1.0;
  const e = (<i32>h >> 10) & 0x1f;
  const m = <i32>h & 0x3ff;
  if (e == 0) return sign * <f64>m * 5.9604644775390625e-8; // m · 2^-24
  if (e == 31) return m ? NaN : sign * Infinity;
  return sign * <f64>(1024 + m) * reinterpret<f64>(<u64>(1023 + e - 25) << 52);
}

/** binary16 → f32 (exact). */
export function f16ToF32(h: u16): f32 {
  const e = (<i32>h >> 10) & 0x1f;
  const m = <u32>h & 0x3ff;
  if (e == 31 && m != 0) {
    // NaN: keep sign and payload, quiet.
    return reinterpret<f32>((<u32>(h & 0x8000) << 16) | 0x7fc00000 | (m << 13));
  }
  return <f32>f16ToF64(h);
}

/** a + b, one rounding. */
export function f16Add(a: u16, b: u16): u16 {
  const r = f16ToF64(a) + f16ToF64(b); // exact
  return r != r ? F16_NAN : f64ToF16(r);
}

/** a · b, one rounding. */
export function f16Mul(a: u16, b: u16): u16 {
  const r = f16ToF64(a) * f16ToF64(b); // exact
  return r != r ? F16_NAN : f64ToF16(r);
}

/** a · b + c, fused: one rounding. */
export function f16Fma(a: u16, b: u16, c: u16): u16 {
  const p = f16ToF64(a) * f16ToF64(b); // exact (or ±Inf / NaN)
  const z = f16ToF64(c);
  const s = p + z;
  if (s != s) return F16_NAN;
  if (!isFinite(s) || !isFinite(p) || !isFinite(z)) return f64ToF16(s);
  // TwoSum: s + err = p + z exactly.
  const bb = s - p;
  const err = (p - (s - bb)) + (z - bb);
  let r = s;
  if (err != 0.0) {
    // Round to odd: if s's last significand bit is even, step one ulp towards p + z.
    const bits = reinterpret<u64>(s);
    if ((bits & 1) == 0) {
      const away = (err > 0.0) == (s > 0.0);
      r = reinterpret<f64>(away ? bits + 1 : bits - 1);
    }
  }
  return f64ToF16(r);
}

/** 0..4095 (a 12-bit ADC count) → FP16; exact up to 2048, rounds to even above. */
export function u12ToF16(v: u32): u16 {
  return f64ToF16(<f64>(v & 0xfff));
}

/** INT8 → FP16 (exact). */
export function i8ToF16(v: i32): u16 {
  return f64ToF16(<f64><i8>v);
}

/** FP16 → INT8: round to nearest even, saturate to [−128, 127]; NaN → 0. */
export function f16ToI8Sat(h: u16): i32 {
  const x = f16ToF64(h);
  if (x != x) return 0;
  return <i32>min(max(f64.nearest(x), -128.0), 127.0);
}

/** ReLU: values with the sign bit set (negatives, −0, negative NaN) → +0. */
export function f16Relu(h: u16): u16 {
  return h & 0x8000 ? 0 : h;
}

/** n f32 → FP16 (u16) in bulk. */
export function f32ToF16Array(inPtr: usize, outPtr: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<u16>(outPtr + (<usize>i << 1), f32ToF16(load<f32>(inPtr + (<usize>i << 2))));
}

/** n FP16 → f32 in bulk. */
export function f16ToF32Array(inPtr: usize, outPtr: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<f32>(outPtr + (<usize>i << 2), f16ToF32(load<u16>(inPtr + (<usize>i << 1))));
}

/** out[i] = fma(a[i], b[i], c[i]) over n FP16 values. */
export function f16FmaArray(aPtr: usize, bPtr: usize, cPtr: usize, outPtr: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 1;
    store<u16>(outPtr + o, f16Fma(load<u16>(aPtr + o), load<u16>(bPtr + o), load<u16>(cPtr + o)));
  }
}
