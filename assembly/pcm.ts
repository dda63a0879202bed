// PCM device physics: what a pulse does to one device, what a read sees.
//
// Every device's static properties (SET conductance, programming curve, defects) are a
// pure function of (seed, core, device index) through Philox: nothing per device is
// stored but its conductance. Parameters come in a f64 block whose layout is shared
// with lib/chip/pcm-params.ts (the P_* indices below); values and sources are in lib/chip/config.ts.
//
// Units: conductance in ADC counts (verify-read counts), current in µA.
//
// Programming curve (EDF 3a): a 125 ns square pulse of amplitude I melts and quenches
// an amorphous region whose size grows with I, so the conductance reached falls from the
// device's SET value to its RESET floor as I rises:
//     f_d(I) = G_SET,d / (1 + exp((I − I_mid,d) / w_d)) + G_floor,d
// The state after a pulse is set by the pulse, not by the prior state (melt–quench).
// Cycle-to-cycle variability is a Gaussian jitter of the effective current (σ_I µA).

import { lane, normalFromU32, philox, philoxX4, r0, r1, r2, r3, uniform, v0, v1, v2, v3 } from "./philox";

// ---- parameter block layout (f64 indices) ----
export const P_SEED_LO: i32 = 0;
export const P_SEED_HI: i32 = 1;
export const P_CORE: i32 = 2; // core index, part of every stream id
export const P_SET_MEAN: i32 = 3; // this core's mean G_SET, counts
export const P_SET_SIGMA: i32 = 4; // device-to-device σ of G_SET within the core, counts
export const P_FLOOR_MEAN: i32 = 5; // RESET floor mean, counts
export const P_FLOOR_SIGMA: i32 = 6; // RESET floor σ (half-normal), counts
export const P_STUCK_RESET: i32 = 7; // probability a device cannot be SET
export const P_STUCK_SET: i32 = 8; // probability a device cannot be RESET
export const P_IMID_MEAN: i32 = 9; // programming curve midpoint, µA
export const P_IMID_SIGMA: i32 = 10;
export const P_WIDTH_MEAN: i32 = 11; // programming curve width, µA
export const P_WIDTH_SIGMA: i32 = 12;
export const P_JITTER_UA: i32 = 13; // cycle-to-cycle current jitter σ, µA
export const P_SET_C2C: i32 = 14; // relative cycle-to-cycle σ of a SET pulse
export const P_READ_A: i32 = 15; // verify read noise σ = a + b·G + c·G², counts
export const P_READ_B: i32 = 16;
export const P_READ_C: i32 = 17;
export const P_MARGIN: i32 = 18; // convergence margin, counts
export const P_MAX_ITER: i32 = 19;
export const P_I_MIN: i32 = 20; // programming current range, µA
export const P_I_MAX: i32 = 21;
export const P_I_RESET: i32 = 22; // RESET pulse amplitude, µA
export const P_GAIN: i32 = 23; // fraction of the nominal inverse slope used per update
export const P_SCHEME: i32 = 24; // 0 ODP, 1 TDP, 2 TDP max-fill
export const P_GMAX_ODP: i32 = 25; // per-device iteration ceiling for max-fill
export const P_COUNT: i32 = 26;

// Stream purposes (the high byte of the stream id's low word); keep in sync with lib/chip/rng.ts.
export const PURPOSE_DEVICE: u32 = 1; // static device properties
export const PURPOSE_DEFECT: u32 = 2;
export const PURPOSE_PROGRAM: u32 = 3; // pulse jitter and verify read noise, per iteration

// @ts-ignore: decorator
@inline
export function param(p: usize, i: i32): f64 {
  return load<f64>(p + (<usize>i << 3));
}

// @ts-ignore: decorator
@inline
export function seedLo(p: usize): u32 {
  return <u32>param(p, P_SEED_LO);
}
// @ts-ignore: decorator
@inline
export function seedHi(p: usize): u32 {
  return <u32>param(p, P_SEED_HI);
}

