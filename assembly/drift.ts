// Conductance drift and read noise: the crossbar as read at time t after programming.
//
// Drift (paper §IV): g(t) = g(t0) · (t / t0)^−ν for t > t0, with ν depending on the
// state and varying device to device:
//     ν = clamp(ν_mean(g) + ν_std(g) · z, 0, ν_max),
//     ν_mean(g) = clamp(a_μ + b_μ · ln(g/g_ref), μ_lo, μ_hi),
//     ν_std(g)  = clamp(a_σ + b_σ · ln(g/g_ref), σ_lo, σ_hi),
// g taken at t0 (the programmed state), z a standard normal per device (purpose DRIFT_NU).
// Read noise (1/f), as an output-referred Gaussian per device:
//     σ_read(g) = |g| · Q(g),  Q(g) = min(q_a · (|g|/g_ref)^(−q_e), q_max).
// `readCells` writes, per cell, the unit-cell conductance G(t) = g1+ + g2+ − g1− − g2−
// and the variance Σ_d σ_read(g_d(t))² of its read, both f32.
// Parameters: an f64 block (layout shared with lib/drift.ts, D_* indices).

import { lane, normalFromU32, philoxX4, v0, v1, v2, v3 } from "./philox";

export const D_SEED_LO: i32 = 0;
export const D_SEED_HI: i32 = 1;
export const D_CORE: i32 = 2;
export const D_T0: i32 = 3; // s
export const D_G_REF: i32 = 4; // counts
export const D_MU_A: i32 = 5;
export const D_MU_B: i32 = 6;
export const D_MU_LO: i32 = 7;
export const D_MU_HI: i32 = 8;
export const D_SIG_A: i32 = 9;
export const D_SIG_B: i32 = 10;
export const D_SIG_LO: i32 = 11;
export const D_SIG_HI: i32 = 12;
export const D_NU_MAX: i32 = 13;
export const D_Q_A: i32 = 14;
export const D_Q_E: i32 = 15;
export const D_Q_MAX: i32 = 16;
export const D_G_MIN: i32 = 17; // below this |g| (counts), ν and Q are evaluated at D_G_MIN
export const D_COUNT: i32 = 18;

// Must match lib/rng.ts `Purpose.DRIFT_NU`.
const PURPOSE_DRIFT_NU: u32 = 8;
const CELLS: i32 = 65536;

// @ts-ignore: decorator
@inline
function d(p: usize, i: i32): f64 {
  return load<f64>(p + (<usize>i << 3));
}

// @ts-ignore: decorator
@inline
function clampf(x: f64, lo: f64, hi: f64): f64 {
  return min(max(x, lo), hi);
}

/** ν of a device with programmed conductance g0 and normal z. */
// @ts-ignore: decorator
@inline
export function driftExponent(p: usize, g0: f64, z: f64): f64 {
  const l = Math.log(max(Math.abs(g0), d(p, D_G_MIN)) / d(p, D_G_REF));
  const mu = clampf(d(p, D_MU_A) + d(p, D_MU_B) * l, d(p, D_MU_LO), d(p, D_MU_HI));
  const sg = clampf(d(p, D_SIG_A) + d(p, D_SIG_B) * l, d(p, D_SIG_LO), d(p, D_SIG_HI));
  return clampf(mu + sg * z, 0.0, d(p, D_NU_MAX));
}

/** Read-noise σ (counts) of a device at conductance g. */
// @ts-ignore: decorator
@inline
export function readSigma(p: usize, g: f64): f64 {
  const a = max(Math.abs(g), d(p, D_G_MIN));
  return Math.abs(g) * min(d(p, D_Q_A) * Math.pow(a / d(p, D_G_REF), -d(p, D_Q_E)), d(p, D_Q_MAX));
}

/**
 * The crossbar at `nTimes` times, given as `logRatios` (f64: max(ln(t_k / t0), 0)): for time k,
 * G(t_k) into outG + k·CELLS·4 and the read variance into outVar + k·CELLS·4 (f32).
 * `state` holds the four f32 device planes. Each device's ν is drawn once for all times.
 */
export function readCellsAt(p: usize, state: usize, logRatios: usize, nTimes: i32, outG: usize, outVar: usize): void {
  const k0 = <u32>d(p, D_SEED_LO), k1 = <u32>d(p, D_SEED_HI);
  const s = i32x4.splat(<i32>((<u32>d(p, D_CORE) & 0xff) | (PURPOSE_DRIFT_NU << 8)));
  const zero = i32x4.splat(0);
  const gMin = d(p, D_G_MIN), gRef = d(p, D_G_REF);
  const qA = d(p, D_Q_A), qE = d(p, D_Q_E), qMax = d(p, D_Q_MAX);
  for (let cell = 0; cell < CELLS; cell++) {
    // One block per device (counter = device index, as for the static properties).
    philoxX4(i32x4(cell, CELLS + cell, 2 * CELLS + cell, 3 * CELLS + cell), zero, s, zero, k0, k1);
    const a = v0;
    for (let q = 0; q < 4; q++) {
      const g0 = <f64>load<f32>(state + (<usize>(q * CELLS + cell) << 2));
      const nu = driftExponent(p, g0, normalFromU32(lane(a, q)));
      const sign: f64 = q < 2 ? 1.0 : -1.0;
      const ag0 = Math.abs(g0);
      // ln(|g|/g_ref) at t0; |g(t)| = |g0|·e^(−ν·lr), so its log falls by ν·lr.
      const lg0 = Math.log(max(ag0, gMin) / gRef);
      for (let k = 0; k < nTimes; k++) {
        const lr = load<f64>(logRatios + (<usize>k << 3));
        const decay = lr == 0.0 ? 1.0 : <f64>Mathf.exp(<f32>(-nu * lr));
        const gt = ag0 * decay;
        // readSigma(gt) with the power law evaluated through logs (one exp).
        const lgt = gt > gMin ? lg0 - nu * lr : Math.log(gMin / gRef);
        const sd = gt * min(qA * <f64>Mathf.exp(<f32>(-qE * lgt)), qMax);
        const off = (<usize>k * <usize>CELLS + <usize>cell) << 2;
        const gSigned = sign * (g0 < 0 ? -gt : gt);
        if (q == 0) {
          store<f32>(outG + off, <f32>gSigned);
          store<f32>(outVar + off, <f32>(sd * sd));
        } else {
          store<f32>(outG + off, <f32>(<f64>load<f32>(outG + off) + gSigned));
          store<f32>(outVar + off, <f32>(<f64>load<f32>(outVar + off) + sd * sd));
        }
      }
    }
  }
  // v1..v3 (three more words per device) are reserved for future per-device drift terms.
  void v1;
  void v2;
  void v3;
}

/** For tests: ν of a device from its programmed conductance and a word of its block. */
export function driftExponentOf(p: usize, g0: f64, word: u32): f64 {
  return driftExponent(p, g0, normalFromU32(word));
}

/** For tests: read-noise σ at conductance g. */
export function readSigmaOf(p: usize, g: f64): f64 {
  return readSigma(p, g);
}
