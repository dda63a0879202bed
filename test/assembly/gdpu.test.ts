// The GDPU kernel (assembly/gdpu.ts): the tanh and sigmoid LUTs over all 65,536 FP16
// inputs against Math.tanh, and the LSTM step bit for bit against a restatement of its
// pipeline with the FP16 helpers (lib/chip/fp16.ts).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { fmaHalf, fromHalf, halfToInt8, mulHalf, toHalf } from "../../lib/chip/fp16.ts";
import { GDPU_SIGMOID_MAX_ERROR, GDPU_TANH_LUT, GDPU_TANH_MAX_ERROR, GDPU_UNIT_PARAMS } from "../../lib/chip/gdpu.ts";
import { WasmRuntime } from "../../lib/runtime/wasm.ts";

const rt = WasmRuntime.get();
const k = rt.kernels;
const isNaNHalf = (h: number) => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Finite FP16 bit patterns in ascending order of value (−65504 … −0, +0 … 65504). */
const ascending: number[] = [];
for (let h = 0xfbff; h >= 0x8000; h--) ascending.push(h);
for (let h = 0; h <= 0x7bff; h++) ascending.push(h);

test("the wasm LUT is the documented one (lib/chip/gdpu.ts)", () => {
  const t = Array.from(rt.u16(k.gdpuLut(), 24));
  assert.equal(t, [...GDPU_TANH_LUT.breakpoints, ...GDPU_TANH_LUT.slopes, ...GDPU_TANH_LUT.intercepts]);
  const b = GDPU_TANH_LUT.breakpoints.map(fromHalf);
  for (let i = 1; i < b.length; i++) assert.ok(b[i]! > b[i - 1]!, "breakpoints ascend");
});

test("tanh: all 63,488 finite FP16 inputs within the documented bound, which is tight", () => {
  let max = 0;
  let at = 0;
  for (const h of ascending) {
    const x = fromHalf(h);
    const e = Math.abs(fromHalf(k.gdpuTanh(h)) - Math.tanh(x));
    if (e > max) [max, at] = [e, x];
  }
  assert.ok(max <= GDPU_TANH_MAX_ERROR, `max error ${max} at ${at}`);
  assert.ok(max > GDPU_TANH_MAX_ERROR - 1e-6, `documented bound is stale: measured ${max} at ${at}`);
  assert.is(Math.abs(at), 1.18359375);
});

test("tanh: odd bit for bit, monotonic, within [−1, 1], exact at 0, saturates, NaN in → NaN out", () => {
  for (let h = 0; h < 0x8000; h++) {
    const y = k.gdpuTanh(h);
    if (isNaNHalf(h)) {
      assert.is(y, 0x7e00);
      assert.is(k.gdpuTanh(h | 0x8000), 0x7e00);
      continue;
    }
    assert.is(k.gdpuTanh(h | 0x8000), y ^ 0x8000, `h=${h.toString(16)}`);
  }
  let prev = -Infinity;
  for (const h of ascending) {
    const y = fromHalf(k.gdpuTanh(h));
    assert.ok(y >= prev && Math.abs(y) <= 1, `h=${h.toString(16)}: ${y} after ${prev}`);
    prev = y;
  }
  assert.is(k.gdpuTanh(0), 0);
  assert.is(k.gdpuTanh(0x8000), 0x8000);
  assert.is(k.gdpuTanh(0x7c00), 0x3c00); // +Inf → 1
  assert.is(k.gdpuTanh(0xfc00), 0xbc00);
  assert.is(fromHalf(k.gdpuTanh(GDPU_TANH_LUT.breakpoints[7]!)), 1);
});

