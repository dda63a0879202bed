// Drift, 1/f noise and read variance against an independent statement of the HERMES fit.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { DRIFT, type PiecewiseFit } from "../../../lib/chip/config.ts";
import { DRIFT_PARAM_COUNT, checkTime, driftParams, readCore, readCoreAt, timeFactors, timeKey } from "../../../lib/chip/drift.ts";
import { WasmRuntime } from "../../../lib/runtime/wasm.ts";

const rt = WasmRuntime.get();
const D = DRIFT;
const clamp = (x: number, lo: number, hi: number) => Math.min(Math.max(x, lo), hi);
const rel = (g: number) => clamp(Math.abs(g) / D.gRefCounts.value, D.gRelMin.value, D.gRelMax.value);
function piecewise(f: PiecewiseFit, g: number): number {
  return g < f.threshold ? clamp(f.a * Math.log(g) + f.b, f.lo, f.hi) : f.c0 + f.c1 * g + f.c2 * g ** 2 + f.c3 * g ** 3;
}
const nuReference = (g: number, z: number) => Math.abs(piecewise(D.nuMean.value, rel(g)) + piecewise(D.nuStd.value, rel(g)) * z);
const qReference = (g: number) => piecewise(D.noiseQ.value, rel(g));

function withParams<T>(fn: (p: number) => T): T {
  const p = rt.alloc(DRIFT_PARAM_COUNT * 8);
  try {
    rt.f64(p, DRIFT_PARAM_COUNT).set(driftParams(5n, 2));
    return fn(p);
  } finally {
    rt.free(p);
  }
}

test("ν = |ν_mean + ν_std·z| and q_s follow the HERMES piecewise fits", () => {
  withParams((p) => {
    for (const g of [0, 0.3, 2, 7.5, 10, 24.3, 40, 80, 119, 250]) {
      for (const w of [0, 0x40000000, 0x80000000, 0xc0000000, 0xffffffff, 12345678]) {
        const z = rt.kernels.normalOfWord(w | 0);
        const nu = rt.kernels.driftExponentOf(p, g, w | 0);
        assert.ok(Math.abs(nu - nuReference(g, z)) < 1e-12, `g ${g} w ${w}: ${nu} vs ${nuReference(g, z)}`);
      }
      assert.ok(Math.abs(rt.kernels.noiseQOf(p, g) - qReference(g)) < 1e-12, `q at g ${g}`);
    }
    // Published fit values: mean ν 0.0674 at g_rel = 0.5; low states drift faster.
    assert.ok(Math.abs(piecewise(D.nuMean.value, 0.5) - (0.0736 - 0.0063 - 0.0109)) < 1e-12);
    assert.ok(nuReference(3, 0) > nuReference(80, 0));
  });
});

test("time factors: no drift and no accumulated noise at t = 0; keys are the f32 bits of t", () => {
  assert.equal(timeFactors(0), { logDecay: 0, accumulated: 0 });
  const m = timeFactors(30 * 86400);
  assert.ok(Math.abs(m.logDecay - Math.log((30 * 86400 + 200) / 200)) < 1e-12);
  assert.is(timeKey(1), 0x3f800000);
});

test("the crossbar at time t: G, S and V per cell; decay as ((t + t0)/t0)^−ν; deterministic", () => {
  const state = rt.alloc(65536 * 16);
  try {
    const planes = [0, 1, 2, 3].map((q) => rt.f32(state + q * 65536 * 4, 65536));
    for (let i = 0; i < 65536; i++) {
      planes[0]![i] = (i % 160) + 1; // g1+
      planes[1]![i] = 0.4; // g2+ at RESET
      planes[2]![i] = i % 7 === 0 ? 30 : 0.3; // g1−
      planes[3]![i] = 0.2;
    }
    const at0 = readCore(5n, 2, state, 0);
    for (let i = 0; i < 2000; i++) {
      const g = [0, 1, 2, 3].map((q) => planes[q]![i]!);
      assert.ok(Math.abs(at0.g[i]! - (g[0]! + g[1]! - g[2]! - g[3]!)) < 1e-4, `G cell ${i}`);
      assert.ok(Math.abs(at0.sum[i]! - (g[0]! + g[1]! + g[2]! + g[3]!)) < 1e-4, `S cell ${i}`);
      const v = g.reduce((s, x) => s + (x * qReference(x) * D.readNoiseFactor.value) ** 2, 0);
      assert.ok(Math.abs(at0.variance[i]! - v) <= 1e-5 * v + 1e-9, `V cell ${i}: ${at0.variance[i]} vs ${v}`);
    }
    const t = 30 * 86400;
    const month = readCore(5n, 2, state, t);
    const again = readCore(5n, 2, state, t);
    assert.equal(Array.from(month.g.subarray(0, 5000)), Array.from(again.g.subarray(0, 5000)));
    const L = timeFactors(t).logDecay;
    let ratioSum = 0;
    let expectedSum = 0;
    let n = 0;
    for (let i = 1; i < 65536; i += 5) {
      if (i % 7 === 0 || planes[0]![i]! < 40) continue; // g1− RESET, g1+ dominant
      const r = (month.g[i]! + 0.3 + 0.2) / (planes[0]![i]! + 0.4);
      assert.ok(r < 1.3 && r > 0.2, `cell ${i}: ratio ${r}`);
      ratioSum += r;
      // E over z of the decay of g1+, by quadrature over the normal.
      let e = 0;
      let wsum = 0;
      for (let z = -5; z <= 5; z += 0.01) {
        const w = Math.exp(-z * z / 2);
        e += w * Math.exp(-nuReference(planes[0]![i]!, z) * L);
        wsum += w;
      }
      expectedSum += e / wsum;
      n++;
    }
    assert.ok(n > 7000, `${n} cells checked`);
    // On average the decay is the expected one (the 1/f displacement has mean 0).
    assert.ok(Math.abs(ratioSum / n - expectedSum / n) < 0.01, `mean decay ${ratioSum / n} vs ${expectedSum / n}`);
    assert.ok(month.variance.every((v) => v >= 0) && month.sum.every((s) => s >= 0));
    // A time's result does not depend on the other times read with it.
    const [a, b] = readCoreAt(5n, 2, state, [3600, t]);
    assert.equal(Array.from(b!.g.subarray(0, 4096)), Array.from(month.g.subarray(0, 4096)));
    assert.equal(Array.from(a!.g.subarray(0, 4096)), Array.from(readCore(5n, 2, state, 3600).g.subarray(0, 4096)));
  } finally {
    rt.free(state);
  }
});

test("read times are checked", () => {
  assert.throws(() => checkTime(-1), /t must be a finite time in seconds ≥ 0/);
  assert.throws(() => checkTime(Number.NaN), /t must be/);
  assert.throws(() => checkTime(Infinity), /t must be/);
  assert.is(checkTime(25), 25);
  assert.throws(() => readCoreAt(1n, 0, 0, [25, -3]), /times\[1\] must be a finite time/);
});

test.run();
