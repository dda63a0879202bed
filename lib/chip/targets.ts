// From weights to target conductances (paper Eq. 1) and the per-core Gmax rules
// (paper §IV and Methods "Weight mapping onto cores").

import { ARCH, PCM, PROGRAMMING } from "./config.ts";
import { ArgumentError, oneOf } from "../runtime/validate.ts";

/** Weight-programming scheme (paper §IV): 'odp' one device per polarity; 'tdp' two devices, Gmax twice the ODP Gmax; 'tdp-maxfill' two devices, each iterated up to the ODP Gmax (EDF 5c). */
export type Scheme = "odp" | "tdp" | "tdp-maxfill";
/** Every Scheme. */
export const SCHEMES: readonly Scheme[] = ["odp", "tdp", "tdp-maxfill"];

export const ROWS = ARCH.crossbarRows.value;
export const COLS = ARCH.crossbarCols.value;

export function parseScheme(value: unknown, argument = "scheme"): Scheme {
  return oneOf(value, SCHEMES, argument);
}

/**
 * Check a core's weights: a Float32Array/Float64Array/number[] of rows × cols (row-major),
 * rows and cols ≤ 256, all finite. Returns a 256 × 256 Float32Array zero-filled beyond the
 * given shape (the Methods' "reshaped into a 256 × 256 matrix by zero-filling").
 */
export function padWeights(
  weights: ArrayLike<number>,
  rows = ROWS,
  cols = COLS,
  argument = "weights",
): Float32Array {
  if (!Number.isInteger(rows) || rows < 1 || rows > ROWS) throw new ArgumentError("rows", `an integer in 1..${ROWS}`, rows);
  if (!Number.isInteger(cols) || cols < 1 || cols > COLS) throw new ArgumentError("cols", `an integer in 1..${COLS}`, cols);
  if (weights == null || typeof weights !== "object" || typeof weights.length !== "number") {
    throw new ArgumentError(argument, `an array of ${rows} × ${cols} numbers (row-major)`, weights);
  }
  if (weights.length !== rows * cols) {
    throw new ArgumentError(argument, `an array of ${rows} × ${cols} = ${rows * cols} numbers (row-major)`, weights);
  }
  const out = new Float32Array(ROWS * COLS);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const w = weights[r * cols + c]!;
      if (typeof w !== "number" || !Number.isFinite(w)) {
        throw new ArgumentError(`${argument}[${r}][${c}]`, "a finite number", w);
      }
      out[r * COLS + c] = w;
    }
  }
  return out;
}

/** Largest |w| of a weight matrix (the Methods' Wmax when none is given). */
export function maxAbs(w: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < w.length; i++) m = Math.max(m, Math.abs(w[i]!));
  return m;
}

/**
 * The Gmax a scheme allows before the bit-line current cap: ODP uses the chip's ODP Gmax
 * (10th percentile of the least conductive core's SET distribution), TDP twice that,
 * TDP max-fill the ODP Gmax spread over two devices (EDF 5c: each device iterated up to
 * the ODP Gmax, so the unit cell reaches 2 × ODP Gmax too).
 */
export function schemeGmax(scheme: Scheme, odpGmax: number): number {
  return scheme === "odp" ? odpGmax : 2 * odpGmax;
}

/**
 * Largest Gmax (counts) for which no bit line of this core exceeds the ADC's current limit
 * for the largest input: every input at full scale with the sign that adds to the row's
 * larger polarity (4-phase reads each polarity's bit line separately).
 */
export function currentCapGmax(weights: Float32Array, wmax: number): number {
  let worst = 0;
  for (let r = 0; r < ROWS; r++) {
    let pos = 0;
    let neg = 0;
    for (let c = 0; c < COLS; c++) {
      const w = weights[r * COLS + c]!;
      if (w > 0) pos += w;
      else neg -= w;
    }
    worst = Math.max(worst, pos, neg);
  }
  if (worst === 0) return Infinity;
  const perCountUa = PCM.mvmReadVoltageV.value * PCM.countConductanceUs.value; // µA per count at full input
  return (PROGRAMMING.adcMaxCurrentUa.value * wmax) / (perCountUa * worst);
}

export interface CoreTargets {
  /** Target unit-cell conductance per cell, counts (signed), 256 × 256. */
  targets: Float32Array;
  /** Gmax used for this core, counts. */
  gmax: number;
  /** Wmax used (the largest |w| unless given). */
  wmax: number;
  /** True when the bit-line current cap lowered Gmax below the scheme's. */
  capped: boolean;
}

/** Eq. 1: G = W · Gmax / Wmax with Gmax = min(scheme Gmax, current cap). */
export function coreTargets(weights: Float32Array, scheme: Scheme, odpGmax: number, wmax?: number): CoreTargets {
  const wm = wmax ?? maxAbs(weights);
  if (wmax !== undefined && (!Number.isFinite(wmax) || wmax <= 0)) {
    throw new ArgumentError("wmax", "a finite number > 0", wmax);
  }
  const observed = maxAbs(weights);
  if (wmax !== undefined && observed > wmax) {
    throw new ArgumentError("wmax", `at least the largest |weight| (${observed})`, wmax);
  }
  const base = schemeGmax(scheme, odpGmax);
  const targets = new Float32Array(ROWS * COLS);
  if (wm === 0) return { targets, gmax: base, wmax: 0, capped: false };
  const cap = currentCapGmax(weights, wm);
  const gmax = Math.min(base, cap);
  const k = gmax / wm;
  for (let i = 0; i < targets.length; i++) targets[i] = weights[i]! * k;
  return { targets, gmax, wmax: wm, capped: cap < base };
}
