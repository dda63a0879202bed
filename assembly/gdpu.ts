// A slice of the global digital processing unit (GDPU), bit-faithful in FP16 (paper §III,
// Fig. 1d): the LSTM cell of up to 64 hidden units, one element processor per slice.
//
// Input order (the interleaving, an assumption read from §III "alternating fashion from
// four neighbouring BLs"): unit u's four gate pre-activations arrive on consecutive clocks
// as inputs 4u + 0, 1, 2, 3 = I (input gate), A (cell input), F (forget gate), O (output
// gate), so a slice of n units takes 4n serial INT8 inputs (n ≤ 64) and, once it has
// the four of a unit, emits that unit's output: one output every 4 clocks.
//
// Per unit u, with every operation rounding once to nearest-even (assembly/fp16.ts):
//   x_g = fma(f16(g_g), S_g, B_g)          i2f + per-gate scale and bias (first FMA)
//   a   = tanh(x_A)                        the LUT (below)
//   i, f, o = sigmoid(x_I), sigmoid(x_F), sigmoid(x_O)
//   sigmoid(x) = fma(tanh(x · 0.5), 0.5, 0.5)   x·0.5 a multiply (exact unless subnormal);
//                                          the third FMA: 1/2 + 1/2·tanh(x/2) (Fig. 1d)
//   c   = fma(f, c, i · a)                 i·a rounded (multiply block), then one FMA
//   h   = o · tanh(c)                      second multiply block
//   out = int8(fma(h, S_out, B_out))       f2i with per-output scale and bias; nearest
//                                          even, saturating to [−128, 127], NaN → 0
// Which product of the cell update is rounded (i·a, with f·c fused) and that the state
// stays FP16 between timesteps are this model's assumptions; Fig. 1d only names two
// multiply blocks, three FMAs and a second tanh LUT after the gates.
//
// tanh LUT: 17 comparators at −b8 … −b1, 0, b1 … b8 give 18 bins; the two outer bins
// (|x| ≥ b8) output ±1; in the other 16, tanh(x) = fma(s_k, x, ±c_k) with the bin's FP16
// slope and intercept. The table is odd: the bin of −x mirrors that of x (comparators at
// positive breakpoints test x ≥ t, at negative ones x > t, the one at 0 the sign bit), and
// fma(s, −x, −c) = −fma(s, x, c) under round-to-nearest-even, so tanh(−x) = −tanh(x) bit
// for bit (−0 → −0). ±Inf saturates to ±1 (the outer bins bypass the multiplier, an
// assumption); NaN gives the canonical NaN 0x7E00.
// Derivation (lib/chip/gdpu.ts documents it and holds the same table as data): breakpoints
// equalising the minimax error of the 8 positive segments and of the saturation
// 1 − tanh(b8) (float64: 2.617e-3), the first segment through the origin, then rounded to
// FP16 and refined by a coordinate search over FP16 neighbours of every entry against
// the error measured over all finite FP16 inputs, keeping the table monotonic and ≤ 1.
// Maximum |LUT tanh(x) − tanh(x)| over all 63,488 finite FP16 x: 2.8979e-3 (at
// x = ±1.18359375), which includes the FP16 rounding of the output. Sigmoid: 1.6690e-3
// (at x = 2.3984375: half the tanh error plus its own rounding). test/assembly/gdpu.test.ts
// measures both over all FP16 inputs.

import { f16Fma, f16Mul, f16ToI8Sat, i8ToF16 } from "./fp16";

export const GDPU_MAX_UNITS: i32 = 64;
export const GDPU_GATES: i32 = 4;
export const GDPU_CLOCKS_PER_INPUT: i32 = 1;
export const GDPU_CLOCKS_PER_OUTPUT: i32 = 4;
export const GDPU_LUT_SEGMENTS: i32 = 8; // positive interpolated bins (16 signed + 2 saturated)

// Per-unit parameter block: 10 u16 (FP16 bit patterns), layout shared with lib/chip/gdpu.ts:
// S_I, S_A, S_F, S_O, B_I, B_A, B_F, B_O, S_out, B_out.
export const GDPU_UNIT_PARAMS: i32 = 10;
export const GDPU_UNIT_PARAM_BYTES: usize = 20;

const F16_NAN: u16 = 0x7e00;
const F16_ONE: u16 = 0x3c00;
const F16_HALF: u16 = 0x3800;

