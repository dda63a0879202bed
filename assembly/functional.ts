// The functional model of the paper's Methods ("Weight mapping onto cores and functional
// modeling"): weights with Gaussian noise whose standard deviation is a per-core
// polynomial of the target weight, then the chip's quantisations only: 8-bit inputs
// (the caller's INT8), the ADC's 12-bit counters, the LDPU's FP16 pipeline and INT8 out.

import { ldpuValueFast } from "./ldpu";
import { paddedCols } from "./mvm";
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
// Fused readout: mvmI16Packed's tiles (4 row groups × 2 inputs, row blocks of 32, the same
// column loop) turned into INT8 outputs while the int32 accumulators are in registers; no
// dot product is written to memory and read back. Same bits as mvmI16Packed followed by
// functionalReadoutTable:
// - count = nearest-even(fl64(dot · k)), clamped to ±4095. Here: y = fl64(dot · k) plus
//   1.5 · 2^52, whose low 32 bits are y rounded to nearest-even as an int32 when |y| < 2^31
//   (hence |k| < 1: |dot| ≤ 2^30); the clamp happens after (gather) or inside F (formula).
// - functionalPackedTable looks the counts up in the LDPU table (ldpuTable), lane by lane.
// - functionalPackedLdpu computes the table's values instead, 16 outputs per v128:
//   F(c) = relu?(nearest-even(round16(clamp(fl32(c) · K, ±X)))), saturated to INT8 by the
//   narrowing i32 → i16 → i8, with K the LDPU gain (an FP16 value, so c · K is exact in f32),
//   X = min(4095·|K|, 256) (the count's clamp, and beyond 256 every output saturates), and
//   round16 (to FP16's 11 significant bits, ties to even) done by adding and subtracting
//   1.5 · 2^(e + 13) for x's exponent e. That is the LDPU of one count with B = 0, A = 1,
//   C = 0 and no link inputs (assembly/ldpu.ts); rather than trust the derivation, the
//   caller runs functionalLdpuFormula, which compares F with the table at all 8,191 counts,
//   and uses this kernel only when they agree (otherwise functionalPackedTable).
// The clamp is dropped (UNCLAMPED) where F saturates at both ends anyway.
// Why this shape: the column loop keeps the 4 vector pipes busy (8 vpmaddwd + 8 vpaddd per
// 64 MACs, ~88 % of that bound), so the readout costs what it adds in vector instructions:
// the count 8 per 4 outputs (f64, 2 lanes per op), F 8 (10 clamped), the narrowing 0.75;
// the lane-by-lane lookup adds 4 extracts, 4 loads and 4 byte stores per 4 outputs.
// Measured (CPU time, one thread, 256 × 256, batch 1,024, this 2-core machine, 2026-11-25,
// min of 40 × 5 calls): mvmI16Packed 1.13-1.16 ms (57-59 GMAC/s), + functionalReadoutTable
// 1.45-1.51, functionalPackedTable 1.27-1.30, functionalPackedLdpu 1.245-1.26 (53-54).
// Tried and no faster: reading lanes out through memory or as i16 indices (the scalar
// loads and byte stores cost ~2 cycles per output on their own); the readout in a separate
// function per tile, or spread over the next tile's column loop (V8 then spills in the
// loop); F without round16 or with a fitted gain (neither reproduces the table); tiles of
// 4 groups × 3 inputs and a column loop unrolled by 2 (spills: 34 and 19 GMAC/s).

const MAGIC: f64 = 6755399441055744.0; // 1.5 · 2^52
const MAGIC32: f32 = 12582912.0;        // 1.5 · 2^23
const GROUP_BLOCK: i32 = 8;             // as mvmI16Packed: 32 rows, 16 KiB of packed weights

/** nearest-even(fl64(dot · k)) of 4 int32 dots, as int32 (|k| < 1). */
// @ts-ignore: decorator
@inline
function counts4(v: v128, k: f64): v128 {
  const kk = f64x2.splat(k), m = f64x2.splat(MAGIC);
  const a = f64x2.add(f64x2.mul(f64x2.convert_low_i32x4_s(v), kk), m);
  const b = f64x2.add(f64x2.mul(f64x2.convert_low_i32x4_s(i32x4.shuffle(v, v, 2, 3, 2, 3)), kk), m);
  return i32x4.shuffle(a, b, 0, 2, 4, 6);
}

