// The analog read of a core, from the crossbar's dot products to the LDPU's INT8 outputs
// (paper §II, EDF 4): PWM phases, bit-line charge, read noise, leakage, the CCO ADC's two
// 12-bit counters, the LDPU.
//
// The MVM kernel (assembly/mvm.ts) first gives, per input b and row r, three exact int32
// dot products over the quantised planes of the core at time t (assembly/drift.ts):
//   dG = Σ_j Ĝ_rj·x_bj,   d2 = Σ_j Ŝ_rj·|x_bj|  (4-phase)  or  Σ_j Ĝ_rj·x⁻_bj  (1-phase),
//   dV = Σ_j V̂_rj·x_bj²
// with Ĝ = round(G·qG), Ŝ = round(S·qG), V̂ = round(V·qV) (int16; lib/chip/readout.ts picks the
// scales so nothing clips) and x the 8-bit signed input = PWM duration in ns (1 ns/LSB).
// Charges, in count·ns (conductance counts × ns):
//   4-phase (all reads with V−; the four sign combinations accumulate into the counter of
//   the product's sign): pos = (S·|x| + G·x)/2 = G+·x⁺ + G−·x⁻, neg = (S·|x| − G·x)/2.
//   1-phase (V− for x > 0, V+ for x < 0 in one read; devices read in reverse polarity
//   conduct (1 + κ) times more): net = G·x − κ·G·x⁻, pos = max(net, 0), neg = max(−net, 0)
//   (the net current keeps its sign during the read: an approximation).
// Read noise: each counter gets a Gaussian of variance Σ x²σ²/2 (the exact variance of
// pos − neg, split evenly between the counters: an approximation of which devices feed
// which counter). Leakage: every device not driven still passes λ·G for the length of the
// phase: 4-phase pos += λ(S+·T+ + S−·T−), neg += λ(S−·T+ + S+·T−) with T± = max x±,
// S± the row's sums of g1±+g2±; 1-phase net += λ(S+ − S−)·max|x|.
// ADC: charge·c (c = ADC LSBs per count·ns) through the row's CCO transfer curve
// (assembly/adc.ts), plus the oscillator's random initial phase (uniform in [0, 1)), then
// the counter's floor and 12-bit saturation. Then the LDPU (assembly/ldpu.ts).
// Random draws: one Philox block per (input, group of 8 rows): counter (r0 + q for lanes
// q = 0..3, input index, stream core | READ_NOISE << 8 | draw << 16, f32 bits of t); lane q
// gives rows r0 + q (words 0, 1) and r0 + 4 + q (words 2, 3); each row takes 16 bits for
// each of z_pos, z_neg (normals by table: assembly/normal-table.ts) and phase_pos,
// phase_neg (uniforms centred in 65,536 bins); `draw` numbers independent repetitions of
// the same reads (0 by default). The arithmetic runs two rows at a time in f64x2 — the
// same operations, in the same order, as the float64 restatement in test/lib/readout.test.ts.

import { A_GAIN, A_NONLIN, A_OFFSET, A_TRIM_A, A_TRIM_G, A_TRIM_O, ADC_STRIDE, Q_STEP_A, Q_STEP_G, Q_STEP_O } from "./adc";
import { decodeLdpuRow, ldpuValue } from "./ldpu";
import { CONSTANTS_X2, kc, ldpuX2, okx2, writeConstantsX2 } from "./ldpu-x2";
import { normal16, normalTable } from "./normal-table";
import { lane, philoxMultipliers, philoxX4M, v0, v1, v2, v3 } from "./philox";

