// The CCO ADCs and their calibration (paper §II): "tightly distributed and linear
// transfer curves" after calibration, independent of the weights.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ADC_TABLE_BYTES, CoreAdcs, adcCurvesBeforeAfter } from "../../../lib/chip/adc.ts";
import { ADC } from "../../../lib/chip/config.ts";
import { Chip } from "../../../lib/chip/chip.ts";
import { WasmRuntime } from "../../../lib/runtime/wasm.ts";

const FS = ADC.fullScaleCounts.value;

/** Largest |count − ideal| over 5..95 % of full scale. */
function maxDeviation(x: number[], y: number[]): number {
  let m = 0;
  x.forEach((xi, i) => {
    if (xi >= 0.05 * FS && xi <= 0.95 * FS) m = Math.max(m, Math.abs(y[i]! - xi));
  });
  return m;
}

const median = (a: number[]) => a.slice().sort((p, q) => p - q)[Math.floor(a.length / 2)]!;
const std = (a: number[]) => {
  const m = a.reduce((s, v) => s + v, 0) / a.length;
  return Math.sqrt(a.reduce((s, v) => s + (v - m) ** 2, 0) / a.length);
};

test("calibration makes the transfer curves linear and tightly distributed", () => {
  const { x, before, after } = adcCurvesBeforeAfter(3n, 5, 256, 65);
  const devBefore = before.map((c) => maxDeviation(x, c));
  const devAfter = after.map((c) => maxDeviation(x, c));
  assert.ok(median(devBefore) > 100, `before: median max deviation ${median(devBefore)}`);
  assert.ok(median(devAfter) < 15, `after: median max deviation ${median(devAfter)}`);
  // Spread across the 256 ADCs at mid scale (x index 32 = FS/2).
  const sBefore = std(before.map((c) => c[32]!));
  const sAfter = std(after.map((c) => c[32]!));
  // What remains is the register quantisation (the LDPU's gain/offset FMAs remove the
  // rest on the chip): at least 10× tighter, and within 0.2 % of full scale.
  assert.ok(sBefore > 50 && sAfter < sBefore / 10 && sAfter < 0.002 * FS, `std at mid-scale: before ${sBefore}, after ${sAfter}`);
  // Counts are whole, monotone and saturate at the 12-bit limit.
  for (const c of after) {
    for (let i = 1; i < c.length; i++) {
      assert.ok(Number.isInteger(c[i]!) && c[i]! >= c[i - 1]! && c[i]! <= FS);
    }
  }
});

test("registers are integers within their widths; calibration is repeatable", () => {
  const rt = WasmRuntime.get();
  const ptr = rt.alloc(ADC_TABLE_BYTES);
  try {
    const a = new CoreAdcs(9n, 2, ptr);
    a.draw();
    a.calibrate();
    const first = a.snapshot();
    for (let r = 0; r < 256; r++) {
      const rec = a.record(r);
      assert.ok(Number.isInteger(rec.trimOffset) && Math.abs(rec.trimOffset) <= 2 ** (ADC.offsetBits.value - 1));
      assert.ok(Number.isInteger(rec.trimGain) && Math.abs(rec.trimGain) <= 2 ** (ADC.gainBits.value - 1));
      assert.ok(Number.isInteger(rec.trimNonlin) && rec.trimNonlin >= 0 && rec.trimNonlin < 2 ** ADC.nonlinBits.value);
    }
    a.draw();
    a.calibrate();
    assert.equal(a.snapshot(), first);
  } finally {
    rt.free(ptr);
  }
});

test("a chip is calibrated at creation, the same whatever is programmed afterwards", () => {
  const chip = Chip.create({ seed: 4 });
  try {
    const before = chip.core(7).adcs!.snapshot();
    chip.program(7, new Float32Array(65536).fill(0.5), { scheme: "odp" });
    assert.equal(chip.core(7).adcs!.snapshot(), before);
    const { after } = adcCurvesBeforeAfter(4n, 7, 3, 65);
    assert.equal(Array.from(chip.core(7).adcs!.curve(2, 65)), after[2]);
  } finally {
    chip.dispose();
  }
});

test.run();
