// Fig. 2b–d for one programmed core, as one task (inline or on a worker): read the core at
// every time through the physical MVM path (lib/chip/readout.ts), with and without global drift
// compensation, and reduce the outputs to the paper's metrics (Eqs. 2–4) without keeping
// them: Ŵ = (XᵀX)⁻¹XᵀY per row, and every norm from XᵀX, XᵀY and W (see `errorsAt`).

import { createHash } from "node:crypto";
import { MVM } from "../chip/config.ts";
import { DRIFT_PARAM_COUNT, driftParams, timeKey, writeTimes } from "../chip/drift.ts";
import { inverseSpd, weightErrorByTarget } from "./metrics.ts";
import { CHUNK, READOUT_BYTES, countsPerWeightUnit, driftCalibrationSum, functionalChunk, invalidateTables, loadPlanes, readChunk, setLdpuGain, type Phases, type ReadoutBuffers } from "../chip/readout.ts";
import { WasmRuntime } from "../runtime/wasm.ts";

const CELLS = 65536;
const N = 256;
/** Histogram of errors in LDPU INT8 units: bins of HIST_BIN over ±HIST_RANGE (values
 * outside are not counted; the histogram's sum says how many were inside). */
export const HIST_RANGE = 32;
export const HIST_BIN = 0.5;
/** Inputs per core whose elementwise errors go into the histograms. */
export const HIST_INPUTS = 128;

/** Buffers the main thread shares with every core task (read only). */
export interface SharedInputs {
  /** INT8 inputs, nInputs × 256. */
  x: number;
  /** The same transposed in chunks of 256 inputs: nChunks × (256 × 256) int16. */
  xt: number;
  /** XᵀX and (XᵀX)⁻¹, f32 256 × 256. */
  gram: number;
  gramInv: number;
  /** Drift calibration inputs, INT8 calInputs × 256. */
  cal: number;
  nInputs: number;
  calInputs: number;
}

export function characterizeBytes(nInputs: number, nTimes: number): Record<string, number> {
  return {
    ...READOUT_BYTES,
    driftParams: DRIFT_PARAM_COUNT * 8,
    driftTimes: (nTimes + 1) * 16,
    driftKeys: (nTimes + 1) * 4,
    timePlanes: 3 * (nTimes + 1) * CELLS * 4,
    weights: CELLS * 4,
    y: nInputs * N,
    yNoComp: nInputs * N,
    yt: CELLS * 2,
    xty: CELLS * 4,
    f32a: CELLS * 4,
    f32b: CELLS * 4,
    counts: CHUNK * N * 4,
  };
}

export interface CharacterizeTask {
  seed: bigint;
  core: number;
  phases: Phases;
  times: number[];
  gmax: number;
  wmax: number;
  devicesPtr: number;
  adcTable: number;
  shared: SharedInputs;
  /** The main thread has written the core's weights (f32, 256 × 256) into buf.weights. */
  buf: Record<string, number>;
  /** Functional fidelity: per time, the weight-noise polynomial (σ/Wmax against |W|/Wmax)
   * and the drift compensation factor, instead of the physical read. */
  functional?: { poly: number[]; alpha: number }[];
}

/** A core's normalised MVM errors (fractions of ‖y_fp‖₂, paper Eqs. 2–4) at one read time. */
export interface TimeErrors {
  /** Read time, s since programming. */
  t: number;
  /** Global drift compensation factor applied in the LDPU gain. */
  alpha: number;
  /** ε_total: ‖y_exp − y_fp‖₂ / ‖y_fp‖₂. */
  total: number;
  /** ε_linear: ‖Ŵx − y_fp‖₂ / ‖y_fp‖₂. */
  linear: number;
  /** ε_residual: ‖y_exp − Ŵx‖₂ / ‖y_fp‖₂. */
  residual: number;
  /** ε_total without global drift compensation. */
  totalNoCompensation: number;
}

/** The characterisation of one core (one entry of `SchemeResult.cores`). */
export interface CoreCharacterization {
  /** Core index 0..63. */
  core: number;
  /** Gmax used, ADC counts. */
  gmax: number;
  /** INT8 units per unit of W·x (the LDPU output scale). */
  outputScale: number;
  /** Per read time. */
  times: TimeErrors[];
  /** Fig. 2c at the first time: per bin of target weight, its centre (fraction of Wmax), std(W − Ŵ)/Wmax (NaN below 2 weights) and the weights in it. */
  weightError: { target: number; error: number; count: number }[];
  /** Weight-error polynomial fit (σ/Wmax = c0 + c1·u + c2·u², u = |W|/Wmax) per time: the functional model's input. */
  weightErrorFit: number[][];
  /** Fig. 2b at the first time: counts per bin of ε_total, ε_linear, ε_residual (INT8 units). */
  hist: { total: number[]; linear: number[]; residual: number[] };
  /** SHA-256 of every INT8 output (compensated, time by time). */
  digest: string;
}