// The LUT, FP16 bit patterns: 8 positive breakpoints b1..b8, then 8 slopes, 8 intercepts.
// b: 0.32080078125 0.56884765625 0.80126953125 1.0498046875 1.3369140625 1.6962890625
//    2.224609375 3.318359375
// s: 0.9755859375 0.82373046875 0.646484375 0.470458984375 0.31103515625 0.1785888671875
//    0.07952880859375 0.0187225341796875
// c: 0 0.04864501953125 0.1495361328125 0.29052734375 0.457763671875 0.634765625
//    0.802734375 0.93798828125
const LUT: usize = memory.data<u16>([
  0x3522, 0x388d, 0x3a69, 0x3c33, 0x3d59, 0x3ec9, 0x4073, 0x42a3,
  0x3bce, 0x3a97, 0x392c, 0x3787, 0x34fa, 0x31b7, 0x2d17, 0x24cb,
  0x0000, 0x2a3a, 0x30c9, 0x34a6, 0x3753, 0x3914, 0x3a6c, 0x3b81,
]);

/** Pointer to the built-in LUT (24 u16: breakpoints, slopes, intercepts). */
export function gdpuLut(): usize {
  return LUT;
}

/** The bin of |x| (0..8; 8 = saturated) for a non-NaN FP16 x. */
// @ts-ignore: decorator
@inline
function lutBin(mag: u16): i32 {
  // Positive halves order like their bit patterns: the comparators compare integers.
  let k = 0;
  while (k < 8 && mag >= load<u16>(LUT + (<usize>k << 1))) k++;
  return k;
}

/** tanh by the GDPU's look-up table with FMA interpolation. */
export function gdpuTanh(h: u16): u16 {
  const sign = h & 0x8000;
  const mag = h & 0x7fff;
  if (mag > 0x7c00) return F16_NAN;
  const k = lutBin(mag);
  if (k == 8) return sign | F16_ONE;
  const o = LUT + (<usize>k << 1);
  // s_k·|x| + c_k ≥ 0 (s_k > 0, c_k ≥ 0): the sign is applied after, see the header.
  return sign | f16Fma(load<u16>(o, 16), mag, load<u16>(o, 32));
}

/** sigmoid(x) = 1/2 + 1/2·tanh(x/2): a multiply by 0.5, the LUT, the third FMA. */
export function gdpuSigmoid(h: u16): u16 {
  return f16Fma(gdpuTanh(f16Mul(h, F16_HALF)), F16_HALF, F16_HALF);
}

/**
 * One LSTM timestep of a slice of `units` (1..64) hidden units.
 * gates: 4·units INT8 inputs, interleaved I, A, F, O per unit (see the header);
 * params: units × GDPU_UNIT_PARAM_BYTES (per-unit gate and output scales and biases);
 * cell: units FP16 cell states, updated in place; out: units INT8 hidden outputs;
 * hOut: units FP16 hidden states before the output conversion, or 0 for none.
 */
export function gdpuStep(gates: usize, params: usize, cell: usize, units: i32, out: usize, hOut: usize): void {
  for (let u = 0; u < units; u++) {
    const g = gates + (<usize>u << 2);
    const p = params + <usize>u * GDPU_UNIT_PARAM_BYTES;
    const xi = f16Fma(i8ToF16(<i32>load<i8>(g)), load<u16>(p), load<u16>(p, 8));
    const xa = f16Fma(i8ToF16(<i32>load<i8>(g, 1)), load<u16>(p, 2), load<u16>(p, 10));
    const xf = f16Fma(i8ToF16(<i32>load<i8>(g, 2)), load<u16>(p, 4), load<u16>(p, 12));
    const xo = f16Fma(i8ToF16(<i32>load<i8>(g, 3)), load<u16>(p, 6), load<u16>(p, 14));
    const i = gdpuSigmoid(xi);
    const a = gdpuTanh(xa);
    const f = gdpuSigmoid(xf);
    const o = gdpuSigmoid(xo);
    const cp = cell + (<usize>u << 1);
    const c = f16Fma(f, load<u16>(cp), f16Mul(i, a));
    store<u16>(cp, c);
    const h = f16Mul(o, gdpuTanh(c));
    if (hOut) store<u16>(hOut + (<usize>u << 1), h);
    store<i8>(out + <usize>u, <i8>f16ToI8Sat(f16Fma(h, load<u16>(p, 16), load<u16>(p, 18))));
  }
}
