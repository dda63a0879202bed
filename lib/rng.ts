// Counter-based random numbers for the simulator: Philox4x32-10 (Salmon et al., SC'11;
// Random123), keyed by the 64-bit seed, counter = (block lo, block hi, stream lo,
// stream hi). See assembly/rng.ts for the layout and the derived values (uniforms,
// Box–Muller normals). This module holds
//   - stream ids: `streamId({ core, purpose, trial, step })` and the `Purpose` codes;
//   - a pure-TypeScript twin of the wasm kernels (`twin*`), bit for bit the same values,
//     for tests and for code that must not touch the wasm memory;
//   - a thin facade over the wasm kernels (`u32Words`, `uniforms`, `uniformsF64`,
//     `normals`, `normalsF64`) that copies results out. Hot paths call the kernels on
//     their own buffers with `kernelArgs(seed, stream, firstBlock)`.
//
// Stream id encoding (64 bits, low word first):
//   bits  0.. 7  core      0..63, or 255 (CHIP_CORE) for chip-wide draws
//   bits  8..15  purpose   0..255, see `Purpose`
//   bits 16..39  trial     0..2^24 − 1 (Monte-Carlo trial, chip instance, ...)
//   bits 40..63  step      0..2^24 − 1 (time step, iteration, read number, ...)
// so lo = core | purpose << 8 | (trial & 0xffff) << 16, hi = trial >>> 16 | step << 8.
// With trial = step = 0 this is the (core | purpose << 8, 0) stream the existing kernels
// use (assembly/pcm.ts `stream`, lib/workload.ts).

import { ArgumentError, intInRange, seedToBigInt } from "./validate.ts";
import { withScratch } from "./wasm.ts";

/** A seed (or any 64-bit counter value): a non-negative safe integer or a bigint below 2^64. */
export type Seed = bigint | number;

/** A 64-bit stream id as two u32 words. */
export interface StreamId {
  readonly lo: number;
  readonly hi: number;
}

/** The fields of a stream id (see the encoding above). */
export interface StreamFields {
  core: number;
  purpose: number;
  trial?: number;
  step?: number;
}

/** What a stream is drawn for (the purpose byte of the stream id). Codes 1–7 are those the kernels already use. */
export const Purpose = {
  /** Static device properties: G_SET, I_mid, RESET floor, curve width (assembly/pcm.ts PURPOSE_DEVICE). */
  SET_DISTRIBUTION: 1,
  /** Stuck devices (assembly/pcm.ts PURPOSE_DEFECT). */
  DEFECTS: 2,
  /** Pulse jitter and verify-read noise of program-and-verify (assembly/pcm.ts PURPOSE_PROGRAM). */
  PROGRAM_NOISE: 3,
  /** Per-core device statistics (lib/pcm-params.ts). */
  CORE_STATS: 4,
  /** Choice of the outlier core(s) (lib/pcm-params.ts). */
  OUTLIER_CORES: 5,
  /** Workload weights (lib/workload.ts PURPOSE_WEIGHTS). */
  WEIGHTS: 6,
  /** Workload inputs (lib/workload.ts PURPOSE_INPUTS). */
  INPUTS: 7,
  /** Per-device drift exponents ν. */
  DRIFT_NU: 8,
  /** Read noise of every read (1/f and thermal noise of an MVM). */
  READ_NOISE: 9,
  /** Static ADC mismatch: per-row gain, offset and nonlinearity (assembly/adc.ts). */
  ADC_MISMATCH: 10,
  /** Noise of the functional (fast, statistical) model. */
  FUNCTIONAL_NOISE: 11,
  /** Generic Monte-Carlo draws (experiments, tests). */
  MONTE_CARLO: 12,
  /** Temporal drift variability (device-to-device and cycle-to-cycle scatter of drift over time). */
  DRIFT_NOISE: 13,
  /** Input (DAC / PWM duration) mismatch. */
  DAC_MISMATCH: 14,
  /** The ADC calibration run's measurement dither and noise (assembly/adc.ts). */
  ADC_CALIBRATION: 15,
} as const;
export type PurposeName = keyof typeof Purpose;
export type PurposeCode = (typeof Purpose)[PurposeName];

/** The core byte of chip-wide streams (lib/pcm-params.ts uses it). */
export const CHIP_CORE = 255;
export const MAX_CORE = 63;
export const MAX_PURPOSE = 255;
export const MAX_TRIAL = 0xffffff;
export const MAX_STEP = 0xffffff;

/** The stream id of (core, purpose, trial = 0, step = 0). */
export function streamId(fields: StreamFields): StreamId {
  if (typeof fields !== "object" || fields === null) throw new ArgumentError("stream fields", "an object { core, purpose, trial?, step? }", fields);
  const { core, purpose, trial = 0, step = 0 } = fields;
  if (!(typeof core === "number" && Number.isInteger(core) && ((core >= 0 && core <= MAX_CORE) || core === CHIP_CORE))) {
    throw new ArgumentError("core", `an integer in 0..${MAX_CORE}, or ${CHIP_CORE} (CHIP_CORE) for chip-wide draws`, core);
  }
  intInRange(purpose, 0, MAX_PURPOSE, "purpose");
  intInRange(trial, 0, MAX_TRIAL, "trial");
  intInRange(step, 0, MAX_STEP, "step");
  return {
    lo: (core | (purpose << 8) | ((trial & 0xffff) << 16)) >>> 0,
    hi: ((trial >>> 16) | (step << 8)) >>> 0,
  };
}

