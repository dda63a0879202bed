// The local digital processing unit (LDPU) of a core, bit-faithful in FP16 (paper §II):
// per output row r, from the ADC's two 12-bit counts (positive and negative current):
//   h = fma(f16(pos), K_r, B_r)        ADC-convert-and-scale block, first FMA: gain, offset
//   h = fma(f16(neg), −K_r, h)         second FMA: the negative counter, same gain
//   h = fma(h, A_r, C_r)               activation block: per-channel affine scale and bias
//   h = relu(h)                        optional (flag 1)
//   h = fma(f16(rx), R_r, h)           the INT8 partial sum from the link receiver, scaled
//   h = relu(h)                        optional (flag 2)
//   h = fma(f16(res), Q_r, h)          a second INT8 link input (a residual), scaled: this
//                                      model's assumption for a receiver that gets partial
//                                      sums and residual data at once (paper §V)
//   h = relu(h)                        optional (flag 4): the paper's last optional ReLU,
//                                      after the data from the links, here after the
//                                      residual too (relu(x + residual), ResNet's BasicBlock)
//   out = int8(h)                      nearest, ties to even, saturating
// Every operation rounds once to nearest-even (assembly/fp16.ts). How the two FMAs of the
// convert-and-scale block split the work (gain on both counters, the offset once) is this
// model's reading of "two FMA units to remove gain and offset errors": an assumption.
// With rx = 0 the RX FMA is exact (0·R + h = h), so it is skipped.
//
// Row parameters: 8 u16 per row (16 bytes): K, B, A, C, R, Q (FP16 bit patterns), 2 unused.

import { f16Fma, f16Relu, f16ToF64, f16ToI8Sat, i8ToF16, u12ToF16 } from "./fp16";

export const LDPU_ROW_BYTES: usize = 16;
export const LDPU_RELU_1: i32 = 1;
export const LDPU_RELU_2: i32 = 2;
export const LDPU_RELU_3: i32 = 4;

/** One LDPU output from two counts, an INT8 link input and row `row`'s parameters. */
// @ts-ignore: decorator
@inline
export function ldpuValue(pos: u32, neg: u32, rx: i32, params: usize, row: i32, flags: i32, res: i32 = 0): i32 {
  const rp = params + <usize>row * LDPU_ROW_BYTES;
  const k = load<u16>(rp);
  let h = f16Fma(u12ToF16(pos), k, load<u16>(rp, 2));
  h = f16Fma(u12ToF16(neg), k ^ 0x8000, h);
  h = f16Fma(h, load<u16>(rp, 4), load<u16>(rp, 6));
  if (flags & LDPU_RELU_1) h = f16Relu(h);
  if (rx != 0) h = f16Fma(i8ToF16(rx), load<u16>(rp, 8), h);
  if (flags & LDPU_RELU_2) h = f16Relu(h);
  if (res != 0) h = f16Fma(i8ToF16(res), load<u16>(rp, 10), h);
  if (flags & LDPU_RELU_3) h = f16Relu(h);
  return f16ToI8Sat(h);
}

// Fast path, bit-identical: the same pipeline on f64 values that hold exact halves.
// r16 rounds an f64 to the nearest half (ties to even) by integer arithmetic on its bits,
// correct whenever the result is a normal half (2^−14 ≤ |x| < 65520) or zero; an FMA is
// taken only when its f64 sum is exact (TwoSum error 0), so one rounding is all there is.
// Any other case (subnormal or overflowing halves, inexact sums) falls back to ldpuValue.
// @ts-ignore: decorator
@inline
function r16(x: f64): f64 {
  const bits = reinterpret<u64>(x);
  return reinterpret<f64>((bits + 0x1ffffffffff + ((bits >> 42) & 1)) & ~(<u64>0x3ffffffffff));
}

// @ts-ignore: decorator
@inline
function normalOrZero(x: f64): bool {
  const a = Math.abs(x);
  return a == 0.0 || (a >= 6.103515625e-5 && a < 65520.0);
}

let fastOk: bool = true;

// @ts-ignore: decorator
@inline
function fma16(a: f64, b: f64, c: f64): f64 {
  const p = a * b;
  const s = p + c;
  const bb = s - p;
  const err = (p - (s - bb)) + (c - bb);
  if (err != 0.0 || !normalOrZero(s)) fastOk = false;
  return r16(s);
}

/** ldpuValue, fast where it can be (see r16), identical bits. */
// @ts-ignore: decorator
@inline
export function ldpuValueFast(pos: u32, neg: u32, rx: i32, params: usize, row: i32, flags: i32, res: i32 = 0): i32 {
  const rp = params + <usize>row * LDPU_ROW_BYTES;
  const k = f16ToF64(load<u16>(rp));
  fastOk = normalOrZero(k);
  let h = fma16(r16(<f64>pos), k, f16ToF64(load<u16>(rp, 2)));
  h = fma16(r16(<f64>neg), -k, h);
  h = fma16(h, f16ToF64(load<u16>(rp, 4)), f16ToF64(load<u16>(rp, 6)));
  if ((flags & LDPU_RELU_1) && h <= 0.0) h = 0.0;
  if (rx != 0) h = fma16(<f64>rx, f16ToF64(load<u16>(rp, 8)), h);
  if ((flags & LDPU_RELU_2) && h <= 0.0) h = 0.0;
  if (res != 0) h = fma16(<f64>res, f16ToF64(load<u16>(rp, 10)), h);
  if ((flags & LDPU_RELU_3) && h <= 0.0) h = 0.0;
  if (!fastOk) return ldpuValue(pos, neg, rx, params, row, flags, res);
  return <i32>min(max(f64.nearest(h), -128.0), 127.0);
}