// Parameter block (f64), layout shared with lib/chip/readout.ts.
export const R_SEED_LO: i32 = 0;
export const R_SEED_HI: i32 = 1;
export const R_CORE: i32 = 2;
export const R_TIME_KEY: i32 = 3;
export const R_FIRST_INPUT: i32 = 4; // global index of input 0 (noise counter)
export const R_PHASES: i32 = 5; // 4 or 1
export const R_INV_QG: i32 = 6;
export const R_INV_QV: i32 = 7;
export const R_CHARGE_LSB: i32 = 8; // ADC LSBs per count·ns
export const R_LEAK: i32 = 9; // λ
export const R_ASYM: i32 = 10; // κ
export const R_NOISE: i32 = 11; // 1 = read noise on
export const R_DRAW: i32 = 12; // independent repetition (the stream id's trial field, 0..65535)
export const R_COUNT: i32 = 13;

const PURPOSE_READ_NOISE: u32 = 9; // lib/chip/rng.ts Purpose.READ_NOISE
const FS: f64 = 4095.0;

// @ts-ignore: decorator
@inline
function f(p: usize, i: i32): f64 {
  return load<f64>(p + (<usize>i << 3));
}

// Per-row cache, filled once per batch, as arrays of 256 f64 per field (two rows load as one
// f64x2): the ADC's effective offset, gain and nonlinearity (the same expressions as adc.ts
// adcAnalog, so the same bits), the row sums S±, then the row's decoded LDPU parameters
// (ldpu.ts decodeLdpuRow; the two flags as lane masks); then per-input scratch rows; then
// the vector constants and 8 f64 for decoding.
const F_O: i32 = 0, F_G: i32 = 1, F_A: i32 = 2, F_SP: i32 = 3, F_SN: i32 = 4, F_K: i32 = 5, F_B: i32 = 6;
const F_AFF: i32 = 7, F_C: i32 = 8, F_R: i32 = 9, F_Q: i32 = 10, F_IDENT: i32 = 11, F_KOK: i32 = 12;
// Per-input scratch, one f64 per row: normals, phases, counts.
const F_ZP: i32 = 13, F_ZN: i32 = 14, F_UP: i32 = 15, F_UN: i32 = 16, F_CP: i32 = 17, F_CN: i32 = 18;
export const ROW_CACHE_FIELDS: i32 = 19;
/** Bytes of the row cache and scratch (lib/chip/readout.ts READOUT_BYTES.rowCache): the fields,
 * 16 vector constants, 8 f64 for decoding. */
export const ROW_CACHE_BYTES: i32 = ROW_CACHE_FIELDS * 256 * 8 + 64 + 16 * 16;
// Vector constants after the scratch (ldpu-x2.ts kc): its own, then these.
const C_FS: i32 = CONSTANTS_X2, C_HALF: i32 = CONSTANTS_X2 + 1, C_U16: i32 = CONSTANTS_X2 + 2, C_LO16: i32 = CONSTANTS_X2 + 3;
const C_M0: i32 = CONSTANTS_X2 + 4, C_M1: i32 = CONSTANTS_X2 + 5;

// @ts-ignore: decorator
@inline
function adcField(table: usize, row: i32, field: i32): f64 {
  return load<f64>(table + <usize>row * ADC_STRIDE + (<usize>field << 3));
}

// @ts-ignore: decorator
@inline
function field(cache: usize, f: i32, r: i32): usize {
  return cache + (<usize>(f * 256 + r) << 3);
}

function fillRowCache(adcP: usize, adcT: usize, ldpu: usize, rowSums: usize, rows: i32, cache: usize): void {
  for (let r = 0; r < rows; r++) {
    store<f64>(field(cache, F_O, r), adcField(adcT, r, A_OFFSET) - adcField(adcT, r, A_TRIM_O) * f(adcP, Q_STEP_O));
    store<f64>(field(cache, F_G, r), adcField(adcT, r, A_GAIN) * (1.0 + adcField(adcT, r, A_TRIM_G) * f(adcP, Q_STEP_G)));
    store<f64>(field(cache, F_A, r), adcField(adcT, r, A_NONLIN) - adcField(adcT, r, A_TRIM_A) * f(adcP, Q_STEP_A));
    store<f64>(field(cache, F_SP, r), load<f64>(rowSums + (<usize>r << 4)));
    store<f64>(field(cache, F_SN, r), load<f64>(rowSums + (<usize>r << 4), 8));
  }
  fillLdpuCache(ldpu, rows, cache);
}

