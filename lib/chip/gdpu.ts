// The GDPU slices (paper §III, Fig. 1d): a typed facade over the bit-faithful FP16 kernel
// in assembly/gdpu.ts, where the pipeline, the gate interleaving (I, A, F, O per unit on
// consecutive inputs) and the rounding assumptions are documented.
//
// The tanh look-up table. The paper gives its shape (17 comparators, 18 bins, linear
// interpolation by an FMA with a slope and an offset per bin), not its entries; these are
// derived here:
//  1. Odd table: breakpoints ±b1 … ±b8 and 0; |x| ≥ b8 saturates to ±1; bin k of |x|,
//     [b_k, b_k+1), holds s_k, c_k and tanh(x) = sign(x)·(s_k·|x| + c_k).
//  2. float64 minimax: on each concave segment the best line is the secant raised by half
//     its largest gap (error equioscillates at both ends and the tangent point); the first
//     segment is constrained through the origin (tanh(0) = 0, sigmoid(0) = 1/2). Bisection
//     on a common error E, growing segments greedily from 0, until 8 segments reach
//     b8 = atanh(1 − E): E = 2.6168e-3, with the lines meeting at the breakpoints (so
//     the table is continuous before rounding).
//  3. Every entry rounded to FP16, then a coordinate search (±1..4 FP16 ulps per entry,
//     repeated until no move helps) minimising the maximum error over all finite FP16
//     inputs of the kernel's arithmetic (one FMA, rounded once), subject to the table
//     staying monotonic and ≤ 1.
// Result: max |LUT tanh(x) − tanh(x)| over all 63,488 finite FP16 x = 2.8979e-3 at
// x = ±1.18359375 (the float64 minimax 2.617e-3 plus the output's FP16 rounding, up to
// 2.44e-4 in [0.5, 1)). Sigmoid via 1/2 + 1/2·tanh(x/2): max error 1.6690e-3 at
// x = 2.3984375 (half the tanh error at x/2 plus its own output rounding).
// test/assembly/gdpu.test.ts measures both exhaustively and checks these bounds are tight.

import { ARCH } from "./config.ts";
import { ArgumentError, intInRange } from "../runtime/validate.ts";
import { WasmRuntime } from "../runtime/wasm.ts";

/** FP16 bit patterns of the tanh LUT; must match assembly/gdpu.ts (a test checks). */
export const GDPU_TANH_LUT = Object.freeze({
  /** b1..b8: 0.32080078125 0.56884765625 0.80126953125 1.0498046875 1.3369140625
   * 1.6962890625 2.224609375 3.318359375 (17 comparators: ±b1..±b8 and 0). */
  breakpoints: Object.freeze([0x3522, 0x388d, 0x3a69, 0x3c33, 0x3d59, 0x3ec9, 0x4073, 0x42a3]),
  /** s0..s7 of bins [0, b1), [b1, b2), … [b7, b8): 0.9755859375 0.82373046875 0.646484375
   * 0.470458984375 0.31103515625 0.1785888671875 0.07952880859375 0.0187225341796875. */
  slopes: Object.freeze([0x3bce, 0x3a97, 0x392c, 0x3787, 0x34fa, 0x31b7, 0x2d17, 0x24cb]),
  /** c0..c7: 0 0.04864501953125 0.1495361328125 0.29052734375 0.457763671875 0.634765625
   * 0.802734375 0.93798828125. */
  intercepts: Object.freeze([0x0000, 0x2a3a, 0x30c9, 0x34a6, 0x3753, 0x3914, 0x3a6c, 0x3b81]),
});

/** Upper bound of |LUT tanh − tanh| over every finite FP16 input (measured: 2.89785e-3). */
export const GDPU_TANH_MAX_ERROR = 2.8979e-3;
/** Upper bound of |LUT sigmoid − sigmoid| over every finite FP16 input (measured: 1.66901e-3). */
export const GDPU_SIGMOID_MAX_ERROR = 1.6691e-3;

