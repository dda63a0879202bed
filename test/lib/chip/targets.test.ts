import { test } from "uvu";
import * as assert from "uvu/assert";
import { PCM, PROGRAMMING } from "../../../lib/chip/config.ts";
import { coreTargets, currentCapGmax, padWeights, parseScheme, schemeGmax } from "../../../lib/chip/targets.ts";

test("Eq. 1: G = W · Gmax / Wmax, with Wmax the largest |w| unless given", () => {
  const w = new Float32Array(65536);
  w[0] = 0.5;
  w[1] = -0.25;
  w[300] = 0.1;
  const t = coreTargets(w, "odp", 80);
  assert.is(t.wmax, 0.5);
  assert.is(t.gmax, 80);
  assert.is(t.targets[0], 80);
  assert.is(t.targets[1], -40);
  assert.ok(Math.abs(t.targets[300]! - 16) < 1e-5);
  const t2 = coreTargets(w, "tdp", 80, 1);
  assert.is(t2.gmax, 160);
  assert.is(t2.targets[0], 80);
});

test("scheme Gmax: ODP = the chip's ODP Gmax, TDP and max-fill twice that", () => {
  assert.is(schemeGmax("odp", 80), 80);
  assert.is(schemeGmax("tdp", 80), 160);
  assert.is(schemeGmax("tdp-maxfill", 77), 154);
});

test("the bit-line current cap, computed by hand for a full row of ones", () => {
  const w = new Float32Array(65536);
  for (let c = 0; c < 256; c++) w[7 * 256 + c] = 1; // row 7: 256 positive weights
  const perCount = PCM.mvmReadVoltageV.value * PCM.countConductanceUs.value; // µA per count
  const expected = PROGRAMMING.adcMaxCurrentUa.value / (perCount * 256);
  assert.ok(Math.abs(currentCapGmax(w, 1) - expected) < 1e-9);
  const t = coreTargets(w, "tdp", 80);
  assert.ok(t.capped);
  assert.ok(Math.abs(t.gmax - expected) < 1e-9, `${t.gmax} vs ${expected}`);
  // Row current at that Gmax is exactly the ADC limit.
  let sum = 0;
  for (let c = 0; c < 256; c++) sum += t.targets[7 * 256 + c]!;
  assert.ok(Math.abs(sum * perCount - PROGRAMMING.adcMaxCurrentUa.value) < 1e-3);
  // Negative weights load the other bit line the same way.
  const neg = w.map((x) => -x);
  assert.ok(Math.abs(currentCapGmax(neg, 1) - expected) < 1e-9);
});

test("weights are checked and zero-filled to 256 × 256", () => {
  const p = padWeights([1, 2, 3, 4, 5, 6], 2, 3);
  assert.equal(Array.from(p.subarray(0, 4)), [1, 2, 3, 0]);
  assert.equal(Array.from(p.subarray(256, 260)), [4, 5, 6, 0]);
  assert.throws(() => padWeights([1, 2, 3], 2, 2), /weights must be an array of 2 × 2 = 4 numbers/);
  assert.throws(() => padWeights([1, NaN, 3, 4], 2, 2), /weights\[0\]\[1\] must be a finite number, got NaN/);
  assert.throws(() => padWeights([1, Infinity, 3, 4], 2, 2), /weights\[0\]\[1\] must be a finite number, got Infinity/);
  assert.throws(() => padWeights(new Float32Array(4), 2, 300), /cols must be an integer in 1..256/);
  assert.throws(() => coreTargets(new Float32Array(65536), "odp", 80, 0), /wmax must be a finite number > 0, got 0/);
  assert.throws(() => coreTargets(new Float32Array(65536).fill(2), "odp", 80, 1), /wmax must be at least the largest \|weight\|/);
  assert.throws(() => parseScheme("xdp"), /scheme must be one of "odp", "tdp", "tdp-maxfill", got "xdp"/);
});

test.run();
