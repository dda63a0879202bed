// The current-controlled-oscillator (CCO) ADCs of a core: one per row, each with a
// 12-bit counter per current polarity (paper §II, EDF 2c), and their calibration.
//
// Input: the charge a phase delivers to one counter, in ideal LSBs (q = 4095 at full
// scale: the ADC's ~100 µA for the longest PWM pulse). Transfer of ADC r:
//     count = floor(clamp(o_r + g_r · (q − a_r · q² / FS), 0, 4095))
// with mismatch drawn once per chip: gain g_r, offset o_r (counts) and a compressive
// quadratic term a_r (the current mirror / CCO compress towards the current limit).
// The counter counts whole oscillations, hence floor.
//
// Trim registers (paper §II: an offset DAC, gain and nonlinearity trimming registers,
// quantised like real registers): offset t_o (signed), gain t_g (signed), nonlinearity
// t_a (unsigned). Effective parameters:
//     o = o_r − t_o · S_O,   g = g_r · (1 + t_g · S_G),   a = a_r − t_a · S_A.
// `calibrateAdcs` measures each ADC with a sweep of reference charges and picks the
// registers (a least-squares fit, then rounding to the register grid), independently of
// any weights. Per-ADC data live in a caller-owned table of ADC_STRIDE bytes per row.

import { normalFromU32, normals4, philox, r0, r1, uniform, z0, z1, z2 } from "./philox";

export const ADC_FULL_SCALE: f64 = 4095.0;

// Per-ADC table (f64 fields): raw mismatch, registers, effective parameters.
export const A_GAIN: i32 = 0;
export const A_OFFSET: i32 = 1;
export const A_NONLIN: i32 = 2;
export const A_TRIM_O: i32 = 3;
export const A_TRIM_G: i32 = 4;
export const A_TRIM_A: i32 = 5;
export const ADC_FIELDS: i32 = 6;
export const ADC_STRIDE: usize = <usize>ADC_FIELDS << 3;

// Model parameters, an f64 block (layout shared with lib/chip/adc.ts).
export const Q_SEED_LO: i32 = 0;
export const Q_SEED_HI: i32 = 1;
export const Q_CORE: i32 = 2;
export const Q_GAIN_SIGMA: i32 = 3; // relative σ of g_r around 1
export const Q_OFFSET_SIGMA: i32 = 4; // σ of o_r, counts
export const Q_NONLIN_MEAN: i32 = 5; // mean a_r (fraction of FS lost at full scale)
export const Q_NONLIN_SIGMA: i32 = 6;
export const Q_STEP_O: i32 = 7; // offset DAC step, counts
export const Q_STEP_G: i32 = 8; // gain trim step, relative
export const Q_STEP_A: i32 = 9; // nonlinearity trim step
export const Q_BITS_O: i32 = 10; // register widths
export const Q_BITS_G: i32 = 11;
export const Q_BITS_A: i32 = 12;
export const Q_CAL_NOISE: i32 = 13; // σ of the calibration measurement, counts
export const Q_COUNT: i32 = 14;

// Stream purposes; must match lib/chip/rng.ts `Purpose` (ADC_MISMATCH, ADC_CALIBRATION).
const PURPOSE_ADC: u32 = 10;
const PURPOSE_ADC_CAL: u32 = 15;

// @ts-ignore: decorator
@inline
function q(p: usize, i: i32): f64 {
  return load<f64>(p + (<usize>i << 3));
}

// @ts-ignore: decorator
@inline
function field(table: usize, row: i32, f: i32): f64 {
  return load<f64>(table + <usize>row * ADC_STRIDE + (<usize>f << 3));
}

// @ts-ignore: decorator
@inline
function setField(table: usize, row: i32, f: i32, v: f64): void {
  store<f64>(table + <usize>row * ADC_STRIDE + (<usize>f << 3), v);
}

/** The transfer of ADC `row` (with its current registers) for charge `x` (ideal LSBs),
 * before the floor: a real-valued count. */
// @ts-ignore: decorator
@inline
export function adcAnalog(p: usize, table: usize, row: i32, x: f64): f64 {
  const g = field(table, row, A_GAIN) * (1.0 + field(table, row, A_TRIM_G) * q(p, Q_STEP_G));
  const o = field(table, row, A_OFFSET) - field(table, row, A_TRIM_O) * q(p, Q_STEP_O);
  const a = field(table, row, A_NONLIN) - field(table, row, A_TRIM_A) * q(p, Q_STEP_A);
  return o + g * (x - (a * x * x) / ADC_FULL_SCALE);
}

/** The 12-bit count of ADC `row` for charge `x`. */
// @ts-ignore: decorator
@inline
export function adcCount(p: usize, table: usize, row: i32, x: f64): f64 {
  return Math.floor(min(max(adcAnalog(p, table, row, x), 0.0), ADC_FULL_SCALE));
}