export const GDPU_MAX_UNITS = ARCH.gdpuCellStates.value; // 64
export const GDPU_GATES = 4; // I, A, F, O
/** Per-unit parameters: S_I, S_A, S_F, S_O, B_I, B_A, B_F, B_O, S_out, B_out (FP16). */
export const GDPU_UNIT_PARAMS = 10;
/** Clocks per output (one input per clock, four inputs per unit). */
export const GDPU_CLOCKS_PER_OUTPUT = ARCH.gdpuClocksPerOutput.value;

/** Clocks for one timestep of a slice of `units` hidden units (serial inputs, 4 per unit;
 * the pipeline's fill latency is not modelled: the paper does not give it). */
export function gdpuStepClocks(units: number): number {
  return intInRange(units, 1, GDPU_MAX_UNITS, "units") * GDPU_CLOCKS_PER_OUTPUT;
}

const k = () => WasmRuntime.get().kernels;

function half(h: unknown, argument: string): number {
  return intInRange(h, 0, 0xffff, argument);
}

/** The GDPU's tanh of an FP16 bit pattern (LUT with FMA interpolation), as an FP16 bit pattern. @throws {@link ArgumentError} when `h` is not an integer in 0..0xffff */
export function gdpuTanh(h: number): number {
  return k().gdpuTanh(half(h, "h"));
}

/** The GDPU's sigmoid of an FP16 bit pattern: 1/2 + 1/2·tanh(x/2), as an FP16 bit pattern. @throws {@link ArgumentError} when `h` is not an integer in 0..0xffff */
export function gdpuSigmoid(h: number): number {
  return k().gdpuSigmoid(half(h, "h"));
}

/** Scale and bias of a slice. A gate entry is one number (every gate of every unit), 4
 * numbers (per gate: I, A, F, O) or 4·units numbers (per input, in input order); an
 * output entry is one number or `units` numbers. Values are rounded to FP16. */
export interface GdpuParams {
  /** Hidden units of the slice, 1..64 (default 64): 4·units inputs per timestep. */
  units?: number;
  /** Scale S_g of the INT8 gate pre-activations (x_g = S_g·g + B_g), per gate entry. */
  gateScale: number | ArrayLike<number>;
  /** Bias B_g of the gate pre-activations, per gate entry; default 0. */
  gateBias?: number | ArrayLike<number>;
  /** Scale S_out of the hidden output (out = int8(S_out·h + B_out)), per output entry. */
  outScale: number | ArrayLike<number>;
  /** Bias B_out of the hidden output, INT8 units, per output entry; default 0. */
  outBias?: number | ArrayLike<number>;
}

const FP16_MAX = 65504;

function finiteHalf(x: unknown, argument: string): number {
  if (typeof x !== "number" || !Number.isFinite(x) || Math.abs(x) >= 65520) {
    throw new ArgumentError(argument, `a finite number within ±${FP16_MAX} (FP16)`, x);
  }
  return k().f64ToF16(x);
}

/** An accessor (unit, slot) → [value, its argument name] over a number or an array whose
 * length is `per` (one entry per slot) or `per`·units (one per unit and slot). */
function entries(v: unknown, per: number, units: number, argument: string): (u: number, s: number) => [unknown, string] {
  if (typeof v === "number") return () => [v, argument];
  const a = v as ArrayLike<unknown> | null;
  const ok = a !== null && typeof a === "object" && typeof a.length === "number";
  if (ok && a.length === per && per > 1) return (_u, s) => [a[s], `${argument}[${s}]`];
  if (ok && a.length === per * units) return (u, s) => [a[per * u + s], `${argument}[${per * u + s}]`];
  const lengths = per > 1 ? `${per} or ${per * units}` : `${units}`;
  throw new ArgumentError(argument, `a number or an array of length ${lengths}`, v);
}

/** Pack a slice's parameters into the kernel's layout: units × 10 FP16 bit patterns. */
export function packGdpuParams(params: GdpuParams): Uint16Array {
  if (params === null || typeof params !== "object") throw new ArgumentError("params", "an object", params);
  const units = intInRange(params.units ?? GDPU_MAX_UNITS, 1, GDPU_MAX_UNITS, "params.units");
  const gs = entries(params.gateScale, GDPU_GATES, units, "params.gateScale");
  const gb = entries(params.gateBias ?? 0, GDPU_GATES, units, "params.gateBias");
  const os = entries(params.outScale, 1, units, "params.outScale");
  const ob = entries(params.outBias ?? 0, 1, units, "params.outBias");
  const out = new Uint16Array(units * GDPU_UNIT_PARAMS);
  for (let u = 0; u < units; u++) {
    const o = u * GDPU_UNIT_PARAMS;
    for (let g = 0; g < GDPU_GATES; g++) {
      out[o + g] = finiteHalf(...gs(u, g));
      out[o + 4 + g] = finiteHalf(...gb(u, g));
    }
    out[o + 8] = finiteHalf(...os(u, 0));
    out[o + 9] = finiteHalf(...ob(u, 0));
  }
  return out;
}

