// The fused functional readout's epilogue: a packed-MVM tile's int32 accumulators (4 rows'
// dots per v128, assembly/mvm-packed.ts) turned into INT8 outputs while they are in
// registers. Used by packedProduct's readout modes (functionalPackedTable,
// functionalPackedLdpu in assembly/functional.ts). Same bits as mvmI16Packed followed by
// functionalReadoutTable:
// - count = nearest-even(fl64(dot · k)), clamped to ±4095. Here: y = fl64(dot · k) plus
//   1.5 · 2^52, whose low 32 bits are y rounded to nearest-even as an int32 when |y| < 2^31
//   (hence |k| < 1: |dot| ≤ 2^30); the clamp happens after (gather) or inside F (formula).
// - TABLE looks the counts up in the LDPU table (ldpuTable), lane by lane.
// - FORMULA computes the table's values instead, 16 outputs per v128:
//   F(c) = relu?(nearest-even(round16(clamp(fl32(c) · K, ±X)))), saturated to INT8 by the
//   narrowing i32 → i16 → i8, with K the LDPU gain (an FP16 value, so c · K is exact in f32),
//   X = min(4095·|K|, 256) (the count's clamp, and beyond 256 every output saturates), and
//   round16 (to FP16's 11 significant bits, ties to even) done by adding and subtracting
//   1.5 · 2^(e + 13) for x's exponent e. That is the LDPU of one count with B = 0, A = 1,
//   C = 0 and no link inputs (assembly/ldpu.ts); rather than trust the derivation, the
//   caller runs functionalLdpuFormula, which compares F with the table at all 8,191 counts,
//   and uses FORMULA only when they agree (otherwise TABLE).
// - UNCLAMPED is FORMULA without the clamp, where F saturates at both ends anyway.
// The costs of each step and the variants tried: docs/kernels.md.

const MAGIC: f64 = 6755399441055744.0; // 1.5 · 2^52
const MAGIC32: f32 = 12582912.0;        // 1.5 · 2^23

// Readout modes (compile-time constants at every call).
export const TABLE: i32 = 0;       // the LDPU table, lane by lane
export const FORMULA: i32 = 1;     // F, x clamped to [lo, X] (lo = −X, or 0 for the ReLU)
export const UNCLAMPED: i32 = 2;   // F without the clamp, where it cannot matter (see functionalPackedLdpu)

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
export function formulaClamp(K: f64): f32 {
  return min(<f32>4095.0 * Mathf.abs(<f32>K), <f32>256.0);
}

/** F of 4 counts (see above), as int32; the caller saturates to INT8. */
// @ts-ignore: decorator
@inline
export function ldpu4(c: v128, K: f32, lo: f32, X: f32, clamp: bool): v128 {
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

/** The first n (1..4; more counts as 4) INT8 outputs of one row group's dots v at o, by F
 * or by the table at off = table + 4095; k is the counts per unit of dot. */
// @ts-ignore: decorator
@inline
export function readout4(mode: i32, o: usize, v: v128, n: i32, k: f64, off: usize, K: f32, lo: f32, X: f32): void {
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

/** The 16 INT8 outputs at o of one input's 4 row groups (dots a, b, c, d), as readout4. */
// @ts-ignore: decorator
@inline
export function readout16(mode: i32, o: usize, a: v128, b: v128, c: v128, d: v128, k: f64, off: usize, K: f32, lo: f32, X: f32): void {
  if (mode != TABLE) v128.store(o, ldpu16(a, b, c, d, k, K, lo, X, mode == FORMULA));
  else {
    readout4(TABLE, o, a, 4, k, off, K, lo, X);
    readout4(TABLE, o + 4, b, 4, k, off, K, lo, X);
    readout4(TABLE, o + 8, c, 4, k, off, K, lo, X);
    readout4(TABLE, o + 12, d, 4, k, off, K, lo, X);
  }
}
