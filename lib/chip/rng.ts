// Counter-based random numbers for the simulator: Philox4x32-10 (Salmon et al., SC'11;
// Random123), keyed by the 64-bit seed, counter = (block lo, block hi, stream lo,
// stream hi). See assembly/rng.ts for the layout and the derived values (uniforms,
// Box–Muller normals). This module holds
//   - stream ids: `streamId({ core, purpose, trial, step })` and the `Purpose` codes;
//   - (the pure-TypeScript twin of the kernels, bit for bit the same values, is in
//     lib/chip/rng-twin.ts);
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
// use (assembly/pcm.ts `stream`, lib/chip/workload.ts).

import { ArgumentError, intInRange, seedToBigInt } from "../runtime/validate.ts";
import { withScratch } from "../runtime/wasm.ts";

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
  /** Per-core device statistics (lib/chip/pcm-params.ts). */
  CORE_STATS: 4,
  /** Choice of the outlier core(s) (lib/chip/pcm-params.ts). */
  OUTLIER_CORES: 5,
  /** Workload weights (lib/chip/workload.ts PURPOSE_WEIGHTS). */
  WEIGHTS: 6,
  /** Workload inputs (lib/chip/workload.ts PURPOSE_INPUTS). */
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
  /** The inputs of the global drift compensation's calibration read (lib/chip/readout.ts). */
  DRIFT_CALIBRATION: 16,
} as const;
export type PurposeName = keyof typeof Purpose;
export type PurposeCode = (typeof Purpose)[PurposeName];

/** The core byte of chip-wide streams (lib/chip/pcm-params.ts uses it). */
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

/** Check a count of values to generate. */
export function checkCount(n: number): number {
  return intInRange(n, 0, 2 ** 28, "n");
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
