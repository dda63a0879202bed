// Counter-based random numbers: Philox4x32-10 (Salmon, Moraes, Dror, Shaw, "Parallel
// random numbers: as easy as 1, 2, 3", SC'11; constants and round structure of the
// Random123 library) and bulk fills of u32 words, uniforms and standard normals.
// lib/chip/rng-twin.ts holds a pure-TypeScript twin that gives the same bits.
//
// Keying and counter layout
//   key     = the 64-bit seed:                (k0, k1) = (seed lo32, seed hi32)
//   counter = (block lo32, block hi32, stream lo32, stream hi32)
// A stream is named by a 64-bit stream id (lib/chip/rng.ts `streamId` packs core, purpose,
// trial and step into it) and holds 2^64 blocks of four u32 words. Word i of a stream
// is word (i mod 4) of block (i div 4). Every fill below starts at word 0 of block
// `firstBlock` (64-bit: firstBlockLo, firstBlockHi), so a fill of words [0, n) equals a
// fill of [0, k) followed by a fill of [k, n) with firstBlock = k / 4 when 4 divides k.
//
// Derived values (word w of the stream, value i from word i):
//   fillU32         w
//   fillUniformF64  ((w >>> 8) + 0.5) · 2^-24 = (2·(w >>> 8) + 1) · 2^-25: 24 random bits,
//                   in [2^-25, 1 − 2^-25], exact in f64.
//   fillUniformF32  ((w >>> 9) + 0.5) · 2^-23 = (2·(w >>> 9) + 1) · 2^-24: 23 random bits,
//                   in [2^-24, 1 − 2^-24], exact in f32. (The 24-bit value above is not
//                   representable in f32 above 0.5: rounding would map 1 − 2^-25 to
//                   exactly 1.0, so f32 uniforms keep one bit less and stay in (0, 1).)
//   fillNormalF64/F32  Box–Muller on words (2k, 2k+1) with their 24-bit uniforms u1, u2:
//                   z_2k = r·cos θ, z_2k+1 = r·sin θ, r = sqrt(−2 ln u1), θ = 2π u2.
//                   An odd n drops the last sine. The f32 fill rounds the f64 value.
//
// Accuracy of the normals. log, sin and cos are not AssemblyScript's Math but fdlibm's
// (musl's) kernels evaluated here with plain IEEE-754 f64 operations (+ − × ÷ √, no FMA),
// so the TypeScript twin reproduces them bit for bit on any engine:
//   ln u1: exact reduction u1 = 2^k·y (u1 is a 25-bit dyadic), y in [√2/2, √2), then the
//          fdlibm log polynomial (< 1 ulp);
//   θ:     exact reduction to x = d·(π/2·2^-23) in [−π/4, π/4] and a quadrant (d, the
//          quadrant from integer arithmetic on the word), then fdlibm's __sin/__cos
//          kernels (< 1 ulp; the only extra error is the rounding of x, ≤ 1 ulp).
// The f64 normals agree with sqrt(−2·Math.log(u1))·Math.cos(2π·u2) to a few ulp (test:
// |Δ| < 1e-14); r is at most sqrt(50 ln 2) = 5.887, so |z| ≤ 5.887 (a tail mass of
// 3.9e-9 is cut, the price of 24-bit uniforms).
//
// Kernels allocate nothing and keep no state in memory: they write only into `out`
// (SIMD stores need no alignment). Four blocks are generated at a time in SIMD lanes;
// the Box–Muller transform runs two pairs at a time in f64x2. Measured on one thread
// (AMD EPYC, Node 20, 2^24 values per call): fillNormalF32 ≈ 145 M normals/s,
// fillU32 ≈ 570 M words/s, fillUniformF32 ≈ 460 M/s.

import { philox, philoxX4, r0, r1, r2, r3, v0, v1, v2, v3 } from "./philox";

// ---------------------------------------------------------------------------------
// One block, scalar (known-answer tests, tails). Result in philox.ts's globals r0..r3
// (wasm globals are per instance, hence per worker: no shared state).

// The rounds themselves live in philox.ts (shared with the device kernels).

// @ts-ignore: decorator
@inline
function block(c0: u32, c1: u32, c2: u32, c3: u32, k0: u32, k1: u32): void {
  philox(c0, c1, c2, c3, k0, k1);
}

/** The four words of one Philox4x32-10 block for counter (c0..c3) and key (seedLo, seedHi), to out (u32[4]). */
export function philoxBlock(seedLo: u32, seedHi: u32, c0: u32, c1: u32, c2: u32, c3: u32, outPtr: usize): void {
  block(c0, c1, c2, c3, seedLo, seedHi);
  store<u32>(outPtr, r0);
  store<u32>(outPtr, r1, 4);
  store<u32>(outPtr, r2, 8);
  store<u32>(outPtr, r3, 12);
}

