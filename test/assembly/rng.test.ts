// The wasm Philox4x32-10 kernels (assembly/rng.ts): known answers, bulk fills against
// the TypeScript twin and against the block function, memory safety of the tails, and
// the statistics of the uniforms and normals.
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  Purpose, kernelArgs, normals, normalsF64, streamId, u32Words, uniforms, uniformsF64,
} from "../../lib/chip/rng.ts";
import {
  boxMullerOfWords, twinNormalsF32, twinNormalsF64, twinU32Words, twinUniformsF32, twinUniformsF64,
} from "../../lib/chip/rng-twin.ts";
import type { Seed, StreamLike } from "../../lib/chip/rng.ts";
import { WasmRuntime, withScratch } from "../../lib/runtime/wasm.ts";

const rt = WasmRuntime.get();
const k = rt.kernels;

// ---------------------------------------------------------------------------------
// Reference statistics, all in f64.

/**
 * erfc by W. J. Cody's rational Chebyshev approximations ("Rational Chebyshev
 * approximations for the error function", Math. Comp. 23, 1969; netlib specfun CALERF),
 * relative error < 1e-15 (checked below against known values and a quadrature).
 */
const CA = [3.1611237438705656, 113.864154151050156, 377.485237685302021, 3209.37758913846947, 0.185777706184603153];
const CB = [23.6012909523441209, 244.024637934444173, 1282.61652607737228, 2844.23683343917062];
const CC = [
  0.564188496988670089, 8.88314979438837594, 66.1191906371416295, 298.635138197400131, 881.95222124176909,
  1712.04761263407058, 2051.07837782607147, 1230.33935479799725, 2.15311535474403846e-8,
];
const CD = [
  15.7449261107098347, 117.693950891312499, 537.181101862009858, 1621.38957456669019, 3290.79923573345963,
  4362.61909014324716, 3439.36767414372164, 1230.33935480374942,
];
const CP = [0.305326634961232344, 0.360344899949804439, 0.125781726111229246, 0.0160837851487422766, 6.58749161529837803e-4, 0.0163153871373020978];
const CQ = [2.56852019228982242, 1.87295284992346725, 0.527905102951428412, 0.0605183413124413191, 0.00233520497626869185];
const SQRPI = 0.56418958354775628695; // 1/√π

function erfc(x: number): number {
  const y = Math.abs(x);
  let r: number;
  if (y <= 0.46875) {
    const ysq = y * y;
    let xnum = CA[4]! * ysq;
    let xden = ysq;
    for (let i = 0; i < 3; i++) {
      xnum = (xnum + CA[i]!) * ysq;
      xden = (xden + CB[i]!) * ysq;
    }
    return 1 - (x * (xnum + CA[3]!)) / (xden + CB[3]!);
  } else if (y <= 4) {
    let xnum = CC[8]! * y;
    let xden = y;
    for (let i = 0; i < 7; i++) {
      xnum = (xnum + CC[i]!) * y;
      xden = (xden + CD[i]!) * y;
    }
    r = (xnum + CC[7]!) / (xden + CD[7]!);
  } else {
    const ysq = 1 / (y * y);
    let xnum = CP[5]! * ysq;
    let xden = ysq;
    for (let i = 0; i < 4; i++) {
      xnum = (xnum + CP[i]!) * ysq;
      xden = (xden + CQ[i]!) * ysq;
    }
    r = (SQRPI - (ysq * (xnum + CP[4]!)) / (xden + CQ[4]!)) / y;
  }
  const ysq = Math.trunc(y * 16) / 16; // exp(−y²) in two factors for accuracy
  const del = (y - ysq) * (y + ysq);
  r = Math.exp(-ysq * ysq) * Math.exp(-del) * r;
  return x < 0 ? 2 - r : r;
}

