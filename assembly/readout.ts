// The analog read of a core, from the crossbar's dot products to the LDPU's INT8 outputs
// (paper §II, EDF 4): PWM phases, bit-line charge, read noise, leakage, the CCO ADC's two
// 12-bit counters, the LDPU.
//
// The MVM kernel (assembly/mvm.ts) first gives, per input b and row r, three exact int32
// dot products over the quantised planes of the core at time t (assembly/drift.ts):
//   dG = Σ_j Ĝ_rj·x_bj,   d2 = Σ_j Ŝ_rj·|x_bj|  (4-phase)  or  Σ_j Ĝ_rj·x⁻_bj  (1-phase),
//   dV = Σ_j V̂_rj·x_bj²
// with Ĝ = round(G·qG), Ŝ = round(S·qG), V̂ = round(V·qV) (int16; lib/readout.ts picks the
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
// Random draws: one Philox block per (input, row): counter (row, input index, stream
// core | READ_NOISE << 8 | draw << 16, f32 bits of t), words → z_pos, z_neg, phase_pos,
// phase_neg; `draw` numbers independent repetitions of the same reads (0 by default).

import { A_GAIN, A_NONLIN, A_OFFSET, A_TRIM_A, A_TRIM_G, A_TRIM_O, ADC_STRIDE, Q_STEP_A, Q_STEP_G, Q_STEP_O } from "./adc";
import { decodeLdpuRow, ldpuValueDecoded } from "./ldpu";
import { lane, normalFromU32, philoxX4, uniform, v0, v1, v2, v3 } from "./philox";

// Parameter block (f64), layout shared with lib/readout.ts.
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

const PURPOSE_READ_NOISE: u32 = 9; // lib/rng.ts Purpose.READ_NOISE
const FS: f64 = 4095.0;

// @ts-ignore: decorator
@inline
function f(p: usize, i: i32): f64 {
  return load<f64>(p + (<usize>i << 3));
}

// Per-row cache (ROW_CACHE_F64 f64 per row), filled once per batch: the ADC's effective
// offset, gain and nonlinearity (the same expressions as adc.ts adcAnalog, so the same
// bits), then the row's decoded LDPU parameters (ldpu.ts decodeLdpuRow).
export const ROW_CACHE_F64: i32 = 11;

// @ts-ignore: decorator
@inline
function adcField(table: usize, row: i32, field: i32): f64 {
  return load<f64>(table + <usize>row * ADC_STRIDE + (<usize>field << 3));
}

function fillRowCache(adcP: usize, adcT: usize, ldpu: usize, rows: i32, cache: usize): void {
  for (let r = 0; r < rows; r++) {
    const c = cache + <usize>(r * ROW_CACHE_F64) * 8;
    store<f64>(c, adcField(adcT, r, A_OFFSET) - adcField(adcT, r, A_TRIM_O) * f(adcP, Q_STEP_O));
    store<f64>(c, adcField(adcT, r, A_GAIN) * (1.0 + adcField(adcT, r, A_TRIM_G) * f(adcP, Q_STEP_G)), 8);
    store<f64>(c, adcField(adcT, r, A_NONLIN) - adcField(adcT, r, A_TRIM_A) * f(adcP, Q_STEP_A), 16);
    decodeLdpuRow(ldpu, r, c + 24);
  }
}

/**
 * Standard normals of lanes 0 and 1 of `w`, two at a time in f64x2: the same operations as
 * philox.ts normalFromU32 (AS241's central rational; the same bits), falling back to the
 * scalar function when a lane is in a tail (|u − ½| > 0.425, 15 % of draws).
 */