/** Stream id low word: core in bits 0..7, purpose in bits 8..15. */
// @ts-ignore: decorator
@inline
export function stream(p: usize, purpose: u32): u32 {
  return (<u32>param(p, P_CORE) & 0xff) | (purpose << 8);
}

// The static properties of one device, filled by `deviceProps`.
export let dSet: f64 = 0; // G_SET, counts
export let dFloor: f64 = 0; // RESET floor, counts
export let dMid: f64 = 0; // I_mid, µA
export let dWidth: f64 = 0; // w, µA
export let dStuck: i32 = 0; // 0 ok, 1 stuck in RESET (cannot SET), 2 stuck in SET (cannot RESET)

// The static properties of one device from the four words of its Philox block:
// words 0–1 → two normals (G_SET, I_mid) by inversion (AS241); word 2 → the defect
// uniform; word 3 → two 16-bit uniforms: the RESET floor (exponential with mean
// FLOOR_SIGMA above FLOOR_MEAN) and the curve width (uniform with σ = WIDTH_SIGMA).
// @ts-ignore: decorator
@inline
function propsFromWords(p: usize, w0: u32, w1: u32, w2: u32, w3: u32): void {
  dSet = max(param(p, P_SET_MEAN) + param(p, P_SET_SIGMA) * normalFromU32(w0), 0.0);
  dMid = param(p, P_IMID_MEAN) + param(p, P_IMID_SIGMA) * normalFromU32(w1);
  const uf = (<f64>(w3 >>> 16) + 0.5) * (1.0 / 65536.0);
  const uw = (<f64>(w3 & 0xffff) + 0.5) * (1.0 / 65536.0);
  dFloor = param(p, P_FLOOR_MEAN) - param(p, P_FLOOR_SIGMA) * <f64>Mathf.log(<f32>uf);
  dWidth = max(param(p, P_WIDTH_MEAN) + param(p, P_WIDTH_SIGMA) * 3.4641016151377544 * (uw - 0.5), 1.0);
  const u = uniform(w2);
  const pr = param(p, P_STUCK_RESET);
  dStuck = u < pr ? 1 : u < pr + param(p, P_STUCK_SET) ? 2 : 0;
  if (dStuck == 1) dSet = 0; // a device that cannot SET stays at its floor
}

/** Properties of device `dev` (0..262143: plane·65536 + row·256 + col) of this core. */
export function deviceProps(p: usize, dev: u32): void {
  philox(dev, 0, stream(p, PURPOSE_DEVICE), 0, seedLo(p), seedHi(p));
  propsFromWords(p, r0, r1, r2, r3);
}

export const SLOT_BYTES: usize = 4 * 40;

/**
 * Properties of the four devices of `cell` (planes 0..3), one SIMD Philox call, saved at
 * `slot` (SLOT_BYTES, caller-owned: never static memory, which worker threads share).
 * Identical to four `deviceProps` calls.
 */
export function cellProps(p: usize, cell: i32, slot: usize): void {
  const base = i32x4(cell, 65536 + cell, 131072 + cell, 196608 + cell);
  philoxX4(base, i32x4.splat(0), i32x4.splat(<i32>stream(p, PURPOSE_DEVICE)), i32x4.splat(0), seedLo(p), seedHi(p));
  for (let l = 0; l < 4; l++) {
    propsFromWords(p, lane(v0, l), lane(v1, l), lane(v2, l), lane(v3, l));
    const at = slot + <usize>l * 40;
    store<f64>(at, dSet);
    store<f64>(at, dFloor, 8);
    store<f64>(at, dMid, 16);
    store<f64>(at, dWidth, 24);
    store<f64>(at, <f64>dStuck, 32);
  }
}

