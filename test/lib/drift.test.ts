// Drift and read noise against an independent statement of the formulas.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { DRIFT } from "../../lib/config.ts";
import { DRIFT_PARAM_COUNT, checkTime, driftParams, readCore, readCoreAt } from "../../lib/drift.ts";
import { WasmRuntime } from "../../lib/wasm.ts";

const rt = WasmRuntime.get();
const D = DRIFT;
const clamp = (x: number, lo: number, hi: number) => Math.min(Math.max(x, lo), hi);

function nuReference(g0: number, z: number): number {
  const l = Math.log(Math.max(Math.abs(g0), D.gMinCounts.value) / D.gRefCounts.value);
  const mu = clamp(D.nuMeanA.value + D.nuMeanB.value * l, D.nuMeanMin.value, D.nuMeanMax.value);
  const sg = clamp(D.nuStdA.value + D.nuStdB.value * l, D.nuStdMin.value, D.nuStdMax.value);
  return clamp(mu + sg * z, 0, D.nuMax.value);
}

function withParams<T>(fn: (p: number) => T): T {
  const p = rt.alloc(DRIFT_PARAM_COUNT * 8);
  try {
    rt.f64(p, DRIFT_PARAM_COUNT).set(driftParams(5n, 2));
    return fn(p);
  } finally {
    rt.free(p);
  }
}

test("ν follows the clipped log-linear mean and spread (aihwkit PCM-like form)", () => {
  withParams((p) => {
    for (const g0 of [0, 0.3, 2, 10, 40, 80, 119, 160, 250]) {
      for (const w of [0, 0x40000000, 0x80000000, 0xc0000000, 0xffffffff, 12345678]) {
        const z = rt.kernels.normalOfWord(w | 0);
        const nu = rt.kernels.driftExponentOf(p, g0, w | 0);
        assert.ok(Math.abs(nu - nuReference(g0, z)) < 1e-12, `g0 ${g0} w ${w}: ${nu} vs ${nuReference(g0, z)}`);
      }
    }
    // Low conductances drift faster on average (the paper: ν depends on the state).
    assert.ok(nuReference(10, 0) > nuReference(119, 0));
  });
});

test("read σ = |g| · min(q · (|g|/g_ref)^−e, q_max)", () => {
  withParams((p) => {
    for (const g of [0, 0.1, 1, 5, 50, 119, 200]) {
      const a = Math.max(Math.abs(g), D.gMinCounts.value);
      const ref = Math.abs(g) * Math.min(D.readNoiseRel.value * (a / D.gRefCounts.value) ** -D.readNoiseExponent.value, D.readNoiseRelMax.value);
      assert.ok(Math.abs(rt.kernels.readSigmaOf(p, g) - ref) < 1e-12, `g ${g}`);
    }
  });
});

test("the crossbar at time t: no drift at t0, every device decays as (t/t0)^−ν, deterministic", () => {
  const state = rt.alloc(65536 * 16);
  try {
    const planes = [0, 1, 2, 3].map((q) => rt.f32(state + q * 65536 * 4, 65536));
    for (let i = 0; i < 65536; i++) {
      planes[0]![i] = (i % 160) + 1; // g1+
      planes[1]![i] = 0.4; // g2+ at RESET
      planes[2]![i] = i % 7 === 0 ? 30 : 0.3; // g1−
      planes[3]![i] = 0.2;
    }
    const at0 = readCore(5n, 2, state, D.t0S.value);
    for (let i = 0; i < 1000; i++) {
      const g = planes[0]![i]! + planes[1]![i]! - planes[2]![i]! - planes[3]![i]!;
      assert.ok(Math.abs(at0.g[i]! - g) < 1e-4, `cell ${i}`);
    }
    const month = readCore(5n, 2, state, 30 * 86400);
    const again = readCore(5n, 2, state, 30 * 86400);
    assert.equal(Array.from(month.g.subarray(0, 5000)), Array.from(again.g.subarray(0, 5000)));
    const f = Math.log((30 * 86400) / D.t0S.value);
    let ratioSum = 0;
    let expectedSum = 0;
    let n = 0;
    for (let i = 1; i < 65536; i += 5) {
      if (i % 7 === 0 || planes[0]![i]! < 40) continue; // g1− RESET, g1+ dominant
      // g1+ dominates: its decay factor lies within the ν range's bounds.
      const r = (month.g[i]! + 0.3 + 0.2) / (planes[0]![i]! + 0.4);
      assert.ok(r <= 1.0001 && r >= Math.exp(-D.nuMax.value * f) - 0.05, `cell ${i}: ratio ${r}`);
      ratioSum += r;
      expectedSum += Math.exp(-nuReference(planes[0]![i]!, 0) * f);
      n++;
    }
    assert.ok(n > 7000, `${n} cells checked`);
    // On average the decay is that of the mean ν (to within the spread's convexity).
    assert.ok(Math.abs(ratioSum / n - expectedSum / n) < 0.02, `mean decay ${ratioSum / n} vs ${expectedSum / n}`);
    assert.ok(month.variance.every((v) => v >= 0));
    // Several times in one pass equal one time at a time.
    const [a, b] = readCoreAt(5n, 2, state, [3600, 30 * 86400]);
    assert.equal(Array.from(b!.g.subarray(0, 4096)), Array.from(month.g.subarray(0, 4096)));
    assert.equal(Array.from(a!.g.subarray(0, 4096)), Array.from(readCore(5n, 2, state, 3600).g.subarray(0, 4096)));
  } finally {
    rt.free(state);
  }
});

test("read times are checked", () => {
  assert.throws(() => checkTime(-1), /t must be a finite time in seconds > 0/);
  assert.throws(() => checkTime(Number.NaN), /t must be/);
  assert.throws(() => checkTime(Infinity), /t must be/);
  assert.is(checkTime(25), 25);
  assert.throws(() => readCoreAt(1n, 0, 0, [25, -3]), /times\[1\] must be a finite time/);
});

test.run();