// @ts-ignore: decorator
@inline
function normalsX2(w: v128): v128 {
  const u = f64x2.mul(f64x2.add(f64x2.convert_low_i32x4_u(i32x4.shr_u(w, 8)), f64x2.splat(0.5)), f64x2.splat(5.9604644775390625e-8));
  const q = f64x2.sub(u, f64x2.splat(0.5));
  if (v128.any_true(f64x2.gt(f64x2.abs(q), f64x2.splat(0.425)))) {
    return f64x2(normalFromU32(<u32>i32x4.extract_lane(w, 0)), normalFromU32(<u32>i32x4.extract_lane(w, 1)));
  }
  const r = f64x2.sub(f64x2.splat(0.180625), f64x2.mul(q, q));
  const num = f64x2.mul(q, f64x2.add(f64x2.mul(f64x2.add(f64x2.mul(f64x2.add(f64x2.mul(f64x2.splat(59.10937472), r), f64x2.splat(159.29113202)), r), f64x2.splat(50.434271938)), r), f64x2.splat(3.3871327179)));
  const den = f64x2.add(f64x2.mul(f64x2.add(f64x2.mul(f64x2.add(f64x2.mul(f64x2.splat(67.1875636), r), f64x2.splat(78.757757664)), r), f64x2.splat(17.895169469)), r), f64x2.splat(1.0));
  return f64x2.div(num, den);
}

/** The four normals of an i32x4 of words into 4 f64 at p. */
// @ts-ignore: decorator
@inline
function storeNormals(w: v128, p: usize): void {
  v128.store(p, normalsX2(w));
  v128.store(p, normalsX2(i32x4.shuffle(w, w, 2, 3, 0, 1)), 16);
}

/** The 12-bit count for charge x (LSBs) and initial phase u, from a row's cached o, g, a. */
// @ts-ignore: decorator
@inline
function count(c: usize, x: f64, u: f64): u32 {
  const a = load<f64>(c, 16);
  const analog = load<f64>(c) + load<f64>(c, 8) * (x - (a * x * x) / FS);
  return <u32>Math.floor(min(max(analog + u, 0.0), FS));
}

/**
 * Counts and LDPU outputs for `batch` inputs and `rows` rows. dots: three i32 arrays
 * (batch × rows) dG, d2, dV; phases: per input (T+, T−) as i32; rowSums: per row (S+, S−)
 * f64; adcP/adcT: the ADC parameter block and the core's ADC table; ldpu: LDPU row
 * parameters and flags; rx, res: INT8 link inputs (batch × stride) or 0; out: INT8 (batch × stride);
 * counts: u16 pairs (batch × stride × 2) or 0; cache: rows × ROW_CACHE_F64 + 8 f64 of scratch.
 * The dot products have `rows` per input; rows ≥ `rows` of out (and counts) are set to 0.
 */
