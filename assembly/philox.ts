// Philox4x32-10 (Salmon, Moraes, Dror, Shaw, "Parallel random numbers: as easy as
// 1, 2, 3", SC'11; the Random123 library's constants), as inline helpers for kernels
// that draw per-device randomness: every draw is a pure function of
//   key     = the 64-bit seed (k0 = low word, k1 = high word)
//   counter = (c0, c1, c2, c3) = (index lo, index hi... see below)
// so results never depend on the order of work or the thread count.
//
// Counter layout used by the simulator's kernels:
//   c0 = block index inside the stream (e.g. a cell or device index)
//   c1 = step (e.g. the program-and-verify iteration), or 0
//   c2, c3 = the 64-bit stream id (lo, hi) — see lib/chip/rng.ts `streamId`.
// In rng.ts's terms (counter = 64-bit block, stream) this is block c0 + step·2^32 of the
// stream: the two layouts coincide as long as block indices stay below 2^32.
// One block gives four u32 words, hence four uniforms or four normals.

const M0: u64 = 0xd2511f53;
const M1: u64 = 0xcd9e8d57;
const W0: u32 = 0x9e3779b9;
const W1: u32 = 0xbb67ae85;

// The four output words of the last `philox` call (globals keep the kernels
// allocation-free; each wasm instance, hence each worker, has its own).
export let r0: u32 = 0;
export let r1: u32 = 0;
export let r2: u32 = 0;
export let r3: u32 = 0;

/** One Philox4x32-10 block; the result is left in r0..r3. */
// @ts-ignore: decorator
@inline
export function philox(c0: u32, c1: u32, c2: u32, c3: u32, k0: u32, k1: u32): void {
  for (let i = 0; i < 10; i++) {
    const p0 = M0 * <u64>c0;
    const p1 = M1 * <u64>c2;
    const n0 = (<u32>(p1 >> 32)) ^ c1 ^ k0;
    const n2 = (<u32>(p0 >> 32)) ^ c3 ^ k1;
    c1 = <u32>p1;
    c3 = <u32>p0;
    c0 = n0;
    c2 = n2;
    k0 += W0;
    k1 += W1;
  }
  r0 = c0;
  r1 = c1;
  r2 = c2;
  r3 = c3;
}

/** A u32 to a uniform in (0, 1): 24 random bits, centred in their bin (never 0 or 1). */
// @ts-ignore: decorator
@inline
export function uniform(u: u32): f64 {
  return (<f64>(u >>> 8) + 0.5) * 5.9604644775390625e-8; // 2^-24
}

// Standard normals by inversion: z = Φ⁻¹(u) with Wichura's algorithm AS241 (PPND7,
// Applied Statistics 37:477, 1988), relative accuracy about 1e−7 — ample for f32 noise.
// 85 % of draws (|u − ½| ≤ 0.425) cost one rational polynomial; the tails one log and
// one sqrt. With 24-bit uniforms |z| ≤ 5.3. One u32 word gives one normal.
// @ts-ignore: decorator
@inline
export function normalFromU32(w: u32): f64 {
  const u = uniform(w);
  const q = u - 0.5;
  if (Math.abs(q) <= 0.425) return as241Central(q);
  return as241Tail(q, <f64>Mathf.sqrt(-Mathf.log(<f32>(q < 0 ? u : 1.0 - u))));
}

/** AS241 PPND7 for |q| = |u − ½| ≤ 0.425: one rational polynomial. */
// @ts-ignore: decorator
@inline
export function as241Central(q: f64): f64 {
  const r = 0.180625 - q * q;
  return (q * (((59.10937472 * r + 159.29113202) * r + 50.434271938) * r + 3.3871327179)) /
    (((67.1875636 * r + 78.757757664) * r + 17.895169469) * r + 1.0);
}

/** AS241 PPND7 in the tails, from q = u − ½ and r = √(−ln min(u, 1 − u)) (the caller picks
 * the log's precision). */
// @ts-ignore: decorator
@inline
export function as241Tail(q: f64, r: f64): f64 {
  let z: f64;
  if (r <= 5.0) {
    r -= 1.6;
    z = (((0.17023821103 * r + 1.3067284816) * r + 2.75681539) * r + 1.4234372777) /
      ((0.1202113297 * r + 0.7370016425) * r + 1.0);
  } else {
    r -= 5.0;
    z = (((0.017337203997 * r + 0.42868294337) * r + 3.081226386) * r + 6.657905115) /
      ((0.012258202635 * r + 0.24197894225) * r + 1.0);
  }
  return q < 0 ? -z : z;
}

// Two normals from two words (kept for callers that want pairs); left in n0, n1.
export let n0: f64 = 0;
export let n1: f64 = 0;