/** Load the properties of plane `q` saved by `cellProps`. */
// @ts-ignore: decorator
@inline
export function loadProps(slot: usize, q: i32): void {
  const at = slot + <usize>q * 40;
  dSet = load<f64>(at);
  dFloor = load<f64>(at, 8);
  dMid = load<f64>(at, 16);
  dWidth = load<f64>(at, 24);
  dStuck = <i32>load<f64>(at, 32);
}

/** Load previously saved properties (see programCore's per-job cache). */
// @ts-ignore: decorator
@inline
export function useProps(set: f64, floor: f64, mid: f64, width: f64, stuck: i32): void {
  dSet = set;
  dFloor = floor;
  dMid = mid;
  dWidth = width;
  dStuck = stuck;
}

/** Conductance after a programming pulse of `current` µA (device props loaded). */
// @ts-ignore: decorator
@inline
export function curve(current: f64): f64 {
  return dSet / (1.0 + <f64>Mathf.exp(<f32>((current - dMid) / dWidth))) + dFloor;
}

/** Result of a square programming pulse (melt–quench) with current jitter `z`. */
// @ts-ignore: decorator
@inline
export function pulse(p: usize, current: f64, z: f64): f64 {
  if (dStuck == 2) return dSet + dFloor;
  return curve(current + param(p, P_JITTER_UA) * z);
}

/** Result of a RESET pulse: the curve at the RESET amplitude (the floor, in practice).
 * No jitter is drawn: at 700 µA the curve is flat, so it would be immaterial. */
// @ts-ignore: decorator
@inline
export function resetPulse(p: usize): f64 {
  return pulse(p, param(p, P_I_RESET), 0.0);
}

/** Result of a SET pulse: the device's SET conductance with cycle-to-cycle noise. */
// @ts-ignore: decorator
@inline
export function setPulse(p: usize, z: f64): f64 {
  return max(dSet * (1.0 + param(p, P_SET_C2C) * z), 0.0) + dFloor;
}

/** A verify read: the conductance plus read noise, as an integer ADC count. */
// @ts-ignore: decorator
@inline
export function verifyRead(p: usize, g: f64, z: f64): f64 {
  const ag = Math.abs(g);
  const sigma = param(p, P_READ_A) + param(p, P_READ_B) * ag + param(p, P_READ_C) * ag * ag;
  return Math.round(g + sigma * z);
}

/** Nominal inverse of the programming curve: the current that aims at `target` counts
 * on a device whose SET conductance read `gset`, using the chip-average curve. */
// @ts-ignore: decorator
@inline
export function aimCurrent(p: usize, target: f64, gset: f64): f64 {
  const lo = param(p, P_I_MIN), hi = param(p, P_I_MAX);
  const fl = param(p, P_FLOOR_MEAN);
  const t = target - fl;
  const s = gset - fl;
  if (t >= s) return lo;
  if (t <= 0.0) return hi;
  const i = param(p, P_IMID_MEAN) + param(p, P_WIDTH_MEAN) * Math.log(s / t - 1.0);
  return min(max(i, lo), hi);
}

/** Nominal slope |dG/dI| (counts per µA) of the chip-average curve at conductance g
 * on a device of SET conductance gset (logistic: g(1 − g/gset)/w). */
// @ts-ignore: decorator
@inline
export function nominalSlope(p: usize, g: f64, gset: f64): f64 {
  const s = max(gset, 1.0);
  const x = min(max(g, 0.02 * s), 0.98 * s);
  return (x * (1.0 - x / s)) / param(p, P_WIDTH_MEAN);
}

/** For tests: the static properties of device `dev` as f64 [G_SET, floor, I_mid, w, stuck]. */
export function devicePropsAt(p: usize, dev: u32, out: usize): void {
  deviceProps(p, dev);
  store<f64>(out, dSet);
  store<f64>(out, dFloor, 8);
  store<f64>(out, dMid, 16);
  store<f64>(out, dWidth, 24);
  store<f64>(out, <f64>dStuck, 32);
}