/** The standard normal CDF. */
function phi(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

/** Kolmogorov–Smirnov statistic D of a sample against a continuous CDF. */
function ksStatistic(sample: ArrayLike<number>, cdf: (x: number) => number): number {
  const xs = Float64Array.from(sample).sort();
  const n = xs.length;
  let d = 0;
  for (let i = 0; i < n; i++) {
    const f = cdf(xs[i]!);
    d = Math.max(d, f - i / n, (i + 1) / n - f);
  }
  return d;
}

/** Critical value of D at the 1 % level (asymptotic: 1.628 / √n). */
const ks1 = (n: number): number => 1.63 / Math.sqrt(n);

/** Mean, variance, skewness and excess kurtosis, two-pass in f64. */
function moments(xs: ArrayLike<number>): { mean: number; variance: number; skew: number; exkurt: number } {
  const n = xs.length;
  let s = 0;
  for (let i = 0; i < n; i++) s += xs[i]!;
  const mean = s / n;
  let m2 = 0;
  let m3 = 0;
  let m4 = 0;
  for (let i = 0; i < n; i++) {
    const d = xs[i]! - mean;
    const d2 = d * d;
    m2 += d2;
    m3 += d2 * d;
    m4 += d2 * d2;
  }
  m2 /= n;
  m3 /= n;
  m4 /= n;
  return { mean, variance: m2, skew: m3 / m2 ** 1.5, exkurt: m4 / (m2 * m2) - 3 };
}

/** Pearson correlation of x[i] and y[i]. */
function correlation(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = Math.min(x.length, y.length);
  let sx = 0, sy = 0;
  for (let i = 0; i < n; i++) {
    sx += x[i]!;
    sy += y[i]!;
  }
  const mx = sx / n, my = sy / n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    const a = x[i]! - mx, b = y[i]! - my;
    sxy += a * b;
    sxx += a * a;
    syy += b * b;
  }
  return sxy / Math.sqrt(sxx * syy);
}

/** Upper 1 % point of χ²(df), Wilson–Hilferty (accurate to < 0.1 % for df ≥ 100). */
function chi2Critical1(df: number): number {
  const z = 2.326347874040841;
  const h = 2 / (9 * df);
  return df * (1 - h + z * Math.sqrt(h)) ** 3;
}

function hex(words: ArrayLike<number>): string {
  return Array.from(words, (w) => (w >>> 0).toString(16).padStart(8, "0")).join(" ");
}

const SEED = 0x0123456789abcdefn;
const N_STAT = 1 << 20; // 1,048,576 ≥ 1e6

// ---------------------------------------------------------------------------------

test("the reference erfc / Φ reproduce known values and a quadrature of the density", () => {
  // Φ(x) from CPython's math.erfc (correctly rounded to ≤ 1 ulp).
  const known: [number, number][] = [
    [-6, 9.865876450377012e-10], [-3, 0.0013498980316300957], [-1.5, 0.06680720126885809], [-0.5, 0.3085375387259869],
    [0, 0.5], [0.25, 0.5987063256829237], [0.46875, 0.6803758284828824], [1, 0.8413447460685429],
    [1.96, 0.9750021048517795], [2.5, 0.9937903346742238], [4, 0.9999683287581669], [5.5, 0.9999999810104375],
  ];
  for (const [x, p] of known) assert.ok(Math.abs(phi(x) - p) <= 2e-16 + 2e-15 * p, `Φ(${x}) = ${phi(x)}, expected ${p}`);
  // Simpson's rule for ∫_0^x φ(t) dt, 2000 intervals (error ~1e-15).
  for (const x of [0.3, 0.9, 2.2, 3.7, 4.6]) {
    const m = 2000, h = x / m;
    const pdf = (t: number): number => Math.exp(-0.5 * t * t) / Math.sqrt(2 * Math.PI);
    let s = pdf(0) + pdf(x);
    for (let i = 1; i < m; i++) s += (i % 2 ? 4 : 2) * pdf(i * h);
    assert.ok(Math.abs(phi(x) - 0.5 - (s * h) / 3) < 1e-13, `Φ(${x}) against quadrature`);
  }
});