/** The LDPU fields of the row cache. */
function fillLdpuCache(ldpu: usize, rows: i32, cache: usize): void {
  const tmp = field(cache, ROW_CACHE_FIELDS, 0) + 16 * 16;
  for (let r = 0; r < rows; r++) {
    decodeLdpuRow(ldpu, r, tmp);
    store<f64>(field(cache, F_K, r), load<f64>(tmp));
    store<f64>(field(cache, F_B, r), load<f64>(tmp, 8));
    store<f64>(field(cache, F_AFF, r), load<f64>(tmp, 16));
    store<f64>(field(cache, F_C, r), load<f64>(tmp, 24));
    store<f64>(field(cache, F_R, r), load<f64>(tmp, 32));
    store<i64>(field(cache, F_IDENT, r), load<f64>(tmp, 40) != 0.0 ? -1 : 0);
    store<i64>(field(cache, F_KOK, r), load<f64>(tmp, 48) != 0.0 ? -1 : 0);
    store<f64>(field(cache, F_Q, r), load<f64>(tmp, 56));
  }
}

// @ts-ignore: decorator
@inline
function ld2(cache: usize, f: i32, r: i32): v128 {
  return v128.load(field(cache, f, r));
}

/** Two i32 dot products (rows r, r + 1) as f64x2, times `scale`. */
// @ts-ignore: decorator
@inline
function dots2(p: usize, i: usize, scale: v128): v128 {
  return f64x2.mul(f64x2.convert_low_i32x4_s(v128.load64_zero(p + (i << 2))), scale);
}

/** The 12-bit counts of charges x (LSBs) with initial phases u, rows r, r + 1 (adc.ts). */
// @ts-ignore: decorator
@inline
function count2(kp: usize, cache: usize, r: i32, x: v128, u: v128): v128 {
  const a = ld2(cache, F_A, r);
  const fs = kc(kp, C_FS);
  const analog = f64x2.add(ld2(cache, F_O, r), f64x2.mul(ld2(cache, F_G, r), f64x2.sub(x, f64x2.div(f64x2.mul(f64x2.mul(a, x), x), fs))));
  return f64x2.floor(f64x2.min(f64x2.max(f64x2.add(analog, u), f64x2.splat(0.0)), fs));
}

/** Two INT8 link inputs as f64x2. */
// @ts-ignore: decorator
@inline
function link2(p: usize, o: usize): v128 {
  return f64x2(<f64>load<i8>(p + o), <f64>load<i8>(p + o, 1));
}

/** Uniforms in (0, 1) from 16-bit halves (lanes 0, 1 of w), centred in their bins. */
// @ts-ignore: decorator
@inline
function uniforms2(kp: usize, w: v128): v128 {
  return f64x2.mul(f64x2.add(f64x2.convert_low_i32x4_u(w), kc(kp, C_HALF)), kc(kp, C_U16));
}

/**
 * The LDPU of rows r, r + 1 (ldpu.ts ldpuValueDecoded in f64x2) from their counts, with the
 * INT8 link inputs at rx + o, res + o (0: none), into out + o (lane 1 only if `two1`); a
 * lane the fast path cannot do exactly goes through the plain FP16 ldpuValue.
 */
