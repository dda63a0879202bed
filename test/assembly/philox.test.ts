// The Philox block helpers used inside kernels (assembly/philox.ts).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { WasmRuntime, withScratch } from "../../lib/runtime/wasm.ts";

const rt = WasmRuntime.get();
const k = rt.kernels;

function block(c: number[], key: number[]): number[] {
  return withScratch(16, (p) => {
    k.philoxBlock(key[0]! | 0, key[1]! | 0, c[0]! | 0, c[1]! | 0, c[2]! | 0, c[3]! | 0, p);
    return Array.from(rt.u32(p, 4));
  });
}

test("Philox4x32-10 known-answer vectors (Random123 kat_vectors) through the shared rounds", () => {
  const hex = (a: number[]) => a.map((x) => x.toString(16).padStart(8, "0")).join(" ");
  assert.is(hex(block([0, 0, 0, 0], [0, 0])), "6627e8d5 e169c58d bc57ac4c 9b00dbd8");
  const f = 0xffffffff;
  assert.is(hex(block([f, f, f, f], [f, f])), "408f276d 41c83b0e a20bc7c6 6d5451fd");
  assert.is(
    hex(block([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0])),
    "d16cfe09 94fdcceb 5001e420 24126ea1",
  );
});

test("the 4-lane SIMD Philox equals four scalar blocks", () => {
  let s = 12345;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
  for (let t = 0; t < 500; t++) {
    const c = [next(), next(), next(), next()];
    const key = [next(), next()];
    const four = withScratch(64, (p) => {
      k.philoxX4At(c[0]! | 0, c[1]! | 0, c[2]! | 0, c[3]! | 0, key[0]! | 0, key[1]! | 0, p);
      return Array.from(rt.u32(p, 16));
    });
    for (let l = 0; l < 4; l++) {
      assert.equal(four.slice(4 * l, 4 * l + 4), block([(c[0]! + l) >>> 0, c[1]!, c[2]!, c[3]!], key));
    }
  }
});

// Φ⁻¹ in float64, independently: bisection on Φ(x) = erfc(−x/√2)/2 with a continued-
// fraction / series erfc accurate to ~1e-15.
function erfc(x: number): number {
  if (x < 0) return 2 - erfc(-x);
  if (x < 2) {
    // erf series: erf(x) = 2/√π Σ (−1)^n x^(2n+1) / (n! (2n+1))
    let sum = 0;
    let term = x;
    for (let n = 0; n < 60; n++) {
      sum += term / (2 * n + 1);
      term *= (-x * x) / (n + 1);
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * sum;
  }
  // Continued fraction (Lentz) for x ≥ 2.
  let f = x;
  let C = x;
  let D = 0;
  for (let n = 1; n < 300; n++) {
    const a = n / 2;
    D = x + a * D;
    D = 1 / D;
    C = x + a / C;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / (f * Math.sqrt(Math.PI));
}
const Phi = (x: number) => 0.5 * erfc(-x / Math.SQRT2);
function invPhi(u: number): number {
  let lo = -9;
  let hi = 9;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (Phi(mid) < u) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

test("normals by AS241 inversion match a float64 Φ⁻¹ to 1e-6, tails included", () => {
  let worst = 0;
  const words = [0, 1, 255, 256, 1 << 20, 0x40000000, 0x7fffff00, 0x80000000, 0xc0000000, 0xfffffeff, 0xffffffff];
  for (let i = 0; i < 3000; i++) words.push(((i * 2654435761) >>> 0) | 0);
  for (const w of words) {
    const u = (((w >>> 0) >>> 8) + 0.5) * 2 ** -24;
    const z = k.normalOfWord(w | 0);
    const ref = invPhi(u);
    worst = Math.max(worst, Math.abs(z - ref) / Math.max(1, Math.abs(ref)));
  }
  assert.ok(worst < 1e-6, `worst relative error ${worst}`);
  // Symmetry: word w and its mirror give opposite normals.
  assert.ok(Math.abs(k.normalOfWord(0x00000000) + k.normalOfWord(0xffffff00 | 0)) < 1e-12);
});

test("normals from consecutive words: moments and a Kolmogorov–Smirnov test", () => {
  // Words of the Philox stream (seed 3), 200,000 normals.
  const n = 200_000;
  const z = new Float64Array(n);
  for (let b = 0; b < n / 4; b++) {
    const w = block([b, 0, 7, 0], [3, 0]);
    for (let j = 0; j < 4; j++) z[4 * b + j] = k.normalOfWord(w[j]! | 0);
  }
  let m1 = 0, m2 = 0, m3 = 0, m4 = 0;
  for (const v of z) m1 += v;
  m1 /= n;
  for (const v of z) {
    const d = v - m1;
    m2 += d * d;
    m3 += d * d * d;
    m4 += d * d * d * d;
  }
  m2 /= n;
  const skew = m3 / n / m2 ** 1.5;
  const kurt = m4 / n / (m2 * m2);
  assert.ok(Math.abs(m1) < 5 / Math.sqrt(n), `mean ${m1}`);
  assert.ok(Math.abs(m2 - 1) < 5 * Math.sqrt(2 / n), `variance ${m2}`);
  assert.ok(Math.abs(skew) < 5 * Math.sqrt(6 / n), `skewness ${skew}`);
  assert.ok(Math.abs(kurt - 3) < 5 * Math.sqrt(24 / n), `kurtosis ${kurt}`);
  const sorted = z.slice().sort();
  let d = 0;
  for (let i = 0; i < n; i += 7) {
    const f = Phi(sorted[i]!);
    d = Math.max(d, Math.abs(f - i / n), Math.abs(f - (i + 1) / n));
  }
  assert.ok(d < 1.63 / Math.sqrt(n), `KS D = ${d}`);
});

test.run();