// @ts-ignore: decorator
@inline
export function normalPair(a: u32, b: u32): void {
  n0 = normalFromU32(a);
  n1 = normalFromU32(b);
}

/** Four standard normals from one block; left in z0..z3. */
export let z0: f64 = 0;
export let z1: f64 = 0;
export let z2: f64 = 0;
export let z3: f64 = 0;

// @ts-ignore: decorator
@inline
export function normals4(c0: u32, c1: u32, c2: u32, c3: u32, k0: u32, k1: u32): void {
  philox(c0, c1, c2, c3, k0, k1);
  z0 = normalFromU32(r0);
  z1 = normalFromU32(r1);
  z2 = normalFromU32(r2);
  z3 = normalFromU32(r3);
}

/** For tests: Φ⁻¹ of the uniform a u32 word maps to. */
export function normalOfWord(w: u32): f64 {
  return normalFromU32(w);
}

// ---- Four Philox blocks at once (SIMD, structure of arrays) ----
// Lane l of the inputs is block l's counter word; lane l of v0..v3 its output words.
// The 32 × 32 → 64-bit products come from i64x2.extmul (high halves) and i32x4.mul (low).
export let v0: v128 = i32x4.splat(0);
export let v1: v128 = i32x4.splat(0);
export let v2: v128 = i32x4.splat(0);
export let v3: v128 = i32x4.splat(0);

// @ts-ignore: decorator
@inline
function mulhi(a: v128, m: v128): v128 {
  const lo = i64x2.extmul_low_i32x4_u(a, m);
  const hi = i64x2.extmul_high_i32x4_u(a, m);
  return i8x16.shuffle(lo, hi, 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31);
}

/** Philox4x32-10 on four counters at once; results in v0..v3 (word-major). */
// @ts-ignore: decorator
@inline
export function philoxX4(c0: v128, c1: v128, c2: v128, c3: v128, k0: u32, k1: u32): void {
  philoxX4M(c0, c1, c2, c3, k0, k1, i32x4.splat(<i32>M0), i32x4.splat(<i32>M1));
}

/** The multipliers as vectors, for philoxX4M (a hot loop loads them from memory: V8 rebuilds
 * an inline v128 constant at every use). */
export function philoxMultipliers(out: usize): void {
  v128.store(out, i32x4.splat(<i32>M0));
  v128.store(out, i32x4.splat(<i32>M1), 16);
}

/** philoxX4 with the multipliers given (m0 = splat(M0), m1 = splat(M1)). */
// @ts-ignore: decorator
@inline
export function philoxX4M(c0: v128, c1: v128, c2: v128, c3: v128, k0: u32, k1: u32, m0: v128, m1: v128): void {
  let kk0 = k0, kk1 = k1;
  for (let i = 0; i < 10; i++) {
    const hi0 = mulhi(c0, m0);
    const lo0 = i32x4.mul(c0, m0);
    const hi1 = mulhi(c2, m1);
    const lo1 = i32x4.mul(c2, m1);
    c0 = v128.xor(v128.xor(hi1, c1), i32x4.splat(<i32>kk0));
    c2 = v128.xor(v128.xor(hi0, c3), i32x4.splat(<i32>kk1));
    c1 = lo1;
    c3 = lo0;
    kk0 += W0;
    kk1 += W1;
  }
  v0 = c0;
  v1 = c1;
  v2 = c2;
  v3 = c3;
}

/** For tests: four blocks with counters (c0 + l, c1, c2, c3), l = 0..3, into out (16 × u32, block-major). */
export function philoxX4At(c0: u32, c1: u32, c2: u32, c3: u32, k0: u32, k1: u32, out: usize): void {
  const base = i32x4(<i32>c0, <i32>(c0 + 1), <i32>(c0 + 2), <i32>(c0 + 3));
  philoxX4(base, i32x4.splat(<i32>c1), i32x4.splat(<i32>c2), i32x4.splat(<i32>c3), k0, k1);
  for (let l = 0; l < 4; l++) {
    store<u32>(out + (<usize>l << 4), lane(v0, l));
    store<u32>(out + (<usize>l << 4), lane(v1, l), 4);
    store<u32>(out + (<usize>l << 4), lane(v2, l), 8);
    store<u32>(out + (<usize>l << 4), lane(v3, l), 12);
  }
}

/** Lane `l` (0..3, not a constant) of an i32x4 as u32. */
// @ts-ignore: decorator
@inline
export function lane(v: v128, l: i32): u32 {
  return <u32>(l == 0 ? i32x4.extract_lane(v, 0) : l == 1 ? i32x4.extract_lane(v, 1) : l == 2 ? i32x4.extract_lane(v, 2) : i32x4.extract_lane(v, 3));
}