// @ts-ignore: decorator
@inline
function ldpuPair(kp: usize, cache: usize, ldpu: usize, flags: i32, r: i32, two1: bool, cp: v128, cn: v128, rx: usize, res: usize, o: usize, out: usize): void {
  const zero = f64x2.splat(0.0);
  const xr = rx ? link2(rx, o) : zero;
  const xq = res ? link2(res, o) : zero;
  const y = ldpuX2(
    kp, cp, cn, ld2(cache, F_KOK, r), ld2(cache, F_K, r), ld2(cache, F_B, r), ld2(cache, F_AFF, r), ld2(cache, F_C, r),
    ld2(cache, F_IDENT, r), flags, xr, ld2(cache, F_R, r), xq, ld2(cache, F_Q, r),
  );
  store<i8>(out + o, <i8>i32x4.extract_lane(y, 0));
  if (two1) store<i8>(out + o, <i8>i32x4.extract_lane(y, 1), 1);
  if (!i64x2.all_true(okx2)) {
    if (i64x2.extract_lane(okx2, 0) == 0) {
      store<i8>(out + o, <i8>ldpuValue(<u32>f64x2.extract_lane(cp, 0), <u32>f64x2.extract_lane(cn, 0), <i32>f64x2.extract_lane(xr, 0), ldpu, r, flags, <i32>f64x2.extract_lane(xq, 0)));
    }
    if (two1 && i64x2.extract_lane(okx2, 1) == 0) {
      store<i8>(out + o, <i8>ldpuValue(<u32>f64x2.extract_lane(cp, 1), <u32>f64x2.extract_lane(cn, 1), <i32>f64x2.extract_lane(xr, 1), ldpu, r + 1, flags, <i32>f64x2.extract_lane(xq, 1)), 1);
    }
  }
}

/**
 * Counts and LDPU outputs for `batch` inputs and `rows` rows, two rows at a time (f64x2).
 * dots: three i32 arrays (batch × rows) dG, d2, dV; phases: per input (T+, T−) as i32;
 * rowSums: per row (S+, S−) f64; adcP/adcT: the ADC parameter block and the core's ADC
 * table; ldpu: LDPU row parameters and flags; rx, res: INT8 link inputs (batch × stride) or
 * 0; out: INT8 (batch × stride); counts: u16 pairs (batch × stride × 2) or 0; cache:
 * ROW_CACHE_BYTES. Rows ≥ `rows` of out (and counts) are set to 0.
 */