// Row parameters decoded to f64 once per batch (see decodeLdpuRow): K, B, A, C, R, then
// 1 if the affine step is the identity (A = 1, C = 0: fma(h, 1, 0) only turns −0 into +0,
// which no INT8 output can show), then 1 if K is a normal half or zero, then Q.
export const LDPU_DECODED_F64: i32 = 8;

/** Decode row `row`'s LDPU parameters into 8 f64 at `out`. */
// @ts-ignore: decorator
@inline
export function decodeLdpuRow(params: usize, row: i32, out: usize): void {
  const rp = params + <usize>row * LDPU_ROW_BYTES;
  const k = f16ToF64(load<u16>(rp));
  store<f64>(out, k);
  store<f64>(out, f16ToF64(load<u16>(rp, 2)), 8);
  store<f64>(out, f16ToF64(load<u16>(rp, 4)), 16);
  store<f64>(out, f16ToF64(load<u16>(rp, 6)), 24);
  store<f64>(out, f16ToF64(load<u16>(rp, 8)), 32);
  store<f64>(out, load<u16>(rp, 4) == 0x3c00 && load<u16>(rp, 6) == 0 ? 1.0 : 0.0, 40);
  store<f64>(out, normalOrZero(k) ? 1.0 : 0.0, 48);
  store<f64>(out, f16ToF64(load<u16>(rp, 10)), 56);
}

/** ldpuValueFast from decoded parameters (`dec`, see decodeLdpuRow); identical bits. */
// @ts-ignore: decorator
@inline
export function ldpuValueDecoded(pos: u32, neg: u32, rx: i32, dec: usize, params: usize, row: i32, flags: i32, res: i32): i32 {
  const k = load<f64>(dec);
  fastOk = load<f64>(dec, 48) != 0.0;
  let h = fma16(r16(<f64>pos), k, load<f64>(dec, 8));
  h = fma16(r16(<f64>neg), -k, h);
  if (load<f64>(dec, 40) == 0.0) h = fma16(h, load<f64>(dec, 16), load<f64>(dec, 24));
  if ((flags & LDPU_RELU_1) && h <= 0.0) h = 0.0;
  if (rx != 0) h = fma16(<f64>rx, load<f64>(dec, 32), h);
  if ((flags & LDPU_RELU_2) && h <= 0.0) h = 0.0;
  if (res != 0) h = fma16(<f64>res, load<f64>(dec, 56), h);
  if ((flags & LDPU_RELU_3) && h <= 0.0) h = 0.0;
  if (!fastOk) return ldpuValue(pos, neg, rx, params, row, flags, res);
  return <i32>min(max(f64.nearest(h), -128.0), 127.0);
}

/**
 * The LDPU over a batch: counts (u16 pairs pos, neg; batch × rows × 2), optional INT8
 * link inputs rx and res (batch × rows, or 0 for none), INT8 outputs (batch × rows). `reference`
 * selects the plain FP16 path instead of the fast one (for tests: the two agree bit for bit).
 */
export function ldpuBatch(counts: usize, rx: usize, params: usize, rows: i32, batch: i32, flags: i32, out: usize, reference: bool, res: usize): void {
  for (let b = 0; b < batch; b++) {
    for (let r = 0; r < rows; r++) {
      const i = <usize>(b * rows + r);
      const c = counts + (i << 2);
      const x = rx ? <i32>load<i8>(rx + i) : 0;
      const q = res ? <i32>load<i8>(res + i) : 0;
      store<i8>(out + i, <i8>(reference ? ldpuValue(load<u16>(c), load<u16>(c, 2), x, params, r, flags, q) : ldpuValueFast(load<u16>(c), load<u16>(c, 2), x, params, r, flags, q)));
    }
  }
}

/**
 * When every row has the same parameters: the LDPU's INT8 output for each signed count
 * difference c in −4095..4095 (pos = max(c, 0), neg = max(−c, 0), no link input), into
 * out[c + 4095] (8,191 bytes). Returns 1 if built, 0 if the rows differ (no table).
 * Used where one counter is always zero (the functional model's single 12-bit count).
 */
export function ldpuTable(params: usize, rows: i32, flags: i32, out: usize): i32 {
  for (let r = 1; r < rows; r++) {
    const a = params + <usize>r * LDPU_ROW_BYTES;
    if (load<u64>(a) != load<u64>(params) || load<u16>(a, 8) != load<u16>(params, 8)) return 0;
  }
  for (let c = -4095; c <= 4095; c++) {
    const pos = c > 0 ? <u32>c : 0;
    const neg = c < 0 ? <u32>-c : 0;
    store<i8>(out + <usize>(c + 4095), <i8>ldpuValueFast(pos, neg, 0, params, 0, flags));
  }
  return 1;
}