/** X of F: min(4095·|K|, 256) in f32 (exact: K has 11 significant bits). */
// @ts-ignore: decorator
@inline
function formulaClamp(K: f64): f32 {
  return min(<f32>4095.0 * Mathf.abs(<f32>K), <f32>256.0);
}

// Readout modes of fusedRows (compile-time constants).
const TABLE: i32 = 0;       // the LDPU table, lane by lane
const FORMULA: i32 = 1;     // F, x clamped to [lo, X] (lo = −X, or 0 for the ReLU)
const UNCLAMPED: i32 = 2;   // F without the clamp, where it cannot matter (see functionalPackedLdpu)

/** F of 4 counts (see above), as int32; the caller saturates to INT8. */
// @ts-ignore: decorator
@inline
function ldpu4(c: v128, K: f32, lo: f32, X: f32, clamp: bool): v128 {
  let x = f32x4.mul(f32x4.convert_i32x4_s(c), f32x4.splat(K));
  if (clamp) x = f32x4.pmax(f32x4.pmin(x, f32x4.splat(X)), f32x4.splat(lo));
  const m = i32x4.add(v128.and(x, i32x4.splat(0x7f800000)), i32x4.splat(0x06c00000)); // 1.5 · 2^(e + 13)
  const h = f32x4.sub(f32x4.add(x, m), m);
  return i32x4.sub(f32x4.add(h, f32x4.splat(MAGIC32)), i32x4.splat(0x4b400000));
}

/** 16 INT8 outputs (4 row groups) of one input by F. */
// @ts-ignore: decorator
@inline
function ldpu16(a: v128, b: v128, c: v128, d: v128, k: f64, K: f32, lo: f32, X: f32, clamp: bool): v128 {
  const p = i16x8.narrow_i32x4_s(ldpu4(counts4(a, k), K, lo, X, clamp), ldpu4(counts4(b, k), K, lo, X, clamp));
  const q = i16x8.narrow_i32x4_s(ldpu4(counts4(c, k), K, lo, X, clamp), ldpu4(counts4(d, k), K, lo, X, clamp));
  return i8x16.narrow_i16x8_s(p, q);
}

/** The first n (1..4) outputs of one row group at o, by F or by the table at off = table + 4095. */
// @ts-ignore: decorator
@inline
function emit(v: v128, k: f64, mode: i32, off: usize, K: f32, lo: f32, X: f32, o: usize, n: i32): void {
  let c = counts4(v, k);
  if (mode != TABLE) {
    c = i32x4.max_s(i32x4.min_s(ldpu4(c, K, lo, X, mode == FORMULA), i32x4.splat(127)), i32x4.splat(-128));
    store<i8>(o, <i8>i32x4.extract_lane(c, 0));
    if (n > 1) store<i8>(o, <i8>i32x4.extract_lane(c, 1), 1);
    if (n > 2) store<i8>(o, <i8>i32x4.extract_lane(c, 2), 2);
    if (n > 3) store<i8>(o, <i8>i32x4.extract_lane(c, 3), 3);
  } else {
    c = i32x4.max_s(i32x4.min_s(c, i32x4.splat(4095)), i32x4.splat(-4095));
    store<i8>(o, load<i8>(off + <usize>i32x4.extract_lane(c, 0)));
    if (n > 1) store<i8>(o, load<i8>(off + <usize>i32x4.extract_lane(c, 1)), 1);
    if (n > 2) store<i8>(o, load<i8>(off + <usize>i32x4.extract_lane(c, 2)), 2);
    if (n > 3) store<i8>(o, load<i8>(off + <usize>i32x4.extract_lane(c, 3)), 3);
  }
}

/**
 * functionalReadoutTable of mvmI16Packed's dots without the dots: packed weights
 * (packI16Quads; the first `rows` rows of a larger packing are fine), int16 inputs (batch ×
 * paddedCols(cols): widenInputs' layout at 256 columns), the LDPU table of ldpuTable, INT8
 * out (batch rows of outStride ≥ rows bytes; the bytes after `rows` are not written).
 * Identical bits. Returns 1, or 0 (nothing written) unless |countsPerUnit| < 1.
 */