// ---------------------------------------------------------------------------------
// Four consecutive blocks (lo, hi) .. (lo + 3, hi + carry) in the four i32x4 lanes,
// stored block by block (16 words, the stream's order) at dst.

// @ts-ignore: decorator
@inline
function blocks4(lo: u32, hi: u32, s0: u32, s1: u32, k0: u32, k1: u32, dst: usize): void {
  const base = i32x4.splat(lo);
  let c0 = i32x4.add(base, i32x4(0, 1, 2, 3));
  // lanes whose low word wrapped carry into the high word (the mask is −1 there)
  let c1 = i32x4.sub(i32x4.splat(hi), i32x4.lt_u(c0, base));
  philoxX4(c0, c1, i32x4.splat(s0), i32x4.splat(s1), k0, k1);
  const c2 = v2, c3 = v3;
  c0 = v0;
  c1 = v1;
  // transpose: lane b of (c0, c1, c2, c3) is block b
  const t0 = i32x4.shuffle(c0, c1, 0, 4, 1, 5);
  const t1 = i32x4.shuffle(c0, c1, 2, 6, 3, 7);
  const t2 = i32x4.shuffle(c2, c3, 0, 4, 1, 5);
  const t3 = i32x4.shuffle(c2, c3, 2, 6, 3, 7);
  v128.store(dst, i32x4.shuffle(t0, t2, 0, 1, 4, 5), 0, 1);
  v128.store(dst, i32x4.shuffle(t0, t2, 2, 3, 6, 7), 16, 1);
  v128.store(dst, i32x4.shuffle(t1, t3, 0, 1, 4, 5), 32, 1);
  v128.store(dst, i32x4.shuffle(t1, t3, 2, 3, 6, 7), 48, 1);
}

// The stream position: block (lo, hi), advanced with carry.
let posLo: u32 = 0;
let posHi: u32 = 0;

// @ts-ignore: decorator
@inline
function advance(blocks: u32): void {
  const lo = posLo + blocks;
  if (lo < posLo) posHi += 1;
  posLo = lo;
}

/** The n words of stream (streamLo, streamHi) from word 0 of block firstBlock, to out (u32[n]). */
export function fillU32(
  seedLo: u32, seedHi: u32, streamLo: u32, streamHi: u32, firstBlockLo: u32, firstBlockHi: u32, outPtr: usize, n: i32,
): void {
  posLo = firstBlockLo;
  posHi = firstBlockHi;
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    blocks4(posLo, posHi, streamLo, streamHi, seedLo, seedHi, outPtr + (<usize>i << 2));
    advance(4);
  }
  for (; i < n; i += 4) {
    block(posLo, posHi, streamLo, streamHi, seedLo, seedHi);
    advance(1);
    const p = outPtr + (<usize>i << 2);
    store<u32>(p, r0);
    if (i + 1 < n) store<u32>(p, r1, 4);
    if (i + 2 < n) store<u32>(p, r2, 8);
    if (i + 3 < n) store<u32>(p, r3, 12);
  }
}

// ---------------------------------------------------------------------------------
// Uniforms

// @ts-ignore: decorator
@inline
function uniformsF32x4(w: v128): v128 {
  // (2·(w >>> 9) + 1) = (w >>> 8) | 1 < 2^24: exact in f32, then an exact power-of-two scale
  return f32x4.mul(f32x4.convert_i32x4_u(v128.or(i32x4.shr_u(w, 8), i32x4.splat(1))), f32x4.splat(5.9604644775390625e-8));
}

/** n uniforms in (0, 1) (23 random bits each, see the header), to out (f32[n]). */
export function fillUniformF32(
  seedLo: u32, seedHi: u32, streamLo: u32, streamHi: u32, firstBlockLo: u32, firstBlockHi: u32, outPtr: usize, n: i32,
): void {
  posLo = firstBlockLo;
  posHi = firstBlockHi;
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = outPtr + (<usize>i << 2);
    blocks4(posLo, posHi, streamLo, streamHi, seedLo, seedHi, p);
    advance(4);
    v128.store(p, uniformsF32x4(v128.load(p, 0, 1)), 0, 1);
    v128.store(p, uniformsF32x4(v128.load(p, 16, 1)), 16, 1);
    v128.store(p, uniformsF32x4(v128.load(p, 32, 1)), 32, 1);
    v128.store(p, uniformsF32x4(v128.load(p, 48, 1)), 48, 1);
  }
  for (; i < n; i += 4) {
    block(posLo, posHi, streamLo, streamHi, seedLo, seedHi);
    advance(1);
    const u = uniformsF32x4(i32x4(r0, r1, r2, r3));
    const p = outPtr + (<usize>i << 2);
    store<f32>(p, f32x4.extract_lane(u, 0));
    if (i + 1 < n) store<f32>(p, f32x4.extract_lane(u, 1), 4);
    if (i + 2 < n) store<f32>(p, f32x4.extract_lane(u, 2), 8);
    if (i + 3 < n) store<f32>(p, f32x4.extract_lane(u, 3), 12);
  }
}