export function readoutBatch(
  p: usize, rows: i32, batch: i32, dG: usize, d2: usize, dV: usize, phases: usize, rowSums: usize,
  adcP: usize, adcT: usize, ldpu: usize, flags: i32, rx: usize, out: usize, counts: usize, cache: usize, res: usize, stride: i32,
): void {
  const rowsP = min((rows + 1) & ~1, 256); // rows in pairs (a last odd row pairs with a dummy)
  fillRowCache(adcP, adcT, ldpu, rowSums, rowsP, cache);
  const table = normalTable();
  const k0 = <u32>f(p, R_SEED_LO), k1 = <u32>f(p, R_SEED_HI);
  const stream = i32x4.splat(<i32>((<u32>f(p, R_CORE) & 0xff) | (PURPOSE_READ_NOISE << 8) | ((<u32>f(p, R_DRAW) & 0xffff) << 16)));
  const tkey = i32x4.splat(<i32><u32>f(p, R_TIME_KEY));
  const first = <u32>f(p, R_FIRST_INPUT);
  const fourPhase = f(p, R_PHASES) == 4.0;
  const invG = f64x2.splat(f(p, R_INV_QG)), invV = f64x2.splat(f(p, R_INV_QV)), c = f64x2.splat(f(p, R_CHARGE_LSB));
  const leak = f64x2.splat(f(p, R_LEAK)), asym = f64x2.splat(f(p, R_ASYM)), noiseOn = f(p, R_NOISE) != 0.0;
  const kp = field(cache, ROW_CACHE_FIELDS, 0);
  writeConstantsX2(kp);
  v128.store(kp + (<usize>C_FS << 4), f64x2.splat(FS));
  v128.store(kp + (<usize>C_HALF << 4), f64x2.splat(0.5));
  v128.store(kp + (<usize>C_U16 << 4), f64x2.splat(1.52587890625e-5));
  v128.store(kp + (<usize>C_LO16 << 4), i32x4.splat(0xffff));
  philoxMultipliers(kp + (<usize>C_M0 << 4));
  const zero = f64x2.splat(0.0);
  if (!noiseOn) {
    for (let f = F_ZP; f <= F_UN; f++) memory.fill(field(cache, f, 0), 0, 256 * 8);
  }
  // Per input, three short passes over the rows (short loop bodies let the processor overlap
  // the long dependency chains of consecutive row pairs): the random draws of every row,
  // the charges and counts, the LDPU.
  for (let b = 0; b < batch; b++) {
    const tps = <f64>load<i32>(phases + (<usize>b << 3));
    const tns = <f64>load<i32>(phases + (<usize>b << 3), 4);
    const tp = f64x2.splat(tps), tn = f64x2.splat(tns), tmax = f64x2.splat(max(tps, tns));
    if (noiseOn) {
      const bi = i32x4.splat(<i32>(first + <u32>b));
      for (let r0 = 0; r0 < rows; r0 += 8) {
        // One Philox block per 8 rows: lane q serves rows r0 + q (words 0, 1) and
        // r0 + 4 + q (words 2, 3); a normal word holds (z_pos, z_neg) in its 16-bit halves,
        // a phase word (u_pos, u_neg).
        philoxX4M(i32x4(r0, r0 + 1, r0 + 2, r0 + 3), bi, stream, tkey, k0, k1, kc(kp, C_M0), kc(kp, C_M1));
        const wz0 = v0, wu0 = v1, wz1 = v2, wu1 = v3;
        const zp = field(cache, F_ZP, r0), zn = field(cache, F_ZN, r0), upp = field(cache, F_UP, r0), unp = field(cache, F_UN, r0);
        for (let q = 0; q < 4; q++) {
          const a = lane(wz0, q), bb = lane(wz1, q);
          store<f64>(zp + (<usize>q << 3), normal16(table, a));
          store<f64>(zn + (<usize>q << 3), normal16(table, a >>> 16));
          store<f64>(zp + (<usize>(q + 4) << 3), normal16(table, bb));
          store<f64>(zn + (<usize>(q + 4) << 3), normal16(table, bb >>> 16));
        }
        const pl0 = v128.and(wu0, kc(kp, C_LO16)), ph0 = i32x4.shr_u(wu0, 16), pl1 = v128.and(wu1, kc(kp, C_LO16)), ph1 = i32x4.shr_u(wu1, 16);
        v128.store(upp, uniforms2(kp, pl0));
        v128.store(upp, uniforms2(kp, i32x4.shuffle(pl0, pl0, 2, 3, 0, 1)), 16);
        v128.store(upp, uniforms2(kp, pl1), 32);
        v128.store(upp, uniforms2(kp, i32x4.shuffle(pl1, pl1, 2, 3, 0, 1)), 48);
        v128.store(unp, uniforms2(kp, ph0));
        v128.store(unp, uniforms2(kp, i32x4.shuffle(ph0, ph0, 2, 3, 0, 1)), 16);
        v128.store(unp, uniforms2(kp, ph1), 32);
        v128.store(unp, uniforms2(kp, i32x4.shuffle(ph1, ph1, 2, 3, 0, 1)), 48);
      }
    }
    // Charges, read noise and the ADC counts (kept as f64 for the LDPU pass).
    for (let r = 0; r < rows; r += 2) {
      const i = <usize>(b * rows + r);
      const g = dots2(dG, i, invG);
      const two = dots2(d2, i, invG);
      const sp = ld2(cache, F_SP, r), sn = ld2(cache, F_SN, r);
      let pos: v128, neg: v128;
      if (fourPhase) {
        pos = f64x2.add(f64x2.mul(kc(kp, C_HALF), f64x2.add(two, g)), f64x2.mul(leak, f64x2.add(f64x2.mul(sp, tp), f64x2.mul(sn, tn))));
        neg = f64x2.add(f64x2.mul(kc(kp, C_HALF), f64x2.sub(two, g)), f64x2.mul(leak, f64x2.add(f64x2.mul(sn, tp), f64x2.mul(sp, tn))));
      } else {
        const net = f64x2.add(f64x2.sub(g, f64x2.mul(asym, two)), f64x2.mul(f64x2.mul(leak, f64x2.sub(sp, sn)), tmax));
        pos = f64x2.max(net, zero);
        neg = f64x2.max(f64x2.neg(net), zero);
      }
      if (noiseOn) {
        const sd = f64x2.sqrt(f64x2.mul(f64x2.mul(kc(kp, C_HALF), f64x2.convert_low_i32x4_s(v128.load64_zero(dV + (i << 2)))), invV));
        pos = f64x2.add(pos, f64x2.mul(sd, ld2(cache, F_ZP, r)));
        neg = f64x2.add(neg, f64x2.mul(sd, ld2(cache, F_ZN, r)));
      }
      v128.store(field(cache, F_CP, r), count2(kp, cache, r, f64x2.mul(pos, c), ld2(cache, F_UP, r)));
      v128.store(field(cache, F_CN, r), count2(kp, cache, r, f64x2.mul(neg, c), ld2(cache, F_UN, r)));
    }
    if (counts) {
      for (let r = 0; r < rows; r++) {
        const o = <usize>(b * stride + r);
        store<u16>(counts + (o << 2), <u16>load<f64>(field(cache, F_CP, r)));
        store<u16>(counts + (o << 2), <u16>load<f64>(field(cache, F_CN, r)), 2);
      }
    }
    // The LDPU (ldpu.ts ldpuValueDecoded, two lanes).
    for (let r = 0; r < rows; r += 2) {
      const two1 = r + 1 < rows; // lane 1 is a real row
      const o = <usize>(b * stride + r);
      const cp = ld2(cache, F_CP, r), cn = ld2(cache, F_CN, r);
      ldpuPair(kp, cache, ldpu, flags, r, two1, cp, cn, rx, res, o, out);
    }
    if (rows < stride) {
      memory.fill(out + <usize>(b * stride + rows), 0, <usize>(stride - rows));
      if (counts) memory.fill(counts + (<usize>(b * stride + rows) << 2), 0, <usize>(stride - rows) << 2);
    }
  }
}

