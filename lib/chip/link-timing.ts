// Link timing and bit errors (lib/chip/links.ts re-exports this): data rate, transfer cycles of a
// payload with its preamble, and the bit-error model by link length and clock.

import { ARCH, LINKS as LINK_MODEL } from "./config.ts";
import { ArgumentError } from "../runtime/validate.ts";

export const CHANNELS = ARCH.linkChannels.value; // bits per clock per link
export const NOMINAL_CLOCK_HZ = ARCH.digitalClockHz.value;
/**
 * Preamble length in bytes (ASSUMPTION: the paper gives none). One byte is what a link
 * moves in one clock (8 channels × 1 bit); as a route id it distinguishes 256 routing
 * paths, more than a 64-core mapping needs (one path per sending core and payload type).
 */
export const PREAMBLE_BYTES = LINK_MODEL.preambleBytes.value;
export const MAX_ROUTE_IDS = 2 ** (8 * PREAMBLE_BYTES);

// ---- timing -------------------------------------------------------------------------

function checkClock(clockHz: unknown): number {
  if (typeof clockHz !== "number" || !Number.isFinite(clockHz) || clockHz <= 0) {
    throw new ArgumentError("clockHz", "a positive finite number of Hz", clockHz);
  }
  return clockHz;
}

/** Link data rate in bit/s: eight channels of one bit per clock (3.2e9 at 400 MHz). */
export function dataRate(clockHz: number = NOMINAL_CLOCK_HZ): number {
  return CHANNELS * checkClock(clockHz);
}

/**
 * Clock cycles to move `bytes` bytes of payload over one link, preamble included:
 * ceil(8 · (preamble + bytes) / 8 channels). Over a route of h hops the controllers
 * store and forward (ASSUMPTION), so the time is h times this.
 */
export function transferCycles(bytes: number, hops = 1, preambleBytes = PREAMBLE_BYTES): number {
  if (!Number.isInteger(bytes) || bytes < 0) throw new ArgumentError("bytes", "a non-negative integer", bytes);
  if (!Number.isInteger(hops) || hops < 1) throw new ArgumentError("hops", "a positive integer", hops);
  if (!Number.isInteger(preambleBytes) || preambleBytes < 0) throw new ArgumentError("preambleBytes", "a non-negative integer", preambleBytes);
  return hops * Math.ceil((8 * (preambleBytes + bytes)) / CHANNELS);
}

// ---- bit errors ---------------------------------------------------------------------

/**
 * ASSUMPTION: the paper characterises no link bit errors. Model: a link of Manhattan
 * length L has a delay t(L) = fixedNs + perPitchNs · L; it is error-free while the clock
 * period 1/f ≥ t(L), and beyond that the bit error rate rises with the timing violation
 * v = t(L) − 1/f as 0.5 · (1 − exp(−v / spreadNs)) (0.5 = random bits). The defaults
 * keep every existing link (L ≤ 2, t ≤ 1.5 ns) error-free up to 666 MHz, well above the
 * chip's 400 MHz (2.5 ns) digital clock.
 */
export interface BitErrorParams {
  fixedNs: number;
  perPitchNs: number;
  spreadNs: number;
}
export const BIT_ERROR_DEFAULTS: Readonly<BitErrorParams> = Object.freeze({
  fixedNs: LINK_MODEL.delayFixedNs.value,
  perPitchNs: LINK_MODEL.delayPerPitchNs.value,
  spreadNs: LINK_MODEL.errorSpreadNs.value,
});

export function bitErrorRate(length: number, clockHz: number = NOMINAL_CLOCK_HZ, params: Partial<BitErrorParams> = {}): number {
  if (typeof length !== "number" || !Number.isFinite(length) || length < 0) throw new ArgumentError("length", "a non-negative finite number of core pitches", length);
  checkClock(clockHz);
  const p = { ...BIT_ERROR_DEFAULTS, ...params };
  for (const k of ["fixedNs", "perPitchNs", "spreadNs"] as const) {
    if (typeof p[k] !== "number" || !Number.isFinite(p[k]) || p[k] < 0 || (k === "spreadNs" && p[k] === 0)) {
      throw new ArgumentError(k, k === "spreadNs" ? "a positive finite number" : "a non-negative finite number", p[k]);
    }
  }
  const violationNs = p.fixedNs + p.perPitchNs * length - 1e9 / clockHz;
  return violationNs <= 0 ? 0 : 0.5 * (1 - Math.exp(-violationNs / p.spreadNs));
}

/** Flip each bit of `data` independently with probability `ber`; returns a new array. */
export function applyBitErrors(data: Uint8Array, ber: number, random: () => number): Uint8Array {
  if (!(data instanceof Uint8Array)) throw new ArgumentError("data", "a Uint8Array", data);
  if (typeof ber !== "number" || !(ber >= 0 && ber <= 1)) throw new ArgumentError("ber", "a probability in [0, 1]", ber);
  if (typeof random !== "function") throw new ArgumentError("random", "a function returning numbers in [0, 1)", random);
  const out = data.slice();
  if (ber === 0) return out;
  for (let i = 0; i < out.length; i++) {
    for (let b = 0; b < 8; b++) if (random() < ber) out[i]! ^= 1 << b;
  }
  return out;
}