test("sigmoid: all finite FP16 inputs within the documented bound, monotonic, in [0, 1]", () => {
  let max = 0;
  let at = 0;
  let prev = -Infinity;
  for (const h of ascending) {
    const x = fromHalf(h);
    const y = fromHalf(k.gdpuSigmoid(h));
    const e = Math.abs(y - sigmoid(x));
    if (e > max) [max, at] = [e, x];
    assert.ok(y >= prev && y >= 0 && y <= 1, `h=${h.toString(16)}: ${y} after ${prev}`);
    prev = y;
  }
  assert.ok(max <= GDPU_SIGMOID_MAX_ERROR, `max error ${max} at ${at}`);
  assert.ok(max > GDPU_SIGMOID_MAX_ERROR - 1e-6, `documented bound is stale: measured ${max} at ${at}`);
  assert.ok(max <= GDPU_TANH_MAX_ERROR / 2 + 2 ** -12, "half the tanh error plus an output rounding");
  assert.is(k.gdpuSigmoid(0), toHalf(0.5));
  assert.is(k.gdpuSigmoid(0x7c00), toHalf(1));
  assert.is(k.gdpuSigmoid(0xfc00), 0);
  assert.ok(isNaNHalf(k.gdpuSigmoid(0x7e00)));
  // sigmoid(x) = 1/2 + 1/2·tanh(x/2) with the third FMA
  for (const h of [0x3c00, 0xc500, 0x4900, 0x0001, 0x8123]) {
    assert.is(k.gdpuSigmoid(h), fmaHalf(k.gdpuTanh(mulHalf(h, 0x3800)), 0x3800, 0x3800));
  }
});

// A small deterministic generator for the test's own data.
let state = 2024;
const rand = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;

test("gdpuStep bit for bit against its documented pipeline (3 slices × 64 units, 2 steps)", () => {
  const units = 64;
  const P = rt.alloc(units * GDPU_UNIT_PARAMS * 2);
  const C = rt.alloc(units * 2);
  const G = rt.alloc(units * 4);
  const O = rt.alloc(units);
  const H = rt.alloc(units * 2);
  try {
    for (let slice = 0; slice < 3; slice++) {
      const p = rt.u16(P, units * GDPU_UNIT_PARAMS);
      for (let u = 0; u < units; u++) {
        for (let g = 0; g < 4; g++) {
          p[u * 10 + g] = toHalf((rand() * 0.1) / (slice + 1));
          p[u * 10 + 4 + g] = toHalf(rand() * 2 - 1);
        }
        p[u * 10 + 8] = toHalf(100 + 60 * rand());
        p[u * 10 + 9] = toHalf(rand() - 0.5);
      }
      const c = rt.u16(C, units);
      for (let u = 0; u < units; u++) c[u] = toHalf((rand() - 0.5) * 8 * slice);
      for (let step = 0; step < 2; step++) {
        const g8 = rt.i8(G, units * 4);
        for (let i = 0; i < g8.length; i++) g8[i] = Math.floor(rand() * 256) - 128;
        const cBefore = rt.u16(C, units).slice();
        k.gdpuStep(G, P, C, units, O, H);
        const out = rt.i8(O, units);
        const h = rt.u16(H, units);
        const cAfter = rt.u16(C, units);
        for (let u = 0; u < units; u++) {
          const x = [0, 1, 2, 3].map((gi) => fmaHalf(toHalf(g8[4 * u + gi]!), p[u * 10 + gi]!, p[u * 10 + 4 + gi]!));
          const [i, a, f, o] = [k.gdpuSigmoid(x[0]!), k.gdpuTanh(x[1]!), k.gdpuSigmoid(x[2]!), k.gdpuSigmoid(x[3]!)];
          const c2 = fmaHalf(f, cBefore[u]!, mulHalf(i, a));
          const h2 = mulHalf(o, k.gdpuTanh(c2));
          assert.is(cAfter[u], c2, `cell ${u}`);
          assert.is(h[u], h2, `h ${u}`);
          assert.is(out[u], halfToInt8(fmaHalf(h2, p[u * 10 + 8]!, p[u * 10 + 9]!)), `out ${u}`);
        }
      }
    }
  } finally {
    for (const ptr of [P, C, G, O, H]) rt.free(ptr);
  }
});

test.run();