/** Σ_r a_rᵀ M b_r over rows of two 256 × 256 f32 matrices, M = XᵀX (kernel does M·b_r). */
function quadratic(rt: WasmRuntime, gram: number, a: Float32Array, bPtr: number, tmp: number): number {
  rt.kernels.mvmF32(gram, N, N, bPtr, N, tmp);
  const mb = rt.f32(tmp, CELLS);
  let s = 0;
  for (let i = 0; i < CELLS; i++) s += a[i]! * mb[i]!;
  return s;
}

/** XᵀY (exact, int32 [r][j]) from INT8 outputs Y (nInputs × 256), chunk by chunk. */
function xty(rt: WasmRuntime, sh: SharedInputs, yPtr: number, buf: Record<string, number>): Int32Array {
  const acc = new Int32Array(CELLS);
  const yt = rt.i16(buf["yt"]!, CELLS);
  for (let c = 0; c * CHUNK < sh.nInputs; c++) {
    const n = Math.min(CHUNK, sh.nInputs - c * CHUNK);
    const y = rt.i8(yPtr + c * CHUNK * N, n * N);
    if (n < CHUNK) yt.fill(0);
    for (let b = 0; b < n; b++) for (let r = 0; r < N; r++) yt[r * N + b] = y[b * N + r]!;
    rt.kernels.mvmI16(sh.xt + c * CELLS * 2, N, N, buf["yt"]!, N, buf["xty"]!);
    const part = rt.i32(buf["xty"]!, CELLS);
    for (let i = 0; i < CELLS; i++) acc[i] = acc[i]! + part[i]!;
  }
  return acc;
}

/**
 * Read every input at one time: INT8 outputs with LDPU gain `gain` into `outPtr`, and the
 * same counts through the LDPU with `gainNoComp` into `noCompPtr` (one analog read, two
 * digital gains: compensated and uncompensated outputs see the very same noise).
 */
function readAll(
  rt: WasmRuntime, task: CharacterizeTask, buf: ReadoutBuffers, scales: ReturnType<typeof loadPlanes>, tk: number,
  gain: number, outPtr: number, gainNoComp: number, noCompPtr: number,
): void {
  const o = { seed: task.seed, core: task.core, adcTable: task.adcTable, timeKey: tk, phases: task.phases };
  const counts = task.buf["counts"]!;
  for (let b0 = 0; b0 < task.shared.nInputs; b0 += CHUNK) {
    const n = Math.min(CHUNK, task.shared.nInputs - b0);
    setLdpuGain(rt, buf, gain);
    readChunk(rt, buf, scales, o, task.shared.x + b0 * N, n, b0, outPtr + b0 * N, counts);
    setLdpuGain(rt, buf, gainNoComp);
    rt.kernels.ldpuBatch(counts, 0, buf.ldpu, N, n, 0, noCompPtr + b0 * N, false, 0);
  }
}

/** Σ|pos − neg| over the calibration inputs (the drift compensation's measurement). */
function calibrationSum(rt: WasmRuntime, task: CharacterizeTask, buf: ReadoutBuffers, scales: ReturnType<typeof loadPlanes>, tk: number): number {
  const o = { seed: task.seed, core: task.core, adcTable: task.adcTable, timeKey: tk, phases: task.phases };
  return driftCalibrationSum(rt, buf, scales, o, task.shared.cal, task.shared.calInputs, task.buf["y"]!, task.buf["counts"]!);
}

function histogram(values: (i: number) => number, n: number): number[] {
  const bins = new Array<number>(Math.round((2 * HIST_RANGE) / HIST_BIN)).fill(0);
  for (let i = 0; i < n; i++) {
    const k = Math.floor((values(i) + HIST_RANGE) / HIST_BIN);
    if (k >= 0 && k < bins.length) bins[k]!++;
  }
  return bins;
}

