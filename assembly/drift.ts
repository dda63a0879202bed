// The crossbar as read at time t after programming: drift, accumulated 1/f noise and
// the variance of one read (aihwkit's HermesNoiseModel fit; lib/chip/config.ts DRIFT).
//
// Per device d with programmed conductance g_p (counts) and g_rel = clamp(g_p/g_ref, ·):
//   ν_d = |ν_mean(g_rel) + ν_std(g_rel)·z_d|                z_d: purpose DRIFT_NU, block d
//   g_d(t) = g_p·((t + t0)/t0)^−ν_d
//          + |g_p·((t + t0)/t0)^−ν_d|·q(g_rel)·√ln((t + t0 + t_r)/(t0 + t_r))·ζ_d,t
//                                                          ζ_d,t: purpose DRIFT_NOISE, block d,
//                                                          step = the f32 bits of t
//   clamped at 0 (a conductance), and the read variance σ_d² = (g_d(t)·q(g_rel)·R)².
// The 1/f displacement of each time is drawn independently (keyed by t itself, so a
// time's result does not depend on which other times are read with it).
// Per cell the kernel writes G = g1+ + g2+ − g1− − g2−, S = g1+ + g2+ + g1− + g2− and
// V = Σ σ_d² (f32), the planes the MVM pipeline reads.
//
// Each fitted quantity is a piecewise function of g_rel: below `threshold`
// clamp(a·ln g_rel + b, lo, hi), else c0 + c1·g + c2·g² + c3·g³ (9 f64 in the block).

import { lane, normalFromU32, philoxX4, v0 } from "./philox";

export const D_SEED_LO: i32 = 0;
export const D_SEED_HI: i32 = 1;
export const D_CORE: i32 = 2;
export const D_G_REF: i32 = 3; // counts
export const D_G_REL_MIN: i32 = 4;
export const D_G_REL_MAX: i32 = 5;
export const D_READ_FACTOR: i32 = 6;
export const D_NU_MEAN: i32 = 7; // 9 coefficients each
export const D_NU_STD: i32 = 16;
export const D_NOISE_Q: i32 = 25;
export const D_COUNT: i32 = 34;

// Must match lib/chip/rng.ts `Purpose.DRIFT_NU` and `Purpose.DRIFT_NOISE`.
const PURPOSE_DRIFT_NU: u32 = 8;
const PURPOSE_DRIFT_NOISE: u32 = 13;
const CELLS: i32 = 65536;

// @ts-ignore: decorator
@inline
function d(p: usize, i: i32): f64 {
  return load<f64>(p + (<usize>i << 3));
}

/** The piecewise fit at offset `f` of the block, at relative conductance g. */
// @ts-ignore: decorator
@inline
function piecewise(p: usize, f: i32, g: f64): f64 {
  if (g < d(p, f)) {
    return min(max(d(p, f + 1) * Math.log(g) + d(p, f + 2), d(p, f + 3)), d(p, f + 4));
  }
  return d(p, f + 5) + g * (d(p, f + 6) + g * (d(p, f + 7) + g * d(p, f + 8)));
}

// @ts-ignore: decorator
@inline
function relative(p: usize, g: f64): f64 {
  return min(max(Math.abs(g) / d(p, D_G_REF), d(p, D_G_REL_MIN)), d(p, D_G_REL_MAX));
}

/** ν of a device with programmed conductance g and standard normal z. */
// @ts-ignore: decorator
@inline
function driftExponent(p: usize, g: f64, z: f64): f64 {
  const r = relative(p, g);
  return Math.abs(piecewise(p, D_NU_MEAN, r) + piecewise(p, D_NU_STD, r) * z);
}

/**
 * The crossbar at `nTimes` times: `times` holds per time two f64, ln((t + t0)/t0) and
 * √ln((t + t0 + t_r)/(t0 + t_r)), and `tkeys` the f32 bits of t (u32, the noise step).
 * For time k: G into outG + k·CELLS·4, S into outS + …, V into outV + … (f32 planes,
 * counts and counts²). `state` holds the four f32 device planes (g1+, g2+, g1−, g2−).
 */
