// The functional model of the paper's Methods ("Weight mapping onto cores and functional
// modeling"): weights with Gaussian noise whose standard deviation is a per-core
// polynomial of the target weight, then the chip's quantisations only: 8-bit inputs
// (the caller's INT8), the ADC's 12-bit counters, the LDPU's FP16 pipeline and INT8 out.

import { FORMULA, formulaClamp, ldpu4, TABLE, UNCLAMPED } from "./fused-readout";
import { ldpuValueFast } from "./ldpu";
import { packedProduct } from "./mvm-packed";
import { lane, normalFromU32, philoxX4, v0 } from "./philox";

const PURPOSE_FUNCTIONAL_NOISE: u32 = 11; // lib/chip/rng.ts Purpose.FUNCTIONAL_NOISE
const FS: f64 = 4095.0;

/**
 * Noisy weights: out[i] = w[i] + wmax·σ(|w[i]|/wmax)·z_i with σ(u) = max(c0 + c1·u + c2·u², 0)
 * (coefficients f64 at `poly`), z_i from Philox (seed; cell i, step, core | FUNCTIONAL_NOISE |
 * draw << 16): `draw` numbers independent weight-noise realisations (0 by default).
 */
export function functionalWeights(k0: u32, k1: u32, core: u32, step: u32, w: usize, n: i32, wmax: f64, poly: usize, out: usize, draw: u32): void {
  const c0 = load<f64>(poly), c1 = load<f64>(poly, 8), c2 = load<f64>(poly, 16);
  const s = i32x4.splat(<i32>((core & 0xff) | (PURPOSE_FUNCTIONAL_NOISE << 8) | ((draw & 0xffff) << 16)));
  const st = i32x4.splat(<i32>step);
  const zero = i32x4.splat(0);
  for (let i = 0; i < n; i += 4) {
    philoxX4(i32x4(i, i + 1, i + 2, i + 3), st, s, zero, k0, k1);
    const m = min(4, n - i);
    for (let l = 0; l < m; l++) {
      const p = <usize>(i + l) << 2;
      const x = <f64>load<f32>(w + p);
      const u = wmax > 0 ? Math.abs(x) / wmax : 0.0;
      const sd = max(c0 + u * (c1 + u * c2), 0.0);
      store<f32>(out + p, <f32>(x + wmax * sd * normalFromU32(lane(v0, l))));
    }
  }
}

/**
 * Dot products (int32, batch × rows, of weights quantised by qW) → ADC counts (nearest
 * integer of dot·countsPerUnit, magnitude saturating at 4095 on the counter of its sign)
 * → LDPU (with INT8 link inputs rx and res, or 0) → INT8 out.
 */
export function functionalReadout(dots: usize, rows: i32, batch: i32, countsPerUnit: f64, ldpu: usize, flags: i32, out: usize, rx: usize, res: usize): void {
  for (let b = 0; b < batch; b++) {
    for (let r = 0; r < rows; r++) {
      const i = <usize>(b * rows + r);
      const c = min(max(f64.nearest(<f64>load<i32>(dots + (i << 2)) * countsPerUnit), -FS), FS);
      const pos = c > 0 ? <u32>c : 0;
      const neg = c < 0 ? <u32>-c : 0;
      const x = rx ? <i32>load<i8>(rx + i) : 0;
      const q = res ? <i32>load<i8>(res + i) : 0;
      store<i8>(out + i, <i8>ldpuValueFast(pos, neg, x, ldpu, r, flags, q));
    }
  }
}

/** functionalReadout through a table from ldpuTable (all rows with the same LDPU
 * parameters); the same f64 arithmetic, two lanes at a time. */
export function functionalReadoutTable(dots: usize, n: i32, countsPerUnit: f64, table: usize, out: usize): void {
  const k = f64x2.splat(countsPerUnit);
  const lo = f64x2.splat(-FS), hi = f64x2.splat(FS);
  const off = table + 4095;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const d = v128.load(dots + (<usize>i << 2));
    const a = f64x2.min(f64x2.max(f64x2.nearest(f64x2.mul(f64x2.convert_low_i32x4_s(d), k)), lo), hi);
    const b = f64x2.min(f64x2.max(f64x2.nearest(f64x2.mul(f64x2.convert_low_i32x4_s(i32x4.shuffle(d, d, 2, 3, 0, 1)), k)), lo), hi);
    const ca = i32x4.trunc_sat_f64x2_s_zero(a);
    const cb = i32x4.trunc_sat_f64x2_s_zero(b);
    const o = out + <usize>i;
    store<i8>(o, load<i8>(off + <usize>i32x4.extract_lane(ca, 0)));
    store<i8>(o, load<i8>(off + <usize>i32x4.extract_lane(ca, 1)), 1);
    store<i8>(o, load<i8>(off + <usize>i32x4.extract_lane(cb, 0)), 2);
    store<i8>(o, load<i8>(off + <usize>i32x4.extract_lane(cb, 1)), 3);
  }
  for (; i < n; i++) {
    const c = <i32>min(max(f64.nearest(<f64>load<i32>(dots + (<usize>i << 2)) * countsPerUnit), -FS), FS);
    store<i8>(out + <usize>i, load<i8>(table + <usize>(c + 4095)));
  }
}