/**
 * One GDPU slice: its parameters and its cell-state memory (FP16, held here and passed
 * to the kernel through scratch memory, so a slice owns no wasm memory).
 */
export class GdpuSlice {
  /** Hidden units of the slice, 1..64. */
  readonly units: number;
  /** The packed parameters: units × 10 FP16 bit patterns (S_I, S_A, S_F, S_O, B_I, B_A, B_F, B_O, S_out, B_out). */
  readonly params: Uint16Array;
  private readonly cell: Uint16Array;
  private readonly h: Uint16Array;

  /** @throws {@link ArgumentError} on a bad units count or a parameter that is not a finite FP16 number (named, e.g. `params.gateScale`) */
  constructor(params: GdpuParams) {
    this.params = packGdpuParams(params);
    this.units = this.params.length / GDPU_UNIT_PARAMS;
    this.cell = new Uint16Array(this.units);
    this.h = new Uint16Array(this.units);
  }

  /** Inputs per timestep: 4·units, I, A, F, O interleaved per unit. */
  get inputs(): number {
    return GDPU_GATES * this.units;
  }

  /** Clocks per timestep (one output every 4 clocks). */
  get clocks(): number {
    return this.units * GDPU_CLOCKS_PER_OUTPUT;
  }

  /** One timestep: 4·units INT8 gate pre-activations in (I, A, F, O per unit), `units` INT8 hidden outputs out. @throws {@link ArgumentError} when `gates` is not an Int8Array of 4·units */
  step(gates: Int8Array): Int8Array<ArrayBuffer> {
    if (!(gates instanceof Int8Array) || gates.length !== this.inputs) {
      throw new ArgumentError("gates", `an Int8Array of length ${this.inputs} (I, A, F, O interleaved per unit)`, gates);
    }
    const rt = WasmRuntime.get();
    const n = this.units;
    const pBytes = this.params.length * 2;
    const ptr = rt.scratch("gdpu.step", pBytes + 4 * n + 4 * n + n);
    const params = ptr;
    const cell = ptr + pBytes;
    const h = cell + 2 * n;
    const g = h + 2 * n;
    const out = g + 4 * n;
    rt.u16(params, this.params.length).set(this.params);
    rt.u16(cell, n).set(this.cell);
    rt.i8(g, 4 * n).set(gates);
    rt.kernels.gdpuStep(g, params, cell, n, out, h);
    this.cell.set(rt.u16(cell, n));
    this.h.set(rt.u16(h, n));
    return new Int8Array(rt.i8(out, n));
  }

  /** Clear the cell state (and the last hidden state) to +0. */
  reset(): void {
    this.cell.fill(0);
    this.h.fill(0);
  }

  /** The cell state, FP16 bit patterns (a copy). */
  cellBits(): Uint16Array {
    return this.cell.slice();
  }

  /** The cell state as numbers. */
  cellState(): Float64Array {
    return Float64Array.from(this.cell, (b) => k().f16ToF64(b));
  }

  /** Set the cell state from FP16 bit patterns (e.g. a checkpoint). @throws {@link ArgumentError} when `bits` is not a Uint16Array of `units` */
  setCellBits(bits: Uint16Array): void {
    if (!(bits instanceof Uint16Array) || bits.length !== this.units) {
      throw new ArgumentError("bits", `a Uint16Array of length ${this.units}`, bits);
    }
    this.cell.set(bits);
  }

  /** The last step's FP16 hidden state h = o·tanh(c), before the INT8 output conversion. */
  hiddenState(): Float64Array {
    return Float64Array.from(this.h, (b) => k().f16ToF64(b));
  }
}