// @ts-ignore: decorator
@inline
function uniformF64(w: u32): f64 {
  return <f64>((w >>> 7) | 1) * 2.98023223876953125e-8; // 2^-25
}

/** n uniforms in (0, 1) (24 random bits each, the Box–Muller inputs), to out (f64[n]). */
export function fillUniformF64(
  seedLo: u32, seedHi: u32, streamLo: u32, streamHi: u32, firstBlockLo: u32, firstBlockHi: u32, outPtr: usize, n: i32,
): void {
  posLo = firstBlockLo;
  posHi = firstBlockHi;
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = outPtr + (<usize>i << 3);
    // words into the upper half of the group's 128 bytes; each is read before overwritten
    blocks4(posLo, posHi, streamLo, streamHi, seedLo, seedHi, p + 64);
    advance(4);
    for (let j: usize = 0; j < 4; j++) {
      const v = v128.or(i32x4.shr_u(v128.load(p + 64 + (j << 4), 0, 1), 7), i32x4.splat(1));
      const scale = f64x2.splat(2.98023223876953125e-8); // 2^-25
      v128.store(p + (j << 5), f64x2.mul(f64x2.convert_low_i32x4_u(v), scale), 0, 1);
      v128.store(p + (j << 5), f64x2.mul(f64x2.convert_low_i32x4_u(i32x4.shuffle(v, v, 2, 3, 2, 3)), scale), 16, 1);
    }
  }
  for (; i < n; i += 4) {
    block(posLo, posHi, streamLo, streamHi, seedLo, seedHi);
    advance(1);
    const p = outPtr + (<usize>i << 3);
    store<f64>(p, uniformF64(r0));
    if (i + 1 < n) store<f64>(p, uniformF64(r1), 8);
    if (i + 2 < n) store<f64>(p, uniformF64(r2), 16);
    if (i + 3 < n) store<f64>(p, uniformF64(r3), 24);
  }
}

// ---------------------------------------------------------------------------------
// Box–Muller, two pairs at a time. The constants are fdlibm's (musl log.c, __sin.c,
// __cos.c), given by their bits; lib/chip/rng.ts uses the same bits.

const LN2_HI = reinterpret<f64>(0x3fe62e42fee00000);
const LN2_LO = reinterpret<f64>(0x3dea39ef35793c76);
const LG1 = reinterpret<f64>(0x3fe5555555555593);
const LG2 = reinterpret<f64>(0x3fd999999997fa04);
const LG3 = reinterpret<f64>(0x3fd2492494229359);
const LG4 = reinterpret<f64>(0x3fcc71c51d8e78af);
const LG5 = reinterpret<f64>(0x3fc7466496cb03de);
const LG6 = reinterpret<f64>(0x3fc39a09d078c69f);
const LG7 = reinterpret<f64>(0x3fc2f112df3e5244);
const S1 = reinterpret<f64>(0xbfc5555555555549);
const S2 = reinterpret<f64>(0x3f8111111110f8a6);
const S3 = reinterpret<f64>(0xbf2a01a019c161d5);
const S4 = reinterpret<f64>(0x3ec71de357b1fe7d);
const S5 = reinterpret<f64>(0xbe5ae5e68a2b9ceb);
const S6 = reinterpret<f64>(0x3de5d93a5acfd57c);
const C1 = reinterpret<f64>(0x3fa555555555554c);
const C2 = reinterpret<f64>(0xbf56c16c16c15177);
const C3 = reinterpret<f64>(0x3efa01a019cb1590);
const C4 = reinterpret<f64>(0xbe927e4f809c52ad);
const C5 = reinterpret<f64>(0x3e21ee9ebdb4b1c4);
const C6 = reinterpret<f64>(0xbda8fae9be8838d4);
const SQRT2 = reinterpret<f64>(0x3ff6a09e667f3bcd); // √2 rounded
const PIO2_2M23 = reinterpret<f64>(0x3e8921fb54442d18); // (π/2 rounded) · 2^-23