test("Philox4x32-10 known-answer vectors (Random123 kat_vectors) from the wasm kernel", () => {
  const cases: [number[], number[], string][] = [
    [[0, 0, 0, 0], [0, 0], "6627e8d5 e169c58d bc57ac4c 9b00dbd8"],
    [[0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], "408f276d 41c83b0e a20bc7c6 6d5451fd"],
    [[0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0], "d16cfe09 94fdcceb 5001e420 24126ea1"],
  ];
  withScratch(16, (ptr) => {
    for (const [c, key, expected] of cases) {
      k.philoxBlock(key[0]! | 0, key[1]! | 0, c[0]! | 0, c[1]! | 0, c[2]! | 0, c[3]! | 0, ptr);
      assert.is(hex(rt.u32(ptr, 4)), expected);
    }
  });
});

test("fillU32: word i of the stream is word i mod 4 of block firstBlock + i div 4 (64-bit block counter)", () => {
  const seed = { lo: 0xdeadbeef, hi: 0x01234567 };
  const s = { lo: 0x00090305, hi: 0xabc00000 };
  for (const [bLo, bHi] of [[0, 0], [7, 0], [0xfffffff5, 0], [0xfffffff9, 0xffffffff]] as const) {
    const n = 83; // 16-word groups, single blocks and a 3-word tail; crosses the 2^32 carry
    withScratch(n * 4 + 16, (ptr) => {
      k.fillU32(seed.lo | 0, seed.hi | 0, s.lo | 0, s.hi | 0, bLo | 0, bHi | 0, ptr, n);
      const got = rt.u32(ptr, n).slice();
      for (let b = 0; b * 4 < n; b++) {
        const big = (BigInt(bHi) << 32n) + BigInt(bLo) + BigInt(b);
        const cLo = Number(big & 0xffffffffn), cHi = Number((big >> 32n) & 0xffffffffn);
        withScratch(16, (q) => {
          k.philoxBlock(seed.lo | 0, seed.hi | 0, cLo | 0, cHi | 0, s.lo | 0, s.hi | 0, q);
          const w = rt.u32(q, 4);
          for (let j = 0; j < 4 && 4 * b + j < n; j++) assert.is(got[4 * b + j], w[j], `block ${b} word ${j} (first ${bHi}:${bLo})`);
        });
      }
    });
  }
});

test("every bulk fill equals the TypeScript twin bit for bit (streams, lengths, first blocks)", () => {
  const cases: [Seed, StreamLike, Seed][] = [
    [0, { lo: 0, hi: 0 }, 0],
    [SEED, streamId({ core: 17, purpose: Purpose.READ_NOISE, trial: 3, step: 12345 }), 0],
    [2n ** 64n - 1n, 2n ** 64n - 1n, 2n ** 64n - 3n], // wraps around the 64-bit block counter
    [42, { core: 63, purpose: Purpose.PROGRAM_NOISE }, 0xfffffffe], // carry into the block's high word
    [987654321, { core: 0, purpose: Purpose.MONTE_CARLO, trial: 0xffffff, step: 0xffffff }, 1000003],
  ];
  const lengths = [0, 1, 2, 3, 4, 5, 7, 15, 16, 17, 18, 19, 31, 32, 33, 63, 64, 65, 1001];
  for (const [seed, s, first] of cases) {
    for (const n of lengths) {
      const where = `seed ${seed}, n ${n}, first ${first}`;
      assert.equal(Array.from(u32Words(seed, s, n, first)), Array.from(twinU32Words(seed, s, n, first)), `u32 ${where}`);
      assert.equal(Array.from(uniforms(seed, s, n, first)), Array.from(twinUniformsF32(seed, s, n, first)), `uniform f32 ${where}`);
      assert.equal(Array.from(uniformsF64(seed, s, n, first)), Array.from(twinUniformsF64(seed, s, n, first)), `uniform f64 ${where}`);
      // Object.is: bit-level equality of the floats (distinguishes −0, never NaN here)
      const a = normalsF64(seed, s, n, first), b = twinNormalsF64(seed, s, n, first);
      const c = normals(seed, s, n, first), d = twinNormalsF32(seed, s, n, first);
      for (let i = 0; i < n; i++) {
        assert.ok(Object.is(a[i], b[i]), `normal f64 ${i}: ${a[i]} vs ${b[i]} (${where})`);
        assert.ok(Object.is(c[i], d[i]), `normal f32 ${i}: ${c[i]} vs ${d[i]} (${where})`);
      }
    }
  }
  // a longer stream: 100,003 values of each kind
  const s = streamId({ core: 5, purpose: Purpose.DRIFT_NU, trial: 9 });
  const n = 100003;
  assert.equal(u32Words(SEED, s, n, 77), twinU32Words(SEED, s, n, 77));
  assert.equal(normalsF64(SEED, s, n, 77), twinNormalsF64(SEED, s, n, 77));
  assert.equal(normals(SEED, s, n, 77), twinNormalsF32(SEED, s, n, 77));
});