export function readoutBatch(
  p: usize, rows: i32, batch: i32, dG: usize, d2: usize, dV: usize, phases: usize, rowSums: usize,
  adcP: usize, adcT: usize, ldpu: usize, flags: i32, rx: usize, out: usize, counts: usize, cache: usize, res: usize, stride: i32,
): void {
  fillRowCache(adcP, adcT, ldpu, rows, cache);
  const nz = cache + <usize>(rows * ROW_CACHE_F64) * 8; // 8 normals of the current group of 4 rows
  const k0 = <u32>f(p, R_SEED_LO), k1 = <u32>f(p, R_SEED_HI);
  const stream = i32x4.splat(<i32>((<u32>f(p, R_CORE) & 0xff) | (PURPOSE_READ_NOISE << 8) | ((<u32>f(p, R_DRAW) & 0xffff) << 16)));
  const tkey = i32x4.splat(<i32><u32>f(p, R_TIME_KEY));
  const first = <u32>f(p, R_FIRST_INPUT);
  const fourPhase = f(p, R_PHASES) == 4.0;
  const invG = f(p, R_INV_QG), invV = f(p, R_INV_QV), c = f(p, R_CHARGE_LSB);
  const leak = f(p, R_LEAK), asym = f(p, R_ASYM), noiseOn = f(p, R_NOISE) != 0.0;
  for (let b = 0; b < batch; b++) {
    const tp = <f64>load<i32>(phases + (<usize>b << 3));
    const tn = <f64>load<i32>(phases + (<usize>b << 3), 4);
    const bi = i32x4.splat(<i32>(first + <u32>b));
    for (let r0 = 0; r0 < rows; r0 += 4) {
      if (noiseOn) {
        philoxX4(i32x4(r0, r0 + 1, r0 + 2, r0 + 3), bi, stream, tkey, k0, k1);
        storeNormals(v0, nz);
        storeNormals(v1, nz + 32);
      }
      const w2 = v2, w3 = v3;
      const rEnd = min(r0 + 4, rows);
      for (let r = r0; r < rEnd; r++) {
        const i = <usize>(b * rows + r);
        const o = <usize>(b * stride + r);
        const g = <f64>load<i32>(dG + (i << 2)) * invG;
        const two = <f64>load<i32>(d2 + (i << 2)) * invG;
        const sp = load<f64>(rowSums + (<usize>r << 4)), sn = load<f64>(rowSums + (<usize>r << 4), 8);
        let pos: f64, neg: f64;
        if (fourPhase) {
          pos = 0.5 * (two + g) + leak * (sp * tp + sn * tn);
          neg = 0.5 * (two - g) + leak * (sn * tp + sp * tn);
        } else {
          const net = g - asym * two + leak * (sp - sn) * max(tp, tn);
          pos = max(net, 0.0);
          neg = max(-net, 0.0);
        }
        let up = 0.0, un = 0.0;
        if (noiseOn) {
          const l = r - r0;
          const sd = Math.sqrt(0.5 * <f64>load<i32>(dV + (i << 2)) * invV);
          pos += sd * load<f64>(nz + (<usize>l << 3));
          neg += sd * load<f64>(nz + (<usize>l << 3), 32);
          up = uniform(lane(w2, l));
          un = uniform(lane(w3, l));
        }
        const rc = cache + <usize>(r * ROW_CACHE_F64) * 8;
        const cp = count(rc, pos * c, up);
        const cn = count(rc, neg * c, un);
        if (counts) {
          store<u16>(counts + (o << 2), <u16>cp);
          store<u16>(counts + (o << 2), <u16>cn, 2);
        }
        const x = rx ? <i32>load<i8>(rx + o) : 0;
        const q = res ? <i32>load<i8>(res + o) : 0;
        store<i8>(out + o, <i8>ldpuValueDecoded(cp, cn, x, rc + 24, ldpu, r, flags, q));
      }
    }
    if (rows < stride) {
      memory.fill(out + <usize>(b * stride + rows), 0, <usize>(stride - rows));
      if (counts) memory.fill(counts + (<usize>(b * stride + rows) << 2), 0, <usize>(stride - rows) << 2);
    }
  }
}

/**
 * Inputs for the three dot products: from INT8 inputs (batch × cols, row stride `cols`)
 * write int16 rows of stride 256 (zero padded): X1 = x, X2 = |x| (4-phase) or x⁻ = max(−x, 0)
 * (1-phase), X3 = x²; and per input the phase lengths (T+, T−) = (max x⁺, max x⁻) as i32.
 */
export function prepareInputs(x: usize, batch: i32, cols: i32, phases: i32, x1: usize, x2: usize, x3: usize, tOut: usize): void {
  for (let b = 0; b < batch; b++) {
    let tp = 0, tn = 0;
    const src = x + <usize>(b * cols);
    const o = <usize>b << 9; // 256 int16 per row
    for (let j = 0; j < 256; j++) {
      const v: i32 = j < cols ? <i32>load<i8>(src + <usize>j) : 0;
      const a = v < 0 ? -v : v;
      store<i16>(x1 + o + (<usize>j << 1), <i16>v);
      store<i16>(x2 + o + (<usize>j << 1), <i16>(phases == 4 ? a : (v < 0 ? -v : 0)));
      store<i16>(x3 + o + (<usize>j << 1), <i16>(v * v));
      if (v > tp) tp = v;
      if (-v > tn) tn = -v;
    }
    store<i32>(tOut + (<usize>b << 3), tp);
    store<i32>(tOut + (<usize>b << 3), tn, 4);
  }
}

/** Round n f32 values times `scale` to int16 (the caller guarantees |v·scale| ≤ 32767). */
export function quantisePlane(src: usize, n: i32, scale: f32, dst: usize): void {
  const s = f32x4.splat(scale);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const a = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(src + (<usize>i << 2)), s)));
    const b = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(src + (<usize>i << 2), 16), s)));
    v128.store(dst + (<usize>i << 1), i16x8.narrow_i32x4_s(a, b));
  }
  for (; i < n; i++) store<i16>(dst + (<usize>i << 1), <i16>(<i32>f32.nearest(load<f32>(src + (<usize>i << 2)) * scale)));
}
