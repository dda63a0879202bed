// chip.at(t): MVMs at both fidelities against float64 W·x, drift compensation, noise keys,
// and clear errors for bad input.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Chip } from "../../../lib/chip/chip.ts";
import { characterisationWeights, sparseUniform } from "../../../lib/chip/workload.ts";

const W = characterisationWeights(3n, 0);
const u = sparseUniform(3n, 0, 7, 256 * 256);
const X = Int8Array.from(u, (v) => Math.round(127 * v));
const BATCH = 256;

/** ‖y/scale − W·x‖ / ‖W·x‖ over the batch. */
function relError(y: Int8Array, scale: number): number {
  let num = 0;
  let den = 0;
  for (let b = 0; b < BATCH; b++) {
    for (let r = 0; r < 256; r++) {
      let s = 0;
      for (let j = 0; j < 256; j++) s += W[r * 256 + j]! * X[b * 256 + j]!;
      num += (y[b * 256 + r]! / scale - s) ** 2;
      den += s * s;
    }
  }
  return Math.sqrt(num / den);
}

test("physical: outputs follow W·x within the chip's error; compensation, noise keys, read modes", () => {
  const chip = Chip.create({ seed: 3n });
  try {
    chip.program(0, W, { scheme: "tdp" });
    const now = chip.at(25);
    const a = now.mvm(0, X);
    const e4 = relError(a.y, a.outputScale);
    assert.ok(e4 > 0.03 && e4 < 0.15, `4-phase error ${e4}`);
    assert.equal(Array.from(now.mvm(0, X).y), Array.from(a.y), "same keys, same bits");
    assert.not.equal(Array.from(now.mvm(0, X, { firstInput: 5000 }).y), Array.from(a.y), "other inputs, other noise");
    const other = chip.at(25, { draw: 1 }).mvm(0, X);
    assert.not.equal(Array.from(other.y), Array.from(a.y), "another draw, other read noise");
    assert.ok(Math.abs(relError(other.y, other.outputScale) - e4) < 0.2 * e4, "the same error statistics");
    assert.throws(() => chip.at(25, { draw: -1 }), /draw must be an integer in 0\.\.65535/);
    const c = now.mvm(0, X.subarray(0, 512), { counts: true });
    assert.is(c.counts!.length, 2 * 512);
    assert.ok(c.counts!.every((v) => v >= 0 && v <= 4095));
    const one = chip.at(25, { phases: 1 }).mvm(0, X);
    const e1 = relError(one.y, one.outputScale);
    assert.ok(e1 > e4, `1-phase (polarity asymmetry) ${e1} vs 4-phase ${e4}`);
    const month = chip.at(30 * 86400);
    const m = month.mvm(0, X);
    const mNo = chip.at(30 * 86400, { compensation: false }).mvm(0, X);
    assert.ok(m.alpha > 1.1, `α at a month ${m.alpha}`);
    assert.is(mNo.alpha, 1);
    const eM = relError(m.y, m.outputScale);
    const eNo = relError(mNo.y, mNo.outputScale);
    assert.ok(eM > e4 && eM < eNo, `month: compensated ${eM}, uncompensated ${eNo}, at 25 s ${e4}`);
    now.dispose();
    assert.throws(() => now.mvm(0, X), /disposed/);
  } finally {
    chip.dispose();
  }
});

test("batch MVM sharded over threads: the same bits as one call, any thread count", async () => {
  const chip = Chip.create({ seed: 3n });
  try {
    chip.program(0, W, { scheme: "odp" });
    const at = chip.at(3600);
    const big = new Int8Array(1280 * 256).map((_, i) => X[i % X.length]! ^ (i >> 16));
    const one = at.mvm(0, big, { firstInput: 77, counts: true });
    const two = await at.mvmParallel(0, big, { firstInput: 77, counts: true, threads: 2 });
    const three = await at.mvmParallel(0, big, { firstInput: 77, threads: 3 });
    assert.equal(Array.from(two.y), Array.from(one.y));
    assert.equal(Array.from(two.counts!), Array.from(one.counts!));
    assert.equal(Array.from(three.y), Array.from(one.y));
    at.dispose();
  } finally {
    chip.dispose();
  }
});

test("functional: the fitted weight noise gives the physical level's error", () => {
  const chip = Chip.create({ seed: 3n, fidelity: "functional" });
  try {
    const r = chip.program(0, W, { scheme: "tdp" });
    assert.ok(r.gmax > 100 && r.jobs === 0);
    const a = chip.at(25).mvm(0, X);
    const e = relError(a.y, a.outputScale);
    assert.ok(e > 0.03 && e < 0.15, `functional error ${e}`);
    assert.equal(Array.from(chip.at(25).mvm(0, X).y), Array.from(a.y));
    const m = chip.at(30 * 86400).mvm(0, X);
    assert.ok(relError(m.y, m.outputScale) > e, "error grows with time");
  } finally {
    chip.dispose();
  }
});

test("bad input gets one clear error naming the argument", () => {
  const chip = Chip.create({ seed: 3n });
  try {
    chip.program(0, W, { scheme: "odp" });
    const at = chip.at(25);
    assert.throws(() => at.mvm(0, X.subarray(0, 100)), /x must be INT8 inputs, a multiple of 256 values/);
    assert.throws(() => at.mvm(0, Array.from({ length: 256 }, (_, i) => (i === 7 ? 200 : 0))), /x\[7\] must be an integer in −128\.\.127/);
    assert.throws(() => at.mvm(1, X), /core must be a programmed core/);
    assert.throws(() => at.mvm(64, X), /core index/);
    assert.throws(() => at.mvm(0, X, { outputScale: -1 }), /outputScale must be a finite number > 0/);
    assert.throws(() => at.mvm(0, X, { bogus: 1 } as never), /bogus/);
    assert.throws(() => chip.at(-5), /t must be a finite time/);
    assert.throws(() => chip.at(Number.NaN), /t must be a finite time/);
    assert.throws(() => chip.at(25, { phases: 2 as never }), /phases must be 1 or 4/);
  } finally {
    chip.dispose();
  }
});

test.run();