test("a fill of [0, n) equals fills of [0, j) and [j, n) with firstBlock = j/4", () => {
  const s = streamId({ core: 9, purpose: Purpose.FUNCTIONAL_NOISE });
  const n = 1000 + 3;
  const fills = [
    (m: number, fb: number) => Array.from(u32Words(SEED, s, m, fb)),
    (m: number, fb: number) => Array.from(uniforms(SEED, s, m, fb)),
    (m: number, fb: number) => Array.from(uniformsF64(SEED, s, m, fb)),
    (m: number, fb: number) => Array.from(normals(SEED, s, m, fb)),
    (m: number, fb: number) => Array.from(normalsF64(SEED, s, m, fb)),
  ];
  for (const fill of fills) {
    const whole = fill(n, 0);
    for (const j of [4, 12, 16, 20, 64, 500, 1000]) {
      assert.equal([...fill(j, 0), ...fill(n - j, j / 4)], whole, `split at ${j}`);
    }
  }
});

test("the kernels write exactly out[0, n): tails leave neighbouring bytes alone", () => {
  const fills = [
    [k.fillU32, 4], [k.fillUniformF32, 4], [k.fillUniformF64, 8], [k.fillNormalF32, 4], [k.fillNormalF64, 8],
  ] as const;
  const args = kernelArgs(SEED, { core: 1, purpose: Purpose.INPUTS }, 3);
  for (const [fill, size] of fills) {
    for (const n of [0, 1, 2, 3, 5, 6, 7, 16, 17, 18, 19, 33, 34, 35]) {
      const guard = 64;
      withScratch(n * size + 2 * guard, (ptr) => {
        const bytes = () => rt.u8(ptr, n * size + 2 * guard);
        bytes().fill(0xa5);
        fill(...args, ptr + guard, n);
        const b = bytes();
        for (let i = 0; i < guard; i++) {
          assert.is(b[i], 0xa5, `byte before out, n ${n}`);
          assert.is(b[guard + n * size + i], 0xa5, `byte after out, n ${n}`);
        }
      });
    }
  }
});