export function functionalPackedTable(wp: usize, rows: i32, cols: i32, x: usize, batch: i32, countsPerUnit: f64, table: usize, out: usize, outStride: i32): i32 {
  if (!(Math.abs(countsPerUnit) < 1.0)) return 0;
  const groups = (rows + 3) >> 2;
  for (let g0 = 0; g0 < groups; g0 += GROUP_BLOCK) {
    fusedRows(wp, rows, g0, min(g0 + GROUP_BLOCK, groups), cols, x, batch, countsPerUnit, TABLE, table + 4095, 0, 0, 0, out, outStride);
  }
  return 1;
}

/**
 * functionalPackedTable by the formula F with LDPU gain K and flags (ReLU if flags & 3):
 * the same bits where functionalLdpuFormula(table, K, flags) returned 1. The clamp is left
 * out when F saturates at both ends (so larger counts change nothing) and no count can
 * take x beyond 2^21 (where the rounding additions would fail).
 */
export function functionalPackedLdpu(wp: usize, rows: i32, cols: i32, x: usize, batch: i32, countsPerUnit: f64, K: f64, flags: i32, out: usize, outStride: i32): i32 {
  if (!(Math.abs(countsPerUnit) < 1.0)) return 0;
  const groups = (rows + 3) >> 2;
  const X = formulaClamp(K);
  const relu = (flags & 3) != 0;
  const lo = relu ? <f32>0 : -X;
  const e = ldpu4(i32x4(4095, -4095, 0, 0), <f32>K, lo, X, true);
  const top = i32x4.extract_lane(e, 0), bottom = i32x4.extract_lane(e, 1);
  const saturates = K > 0 ? top >= 127 && bottom <= -128 : K < 0 ? top <= -128 && bottom >= 127 : true;
  const unclamped = !relu && saturates && (1073741824.0 * Math.abs(countsPerUnit) + 1.0) * Math.abs(K) < 2097152.0;
  for (let g0 = 0; g0 < groups; g0 += GROUP_BLOCK) {
    const g1 = min(g0 + GROUP_BLOCK, groups);
    if (unclamped) fusedRows(wp, rows, g0, g1, cols, x, batch, countsPerUnit, UNCLAMPED, 0, <f32>K, lo, X, out, outStride);
    else fusedRows(wp, rows, g0, g1, cols, x, batch, countsPerUnit, FORMULA, 0, <f32>K, lo, X, out, outStride);
  }
  return 1;
}

