// GdpuSlice (lib/chip/gdpu.ts) against a float64 LSTM cell: one step within the LUT bounds
// plus FP16 and INT8 rounding; 1,000 timesteps with the hidden state fed back stay
// bounded; parameter packing; clear errors.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { fromHalf, toHalf } from "../../../lib/chip/fp16.ts";
import { GDPU_SIGMOID_MAX_ERROR, GDPU_TANH_MAX_ERROR, GdpuSlice, gdpuStepClocks, gdpuTanh, packGdpuParams } from "../../../lib/chip/gdpu.ts";
import { ArgumentError } from "../../../lib/runtime/validate.ts";

let state = 777;
const rand = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const q16 = (x: number) => fromHalf(toHalf(x)); // the FP16 value a parameter is stored as
const U = 2 ** -11; // FP16 unit roundoff
const clampI8 = (y: number) => Math.min(127, Math.max(-128, y));

/** The float64 LSTM cell on the same (FP16-valued) parameters and the same state. */
function lstmRef(g: Int8Array, s: number[], b: number[], c0: number[], sOut: number, bOut: number) {
  const units = c0.length;
  const r = { c: [] as number[], h: [] as number[], y: [] as number[], bound: [] as number[] };
  for (let u = 0; u < units; u++) {
    const x = [0, 1, 2, 3].map((k) => g[4 * u + k]! * s[4 * u + k]! + b[4 * u + k]!);
    const [i, a, f, o] = [sigmoid(x[0]!), Math.tanh(x[1]!), sigmoid(x[2]!), sigmoid(x[3]!)];
    const c = f * c0[u]! + i * a;
    const h = o * Math.tanh(c);
    // First-order error bound of the FP16 pipeline: LUT errors, one rounding per operation.
    const [di, da, df, dO] = [GDPU_SIGMOID_MAX_ERROR + (U * Math.abs(x[0]!)) / 4, GDPU_TANH_MAX_ERROR + U * Math.abs(x[1]!), GDPU_SIGMOID_MAX_ERROR + (U * Math.abs(x[2]!)) / 4, GDPU_SIGMOID_MAX_ERROR + (U * Math.abs(x[3]!)) / 4];
    const dcp = Math.abs(c0[u]!) * df + Math.abs(a) * di + (i + di) * da + U * (i * Math.abs(a) + di + da);
    const dc = dcp + U * (Math.abs(c) + dcp);
    const dh = Math.abs(Math.tanh(c)) * dO + (o + dO) * (GDPU_TANH_MAX_ERROR + dc) + U;
    r.c.push(c);
    r.h.push(h);
    r.y.push(h * sOut + bOut);
    r.bound.push(dh);
  }
  return r;
}

test("one LSTM step against a float64 cell: FP16 h within the LUT bound, INT8 within it plus rounding", () => {
  const units = 64;
  let worst = 0;
  let sumLsb = 0;
  let n = 0;
  for (let trial = 0; trial < 40; trial++) {
    const gateScale = [0.03, 0.025, 0.03, 0.03].map(q16);
    const gateBias = Array.from({ length: 4 * units }, () => q16(2 * rand() - 1));
    const outScale = q16(127);
    const slice = new GdpuSlice({ units, gateScale, gateBias, outScale });
    const c0 = Array.from({ length: units }, () => q16((rand() - 0.5) * (trial % 4) * 3));
    slice.setCellBits(Uint16Array.from(c0, toHalf));
    const g = Int8Array.from({ length: 4 * units }, () => Math.floor(rand() * 256) - 128);
    const out = slice.step(g);
    const h = slice.hiddenState();
    const c = slice.cellState();
    const s = Array.from({ length: 4 * units }, (_, i) => gateScale[i % 4]!);
    const ref = lstmRef(g, s, gateBias, c0, outScale, 0);
    for (let u = 0; u < units; u++) {
      const e = Math.abs(h[u]! - ref.h[u]!);
      assert.ok(e <= ref.bound[u]!, `trial ${trial} unit ${u}: |h − ref| = ${e} > ${ref.bound[u]}`);
      assert.ok(Math.abs(c[u]! - ref.c[u]!) <= 0.02 + U * Math.abs(ref.c[u]!), `cell ${u}: ${c[u]} vs ${ref.c[u]}`);
      worst = Math.max(worst, e / ref.bound[u]!);
      const dy = outScale * ref.bound[u]! + U * (Math.abs(ref.y[u]!) + outScale * ref.bound[u]!) + 0.5;
      assert.ok(Math.abs(out[u]! - clampI8(ref.y[u]!)) <= dy, `out ${u}: ${out[u]} vs ${ref.y[u]}`);
      sumLsb += Math.abs(out[u]! - clampI8(Math.round(ref.y[u]!)));
      n++;
    }
  }
  assert.ok(worst > 0.3, `the bound is not vacuous (worst ratio ${worst})`);
  assert.ok(sumLsb / n < 0.35, `mean INT8 difference ${sumLsb / n} LSB`);
});