/** INT8 inputs (batch × 256) widened to int16 rows (the MVM kernel's input layout). */
export function widenInputs(x: usize, batch: i32, out: usize): void {
  const n = batch << 8;
  for (let i = 0; i < n; i += 16) {
    const v = v128.load(x + <usize>i);
    v128.store(out + (<usize>i << 1), i16x8.extend_low_i8x16_s(v));
    v128.store(out + (<usize>i << 1), i16x8.extend_high_i8x16_s(v), 16);
  }
}

// ---------------------------------------------------------------------------------------
// Fused readout: mvmI16Packed's tile loop (packedProduct, assembly/mvm-packed.ts) with an
// epilogue that turns each tile's int32 accumulators into INT8 outputs while they are in
// registers (assembly/fused-readout.ts: the count, the LDPU by table or by the formula F,
// and why that is the same bits); no dot product is written to memory and read back.
// The variants measured: docs/kernels.md.

/**
 * functionalReadoutTable of mvmI16Packed's dots without the dots: packed weights
 * (packI16Quads; the first `rows` rows of a larger packing are fine), int16 inputs (batch ×
 * paddedCols(cols): widenInputs' layout at 256 columns), the LDPU table of ldpuTable, INT8
 * out (batch rows of outStride ≥ rows bytes; the bytes after `rows` are not written).
 * Identical bits. Returns 1, or 0 (nothing written) unless |countsPerUnit| < 1.
 */
export function functionalPackedTable(wp: usize, rows: i32, cols: i32, x: usize, batch: i32, countsPerUnit: f64, table: usize, out: usize, outStride: i32): i32 {
  if (!(Math.abs(countsPerUnit) < 1.0)) return 0;
  packedProduct(wp, rows, cols, x, batch, out, <usize>outStride, TABLE, countsPerUnit, table + 4095, 0, 0, 0);
  return 1;
}

/**
 * functionalPackedTable by the formula F with LDPU gain K and flags (ReLU if flags & 7: no link inputs here, so any of the three ReLUs is the same):
 * the same bits where functionalLdpuFormula(table, K, flags) returned 1. The clamp is left
 * out when F saturates at both ends (so larger counts change nothing) and no count can
 * take x beyond 2^21 (where the rounding additions would fail).
 */
export function functionalPackedLdpu(wp: usize, rows: i32, cols: i32, x: usize, batch: i32, countsPerUnit: f64, K: f64, flags: i32, out: usize, outStride: i32): i32 {
  if (!(Math.abs(countsPerUnit) < 1.0)) return 0;
  const X = formulaClamp(K);
  const relu = (flags & 7) != 0;
  const lo = relu ? <f32>0 : -X;
  const e = ldpu4(i32x4(4095, -4095, 0, 0), <f32>K, lo, X, true);
  const top = i32x4.extract_lane(e, 0), bottom = i32x4.extract_lane(e, 1);
  const saturates = K > 0 ? top >= 127 && bottom <= -128 : K < 0 ? top <= -128 && bottom >= 127 : true;
  const unclamped = !relu && saturates && (1073741824.0 * Math.abs(countsPerUnit) + 1.0) * Math.abs(K) < 2097152.0;
  if (unclamped) packedUnclamped(wp, rows, cols, x, batch, countsPerUnit, <f32>K, lo, X, out, outStride);
  else packedFormula(wp, rows, cols, x, batch, countsPerUnit, <f32>K, lo, X, out, outStride);
  return 1;
}

// One function per mode (not inlined by the compiler here): with both copies of the loop
// in functionalPackedLdpu, Binaryen merged them into one loop testing the mode at run time.
function packedFormula(wp: usize, rows: i32, cols: i32, x: usize, batch: i32, k: f64, K: f32, lo: f32, X: f32, out: usize, outStride: i32): void {
  packedProduct(wp, rows, cols, x, batch, out, <usize>outStride, FORMULA, k, 0, K, lo, X);
}

function packedUnclamped(wp: usize, rows: i32, cols: i32, x: usize, batch: i32, k: f64, K: f32, lo: f32, X: f32, out: usize, outStride: i32): void {
  packedProduct(wp, rows, cols, x, batch, out, <usize>outStride, UNCLAMPED, k, 0, K, lo, X);
}

/** 1 if F (gain K, ReLU if flags & 7) equals the LDPU table (ldpuTable) at every count −4095..4095. */
export function functionalLdpuFormula(table: usize, K: f64, flags: i32): i32 {
  const X = formulaClamp(K);
  const lo = (flags & 7) != 0 ? <f32>0 : -X;
  for (let c = -4095; c <= 4095; c += 4) {
    let f = ldpu4(i32x4(c, c + 1, c + 2, c + 3), <f32>K, lo, X, true);
    f = i32x4.max_s(i32x4.min_s(f, i32x4.splat(127)), i32x4.splat(-128));
    for (let l = 0; l < 4 && c + l <= 4095; l++) {
      const v = l == 0 ? i32x4.extract_lane(f, 0) : l == 1 ? i32x4.extract_lane(f, 1) : l == 2 ? i32x4.extract_lane(f, 2) : i32x4.extract_lane(f, 3);
      if (v != <i32>load<i8>(table + <usize>(c + l + 4095))) return 0;
    }
  }
  return 1;
}