export function characterizeCoreInto(task: CharacterizeTask): CoreCharacterization {
  const rt = WasmRuntime.get();
  const b = task.buf;
  const sh = task.shared;
  const rbuf = b as ReadoutBuffers;
  const times = [0, ...task.times]; // t = 0: the drift compensation's reference read
  const nT = times.length;
  rt.f64(b["driftParams"]!, DRIFT_PARAM_COUNT).set(driftParams(task.seed, task.core));
  writeTimes(rt, b["driftTimes"]!, b["driftKeys"]!, times);
  const plane = (k: number, q: number) => b["timePlanes"]! + (q * nT + k) * CELLS * 4;
  if (!task.functional) rt.kernels.readCellsAt(b["driftParams"]!, task.devicesPtr, b["driftTimes"]!, b["driftKeys"]!, nT, plane(0, 0), plane(0, 1), plane(0, 2));

  const w = rt.f32(b["weights"]!, CELLS).slice();
  const gram = sh.gram;
  // ‖y_fp‖² = Σ_r w_rᵀ XᵀX w_r; the LDPU scale puts 127 at MVM.outputRangeSigma × rms(y_fp).
  const yfp2 = quadratic(rt, gram, w, b["weights"]!, b["f32a"]!);
  const rms = Math.sqrt(yfp2 / (sh.nInputs * N));
  const outputScale = 127 / (MVM.outputRangeSigma.value * rms);
  const nominalGain = (outputScale * task.wmax) / countsPerWeightUnit(task.gmax);

  const hash = createHash("sha256");
  const results: TimeErrors[] = [];
  const fits: number[][] = [];
  let refSum = 0;
  let first: Pick<CoreCharacterization, "weightError" | "hist"> | undefined;
  for (let k = 0; k < nT; k++) {
    let alpha: number;
    if (task.functional) {
      if (k === 0) continue;
      const f = task.functional[k - 1]!;
      alpha = f.alpha;
      functionalReadAll(rt, task, f.poly, timeKey(times[k]!), nominalGain, b["y"]!, nominalGain / alpha, b["yNoComp"]!);
    } else {
      const scales = loadPlanes(rt, rbuf, plane(k, 0), plane(k, 1), plane(k, 2));
      const tk = timeKey(times[k]!);
      const calSum = calibrationSum(rt, task, rbuf, scales, tk);
      if (k === 0) {
        refSum = calSum;
        continue;
      }
      alpha = calSum > 0 ? refSum / calSum : 1;
      readAll(rt, task, rbuf, scales, tk, nominalGain * alpha, b["y"]!, nominalGain, b["yNoComp"]!);
    }
    const y = rt.i8(b["y"]!, sh.nInputs * N);
    hash.update(y);
    const e = errorsAt(rt, task, w, yfp2, outputScale, b["y"]!, true, k === 1);
    const eNo = errorsAt(rt, task, w, yfp2, outputScale, b["yNoComp"]!, false);
    results.push({ t: times[k]!, alpha, ...e.norms, totalNoCompensation: eNo.norms.total });
    const we = weightErrorByTarget(w, e.what!, task.wmax);
    fits.push(fitWeightError(we));
    if (k === 1) first = { weightError: we, hist: e.hist! };
  }
  return { core: task.core, gmax: task.gmax, outputScale, times: results, ...first!, weightErrorFit: fits, digest: hash.digest("hex") };
}

/** Least-squares σ(u) = c0 + c1·u + c2·u² through the bins (u = |target|), weighted by count. */
export function fitWeightError(bins: { target: number; error: number; count: number }[]): number[] {
  const a = new Float64Array(9);
  const r = new Float64Array(3);
  for (const b of bins) {
    if (!Number.isFinite(b.error) || b.count < 2) continue;
    const u = Math.abs(b.target);
    const v = [1, u, u * u];
    for (let i = 0; i < 3; i++) {
      r[i] = r[i]! + b.count * v[i]! * b.error;
      for (let j = 0; j < 3; j++) a[i * 3 + j] = a[i * 3 + j]! + b.count * v[i]! * v[j]!;
    }
  }
  const c = inverseSpd(a, 3);
  return [0, 1, 2].map((i) => c[i * 3]! * r[0]! + c[i * 3 + 1]! * r[1]! + c[i * 3 + 2]! * r[2]!);
}

/** The functional model's outputs at one time: noisy weights, exact dots, 12-bit counts, LDPU. */
function functionalReadAll(
  rt: WasmRuntime, task: CharacterizeTask, poly: number[], tk: number, gain: number, outPtr: number, gainNoComp: number, noCompPtr: number,
): void {
  const b = task.buf;
  const buf = b as ReadoutBuffers;
  const k = rt.kernels;
  rt.f64(b["driftParams"]!, 3).set(poly);
  k.functionalWeights(
    Number(task.seed & 0xffffffffn), Number((task.seed >> 32n) & 0xffffffffn), task.core, tk,
    b["weights"]!, CELLS, task.wmax, b["driftParams"]!, b["f32a"]!, 0,
  );
  const wn = rt.f32(b["f32a"]!, CELLS);
  let m = 0;
  for (let i = 0; i < CELLS; i++) m = Math.max(m, Math.abs(wn[i]!));
  const qW = m > 0 ? 2 ** Math.min(20, Math.floor(Math.log2(32767 / m))) : 1;
  k.quantisePlane(b["f32a"]!, CELLS, qW, buf.planes);
  k.packI16Quads(buf.planes, N, N, buf.planes + CELLS * 2);
  const perUnit = countsPerWeightUnit(task.gmax) / task.wmax / qW;
  invalidateTables(rt, buf);
  setLdpuGain(rt, buf, gain);
  const t1 = k.ldpuTable(buf.ldpu, N, 0, buf.tables) === 1 ? buf.tables : 0;
  setLdpuGain(rt, buf, gainNoComp);
  const t2 = k.ldpuTable(buf.ldpu, N, 0, buf.tables + 8192) === 1 ? buf.tables + 8192 : 0;
  if (!t1 || !t2) throw new Error("functional characterisation: the LDPU rows must share their parameters");
  for (let b0 = 0; b0 < task.shared.nInputs; b0 += CHUNK) {
    const n = Math.min(CHUNK, task.shared.nInputs - b0);
    functionalChunk(rt, buf, buf.planes, task.shared.x + b0 * N, n, perUnit, t1, 0, outPtr + b0 * N);
    k.functionalReadoutTable(buf.dots, n * N, perUnit, t2, noCompPtr + b0 * N);
  }
}

