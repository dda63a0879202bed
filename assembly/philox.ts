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
//   c2, c3 = the 64-bit stream id (lo, hi) = (core, purpose, trial) — see lib/rng.ts
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

const TWO_PI: f64 = 6.283185307179586;

// Box–Muller: two uniforms give two independent standard normals.
// Radius from u1, angle from u2. Accuracy: f64 log/cos/sin of AS's std (≤ 1 ulp).
export let n0: f64 = 0;
export let n1: f64 = 0;

// @ts-ignore: decorator
@inline
export function boxMuller(a: u32, b: u32): void {
  const rad = Mathf.sqrt(-2.0 * Mathf.log(<f32>uniform(a)));
  const ang = <f32>TWO_PI * <f32>uniform(b);
  n0 = <f64>(rad * Mathf.cos(ang));
  n1 = <f64>(rad * Mathf.sin(ang));
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
  const a = r0, b = r1, c = r2, d = r3;
  boxMuller(a, b);
  z0 = n0;
  z1 = n1;
  boxMuller(c, d);
  z2 = n0;
  z3 = n1;
}

/** Known-answer check for tests: one block into memory at `out` (4 × u32). */
export function philoxBlockAt(c0: u32, c1: u32, c2: u32, c3: u32, k0: u32, k1: u32, out: usize): void {
  philox(c0, c1, c2, c3, k0, k1);
  store<u32>(out, r0);
  store<u32>(out, r1, 4);
  store<u32>(out, r2, 8);
  store<u32>(out, r3, 12);
}
