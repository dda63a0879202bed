// The read noise's 16-bit normals (assembly/normal-table.ts): the table holds Φ⁻¹ at the
// centres of 65,536 equal-probability bins — checked against an independent float64
// inverse CDF (bisection on erfc-based Φ), symmetry, order and the moments.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { WasmRuntime } from "../../lib/runtime/wasm.ts";

const rt = WasmRuntime.get();
const table = rt.f32(rt.kernels.normalTable(), 65536).slice();

// Φ(z) from the complementary error function (Numerical Recipes' erfc, |error| < 1.2e-7).
function phi(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * x);
  const erfc = t * Math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return z >= 0 ? 1 - erfc / 2 : erfc / 2;
}
function inversePhi(u: number): number {
  let lo = -9;
  let hi = 9;
  for (let i = 0; i < 100; i++) {
    const m = (lo + hi) / 2;
    if (phi(m) < u) lo = m;
    else hi = m;
  }
  return (lo + hi) / 2;
}

test("Φ⁻¹ at the bin centres, to the references' accuracy", () => {
  for (const k of [0, 1, 7, 100, 1000, 3277, 10000, 32767, 32768, 40000, 65000, 65535]) {
    const u = (k + 0.5) / 65536;
    const ref = inversePhi(u);
    // Both sides are ~1e-7 accurate in probability: compare in u (via Φ) rather than in z.
    assert.ok(Math.abs(phi(table[k]!) - u) < 2e-7 + 1e-6 * u, `k ${k}: table ${table[k]} reference ${ref}`);
  }
  assert.ok(Math.abs(table[65535]! - inversePhi(1 - 0.5 / 65536)) < 2e-3, `largest |z| ${table[65535]}`);
});

test("symmetric, increasing, mean 0 and variance 1 within the cut-off's deficit", () => {
  let sum = 0;
  let sum2 = 0;
  for (let k = 0; k < 65536; k++) {
    assert.ok(Math.abs(table[k]! + table[65535 - k]!) < 1e-6, `symmetry at ${k}`);
    if (k > 0) assert.ok(table[k]! > table[k - 1]!, `increasing at ${k}`);
    sum += table[k]!;
    sum2 += table[k]! ** 2;
  }
  assert.ok(Math.abs(sum / 65536) < 1e-7, `mean ${sum / 65536}`);
  const variance = sum2 / 65536;
  assert.ok(variance < 1 && variance > 0.9995, `variance ${variance}`);
});

test.run();