// @ts-ignore: decorator
@inline
function vmadd(a: v128, b: v128, c: v128): v128 {
  return f64x2.add(a, f64x2.mul(b, c));
}

// The four normals of one block's words w = (w0, w1, w2, w3):
//   z0 = r0 cos θ1, z1 = r0 sin θ1, z2 = r2 cos θ3, z3 = r2 sin θ3
// (r from words 0 and 2, θ from words 1 and 3), the first `rem` of them (all four if
// rem ≥ 4) stored at dst as f32 or f64.
// @ts-ignore: decorator
@inline
function boxMuller4(w: v128, dst: usize, rem: i32, asF32: bool): void {
  // 2·(w >>> 8) + 1, an odd integer below 2^25 (the uniform is that · 2^-25)
  const v = v128.or(i32x4.shr_u(w, 7), i32x4.splat(1));

  // ---- radius from lanes 0, 2: ln(v · 2^-25) ----
  const bits = f64x2.convert_low_i32x4_u(i32x4.shuffle(v, v, 0, 2, 0, 2)); // v = 2^e · y exactly, y in [1, 2)
  // e − 25 as f64 from the biased exponent (magic: 2^52 + 1023 + 25)
  let dk = f64x2.sub(v128.or(i64x2.shr_u(bits, 52), i64x2.splat(0x4330000000000000)), f64x2.splat(4503599627371544.0));
  let y = v128.or(v128.and(bits, i64x2.splat(0x000fffffffffffff)), i64x2.splat(0x3ff0000000000000));
  const big = f64x2.gt(y, f64x2.splat(SQRT2)); // reduce to y in [√2/2, √2)
  y = v128.bitselect(f64x2.mul(y, f64x2.splat(0.5)), y, big);
  dk = f64x2.add(dk, v128.and(big, f64x2.splat(1.0)));
  const f = f64x2.sub(y, f64x2.splat(1.0));
  const hfsq = f64x2.mul(f64x2.mul(f64x2.splat(0.5), f), f);
  const s = f64x2.div(f, f64x2.add(f64x2.splat(2.0), f));
  const z = f64x2.mul(s, s);
  const ww = f64x2.mul(z, z);
  const t1 = f64x2.mul(ww, vmadd(f64x2.splat(LG2), ww, vmadd(f64x2.splat(LG4), ww, f64x2.splat(LG6))));
  const t2 = f64x2.mul(z, vmadd(f64x2.splat(LG1), ww, vmadd(f64x2.splat(LG3), ww, vmadd(f64x2.splat(LG5), ww, f64x2.splat(LG7)))));
  const R = f64x2.add(t2, t1);
  // s·(hfsq + R) + dk·ln2_lo − hfsq + f + dk·ln2_hi, left to right
  let ln = f64x2.add(f64x2.mul(s, f64x2.add(hfsq, R)), f64x2.mul(dk, f64x2.splat(LN2_LO)));
  ln = f64x2.add(f64x2.add(f64x2.sub(ln, hfsq), f), f64x2.mul(dk, f64x2.splat(LN2_HI)));
  const r = f64x2.sqrt(f64x2.mul(ln, f64x2.splat(-2.0)));

  // ---- angle from lanes 1, 3: θ = 2π·v·2^-25 = (π/2)·(q + d·2^-23) ----
  const a = i32x4.shuffle(v, v, 1, 3, 1, 3);
  const q = i32x4.shr_u(i32x4.add(a, i32x4.splat(0x400000)), 23); // round(v / 2^23), 0..4
  const d = i32x4.sub(a, i32x4.shl(q, 23)); // odd, |d| < 2^22
  const x = f64x2.mul(f64x2.convert_low_i32x4_s(d), f64x2.splat(PIO2_2M23)); // |x| < π/4
  const xz = f64x2.mul(x, x);
  const xw = f64x2.mul(xz, xz);
  // fdlibm __sin(x, 0, 0)
  const sr = f64x2.add(
    vmadd(f64x2.splat(S2), xz, vmadd(f64x2.splat(S3), xz, f64x2.splat(S4))),
    f64x2.mul(f64x2.mul(xz, xw), vmadd(f64x2.splat(S5), xz, f64x2.splat(S6))),
  );
  const sn = f64x2.add(x, f64x2.mul(f64x2.mul(xz, x), vmadd(f64x2.splat(S1), xz, sr)));
  // fdlibm __cos(x, 0)
  const cr = f64x2.add(
    f64x2.mul(xz, vmadd(f64x2.splat(C1), xz, vmadd(f64x2.splat(C2), xz, f64x2.splat(C3)))),
    f64x2.mul(f64x2.mul(xw, xw), vmadd(f64x2.splat(C4), xz, vmadd(f64x2.splat(C5), xz, f64x2.splat(C6)))),
  );
  const hz = f64x2.mul(f64x2.splat(0.5), xz);
  const cw = f64x2.sub(f64x2.splat(1.0), hz);
  const cs = f64x2.add(cw, f64x2.add(f64x2.sub(f64x2.sub(f64x2.splat(1.0), cw), hz), f64x2.mul(xz, cr)));
  // quadrant: odd q maps (sin, cos) to (cos, −sin); q & 2 negates both
  const swap = i64x2.extend_low_i32x4_s(i32x4.ne(v128.and(q, i32x4.splat(1)), i32x4.splat(0)));
  const neg = i64x2.shl(i64x2.extend_low_i32x4_u(v128.and(q, i32x4.splat(2))), 62);
  const sinT = v128.xor(v128.bitselect(cs, sn, swap), neg);
  const cosT = v128.xor(v128.bitselect(f64x2.neg(sn), cs, swap), neg);

  const zc = f64x2.mul(r, cosT); // (z0, z2)
  const zs = f64x2.mul(r, sinT); // (z1, z3)
  if (asF32) {
    if (rem >= 4) {
      v128.store(dst, i32x4.shuffle(f32x4.demote_f64x2_zero(zc), f32x4.demote_f64x2_zero(zs), 0, 4, 1, 5), 0, 1);
    } else {
      store<f32>(dst, <f32>f64x2.extract_lane(zc, 0));
      if (rem > 1) store<f32>(dst, <f32>f64x2.extract_lane(zs, 0), 4);
      if (rem > 2) store<f32>(dst, <f32>f64x2.extract_lane(zc, 1), 8);
    }
  } else {
    if (rem >= 4) {
      v128.store(dst, i64x2.shuffle(zc, zs, 0, 2), 0, 1);
      v128.store(dst, i64x2.shuffle(zc, zs, 1, 3), 16, 1);
    } else {
      store<f64>(dst, f64x2.extract_lane(zc, 0));
      if (rem > 1) store<f64>(dst, f64x2.extract_lane(zs, 0), 8);
      if (rem > 2) store<f64>(dst, f64x2.extract_lane(zc, 1), 16);
    }
  }
}