/**
 * The functional model's readout with per-row LDPU parameters (assembly/functional.ts
 * functionalReadout, the same bits), two rows at a time through the f64x2 LDPU: dots
 * (batch × rows, int32) → the single 12-bit count c = clamp(nearest(dot · countsPerUnit))
 * → LDPU with (pos, neg) = (max(c, 0), max(−c, 0)) → INT8 out (batch × stride); rx, res:
 * INT8 link inputs (batch × stride) or 0. Rows ≥ `rows` of out are set to 0.
 */
export function functionalReadoutRows(
  dots: usize, rows: i32, batch: i32, countsPerUnit: f64, ldpu: usize, flags: i32, out: usize, rx: usize, res: usize, stride: i32, cache: usize,
): void {
  fillLdpuCache(ldpu, min((rows + 1) & ~1, 256), cache);
  const kp = field(cache, ROW_CACHE_FIELDS, 0);
  writeConstantsX2(kp);
  const k = f64x2.splat(countsPerUnit), lo = f64x2.splat(-FS), hi = f64x2.splat(FS), zero = f64x2.splat(0.0);
  for (let b = 0; b < batch; b++) {
    for (let r = 0; r < rows; r += 2) {
      const two1 = r + 1 < rows;
      const i = <usize>(b * rows + r);
      const o = <usize>(b * stride + r);
      const c = f64x2.min(f64x2.max(f64x2.nearest(dots2(dots, i, k)), lo), hi);
      const cp = f64x2.max(c, zero), cn = f64x2.max(f64x2.neg(c), zero);
      ldpuPair(kp, cache, ldpu, flags, r, two1, cp, cn, rx, res, o, out);
    }
    if (rows < stride) memory.fill(out + <usize>(b * stride + rows), 0, <usize>(stride - rows));
  }
}