test("derived values follow their definitions: uniforms from the words, normals = Box–Muller of word pairs", () => {
  const s = streamId({ core: 2, purpose: Purpose.MONTE_CARLO, trial: 1 });
  const n = 4099;
  const w = u32Words(SEED, s, n);
  const uf = uniforms(SEED, s, n);
  const ud = uniformsF64(SEED, s, n);
  const z = normalsF64(SEED, s, n);
  const zf = normals(SEED, s, n);
  let maxErr = 0;
  for (let i = 0; i < n; i++) {
    assert.is(uf[i], ((w[i]! >>> 9) + 0.5) * 2 ** -23);
    assert.is(ud[i], ((w[i]! >>> 8) + 0.5) * 2 ** -24);
    assert.is(zf[i], Math.fround(z[i]!)); // f32 normals are the rounded f64 normals
  }
  for (let i = 0; i + 1 < n; i += 2) {
    // the same pair through the twin's scalar code
    const pair = boxMullerOfWords(w[i]!, w[i + 1]!);
    assert.is(z[i], pair[0]);
    assert.is(z[i + 1], pair[1]);
    // and against the textbook formula with the engine's Math (a few ulp apart)
    const r = Math.sqrt(-2 * Math.log(ud[i]!));
    const t = 2 * Math.PI * ud[i + 1]!;
    maxErr = Math.max(maxErr, Math.abs(z[i]! - r * Math.cos(t)), Math.abs(z[i + 1]! - r * Math.sin(t)));
  }
  assert.ok(maxErr < 1e-14, `max |Δ| against Math.log/cos/sin ${maxErr}`);
  // the odd last normal is the cosine of the last pair
  const tail = normalsF64(SEED, s, 5);
  assert.is(tail[4], z[4]);
});

test("uniforms: in (0, 1), mean 0.5, χ² over 1000 bins and Kolmogorov–Smirnov at the 1 % level", () => {
  for (const [name, u] of [
    ["f32", uniforms(SEED, { core: 0, purpose: Purpose.MONTE_CARLO }, N_STAT)],
    ["f64", uniformsF64(SEED, { core: 0, purpose: Purpose.MONTE_CARLO, trial: 1 }, N_STAT)],
  ] as const) {
    const n = u.length;
    let min = 1, max = 0, sum = 0;
    const bins = 1000;
    const counts = new Float64Array(bins);
    for (let i = 0; i < n; i++) {
      const x = u[i]!;
      min = Math.min(min, x);
      max = Math.max(max, x);
      sum += x;
      counts[Math.floor(x * bins)]!++;
    }
    assert.ok(min > 0 && max < 1, `${name}: range [${min}, ${max}]`);
    const mean = sum / n;
    assert.ok(Math.abs(mean - 0.5) < 5 * Math.sqrt(1 / 12 / n), `${name}: mean ${mean}`);
    const e = n / bins;
    let chi2 = 0;
    for (let b = 0; b < bins; b++) chi2 += (counts[b]! - e) ** 2 / e;
    assert.ok(chi2 < chi2Critical1(bins - 1), `${name}: χ² ${chi2.toFixed(1)} ≥ ${chi2Critical1(bins - 1).toFixed(1)}`);
    const d = ksStatistic(u, (x) => Math.min(1, Math.max(0, x)));
    assert.ok(d < ks1(n), `${name}: KS D ${d} ≥ ${ks1(n)}`);
  }
});

test("normals: moments within 4 standard errors of (0, 1, 0, 3) and Kolmogorov–Smirnov against Φ at 1 %", () => {
  const cases: [string, Float32Array | Float64Array][] = [
    ["f32", normals(SEED, { core: 7, purpose: Purpose.READ_NOISE }, N_STAT)],
    ["f64", normalsF64(12345, { core: 63, purpose: Purpose.PROGRAM_NOISE, trial: 2, step: 9 }, N_STAT, 1000)],
  ];
  for (const [name, z] of cases) {
    const n = z.length;
    const m = moments(z);
    const msg = `${name}: ${JSON.stringify(m)}`;
    assert.ok(Math.abs(m.mean) < 4 / Math.sqrt(n), msg);
    assert.ok(Math.abs(m.variance - 1) < 4 * Math.sqrt(2 / n), msg);
    assert.ok(Math.abs(m.skew) < 4 * Math.sqrt(6 / n), msg);
    assert.ok(Math.abs(m.exkurt) < 4 * Math.sqrt(24 / n), msg);
    const d = ksStatistic(z, phi);
    assert.ok(d < ks1(n), `${name}: KS D ${d} ≥ ${ks1(n)}`);
    // the tails: counts beyond ±2σ and ±3σ against their binomial expectations
    for (const t of [2, 3]) {
      let c = 0;
      for (let i = 0; i < n; i++) if (Math.abs(z[i]!) > t) c++;
      const p = 2 * phi(-t);
      assert.ok(Math.abs(c - n * p) < 4 * Math.sqrt(n * p * (1 - p)), `${name}: ${c} beyond ±${t}σ, expected ${n * p}`);
    }
    // radius cut-off of the 24-bit uniforms: |z| ≤ sqrt(50 ln 2)
    let zmax = 0;
    for (let i = 0; i < n; i++) zmax = Math.max(zmax, Math.abs(z[i]!));
    assert.ok(zmax <= Math.sqrt(50 * Math.LN2) + 1e-6, `${name}: max |z| ${zmax}`);
  }
});

