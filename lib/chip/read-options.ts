// What `chip.at(t, options)` and its reads take and give (lib/chip/analog.ts reads): the
// options with the keys they accept, the MVM result, and what a read needs of a chip.

import type { Fidelity } from "./config.ts";
import type { Core } from "./core.ts";
import type { FunctionalFit } from "./functional-fit.ts";
import type { ProgrammedCore } from "./program.ts";
import type { LdpuSettings, Phases } from "./readout.ts";

/** Options of `chip.at(t, options)`; an unknown key throws UnknownOptionError. */
export interface AtOptions {
  /** Read mode: 4 (4-phase, default) or 1 (1-phase). Physical fidelity only. */
  phases?: Phases;
  /** Global drift compensation in the LDPU gain (default true). */
  compensation?: boolean;
  /** Read noise (default true). Physical fidelity only. */
  noise?: boolean;
  /** Functional fidelity: the fit (default lib/chip/functional-fit.json). */
  fit?: FunctionalFit;
  /** Independent repetition 0..65535 (default 0): its own read noise (physical) or weight
   * noise (functional) — the paper's repeated inference runs. */
  draw?: number;
}
export const AT_KEYS = ["phases", "compensation", "noise", "fit", "draw"] as const;

/** Options of `chip.at(t).mvm` and `mvmParallel`; an unknown key throws UnknownOptionError. */
export interface MvmOptions {
  /** INT8 output units per unit of W·x; default 127 / (4 · rms of W·x for uniform inputs). */
  outputScale?: number;
  /** Global index of the first input: keys the read noise (default 0). Give disjoint
   * ranges to independent calls to get independent noise. */
  firstInput?: number;
  /** Also return the ADC counts (u16 pairs pos, neg per output; physical only). */
  counts?: boolean;
  /** LDPU settings after the ADC gain: per-channel affine scale and bias, link-input scales,
   * and ReLU flags (1: before the RX add, 2: after it). Default: identity, no ReLU. */
  ldpu?: LdpuSettings & {
    /** ReLU flags, 0..7, summed: 1 = ReLU before the RX add, 2 = after it, 4 = after the residual add (relu(x + residual)); default 0. */
    flags?: number;
  };
  /** INT8 partial sums arriving over the links (batch × 256), added in the LDPU. */
  rx?: Int8Array;
  /** INT8 residual data (batch × 256), added after the second ReLU. */
  residual?: Int8Array;
  /** Rows to read, 1..256 (default 256): only the ADCs of rows 0..rows−1 convert (the
   * others' outputs are 0), which is faster when a tile uses fewer rows; the read rows'
   * values do not depend on it. */
  rows?: number;
}
export const MVM_KEYS = ["outputScale", "firstInput", "counts", "ldpu", "rx", "residual", "rows"] as const;


/** The result of `chip.at(t).mvm`: INT8 outputs, y ≈ outputScale · W·x within the chip's error. */
export interface MvmResult {
  /** INT8 outputs, batch × 256 (rows beyond the programmed ones read ~0). */
  y: Int8Array;
  /** The output scale used: INT8 output units per unit of W·x (the option, or the default of {@link defaultOutputScale}). */
  outputScale: number;
  /** The drift compensation factor applied (1 without compensation). */
  alpha: number;
  /** With `counts: true` (physical fidelity): the ADC counts, batch × 256 pairs (positive, negative counter), 0..4095. */
  counts?: Uint16Array;
}

/** What a read needs of a chip (lib/chip/chip.ts's Chip is one): its seed, fidelity, cores
 * and what was programmed on them. */
export interface ReadableChip {
  /** Seed of every random draw of the chip (0..2^64 − 1). */
  readonly seed: bigint;
  /** The chip's fidelity. */
  readonly fidelity: Fidelity;
  /** Core by index 0..63; throws ArgumentError on another index. */
  core(index: number): Core;
  /** What was programmed on a core, or undefined when it was never programmed. */
  programmedCore(core: number): ProgrammedCore | undefined;
}
