// The ADCs of a chip: per-core tables of mismatch and trim registers in wasm memory
// (assembly/adc.ts), drawn from the chip's seed, and calibrated once at chip creation.

import { ADC, ARCH } from "./config.ts";
import { WasmRuntime } from "../runtime/wasm.ts";

export const ADC_ROWS = ARCH.adcsPerCore.value;
/** Bytes per ADC in a table: gain, offset, nonlinearity, 3 registers (f64). */
export const ADC_STRIDE = 6 * 8;
export const ADC_TABLE_BYTES = ADC_ROWS * ADC_STRIDE;

/** Parameter block layout; must match assembly/adc.ts (Q_* indices). */
export function adcParams(seed: bigint, core: number): Float64Array {
  const b = new Float64Array(14);
  b[0] = Number(seed & 0xffffffffn);
  b[1] = Number((seed >> 32n) & 0xffffffffn);
  b[2] = core;
  b[3] = ADC.gainSigma.value;
  b[4] = ADC.offsetSigmaCounts.value;
  b[5] = ADC.nonlinMean.value;
  b[6] = ADC.nonlinSigma.value;
  b[7] = ADC.offsetStepCounts.value;
  b[8] = ADC.gainStep.value;
  b[9] = ADC.nonlinStep.value;
  b[10] = ADC.offsetBits.value;
  b[11] = ADC.gainBits.value;
  b[12] = ADC.nonlinBits.value;
  b[13] = ADC.calibrationNoiseCounts.value;
  return b;
}

/**
 * One ADC's mismatch and trim registers (assembly/adc.ts): transfer
 * count = floor(clamp(o + g·(q − a·q²/4095), 0, 4095)) for a charge q in ideal LSBs, with
 * o = offset − trimOffset·step, g = gain·(1 + trimGain·step), a = nonlin − trimNonlin·step.
 */
export interface AdcRecord {
  /** Gain mismatch g_r (relative, around 1). */
  gain: number;
  /** Offset o_r, counts. */
  offset: number;
  /** Compressive nonlinearity a_r: fraction of full scale lost at full scale. */
  nonlin: number;
  /** Offset DAC register (signed integer; step ADC.offsetStepCounts). */
  trimOffset: number;
  /** Gain trim register (signed integer; step ADC.gainStep). */
  trimGain: number;
  /** Nonlinearity trim register (unsigned integer; step ADC.nonlinStep). */
  trimNonlin: number;
}

/** One core's ADCs: a table at `ptr` (ADC_TABLE_BYTES) owned by the chip. */
export class CoreAdcs {
  constructor(
    /** The chip's seed (keys the mismatch draw). */
    readonly seed: bigint,
    /** Core index 0..63. */
    readonly core: number,
    /** Byte offset of the table (256 ADCs × 48 bytes) in the shared wasm memory. */
    readonly ptr: number,
  ) {}

  /** Draw the mismatch (registers reset to 0: uncalibrated). */
  draw(): void {
    this.withParams((rt, p) => rt.kernels.drawAdcs(p, this.ptr, ADC_ROWS));
  }

  /** The calibration run: sets every ADC's trim registers. */
  calibrate(): void {
    this.withParams((rt, p) => rt.kernels.calibrateAdcs(p, this.ptr, ADC_ROWS, ADC.calibrationPoints.value));
  }

  /** Counts of ADC `row` at `n` charges evenly spaced over 0..full scale. */
  curve(row: number, n = 65): Float64Array {
    return this.withParams((rt, p) => {
      const out = rt.scratch("adc.curve", n * 8);
      rt.kernels.adcCurve(p, this.ptr, row, n, out);
      return rt.f64(out, n).slice();
    });
  }

  /** ADC `row` (0..255): its mismatch and trim registers. */
  record(row: number): AdcRecord {
    const v = WasmRuntime.get().f64(this.ptr + row * ADC_STRIDE, 6);
    return { gain: v[0]!, offset: v[1]!, nonlin: v[2]!, trimOffset: v[3]!, trimGain: v[4]!, trimNonlin: v[5]! };
  }

  /** Copy of the whole table (for before/after comparisons). */
  snapshot(): Float64Array {
    return WasmRuntime.get().f64(this.ptr, ADC_ROWS * 6).slice();
  }

  /** Write back a table taken by `snapshot()`. */
  restore(snapshot: Float64Array): void {
    WasmRuntime.get().f64(this.ptr, ADC_ROWS * 6).set(snapshot);
  }

  private withParams<T>(fn: (rt: WasmRuntime, params: number) => T): T {
    const rt = WasmRuntime.get();
    const p = rt.scratch("adc.params", 14 * 8);
    rt.f64(p, 14).set(adcParams(this.seed, this.core));
    return fn(rt, p);
  }
}

/** Transfer curves of the first `rows` ADCs of a core before and after calibration
 * (counts at `n` charges over 0..full scale), computed on a scratch table. */
export function adcCurvesBeforeAfter(seed: bigint, core: number, rows = 16, n = 65): { x: number[]; before: number[][]; after: number[][] } {
  const rt = WasmRuntime.get();
  const adcs = new CoreAdcs(seed, core, rt.scratch("adc.table", ADC_TABLE_BYTES));
  adcs.draw();
  const before = Array.from({ length: rows }, (_, r) => Array.from(adcs.curve(r, n)));
  adcs.calibrate();
  const after = Array.from({ length: rows }, (_, r) => Array.from(adcs.curve(r, n)));
  const x = Array.from({ length: n }, (_, i) => (i / (n - 1)) * ADC.fullScaleCounts.value);
  return { x, before, after };
}