/** 1 if F (gain K, ReLU if flags & 3) equals the LDPU table (ldpuTable) at every count −4095..4095. */
export function functionalLdpuFormula(table: usize, K: f64, flags: i32): i32 {
  const X = formulaClamp(K);
  const lo = (flags & 3) != 0 ? <f32>0 : -X;
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

// @ts-ignore: decorator
@inline
function fusedRows(wp: usize, rows: i32, gStart: i32, gEnd: i32, cols: i32, xPtr: usize, batch: i32, k: f64, mode: i32, off: usize, K: f32, lo: f32, X: f32, out: usize, outStride: i32): void {
  const stride = <usize>paddedCols(cols);
  const rb = stride << 1;
  const gb = stride << 3;
  const xEnd = stride << 1;
  const gFull = min(gEnd, rows >> 2);
  let b = 0;
  for (; b + 2 <= batch; b += 2) {
    const x0 = xPtr + <usize>b * rb;
    const x1 = x0 + rb;
    const y0 = out + <usize>b * <usize>outStride;
    const y1 = y0 + <usize>outStride;
    let g = gStart;
    for (; g + 4 <= gFull; g += 4) {
      const w0 = wp + <usize>g * gb;
      const w1 = w0 + gb, w2 = w1 + gb, w3 = w2 + gb;
      let a00 = i32x4.splat(0), a01 = i32x4.splat(0), a10 = i32x4.splat(0), a11 = i32x4.splat(0);
      let a20 = i32x4.splat(0), a21 = i32x4.splat(0), a30 = i32x4.splat(0), a31 = i32x4.splat(0);
      if (stride == 256) {
        for (let c: usize = 0; c < 512; c += 4) {
          const xk = x0 + c;
          const wk = w0 + (c << 2);
          const x0v = v128.load32_splat(xk);
          const x1v = v128.load32_splat(xk, 512);
          const wv0 = v128.load(wk);
          a00 = i32x4.add(a00, i32x4.dot_i16x8_s(wv0, x0v));
          a01 = i32x4.add(a01, i32x4.dot_i16x8_s(wv0, x1v));
          const wv1 = v128.load(wk, 2048);
          a10 = i32x4.add(a10, i32x4.dot_i16x8_s(wv1, x0v));
          a11 = i32x4.add(a11, i32x4.dot_i16x8_s(wv1, x1v));
          const wv2 = v128.load(wk, 4096);
          a20 = i32x4.add(a20, i32x4.dot_i16x8_s(wv2, x0v));
          a21 = i32x4.add(a21, i32x4.dot_i16x8_s(wv2, x1v));
          const wv3 = v128.load(wk, 6144);
          a30 = i32x4.add(a30, i32x4.dot_i16x8_s(wv3, x0v));
          a31 = i32x4.add(a31, i32x4.dot_i16x8_s(wv3, x1v));
        }
      } else {
        for (let c: usize = 0; c < xEnd; c += 4) {
          const x0v = v128.load32_splat(x0 + c);
          const x1v = v128.load32_splat(x1 + c);
          const c4 = c << 2;
          const wv0 = v128.load(w0 + c4);
          a00 = i32x4.add(a00, i32x4.dot_i16x8_s(wv0, x0v));
          a01 = i32x4.add(a01, i32x4.dot_i16x8_s(wv0, x1v));
          const wv1 = v128.load(w1 + c4);
          a10 = i32x4.add(a10, i32x4.dot_i16x8_s(wv1, x0v));
          a11 = i32x4.add(a11, i32x4.dot_i16x8_s(wv1, x1v));
          const wv2 = v128.load(w2 + c4);
          a20 = i32x4.add(a20, i32x4.dot_i16x8_s(wv2, x0v));
          a21 = i32x4.add(a21, i32x4.dot_i16x8_s(wv2, x1v));
          const wv3 = v128.load(w3 + c4);
          a30 = i32x4.add(a30, i32x4.dot_i16x8_s(wv3, x0v));
          a31 = i32x4.add(a31, i32x4.dot_i16x8_s(wv3, x1v));
        }
      }
      const o0 = y0 + (<usize>g << 2), o1 = y1 + (<usize>g << 2);
      if (mode != TABLE) {
        v128.store(o0, ldpu16(a00, a10, a20, a30, k, K, lo, X, mode == FORMULA));
        v128.store(o1, ldpu16(a01, a11, a21, a31, k, K, lo, X, mode == FORMULA));
      } else {
        emit(a00, k, TABLE, off, K, lo, X, o0, 4);
        emit(a10, k, TABLE, off, K, lo, X, o0 + 4, 4);
        emit(a20, k, TABLE, off, K, lo, X, o0 + 8, 4);
        emit(a30, k, TABLE, off, K, lo, X, o0 + 12, 4);
        emit(a01, k, TABLE, off, K, lo, X, o1, 4);
        emit(a11, k, TABLE, off, K, lo, X, o1 + 4, 4);
        emit(a21, k, TABLE, off, K, lo, X, o1 + 8, 4);
        emit(a31, k, TABLE, off, K, lo, X, o1 + 12, 4);
      }
    }
    for (; g < gEnd; g++) {
      const w0 = wp + <usize>g * gb;
      let a0 = i32x4.splat(0), a1 = i32x4.splat(0);
      for (let c: usize = 0; c < xEnd; c += 4) {
        const wv = v128.load(w0 + (c << 2));
        a0 = i32x4.add(a0, i32x4.dot_i16x8_s(wv, v128.load32_splat(x0 + c)));
        a1 = i32x4.add(a1, i32x4.dot_i16x8_s(wv, v128.load32_splat(x1 + c)));
      }
      const n = min(4, rows - (g << 2));
      emit(a0, k, mode, off, K, lo, X, y0 + (<usize>g << 2), n);
      emit(a1, k, mode, off, K, lo, X, y1 + (<usize>g << 2), n);
    }
  }
  for (; b < batch; b++) {
    const x0 = xPtr + <usize>b * rb;
    const y0 = out + <usize>b * <usize>outStride;
    for (let g = gStart; g < gEnd; g++) {
      const w0 = wp + <usize>g * gb;
      let a = i32x4.splat(0);
      for (let c: usize = 0; c < xEnd; c += 4) a = i32x4.add(a, i32x4.dot_i16x8_s(v128.load(w0 + (c << 2)), v128.load32_splat(x0 + c)));
      emit(a, k, mode, off, K, lo, X, y0 + (<usize>g << 2), min(4, rows - (g << 2)));
    }
  }
}