test("normals are uncorrelated: within a Box–Muller pair, at lag 1 and 4, and across neighbouring streams", () => {
  const n = 1 << 19;
  const z = normalsF64(SEED, { core: 3, purpose: Purpose.MONTE_CARLO }, n);
  const lim = 4 / Math.sqrt(n / 2);
  const even = z.filter((_, i) => i % 2 === 0), odd = z.filter((_, i) => i % 2 === 1);
  assert.ok(Math.abs(correlation(even, odd)) < lim, "pair (cos, sin)");
  // squares too: r² is shared by the pair, but z_2k² and z_2k+1² must still be uncorrelated
  assert.ok(Math.abs(correlation(even.map((x) => x * x), odd.map((x) => x * x))) < lim, "pair squares");
  assert.ok(Math.abs(correlation(z.subarray(0, n - 1), z.subarray(1))) < 4 / Math.sqrt(n), "lag 1");
  assert.ok(Math.abs(correlation(z.subarray(0, n - 4), z.subarray(4))) < 4 / Math.sqrt(n), "lag 4");
  for (const other of [
    { core: 4, purpose: Purpose.MONTE_CARLO }, { core: 3, purpose: Purpose.MONTE_CARLO + 1 },
    { core: 3, purpose: Purpose.MONTE_CARLO, trial: 1 }, { core: 3, purpose: Purpose.MONTE_CARLO, step: 1 },
  ]) {
    const y = normalsF64(SEED, other, n);
    assert.ok(Math.abs(correlation(z, y)) < 4 / Math.sqrt(n), `against ${JSON.stringify(other)}`);
  }
  const y = normalsF64(SEED + 1n, { core: 3, purpose: Purpose.MONTE_CARLO }, n);
  assert.ok(Math.abs(correlation(z, y)) < 4 / Math.sqrt(n), "against seed + 1");
});

test("different streams and seeds give different sequences", () => {
  const n = 4096;
  const base = u32Words(SEED, { core: 0, purpose: Purpose.READ_NOISE }, n);
  const others = [
    u32Words(SEED + 1n, { core: 0, purpose: Purpose.READ_NOISE }, n),
    u32Words(SEED, { core: 1, purpose: Purpose.READ_NOISE }, n),
    u32Words(SEED, { core: 0, purpose: Purpose.DRIFT_NU }, n),
    u32Words(SEED, { core: 0, purpose: Purpose.READ_NOISE, trial: 1 }, n),
    u32Words(SEED, { core: 0, purpose: Purpose.READ_NOISE, step: 1 }, n),
    u32Words(SEED, { lo: streamId({ core: 0, purpose: Purpose.READ_NOISE }).lo, hi: 0x80000000 }, n),
    u32Words(SEED, { core: 0, purpose: Purpose.READ_NOISE }, n, 1), // the same stream shifted by one block
  ];
  for (const [i, o] of others.entries()) {
    let same = 0;
    for (let j = 0; j < n; j++) if (o[j] === base[j]) same++;
    assert.ok(same <= 1, `variant ${i}: ${same} equal words of ${n}`);
  }
  // the shifted stream is the same stream: equal after re-alignment
  assert.equal(Array.from(others[6]!.subarray(0, n - 4)), Array.from(base.subarray(4)));
});

test.run();
