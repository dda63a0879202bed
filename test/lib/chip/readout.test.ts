// The physical MVM read against a float64 restatement of the model (assembly/readout.ts):
// charges of the 4-phase and 1-phase modes, leakage, the ADC transfer, the FP16 LDPU.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ADC_TABLE_BYTES, CoreAdcs } from "../../../lib/chip/adc.ts";
import { ADC, MVM } from "../../../lib/chip/config.ts";
import { fmaHalf, fromHalf, halfToInt8, toHalf } from "../../../lib/chip/fp16.ts";
import { CHARGE_LSB_PER_COUNT_NS, CHUNK, READOUT_BYTES, loadPlanes, parsePhases, readChunk, setLdpuGain, type ReadoutBuffers } from "../../../lib/chip/readout.ts";
import { WasmRuntime } from "../../../lib/runtime/wasm.ts";

const rt = WasmRuntime.get();
const CELLS = 65536;
const buf = Object.fromEntries(Object.entries(READOUT_BYTES).map(([k, b]) => [k, rt.alloc(b)])) as ReadoutBuffers;
const planes = rt.alloc(3 * CELLS * 4);
const [G, S, V] = [0, 1, 2].map((i) => rt.f32(planes + i * CELLS * 4, CELLS)) as [Float32Array, Float32Array, Float32Array];
const adcs = new CoreAdcs(9n, 3, rt.alloc(ADC_TABLE_BYTES));
adcs.draw();
adcs.calibrate();

// A tiny deterministic generator for the test's own data.
let state = 12345;
const rand = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32);
for (let i = 0; i < CELLS; i++) {
  const gp = rand() < 0.5 ? 0.4 : 30 + 120 * rand();
  const gn = gp > 1 ? 0.3 : 20 + 100 * rand();
  G[i] = gp - gn;
  S[i] = gp + gn;
  V[i] = (0.02 * gp) ** 2 + (0.02 * gn) ** 2;
}
const scales = loadPlanes(rt, buf, planes, planes + CELLS * 4, planes + 2 * CELLS * 4);
const Gq = rt.i16(buf.planes, CELLS).slice();
const Sq = rt.i16(buf.planes + CELLS * 2, CELLS).slice();
const BATCH = 40;
const xPtr = rt.alloc(CHUNK * 256);
const X = rt.i8(xPtr, BATCH * 256);
for (let i = 0; i < X.length; i++) X[i] = rand() < 0.3 ? 0 : Math.round(254 * rand() - 127);
X[0] = -128; // the extreme input
const outPtr = rt.alloc(CHUNK * 256);
const countsPtr = rt.alloc(CHUNK * 256 * 4);
const GAIN = 0.0625;
setLdpuGain(rt, buf, GAIN);

function adcCount(row: number, q: number): number {
  const a = adcs.record(row);
  const g = a.gain * (1 + a.trimGain * ADC.gainStep.value);
  const o = a.offset - a.trimOffset * ADC.offsetStepCounts.value;
  const n = a.nonlin - a.trimNonlin * ADC.nonlinStep.value;
  const v = o + g * (q - (n * q * q) / ADC.fullScaleCounts.value);
  return Math.floor(Math.min(Math.max(v, 0), ADC.fullScaleCounts.value));
}

function reference(phases: 1 | 4, b: number, r: number): { pos: number; neg: number; out: number } {
  let dg = 0;
  let d2 = 0;
  let sp = 0;
  let sn = 0;
  let tp = 0;
  let tn = 0;
  for (let j = 0; j < 256; j++) {
    const x = X[b * 256 + j]!;
    const c = r * 256 + j;
    dg += Gq[c]! * x;
    d2 += phases === 4 ? Sq[c]! * Math.abs(x) : Gq[c]! * Math.max(-x, 0);
    sp += 0.5 * (S[c]! + G[c]!);
    sn += 0.5 * (S[c]! - G[c]!);
    tp = Math.max(tp, x);
    tn = Math.max(tn, -x);
  }
  const g = dg / scales.qG;
  const two = d2 / scales.qG;
  const lk = MVM.leakage.value;
  let pos: number;
  let neg: number;
  if (phases === 4) {
    pos = 0.5 * (two + g) + lk * (sp * tp + sn * tn);
    neg = 0.5 * (two - g) + lk * (sn * tp + sp * tn);
  } else {
    const net = g - MVM.polarityAsymmetry.value * two + lk * (sp - sn) * Math.max(tp, tn);
    pos = Math.max(net, 0);
    neg = Math.max(-net, 0);
  }
  const cp = adcCount(r, pos * CHARGE_LSB_PER_COUNT_NS);
  const cn = adcCount(r, neg * CHARGE_LSB_PER_COUNT_NS);
  const k = toHalf(GAIN);
  let h = fmaHalf(toHalf(cp), k, 0);
  h = fmaHalf(toHalf(cn), k ^ 0x8000, h);
  h = fmaHalf(h, toHalf(1), 0);
  return { pos: cp, neg: cn, out: halfToInt8(h) };
}

