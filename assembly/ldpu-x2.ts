// The LDPU's fast path (assembly/ldpu.ts ldpuValueDecoded) on two rows at once in f64x2:
// the same operations lane by lane, hence the same bits. Halves are held exactly in f64;
// r16x2 rounds to the nearest half (ties to even) with integer arithmetic on the bits; an
// FMA is exact in f64 when its TwoSum error is 0, so its one rounding is r16x2's. A lane
// whose FMA is inexact or leaves the normal-half range clears its bit in `okx2`: the caller
// then recomputes that lane with the plain FP16 ldpuValue (rare).

// Vector constants are loaded from a small block in memory (`kp`, written once per batch by
// writeConstantsX2) rather than written inline: V8 rebuilds an inline v128 constant with
// several instructions at every use (the readout went from 26.8 to 24.6 ns per output).
export const C_R16ADD: i32 = 0, C_ONE: i32 = 1, C_R16MASK: i32 = 2, C_NMIN: i32 = 3, C_NMAX: i32 = 4, C_M128: i32 = 5, C_127: i32 = 6;
/** Constants of this file; callers may add theirs from index CONSTANTS_X2 on. */
export const CONSTANTS_X2: i32 = 7;

export function writeConstantsX2(kp: usize): void {
  v128.store(kp + (<usize>C_R16ADD << 4), i64x2.splat(0x1ffffffffff));
  v128.store(kp + (<usize>C_ONE << 4), i64x2.splat(1));
  v128.store(kp + (<usize>C_R16MASK << 4), i64x2.splat(~(<i64>0x3ffffffffff)));
  v128.store(kp + (<usize>C_NMIN << 4), f64x2.splat(6.103515625e-5));
  v128.store(kp + (<usize>C_NMAX << 4), f64x2.splat(65520.0));
  v128.store(kp + (<usize>C_M128 << 4), f64x2.splat(-128.0));
  v128.store(kp + (<usize>C_127 << 4), f64x2.splat(127.0));
}

// @ts-ignore: decorator
@inline
export function kc(kp: usize, i: i32): v128 {
  return v128.load(kp + (<usize>i << 4));
}

/** Lanes (all-ones) of the last ldpuX2 whose every FMA was exact in f64 with a normal or
 * zero half (written once per call; the arithmetic keeps the mask in a local). */
export let okx2: v128 = i64x2.splat(-1);

// @ts-ignore: decorator
@inline
export function r16x2(kp: usize, x: v128): v128 {
  const t = i64x2.add(i64x2.add(x, kc(kp, C_R16ADD)), v128.and(i64x2.shr_u(x, 42), kc(kp, C_ONE)));
  return v128.and(t, kc(kp, C_R16MASK));
}

// @ts-ignore: decorator
@inline
function normalOrZeroX2(kp: usize, x: v128): v128 {
  const a = f64x2.abs(x);
  return v128.or(f64x2.eq(a, f64x2.splat(0.0)), v128.and(f64x2.ge(a, kc(kp, C_NMIN)), f64x2.lt(a, kc(kp, C_NMAX))));
}

/** Lanes where s = p + c was exact (TwoSum error 0) and s is a normal half or zero. */
// @ts-ignore: decorator
@inline
function exactX2(kp: usize, p: v128, c: v128, s: v128): v128 {
  const bb = f64x2.sub(s, p);
  const err = f64x2.add(f64x2.sub(p, f64x2.sub(s, bb)), f64x2.sub(c, bb));
  return v128.and(f64x2.eq(err, f64x2.splat(0.0)), normalOrZeroX2(kp, s));
}

/** max(h, 0) where h ≤ 0 gives +0, as the scalar `if (h <= 0) h = 0`. */
// @ts-ignore: decorator
@inline
function reluX2(h: v128): v128 {
  return v128.bitselect(f64x2.splat(0.0), h, f64x2.le(h, f64x2.splat(0.0)));
}

/**
 * The LDPU of two rows from their counts (f64x2 of integers) and decoded parameters: K, B,
 * affine A, C (skipped in `ident` lanes), ReLU flags, the INT8 link inputs xr (scale R) and
 * xq (scale Q), each added only in lanes where it is non-zero. Returns the INT8 outputs in
 * i32 lanes 0 and 1; okx2 tells which lanes were exact (the others need ldpuValue).
 */
// @ts-ignore: decorator
@inline
export function ldpuX2(
  kp: usize, cp: v128, cn: v128, kOk: v128, k: v128, b: v128, a: v128, c: v128, ident: v128, flags: i32,
  xr: v128, r: v128, xq: v128, q: v128,
): v128 {
  let ok = kOk;
  let p = f64x2.mul(r16x2(kp, cp), k);
  let s = f64x2.add(p, b);
  ok = v128.and(ok, exactX2(kp, p, b, s));
  let h = r16x2(kp, s);
  p = f64x2.mul(r16x2(kp, cn), f64x2.neg(k));
  s = f64x2.add(p, h);
  ok = v128.and(ok, exactX2(kp, p, h, s));
  h = r16x2(kp, s);
  // Affine, except in identity lanes.
  p = f64x2.mul(h, a);
  s = f64x2.add(p, c);
  ok = v128.and(ok, v128.or(ident, exactX2(kp, p, c, s)));
  h = v128.bitselect(h, r16x2(kp, s), ident);
  if (flags & 1) h = reluX2(h);
  const zero = f64x2.splat(0.0);
  if (v128.any_true(xr)) {
    const m = f64x2.eq(xr, zero); // lanes without a link input keep h
    p = f64x2.mul(xr, r);
    s = f64x2.add(p, h);
    ok = v128.and(ok, v128.or(m, exactX2(kp, p, h, s)));
    h = v128.bitselect(h, r16x2(kp, s), m);
  }
  if (flags & 2) h = reluX2(h);
  if (v128.any_true(xq)) {
    const m = f64x2.eq(xq, zero);
    p = f64x2.mul(xq, q);
    s = f64x2.add(p, h);
    ok = v128.and(ok, v128.or(m, exactX2(kp, p, h, s)));
    h = v128.bitselect(h, r16x2(kp, s), m);
  }
  if (flags & 4) h = reluX2(h);
  okx2 = ok;
  return i32x4.trunc_sat_f64x2_s_zero(f64x2.min(f64x2.max(f64x2.nearest(h), kc(kp, C_M128)), kc(kp, C_127)));
}