/** Draw every ADC's mismatch for this core; registers start at 0 (uncalibrated). */
export function drawAdcs(p: usize, table: usize, rows: i32): void {
  const k0 = <u32>q(p, Q_SEED_LO), k1 = <u32>q(p, Q_SEED_HI);
  const s = (<u32>q(p, Q_CORE) & 0xff) | (PURPOSE_ADC << 8);
  for (let r = 0; r < rows; r++) {
    normals4(<u32>r, 0, s, 0, k0, k1);
    setField(table, r, A_GAIN, 1.0 + q(p, Q_GAIN_SIGMA) * z0);
    setField(table, r, A_OFFSET, q(p, Q_OFFSET_SIGMA) * z1);
    setField(table, r, A_NONLIN, max(q(p, Q_NONLIN_MEAN) + q(p, Q_NONLIN_SIGMA) * z2, 0.0));
    setField(table, r, A_TRIM_O, 0);
    setField(table, r, A_TRIM_G, 0);
    setField(table, r, A_TRIM_A, 0);
  }
}

// @ts-ignore: decorator
@inline
function clampRegister(v: f64, bits: f64, signed: bool): f64 {
  const span = Math.pow(2.0, bits);
  const lo = signed ? -span / 2 : 0.0;
  const hi = signed ? span / 2 - 1 : span - 1;
  return min(max(Math.round(v), lo), hi);
}

/**
 * Calibrate every ADC: measure `points` reference charges spread over the range (with
 * measurement noise), fit count = c0 + c1·x + c2·x² by least squares, and set the
 * registers that best cancel the offset (c0), gain (c1 − 1) and curvature (c2).
 * The nonlinearity register is set first, then gain and offset are refitted with it.
 */
export function calibrateAdcs(p: usize, table: usize, rows: i32, points: i32): void {
  const k0 = <u32>q(p, Q_SEED_LO), k1 = <u32>q(p, Q_SEED_HI);
  const s = (<u32>q(p, Q_CORE) & 0xff) | (PURPOSE_ADC_CAL << 8);
  const noise = q(p, Q_CAL_NOISE);
  for (let r = 0; r < rows; r++) {
    for (let pass = 0; pass < 2; pass++) {
      // Normal equations of a quadratic fit in t = x / FS (well conditioned).
      let s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0, s4 = 0.0, y0 = 0.0, y1 = 0.0, y2 = 0.0;
      for (let i = 0; i < points; i++) {
        const t = (<f64>i + 0.5) / <f64>points * 0.9 + 0.05; // 5 % .. 95 % of full scale
        const x = t * ADC_FULL_SCALE;
        philox(<u32>(r * 64 + i), <u32>pass, s, 0, k0, k1);
        // A whole-count conversion with a uniform dither in [0, 1) is an unbiased
        // measurement of the analog value (it stands for averaging repeated conversions);
        // `noise` adds the reference source's error.
        const y = Math.floor(adcAnalog(p, table, r, x) + uniform(r0)) + noise * normalFromU32(r1);
        s0 += 1; s1 += t; s2 += t * t; s3 += t * t * t; s4 += t * t * t * t;
        y0 += y; y1 += y * t; y2 += y * t * t;
      }
      // Solve [s0 s1 s2; s1 s2 s3; s2 s3 s4] c = [y0 y1 y2] by Cramer's rule.
      const det = s0 * (s2 * s4 - s3 * s3) - s1 * (s1 * s4 - s3 * s2) + s2 * (s1 * s3 - s2 * s2);
      const c0 = (y0 * (s2 * s4 - s3 * s3) - s1 * (y1 * s4 - s3 * y2) + s2 * (y1 * s3 - s2 * y2)) / det;
      const c1 = (s0 * (y1 * s4 - y2 * s3) - y0 * (s1 * s4 - s3 * s2) + s2 * (s1 * y2 - y1 * s2)) / det;
      const c2 = (s0 * (s2 * y2 - s3 * y1) - s1 * (s1 * y2 - s2 * y1) + y0 * (s1 * s3 - s2 * s2)) / det;
      // In counts: count ≈ c0 + (c1/FS)·x + (c2/FS²)·x², i.e. o = c0, g = c1/FS, a = −c2/(g·FS).
      const gain = c1 / ADC_FULL_SCALE;
      const off = c0;
      const nonlin = -c2 / (gain * ADC_FULL_SCALE);
      if (pass == 0) {
        const ta = field(table, r, A_TRIM_A) + nonlin / q(p, Q_STEP_A);
        setField(table, r, A_TRIM_A, clampRegister(ta, q(p, Q_BITS_A), false));
      } else {
        // The measured gain is g_r · (1 + t_g · S_G); the register that makes it 1:
        const tgNow = field(table, r, A_TRIM_G);
        const tgFit = ((1.0 + tgNow * q(p, Q_STEP_G)) / gain - 1.0) / q(p, Q_STEP_G);
        setField(table, r, A_TRIM_G, clampRegister(tgFit, q(p, Q_BITS_G), true));
        const to = field(table, r, A_TRIM_O) + off / q(p, Q_STEP_O);
        setField(table, r, A_TRIM_O, clampRegister(to, q(p, Q_BITS_O), true));
      }
    }
  }
}

/** For plots and tests: counts of ADC `row` at `n` charges 0..FS into out (f64[n]). */
export function adcCurve(p: usize, table: usize, row: i32, n: i32, out: usize): void {
  for (let i = 0; i < n; i++) {
    const x = <f64>i / <f64>(n - 1) * ADC_FULL_SCALE;
    store<f64>(out + (<usize>i << 3), adcCount(p, table, row, x));
  }
}