/** The fields of a stream id (inverse of `streamId`). */
export function decodeStreamId(id: StreamId): Required<StreamFields> {
  const { lo, hi } = checkStreamId(id, "stream");
  return { core: lo & 0xff, purpose: (lo >>> 8) & 0xff, trial: (lo >>> 16) | ((hi & 0xff) << 16), step: hi >>> 8 };
}

export function streamIdToBigInt(id: StreamId): bigint {
  const { lo, hi } = checkStreamId(id, "stream");
  return (BigInt(hi) << 32n) | BigInt(lo);
}

export function streamIdFromBigInt(value: bigint): StreamId {
  const v = seedToBigInt(value, "stream");
  return { lo: Number(v & 0xffffffffn), hi: Number(v >> 32n) };
}

function isU32(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
}

function checkStreamId(id: StreamId, argument: string): StreamId {
  if (typeof id !== "object" || id === null || !isU32(id.lo) || !isU32(id.hi)) {
    throw new ArgumentError(argument, "a stream id { lo, hi } of two u32 words", id);
  }
  return id;
}

/** A stream given as an id, its fields, or a bigint below 2^64. */
export type StreamLike = StreamId | StreamFields | bigint;

export function toStreamId(stream: StreamLike, argument = "stream"): StreamId {
  if (typeof stream === "bigint") return streamIdFromBigInt(stream);
  if (typeof stream === "object" && stream !== null && "core" in stream) return streamId(stream);
  return checkStreamId(stream as StreamId, argument);
}

/** The two u32 words (lo, hi) of a seed or 64-bit block index; throws an ArgumentError naming `argument`. */
export function words64(value: Seed, argument = "seed"): { lo: number; hi: number } {
  const v = seedToBigInt(value, argument);
  return { lo: Number(v & 0xffffffffn), hi: Number(v >> 32n) };
}

/**
 * The first six arguments of every fill kernel (seedLo, seedHi, streamLo, streamHi,
 * firstBlockLo, firstBlockHi) as i32, e.g. `kernels.fillNormalF32(...kernelArgs(seed, s), ptr, n)`.
 */
export function kernelArgs(seed: Seed, stream: StreamLike, firstBlock: Seed = 0): [number, number, number, number, number, number] {
  const k = words64(seed, "seed");
  const s = toStreamId(stream);
  const b = words64(firstBlock, "firstBlock");
  return [k.lo | 0, k.hi | 0, s.lo | 0, s.hi | 0, b.lo | 0, b.hi | 0];
}

// ---------------------------------------------------------------------------------
// The TypeScript twin.

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

function checkCount(n: number): number {
  return intInRange(n, 0, 2 ** 28, "n");
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

// ---------------------------------------------------------------------------------
// The wasm facade: one kernel call into scratch memory, copied out.

/** Words [0, n) of the stream from block firstBlock (wasm `fillU32`). */
export function u32Words(seed: Seed, stream: StreamLike, n: number, firstBlock: Seed = 0): Uint32Array {
  const args = kernelArgs(seed, stream, firstBlock);
  checkCount(n);
  return withScratch(Math.max(16, n * 4), (ptr, rt) => {
    rt.kernels.fillU32(...args, ptr, n);
    return rt.u32(ptr, n).slice();
  });
}

/** n uniforms in (0, 1), 23 random bits each (wasm `fillUniformF32`). */
export function uniforms(seed: Seed, stream: StreamLike, n: number, firstBlock: Seed = 0): Float32Array {
  const args = kernelArgs(seed, stream, firstBlock);
  checkCount(n);
  return withScratch(Math.max(16, n * 4), (ptr, rt) => {
    rt.kernels.fillUniformF32(...args, ptr, n);
    return rt.f32(ptr, n).slice();
  });
}

/** n uniforms in (0, 1), 24 random bits each (wasm `fillUniformF64`). */
export function uniformsF64(seed: Seed, stream: StreamLike, n: number, firstBlock: Seed = 0): Float64Array {
  const args = kernelArgs(seed, stream, firstBlock);
  checkCount(n);
  return withScratch(Math.max(16, n * 8), (ptr, rt) => {
    rt.kernels.fillUniformF64(...args, ptr, n);
    return rt.f64(ptr, n).slice();
  });
}

/** n standard normals as f32 (wasm `fillNormalF32`). */
export function normals(seed: Seed, stream: StreamLike, n: number, firstBlock: Seed = 0): Float32Array {
  const args = kernelArgs(seed, stream, firstBlock);
  checkCount(n);
  return withScratch(Math.max(16, n * 4), (ptr, rt) => {
    rt.kernels.fillNormalF32(...args, ptr, n);
    return rt.f32(ptr, n).slice();
  });
}

/** n standard normals as f64 (wasm `fillNormalF64`). */
export function normalsF64(seed: Seed, stream: StreamLike, n: number, firstBlock: Seed = 0): Float64Array {
  const args = kernelArgs(seed, stream, firstBlock);
  checkCount(n);
  return withScratch(Math.max(16, n * 8), (ptr, rt) => {
    rt.kernels.fillNormalF64(...args, ptr, n);
    return rt.f64(ptr, n).slice();
  });
}