for (const phases of [4, 1] as const) {
  test(`${phases}-phase read without noise equals the float64 restatement, count for count`, () => {
    readChunk(rt, buf, scales, { seed: 9n, core: 3, adcTable: adcs.ptr, timeKey: 0, phases, noise: false }, xPtr, BATCH, 0, outPtr, countsPtr);
    const out = rt.i8(outPtr, BATCH * 256);
    const counts = rt.u16(countsPtr, BATCH * 256 * 2);
    let mism = 0;
    let nonzero = 0;
    for (let b = 0; b < BATCH; b++) {
      for (let r = 0; r < 256; r++) {
        const ref = reference(phases, b, r);
        const i = b * 256 + r;
        if (counts[2 * i] !== ref.pos || counts[2 * i + 1] !== ref.neg || out[i] !== ref.out) mism++;
        if (out[i] !== 0) nonzero++;
      }
    }
    assert.is(mism, 0, `${mism} of ${BATCH * 256} outputs differ`);
    assert.ok(nonzero > BATCH * 200, `outputs carry signal (${nonzero} non-zero)`);
  });
}

test("LDPU with per-row affine, both ReLUs and both INT8 link inputs equals the FP16 restatement (rows read: 255)", () => {
  const A = Array.from({ length: 256 }, (_, r) => 0.25 + (r % 13) * 0.37 * (r % 3 === 0 ? -1 : 1));
  const C = Array.from({ length: 256 }, (_, r) => (r % 5) * 1.7 - 3.1 + (r % 7 === 0 ? 1e-6 : 0));
  const R = 0.75;
  const Q = 1.3;
  const rxPtr = rt.alloc(CHUNK * 256);
  const resPtr = rt.alloc(CHUNK * 256);
  const RX = rt.i8(rxPtr, BATCH * 256);
  const RES = rt.i8(resPtr, BATCH * 256);
  for (let i = 0; i < RX.length; i++) {
    RX[i] = rand() < 0.3 ? 0 : Math.round(254 * rand() - 127);
    RES[i] = rand() < 0.3 ? 0 : Math.round(254 * rand() - 127);
  }
  for (const flags of [0, 1, 2, 3, 4, 5, 6, 7]) {
    setLdpuGain(rt, buf, GAIN, { scale: A, bias: C, rxScale: R, residualScale: Q });
    readChunk(rt, buf, scales, { seed: 9n, core: 3, adcTable: adcs.ptr, timeKey: 0, phases: 4, noise: false, ldpuFlags: flags, rows: 255 }, xPtr, BATCH, 0, outPtr, countsPtr, rxPtr, resPtr);
    const out = rt.i8(outPtr, BATCH * 256);
    const counts = rt.u16(countsPtr, BATCH * 256 * 2);
    let mism = 0;
    let clipped = 0;
    for (let b = 0; b < BATCH; b++) {
      for (let r = 0; r < 256; r++) {
        const i = b * 256 + r;
        if (r === 255) {
          if (out[i] !== 0 || counts[2 * i] !== 0) mism++;
          continue;
        }
        const ref = reference(4, b, r);
        let h = fmaHalf(toHalf(counts[2 * i]!), toHalf(GAIN), 0);
        h = fmaHalf(toHalf(counts[2 * i + 1]!), toHalf(GAIN) ^ 0x8000, h);
        h = fmaHalf(h, toHalf(A[r]!), toHalf(C[r]!));
        const relu = (v: number) => (fromHalf(v) <= 0 ? 0 : v);
        if (flags & 1) h = relu(h);
        if (RX[i] !== 0) h = fmaHalf(toHalf(RX[i]!), toHalf(R), h);
        if (flags & 2) h = relu(h);
        if (RES[i] !== 0) h = fmaHalf(toHalf(RES[i]!), toHalf(Q), h);
        if (flags & 4) h = relu(h);
        if (counts[2 * i] !== ref.pos || counts[2 * i + 1] !== ref.neg || out[i] !== halfToInt8(h)) mism++;
        if (Math.abs(out[i]!) === 127 || out[i] === -128) clipped++;
      }
    }
    assert.is(mism, 0, `flags ${flags}: ${mism} of ${BATCH * 256} outputs differ`);
    assert.ok(clipped < BATCH * 128, `flags ${flags}: most outputs are not saturated (${clipped})`);
  }
  setLdpuGain(rt, buf, GAIN);
  rt.free(rxPtr);
  rt.free(resPtr);
});