/**
 * The normalised ε_total, ε_linear, ε_residual of outputs Y (INT8 at yPtr), in weight units
 * y = Y / outputScale:
 *   Ŵ_r = (XᵀX)⁻¹ (XᵀY)_r,  ‖ε_total‖² = ‖y‖² − 2 Σ_r w_r·(Xᵀy)_r + Σ_r w_rᵀXᵀX w_r,
 *   ‖ε_linear‖² = Σ_r (ŵ_r − w_r)ᵀ XᵀX (ŵ_r − w_r),  ‖ε_residual‖² = ‖y‖² − Σ_r ŵ_r·(Xᵀy)_r
 * (least squares: the residual is orthogonal to the span of X). With `full`, also Ŵ and
 * the elementwise histograms over the first HIST_INPUTS inputs.
 */
function errorsAt(
  rt: WasmRuntime, task: CharacterizeTask, w: Float32Array, yfp2: number, scale: number, yPtr: number, full = true, elementwise = false,
): { norms: { total: number; linear: number; residual: number }; what?: Float32Array; hist?: CoreCharacterization["hist"] } {
  const b = task.buf;
  const sh = task.shared;
  const y = rt.i8(yPtr, sh.nInputs * N);
  let y2 = 0;
  for (let i = 0; i < y.length; i++) y2 += y[i]! * y[i]!;
  y2 /= scale * scale;
  const xy = xty(rt, sh, yPtr, b); // [r][j], INT8 units
  let cross = 0;
  for (let i = 0; i < CELLS; i++) cross += w[i]! * xy[i]!;
  cross /= scale;
  const total = Math.sqrt(Math.max(0, y2 - 2 * cross + yfp2));
  if (!full) return { norms: { total: total / Math.sqrt(yfp2), linear: NaN, residual: NaN } };
  // Ŵ rows = (XᵀX)⁻¹ (Xᵀy)_r, with the f32 kernel (XᵀX is symmetric).
  const xyf = rt.f32(b["f32a"]!, CELLS);
  for (let i = 0; i < CELLS; i++) xyf[i] = xy[i]! / scale;
  rt.kernels.mvmF32(sh.gramInv, N, N, b["f32a"]!, N, b["f32b"]!);
  const what = rt.f32(b["f32b"]!, CELLS).slice();
  let fit = 0;
  for (let i = 0; i < CELLS; i++) fit += what[i]! * (xy[i]! / scale);
  const d = rt.f32(b["f32a"]!, CELLS);
  for (let i = 0; i < CELLS; i++) d[i] = what[i]! - w[i]!;
  const dd = d.slice();
  const linear = Math.sqrt(Math.max(0, quadratic(rt, sh.gram, dd, b["f32a"]!, b["f32b"]!)));
  const residual = Math.sqrt(Math.max(0, y2 - fit));
  const norm = Math.sqrt(yfp2);
  const norms = { total: total / norm, linear: linear / norm, residual: residual / norm };
  if (!elementwise) return { norms, what };
  // Elementwise errors of the first inputs, in INT8 units, for Fig. 2b.
  const n = Math.min(HIST_INPUTS, sh.nInputs);
  const x = rt.i8(sh.x, n * N);
  const fp = new Float64Array(n * N);
  const lin = new Float64Array(n * N);
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < N; r++) {
      let a = 0;
      let c = 0;
      for (let j = 0; j < N; j++) {
        const xv = x[i * N + j]!;
        a += w[r * N + j]! * xv;
        c += what[r * N + j]! * xv;
      }
      fp[i * N + r] = a * scale;
      lin[i * N + r] = c * scale;
    }
  }
  const hist = {
    total: histogram((i) => y[i]! - fp[i]!, n * N),
    linear: histogram((i) => lin[i]! - fp[i]!, n * N),
    residual: histogram((i) => y[i]! - lin[i]!, n * N),
  };
  return { norms, what, hist };
}
