import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  cholesky, digitalEngineErrors, equivalentBits, leastSquaresWeights, matmulT, mvmErrors, normalisedError,
  quantiseOutputs, quantiseWeight, weightErrorByTarget,
} from "../../../lib/study/metrics.ts";

let seed = 7;
const rand = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
const gauss = () => {
  const u = (rand() + 1) / 2 || 1e-12;
  const v = (rand() + 1) / 2;
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
};

test("matmulT and Cholesky on hand-checked cases", () => {
  // W = [[1, 2], [3, 4]], x = [5, 6] → y = [17, 39]
  assert.equal(Array.from(matmulT([1, 2, 3, 4], [5, 6], { rows: 2, cols: 2, n: 1 })), [17, 39]);
  const l = cholesky(Float64Array.from([4, 2, 2, 3]), 2); // [[2, 0], [1, √2]]
  assert.equal(Array.from(l).map((v) => Math.round(v * 1e12) / 1e12), [2, 0, 1, Math.round(Math.SQRT2 * 1e12) / 1e12]);
  assert.throws(() => cholesky(Float64Array.from([1, 2, 2, 1]), 2), /not positive definite/);
});

test("least squares recovers W exactly from noiseless MVMs; unobservable columns stay 0", () => {
  const s = { rows: 5, cols: 20, n: 300 };
  const w = Float64Array.from({ length: s.rows * s.cols }, rand);
  const x = Float64Array.from({ length: s.n * s.cols }, (_, i) => (i % s.cols === 19 ? 0 : Math.round(rand() * 127)));
  const y = matmulT(w, x, s);
  const what = leastSquaresWeights(x, y, s);
  for (let r = 0; r < s.rows; r++) {
    for (let c = 0; c < 19; c++) assert.ok(Math.abs(what[r * s.cols + c]! - w[r * s.cols + c]!) < 1e-9);
    assert.is(what[r * s.cols + 19], 0);
  }
  assert.throws(() => leastSquaresWeights(x.subarray(0, 10 * 20), y, { ...s, n: 10 }), /n must be at least cols/);
});

test("ε decomposition: a weight error is linear, output noise is residual (Eqs. 2–4)", () => {
  const s = { rows: 16, cols: 32, n: 2048 };
  const w = Float64Array.from({ length: s.rows * s.cols }, rand);
  const x = Float64Array.from({ length: s.n * s.cols }, () => Math.round(rand() * 127));
  const yFp = matmulT(w, x, s);
  // (a) programmed weights off by Δ: all of ε_total is linear.
  const delta = Float64Array.from(w, () => 0.05 * gauss());
  const yA = matmulT(w.map((v, i) => v + delta[i]!), x, s);
  const a = mvmErrors(w, x, yA, s);
  const expected = normalisedError(matmulT(delta, x, s), new Float64Array(yFp.length), yFp);
  assert.ok(Math.abs(a.total - expected) < 1e-9 && Math.abs(a.linear - expected) < 1e-9, JSON.stringify(a));
  assert.ok(a.residual < 1e-9);
  // (b) independent output noise: mostly residual; least squares absorbs a fraction cols/n of it.
  const noise = Float64Array.from(yFp, () => 50 * gauss());
  const b = mvmErrors(w, x, yFp.map((v, i) => v + noise[i]!), s);
  const noiseNorm = normalisedError(noise, new Float64Array(noise.length), yFp);
  assert.ok(Math.abs(b.total - noiseNorm) < 1e-9);
  assert.ok(Math.abs(b.residual - noiseNorm * Math.sqrt(1 - s.cols / s.n)) < 0.05 * noiseNorm, `${b.residual} vs ${noiseNorm}`);
  assert.ok(b.linear < 0.2 * b.total);
});

test("weight error by target: std of W − Ŵ in bins of W/Wmax", () => {
  const w = [-1, -0.95, 0, 0, 0.5, 0.52];
  const what = [-1.1, -0.85, 0.1, -0.1, 0.5, 0.52];
  const bins = weightErrorByTarget(w, what, 1, 4); // bins [-1,-.5), [-.5,0), [0,.5), [.5,1]
  assert.is(bins[0]!.count, 2);
  assert.ok(Math.abs(bins[0]!.error - 0.1) < 1e-12); // errors +0.1, −0.1 → std 0.1
  assert.is(bins[2]!.count, 2);
  assert.ok(Math.abs(bins[2]!.error - 0.1) < 1e-12);
  assert.is(bins[3]!.error, 0);
  assert.ok(Number.isNaN(bins[1]!.error));
});

test("quantisers, the digital engine and equivalent bits", () => {
  assert.is(quantiseWeight(0.5, 1, 3), 2 / 3); // levels ±3, step 1/3
  assert.is(quantiseWeight(-0.1, 1, 3), -0);
  assert.is(quantiseWeight(0.2, 1, 1), 1);
  assert.is(quantiseWeight(2, 1, 4), 1);
  assert.equal(Array.from(quantiseOutputs([254, -127, 1])), [254, -126, 2]); // step 2; JS rounds halves up
  const s = { rows: 32, cols: 64, n: 256 };
  const w = Float64Array.from({ length: s.rows * s.cols }, rand);
  const x = Float64Array.from({ length: s.n * s.cols }, () => Math.round(rand() * 127));
  const e = digitalEngineErrors(w, x, s, 1);
  for (let i = 2; i < e.length; i++) assert.ok(e[i]! < e[i - 1]!, `error falls with bits: ${e.join(" ")}`);
  // With 8-bit outputs the error floors near the output quantisation.
  assert.ok(e[7]! > 0.001 && e[7]! < 0.02);
  assert.ok(Math.abs(equivalentBits(e[3]!, e).bits - 4) < 1e-12);
  const mid = Math.sqrt(e[2]! * e[3]!);
  assert.ok(Math.abs(equivalentBits(mid, e).bits - 3.5) < 1e-12);
  assert.equal(equivalentBits(10, e), { bits: 1, clamped: true });
  assert.equal(equivalentBits(1e-9, e), { bits: 8, clamped: true });
});

test.run();