test("read noise: Gaussian with the variance Σ x²σ² (in counts), mean unchanged, reproducible", () => {
  const o = { seed: 9n, core: 3, adcTable: adcs.ptr, timeKey: 7, phases: 4 as const };
  const clean = rt.u16(countsPtr, BATCH * 512).slice();
  readChunk(rt, buf, scales, { ...o, noise: false }, xPtr, BATCH, 0, outPtr, countsPtr);
  const quiet = rt.u16(countsPtr, BATCH * 512).slice();
  readChunk(rt, buf, scales, o, xPtr, BATCH, 0, outPtr, countsPtr);
  const noisy = rt.u16(countsPtr, BATCH * 512).slice();
  readChunk(rt, buf, scales, o, xPtr, BATCH, 0, outPtr, countsPtr);
  assert.equal(Array.from(rt.u16(countsPtr, BATCH * 512)), Array.from(noisy), "same keys, same bits");
  readChunk(rt, buf, scales, o, xPtr, BATCH, 1000, outPtr, countsPtr);
  assert.not.equal(Array.from(rt.u16(countsPtr, BATCH * 512)), Array.from(noisy), "other inputs, other draws");
  void clean;
  let sumD = 0;
  let sumD2 = 0;
  let predicted = 0;
  const n = BATCH * 256;
  for (let b = 0; b < BATCH; b++) {
    for (let r = 0; r < 256; r++) {
      const i = b * 256 + r;
      const d = noisy[2 * i]! - noisy[2 * i + 1]! - (quiet[2 * i]! - quiet[2 * i + 1]!);
      sumD += d;
      sumD2 += d * d;
      let v = 0;
      for (let j = 0; j < 256; j++) v += X[b * 256 + j]! ** 2 * V[r * 256 + j]!;
      // Noise in counts (ADC gain ≈ 1), plus the two counters' random initial phases (var 1/6).
      predicted += v * CHARGE_LSB_PER_COUNT_NS ** 2 + 1 / 6;
    }
  }
  const mean = sumD / n;
  const variance = sumD2 / n - mean * mean;
  // The oscillators' random phase lifts each count by ½ on average; the two cancel in pos − neg.
  assert.ok(Math.abs(mean) < 0.1, `mean shift ${mean}`);
  assert.ok(Math.abs(variance / (predicted / n) - 1) < 0.1, `variance ${variance} vs ${predicted / n}`);
});

test("bad arguments name themselves", () => {
  assert.throws(() => parsePhases(2), /phases must be 1 or 4/);
  assert.is(parsePhases("4-phase"), 4);
  assert.throws(
    () => readChunk(rt, buf, scales, { seed: 9n, core: 3, adcTable: adcs.ptr, timeKey: 0, phases: 4 }, xPtr, CHUNK + 1, 0, outPtr),
    /batch must be 1\.\.256/,
  );
  assert.ok(fromHalf(toHalf(GAIN)) === GAIN);
});

test.run();