test("a random-weight slice over 1,000 timesteps with the hidden state fed back stays bounded", () => {
  const units = 64;
  const inputs = 32;
  const q = 4 / 127; // gate pre-activations in ±4 → INT8 (the LDPU's output scale)
  const W = Array.from({ length: 4 * units }, () => Array.from({ length: inputs + units }, () => gauss() / Math.sqrt(inputs + units)));
  const slice = new GdpuSlice({ units, gateScale: q, gateBias: [0, 0, 1, 0], outScale: 127 });
  let h8 = new Int8Array(units);
  let hRef = new Float64Array(units);
  const cRef = new Float64Array(units);
  let maxC = 0;
  const seen = new Set<number>();
  let early = 0;
  for (let t = 0; t < 1000; t++) {
    const x = Array.from({ length: inputs }, () => Math.round(127 * (2 * rand() - 1)));
    const z = (v: ArrayLike<number>, row: number[]) => {
      let acc = 0;
      for (let j = 0; j < inputs; j++) acc += row[j]! * (x[j]! / 127);
      for (let j = 0; j < units; j++) acc += row[inputs + j]! * v[j]!;
      return acc;
    };
    const gates = Int8Array.from(W, (row) => clampI8(Math.round(z(Float64Array.from(h8, (v) => v / 127), row) / q)));
    h8 = slice.step(gates);
    const c = slice.cellState();
    for (let u = 0; u < units; u++) {
      assert.ok(Number.isFinite(c[u]!), `t=${t}: cell ${u} is ${c[u]}`);
      maxC = Math.max(maxC, Math.abs(c[u]!));
      seen.add(h8[u]!);
    }
    // The float64 LSTM on its own state, for the first steps (later the two diverge).
    const pre = W.map((row) => z(hRef, row));
    const hNext = new Float64Array(units);
    for (let u = 0; u < units; u++) {
      const [i, a, f, o] = [sigmoid(pre[4 * u]!), Math.tanh(pre[4 * u + 1]!), sigmoid(pre[4 * u + 2]! + 1), sigmoid(pre[4 * u + 3]!)];
      cRef[u] = f * cRef[u]! + i * a;
      hNext[u] = o * Math.tanh(cRef[u]!);
      if (t < 5) early = Math.max(early, Math.abs(h8[u]! / 127 - hNext[u]!));
    }
    hRef = hNext;
  }
  assert.ok(maxC < 10, `|c| stays bounded: max ${maxC}`);
  assert.ok(seen.size > 50, `hidden outputs keep varying (${seen.size} distinct values)`);
  assert.ok(early < 0.05, `first 5 steps track the float64 LSTM: max |h − ref| ${early}`);
});

test("saturated gates: c grows by exactly 1 per step (|c_t| ≤ t), no Inf after 1,000 steps", () => {
  const slice = new GdpuSlice({ units: 3, gateScale: 0.5, gateBias: 0, outScale: 100, outBias: [0, 1, -1] });
  const g = new Int8Array(12).fill(127);
  let out = new Int8Array(3);
  for (let t = 0; t < 1000; t++) out = slice.step(g);
  assert.equal(Array.from(slice.cellState()), [1000, 1000, 1000]);
  assert.equal(Array.from(out), [100, 101, 99]);
  slice.reset();
  assert.equal(Array.from(slice.cellBits()), [0, 0, 0]);
  assert.equal(Array.from(slice.step(g)), [76, 77, 75]); // o·tanh(1) = 0.762 after one step
});

test("parameter packing: per gate, per input and per output layouts; clocks", () => {
  const p = packGdpuParams({ units: 2, gateScale: [1, 2, 3, 4], gateBias: [0, 0, 0, 0, 5, 6, 7, 8], outScale: [9, 10], outBias: 0.5 });
  assert.equal(Array.from(p, fromHalf), [1, 2, 3, 4, 0, 0, 0, 0, 9, 0.5, 1, 2, 3, 4, 5, 6, 7, 8, 10, 0.5]);
  assert.is(gdpuStepClocks(64), 256);
  assert.is(new GdpuSlice({ units: 63, gateScale: 1, outScale: 1 }).clocks, 252);
  assert.is(new GdpuSlice({ gateScale: 1, outScale: 1 }).inputs, 256);
});

test("bad inputs throw ArgumentError naming the argument", () => {
  const slice = new GdpuSlice({ gateScale: 0.1, outScale: 127 });
  const bad: [() => unknown, RegExp][] = [
    [() => slice.step(new Int8Array(255)), /gates must be an Int8Array of length 256/],
    [() => slice.step(new Uint8Array(256) as unknown as Int8Array), /gates/],
    [() => slice.step(Array(256).fill(0) as unknown as Int8Array), /gates/],
    [() => new GdpuSlice({ units: 0, gateScale: 1, outScale: 1 }), /params.units must be an integer in 1..64/],
    [() => new GdpuSlice({ units: 65, gateScale: 1, outScale: 1 }), /params.units/],
    [() => new GdpuSlice({ units: 2.5, gateScale: 1, outScale: 1 }), /params.units/],
    [() => new GdpuSlice({ gateScale: [1, 2, 3], outScale: 1 }), /params.gateScale must be a number or an array of length 4 or 256/],
    [() => new GdpuSlice({ gateScale: Number.NaN, outScale: 1 }), /params.gateScale must be a finite number/],
    [() => new GdpuSlice({ gateScale: [1, 1, 1e6, 1], outScale: 1 }), /params.gateScale\[2\]/],
    [() => new GdpuSlice({ gateScale: 1, outScale: [1, 2] }), /params.outScale must be a number or an array of length 64/],
    [() => new GdpuSlice({ gateScale: 1, outScale: 1, outBias: Infinity }), /params.outBias/],
    [() => new GdpuSlice(null as unknown as { gateScale: number; outScale: number }), /params must be an object/],
    [() => slice.setCellBits(new Uint16Array(3)), /bits must be a Uint16Array of length 64/],
    [() => gdpuTanh(65536), /h must be an integer in 0..65535/],
    [() => gdpuTanh(-1), /h must be/],
    [() => gdpuStepClocks(0), /units/],
  ];
  for (const [fn, re] of bad) {
    assert.throws(fn, (e: unknown) => e instanceof ArgumentError && re.test(e.message), String(re));
  }
});

test.run();
