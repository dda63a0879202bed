// The pure-TypeScript twin of assembly/rng.ts: Philox4x32-10 with 16-bit-split multiplies
// and the same derived values (uniforms, Box–Muller normals with fdlibm's log/sin/cos in
// plain IEEE f64 arithmetic), bit for bit equal to the wasm kernels. For tests and
// small uses; the kernels are ~20× faster.

import { checkCount, kernelArgs } from "./rng.ts";
import type { Seed, StreamLike } from "./rng.ts";


const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;
const M0_LO = M0 & 0xffff;
const M0_HI = M0 >>> 16;
const M1_LO = M1 & 0xffff;
const M1_HI = M1 >>> 16;

/** High 32 bits of a · (mh·2^16 + ml) for a u32 `a`: every intermediate is an exact double below 2^49. */
function mulhi(a: number, ml: number, mh: number): number {
  const x = a * ml;
  const y = a * mh;
  return Math.floor(y / 65536) + Math.floor(((y % 65536) * 65536 + x) / 4294967296);
}

/** One Philox4x32-10 block: counter (c0..c3), key (k0, k1), all u32; the four words go to out[offset..offset+4). */
export function twinBlock(
  c0: number, c1: number, c2: number, c3: number, k0: number, k1: number,
  out: Uint32Array = new Uint32Array(4), offset = 0,
): Uint32Array {
  c0 >>>= 0; c1 >>>= 0; c2 >>>= 0; c3 >>>= 0; k0 >>>= 0; k1 >>>= 0;
  for (let i = 0; i < 10; i++) {
    const h0 = mulhi(c0, M0_LO, M0_HI);
    const l0 = Math.imul(c0, M0) >>> 0;
    const h1 = mulhi(c2, M1_LO, M1_HI);
    const l1 = Math.imul(c2, M1) >>> 0;
    c0 = (h1 ^ c1 ^ k0) >>> 0;
    c2 = (h0 ^ c3 ^ k1) >>> 0;
    c1 = l1;
    c3 = l0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  out[offset] = c0;
  out[offset + 1] = c1;
  out[offset + 2] = c2;
  out[offset + 3] = c3;
  return out;
}


/** Calls fn(words, i) for the blocks covering words [0, n) of the stream; words = the block, i = its first word index. */
function eachBlock(seed: Seed, stream: StreamLike, n: number, firstBlock: Seed, fn: (w: Uint32Array, i: number) => void): void {
  const [kLo, kHi, sLo, sHi, bLo, bHi] = kernelArgs(seed, stream, firstBlock);
  checkCount(n);
  const w = new Uint32Array(4);
  let lo = bLo >>> 0;
  let hi = bHi >>> 0;
  for (let i = 0; i < n; i += 4) {
    twinBlock(lo, hi, sLo, sHi, kLo, kHi, w);
    fn(w, i);
    lo = (lo + 1) >>> 0;
    if (lo === 0) hi = (hi + 1) >>> 0;
  }
}

/** Words [0, n) of the stream from block firstBlock (TypeScript twin of `fillU32`). */
export function twinU32Words(seed: Seed, stream: StreamLike, n: number, firstBlock: Seed = 0): Uint32Array {
  const out = new Uint32Array(checkCount(n));
  eachBlock(seed, stream, n, firstBlock, (w, i) => {
    for (let j = 0; j < 4 && i + j < n; j++) out[i + j] = w[j]!;
  });
  return out;
}

/** The f32 uniform of a word: ((w >>> 9) + 0.5) · 2^-23, in [2^-24, 1 − 2^-24]. */
export function uniformF32OfWord(w: number): number {
  return ((w >>> 8) | 1) * 2 ** -24;
}

/** The f64 uniform of a word (the Box–Muller input): ((w >>> 8) + 0.5) · 2^-24, in [2^-25, 1 − 2^-25]. */
export function uniformF64OfWord(w: number): number {
  return ((w >>> 7) | 1) * 2 ** -25;
}

/** TypeScript twin of `fillUniformF32`. */
export function twinUniformsF32(seed: Seed, stream: StreamLike, n: number, firstBlock: Seed = 0): Float32Array {
  const out = new Float32Array(checkCount(n));
  eachBlock(seed, stream, n, firstBlock, (w, i) => {
    for (let j = 0; j < 4 && i + j < n; j++) out[i + j] = uniformF32OfWord(w[j]!);
  });
  return out;
}

/** TypeScript twin of `fillUniformF64`. */
export function twinUniformsF64(seed: Seed, stream: StreamLike, n: number, firstBlock: Seed = 0): Float64Array {
  const out = new Float64Array(checkCount(n));
  eachBlock(seed, stream, n, firstBlock, (w, i) => {
    for (let j = 0; j < 4 && i + j < n; j++) out[i + j] = uniformF64OfWord(w[j]!);
  });
  return out;
}

// fdlibm's constants (musl log.c, __sin.c, __cos.c) by their bits, as in assembly/rng.ts.
const bitsView = new DataView(new ArrayBuffer(8));
function fromBits(hi: number, lo: number): number {
  bitsView.setUint32(0, hi);
  bitsView.setUint32(4, lo);
  return bitsView.getFloat64(0);
}
const LN2_HI = fromBits(0x3fe62e42, 0xfee00000);
const LN2_LO = fromBits(0x3dea39ef, 0x35793c76);
const LG1 = fromBits(0x3fe55555, 0x55555593);
const LG2 = fromBits(0x3fd99999, 0x9997fa04);
const LG3 = fromBits(0x3fd24924, 0x94229359);
const LG4 = fromBits(0x3fcc71c5, 0x1d8e78af);
const LG5 = fromBits(0x3fc74664, 0x96cb03de);
const LG6 = fromBits(0x3fc39a09, 0xd078c69f);
const LG7 = fromBits(0x3fc2f112, 0xdf3e5244);
const S1 = fromBits(0xbfc55555, 0x55555549);
const S2 = fromBits(0x3f811111, 0x1110f8a6);
const S3 = fromBits(0xbf2a01a0, 0x19c161d5);
const S4 = fromBits(0x3ec71de3, 0x57b1fe7d);
const S5 = fromBits(0xbe5ae5e6, 0x8a2b9ceb);
const S6 = fromBits(0x3de5d93a, 0x5acfd57c);
const C1 = fromBits(0x3fa55555, 0x5555554c);
const C2 = fromBits(0xbf56c16c, 0x16c15177);
const C3 = fromBits(0x3efa01a0, 0x19cb1590);
const C4 = fromBits(0xbe927e4f, 0x809c52ad);
const C5 = fromBits(0x3e21ee9e, 0xbdb4b1c4);
const C6 = fromBits(0xbda8fae9, 0xbe8838d4);
const SQRT2 = fromBits(0x3ff6a09e, 0x667f3bcd);
const PIO2_2M23 = fromBits(0x3e8921fb, 0x54442d18); // (π/2 rounded) · 2^-23
/** 2^-k, k = 0..31, by exact halving. */
const POW2_NEG: number[] = [1];
for (let k = 1; k < 32; k++) POW2_NEG.push(POW2_NEG[k - 1]! * 0.5);

/**
 * The Box–Muller pair of words (a, b): [r·cos θ, r·sin θ] with r = sqrt(−2 ln u(a)),
 * θ = 2π u(b), u = `uniformF64OfWord`. The same f64 operations, in the same order, as
 * the wasm kernel (fdlibm log and sin/cos kernels), hence the same bits.
 */
export function boxMullerOfWords(a: number, b: number, out: Float64Array | number[] = [0, 0], offset = 0): Float64Array | number[] {
  // radius: ln(v · 2^-25), v = 2^k · y exactly
  const v = (a >>> 7) | 1;
  const k = 31 - Math.clz32(v);
  let y = v * POW2_NEG[k]!;
  let dk = k - 25;
  if (y > SQRT2) {
    y *= 0.5;
    dk += 1;
  }
  const f = y - 1;
  const hfsq = 0.5 * f * f;
  const s = f / (2 + f);
  const z = s * s;
  const w = z * z;
  const t1 = w * (LG2 + w * (LG4 + w * LG6));
  const t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
  const R = t2 + t1;
  const ln = s * (hfsq + R) + dk * LN2_LO - hfsq + f + dk * LN2_HI;
  const r = Math.sqrt(ln * -2);
  // angle: θ = (π/2)·(q + d·2^-23)
  const av = (b >>> 7) | 1;
  const q = (av + 0x400000) >>> 23;
  const d = av - q * 0x800000;
  const x = d * PIO2_2M23;
  const xz = x * x;
  const xw = xz * xz;
  const sr = S2 + xz * (S3 + xz * S4) + xz * xw * (S5 + xz * S6);
  const sn = x + xz * x * (S1 + xz * sr);
  const cr = xz * (C1 + xz * (C2 + xz * C3)) + xw * xw * (C4 + xz * (C5 + xz * C6));
  const hz = 0.5 * xz;
  const cw = 1 - hz;
  const cs = cw + (1 - cw - hz + xz * cr);
  let sinT = q & 1 ? cs : sn;
  let cosT = q & 1 ? -sn : cs;
  if (q & 2) {
    sinT = -sinT;
    cosT = -cosT;
  }
  out[offset] = r * cosT;
  out[offset + 1] = r * sinT;
  return out;
}

function twinNormals<T extends Float32Array | Float64Array>(out: T, seed: Seed, stream: StreamLike, n: number, firstBlock: Seed): T {
  const pair = new Float64Array(2);
  eachBlock(seed, stream, n, firstBlock, (w, i) => {
    for (let j = 0; j < 4 && i + j < n; j += 2) {
      boxMullerOfWords(w[j]!, w[j + 1]!, pair);
      out[i + j] = pair[0]!;
      if (i + j + 1 < n) out[i + j + 1] = pair[1]!;
    }
  });
  return out;
}

/** TypeScript twin of `fillNormalF32`. */
export function twinNormalsF32(seed: Seed, stream: StreamLike, n: number, firstBlock: Seed = 0): Float32Array {
  return twinNormals(new Float32Array(checkCount(n)), seed, stream, n, firstBlock);
}

/** TypeScript twin of `fillNormalF64`. */
export function twinNormalsF64(seed: Seed, stream: StreamLike, n: number, firstBlock: Seed = 0): Float64Array {
  return twinNormals(new Float64Array(checkCount(n)), seed, stream, n, firstBlock);
}