// @ts-ignore: decorator
@inline
function fillNormal(
  seedLo: u32, seedHi: u32, streamLo: u32, streamHi: u32, firstBlockLo: u32, firstBlockHi: u32, outPtr: usize, n: i32, asF32: bool,
): void {
  const shift: usize = asF32 ? 2 : 3;
  posLo = firstBlockLo;
  posHi = firstBlockHi;
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = outPtr + (<usize>i << shift);
    // the 16 words go where the last 16 (f32) or 8 (f64) outputs' bytes will be, so each
    // block's words are read before its outputs overwrite them
    const wp = asF32 ? p : p + 64;
    blocks4(posLo, posHi, streamLo, streamHi, seedLo, seedHi, wp);
    advance(4);
    const step: usize = asF32 ? 16 : 32;
    boxMuller4(v128.load(wp, 0, 1), p, 4, asF32);
    boxMuller4(v128.load(wp, 16, 1), p + step, 4, asF32);
    boxMuller4(v128.load(wp, 32, 1), p + 2 * step, 4, asF32);
    boxMuller4(v128.load(wp, 48, 1), p + 3 * step, 4, asF32);
  }
  for (; i < n; i += 4) {
    block(posLo, posHi, streamLo, streamHi, seedLo, seedHi);
    advance(1);
    boxMuller4(i32x4(r0, r1, r2, r3), outPtr + (<usize>i << shift), n - i, asF32);
  }
}

/** n standard normals (Box–Muller, see the header), to out (f32[n]). */
export function fillNormalF32(
  seedLo: u32, seedHi: u32, streamLo: u32, streamHi: u32, firstBlockLo: u32, firstBlockHi: u32, outPtr: usize, n: i32,
): void {
  fillNormal(seedLo, seedHi, streamLo, streamHi, firstBlockLo, firstBlockHi, outPtr, n, true);
}

/** n standard normals (Box–Muller, see the header), to out (f64[n]). */
export function fillNormalF64(
  seedLo: u32, seedHi: u32, streamLo: u32, streamHi: u32, firstBlockLo: u32, firstBlockHi: u32, outPtr: usize, n: i32,
): void {
  fillNormal(seedLo, seedHi, streamLo, streamHi, firstBlockLo, firstBlockHi, outPtr, n, false);
}