export function readCellsAt(p: usize, state: usize, times: usize, tkeys: usize, nTimes: i32, outG: usize, outS: usize, outV: usize): void {
  const k0 = <u32>d(p, D_SEED_LO), k1 = <u32>d(p, D_SEED_HI);
  const core = <u32>d(p, D_CORE) & 0xff;
  const sNu = i32x4.splat(<i32>(core | (PURPOSE_DRIFT_NU << 8)));
  const sNoise = i32x4.splat(<i32>(core | (PURPOSE_DRIFT_NOISE << 8)));
  const zero = i32x4.splat(0);
  const rf = d(p, D_READ_FACTOR), rf2 = rf * rf;
  for (let cell = 0; cell < CELLS; cell++) {
    // One block per device (counter = device index, as for the static properties).
    const ctr = i32x4(cell, CELLS + cell, 2 * CELLS + cell, 3 * CELLS + cell);
    philoxX4(ctr, zero, sNu, zero, k0, k1);
    const g0 = device(state, 0, cell), g1 = device(state, 1, cell);
    const g2 = device(state, 2, cell), g3 = device(state, 3, cell);
    const n0 = driftExponent(p, g0, normalFromU32(lane(v0, 0))), n1 = driftExponent(p, g1, normalFromU32(lane(v0, 1)));
    const n2 = driftExponent(p, g2, normalFromU32(lane(v0, 2))), n3 = driftExponent(p, g3, normalFromU32(lane(v0, 3)));
    const q0 = noiseQ(p, g0), q1 = noiseQ(p, g1), q2 = noiseQ(p, g2), q3 = noiseQ(p, g3);
    for (let k = 0; k < nTimes; k++) {
      const tp = times + (<usize>k << 4);
      const logDecay = load<f64>(tp), acc = load<f64>(tp, 8);
      philoxX4(ctr, i32x4.splat(<i32>load<u32>(tkeys + (<usize>k << 2))), sNoise, zero, k0, k1);
      const a = at(g0, n0, q0, logDecay, acc, lane(v0, 0));
      const b = at(g1, n1, q1, logDecay, acc, lane(v0, 1));
      const c = at(g2, n2, q2, logDecay, acc, lane(v0, 2));
      const e = at(g3, n3, q3, logDecay, acc, lane(v0, 3));
      const off = (<usize>k * <usize>CELLS + <usize>cell) << 2;
      store<f32>(outG + off, <f32>(a + b - c - e));
      store<f32>(outS + off, <f32>(a + b + c + e));
      const va = a * q0, vb = b * q1, vc = c * q2, ve = e * q3;
      store<f32>(outV + off, <f32>((va * va + vb * vb + vc * vc + ve * ve) * rf2));
    }
  }
}

// @ts-ignore: decorator
@inline
function device(state: usize, q: i32, cell: i32): f64 {
  return <f64>load<f32>(state + (<usize>(q * CELLS + cell) << 2));
}

// @ts-ignore: decorator
@inline
function noiseQ(p: usize, g: f64): f64 {
  return piecewise(p, D_NOISE_Q, relative(p, g));
}

/** A device's conductance at a time (decay log and 1/f factor given), clamped at 0. */
// @ts-ignore: decorator
@inline
function at(gp: f64, nu: f64, qs: f64, logDecay: f64, acc: f64, word: u32): f64 {
  const drifted = gp * <f64>Mathf.exp(<f32>(-nu * logDecay));
  return max(drifted + Math.abs(drifted) * qs * acc * normalFromU32(word), 0.0);
}

/** For tests: ν of a device from its programmed conductance and a word of its block. */
export function driftExponentOf(p: usize, g: f64, word: u32): f64 {
  return driftExponent(p, g, normalFromU32(word));
}

/** For tests: the 1/f amplitude q_s at programmed conductance g (counts). */
export function noiseQOf(p: usize, g: f64): f64 {
  return noiseQ(p, g);
}
