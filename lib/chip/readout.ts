// The physical MVM path of one core at one read time, over wasm buffers (so it runs the
// same inline or in a worker): quantise the core's G/S/V planes (assembly/drift.ts output)
// to int16, form the three dot products with the MVM kernel, and turn them into ADC counts
// and LDPU INT8 outputs (assembly/readout.ts, where the model is written out).

import { ADC, ARCH, MVM, PCM, PROGRAMMING } from "./config.ts";
import { adcParams } from "./adc.ts";
import { ArgumentError } from "../runtime/validate.ts";
import { CHIP_CORE, Purpose } from "./rng.ts";
import type { WasmRuntime } from "../runtime/wasm.ts";
import { DEFAULT_SPARSITY, sparseUniform } from "./workload.ts";

const CELLS = 65536;
const ROWS = 256;
/** Inputs per kernel pass: the dot products of a chunk stay in L2 (3 × 256 KiB). */
export const CHUNK = 256;
const R_COUNT = 13;

export const READOUT_BYTES = {
  params: R_COUNT * 8,
  adcParams: 14 * 8,
  planes: 3 * CELLS * 2,
  inputs: 3 * CHUNK * 512,
  phases: CHUNK * 8,
  dots: 3 * CHUNK * ROWS * 4,
  rowSums: ROWS * 16,
  ldpu: ROWS * 16,
  /** Per-row ADC and LDPU parameters decoded once per chunk, and scratch (assembly/readout.ts ROW_CACHE_BYTES). */
  rowCache: 19 * ROWS * 8 + 64 + 16 * 16,
  /** Two LDPU output tables (assembly/ldpu.ts ldpuTable), 8,192 bytes each, then the key
   * (gain, flags) of the first table as two f64 (NaN: none). */
  tables: 2 * 8192 + 16,
} as const;
export type ReadoutBuffers = Record<keyof typeof READOUT_BYTES, number>;

/** ADC LSBs per conductance count × ns: count → µS → µA at the read voltage, × ns = fC;
 * the ADC's full scale is 100 µA × 128 ns over 4095 LSBs. */
export const CHARGE_LSB_PER_COUNT_NS =
  (PCM.countConductanceUs.value * PCM.mvmReadVoltageV.value) /
  ((PROGRAMMING.adcMaxCurrentUa.value * MVM.fullScalePulseNs.value) / ADC.fullScaleCounts.value);

/** The read mode of an MVM (paper §II): 4 = the 4-phase mode (four reads, all with V−; the paper's experiments), 1 = the 1-phase mode. */
export type Phases = 1 | 4;
export function parsePhases(v: unknown, argument = "phases"): Phases {
  if (v === 1 || v === 4 || v === "1" || v === "4" || v === "1-phase" || v === "4-phase") return (Number(String(v)[0]) as Phases);
  throw new ArgumentError(argument, "1 or 4 (the 1-phase or the 4-phase read mode)", v);
}

export interface PlaneScales {
  /** Ĝ = round(G·qG), Ŝ = round(S·qG) (a power of two). */
  qG: number;
  /** V̂ = round(V·qV), V̂ ≤ 511 so Σ V̂·x² fits int32. */
  qV: number;
}

/** Quantise one core's G, S, V f32 planes (pointers) into the buffers; row sums S±. */
export function loadPlanes(rt: WasmRuntime, buf: ReadoutBuffers, gPtr: number, sPtr: number, vPtr: number): PlaneScales {
  const s = rt.f32(sPtr, CELLS);
  const g = rt.f32(gPtr, CELLS);
  const v = rt.f32(vPtr, CELLS);
  let maxS = 0;
  let maxV = 0;
  const sums = rt.f64(buf.rowSums, 2 * ROWS);
  for (let r = 0; r < ROWS; r++) {
    let sp = 0;
    let sn = 0;
    for (let c = r * 256, e = c + 256; c < e; c++) {
      const sc = s[c]!;
      const gc = g[c]!;
      if (sc > maxS) maxS = sc;
      if (v[c]! > maxV) maxV = v[c]!;
      sp += 0.5 * (sc + gc);
      sn += 0.5 * (sc - gc);
    }
    sums[2 * r] = sp;
    sums[2 * r + 1] = sn;
  }
  // S ≥ |G| for every cell, so qG bounds both planes; a power of two ≤ 2^10.
  const qG = maxS > 0 ? 2 ** Math.min(10, Math.floor(Math.log2(32767 / maxS))) : 1024;
  const qV = maxV > 0 ? 511 / maxV : 1;
  rt.kernels.quantisePlane(gPtr, CELLS, qG, buf.planes);
  rt.kernels.quantisePlane(sPtr, CELLS, qG, buf.planes + CELLS * 2);
  rt.kernels.quantisePlane(vPtr, CELLS, qV, buf.planes + CELLS * 4);
  return { qG, qV };
}

export interface ReadOptions {
  seed: bigint;
  core: number;
  /** The core's ADC table (assembly/adc.ts layout). */
  adcTable: number;
  /** The read time's noise key (lib/chip/drift.ts timeKey). */
  timeKey: number;
  phases: Phases;
  /** Read noise on (default) or off. */
  noise?: boolean;
  /** LDPU flags (assembly/ldpu.ts): 1 = ReLU before the RX add, 2 = after it, 4 = after the residual add. */
  ldpuFlags?: number;
  /** Independent repetition of the same reads (0..65535; default 0): its own read noise. */
  draw?: number;
  /** Rows to read (1..256, default 256): only rows 0..rows−1 are converted; the outputs
   * (and counts) of the others are 0. Their noise does not depend on this. */
  rows?: number;
}

/** LDPU row parameters beyond the ADC gain (assembly/ldpu.ts): per-channel affine scale A
 * and bias C (one value or 256), the scales of the two INT8 link inputs. */
export interface LdpuSettings {
  /** Affine scale A of the activation block (h = A·h + C): one value or one per output channel (256); default 1. Rounded to FP16. */
  scale?: number | ArrayLike<number>;
  /** Affine bias C, in INT8 output units: one value or one per output channel (256); default 0. Rounded to FP16. */
  bias?: number | ArrayLike<number>;
  /** Scale R of the INT8 partial sums from the link receiver (`rx`); default 1. Rounded to FP16. */
  rxScale?: number;
  /** Scale Q of the INT8 residual input (`residual`); default 1. Rounded to FP16. */
  residualScale?: number;
}

/** Write the LDPU row parameters: gain K (per count, as FP16), affine A (default 1), bias C
 * (default 0), link-input scales R and Q (default 1). */
export function setLdpuGain(rt: WasmRuntime, buf: ReadoutBuffers, gain: number | ArrayLike<number>, s: LdpuSettings = {}): void {
  const u = rt.u16(buf.ldpu, ROWS * 8);
  u.fill(0);
  const h = (x: number) => rt.kernels.f64ToF16(x);
  const at = (v: number | ArrayLike<number> | undefined, r: number, d: number) => (v === undefined ? d : typeof v === "number" ? v : (v[r] ?? d));
  const R = h(s.rxScale ?? 1);
  const Q = h(s.residualScale ?? 1);
  for (let r = 0; r < ROWS; r++) {
    u[r * 8] = h(at(gain, r, 0));
    u[r * 8 + 2] = h(at(s.scale, r, 1));
    u[r * 8 + 3] = h(at(s.bias, r, 0));
    u[r * 8 + 4] = R;
    u[r * 8 + 5] = Q;
  }
}

/**
 * Read `batch` (≤ CHUNK) INT8 inputs at `xPtr` (batch × 256) through the loaded planes:
 * INT8 outputs (batch × 256) at `outPtr`, counts (u16 pairs) at `countsPtr` if non-zero.
 * `firstInput` is the global index of the first input (it keys the read noise).
 */
export function readChunk(
  rt: WasmRuntime, buf: ReadoutBuffers, scales: PlaneScales, o: ReadOptions,
  xPtr: number, batch: number, firstInput: number, outPtr: number, countsPtr = 0, rxPtr = 0, resPtr = 0,
): void {
  if (batch < 1 || batch > CHUNK) throw new ArgumentError("batch", `1..${CHUNK} inputs per chunk`, batch);
  const k = rt.kernels;
  const x1 = buf.inputs;
  const x2 = x1 + CHUNK * 512;
  const x3 = x2 + CHUNK * 512;
  k.prepareInputs(xPtr, batch, 256, o.phases, x1, x2, x3, buf.phases);
  const dG = buf.dots;
  const d2 = dG + CHUNK * ROWS * 4;
  const dV = d2 + CHUNK * ROWS * 4;
  const rows = o.rows ?? ROWS;
  k.mvmI16(buf.planes, rows, 256, x1, batch, dG);
  k.mvmI16(buf.planes + CELLS * 2 * (o.phases === 4 ? 1 : 0), rows, 256, x2, batch, d2);
  const noise = o.noise ?? true;
  if (noise) k.mvmI16(buf.planes + CELLS * 4, rows, 256, x3, batch, dV);
  const p = rt.f64(buf.params, R_COUNT);
  p.set([
    Number(o.seed & 0xffffffffn), Number((o.seed >> 32n) & 0xffffffffn), o.core, o.timeKey, firstInput, o.phases,
    1 / scales.qG, 1 / scales.qV, CHARGE_LSB_PER_COUNT_NS, MVM.leakage.value, MVM.polarityAsymmetry.value, noise ? 1 : 0, o.draw ?? 0,
  ]);
  rt.f64(buf.adcParams, 14).set(adcParams(o.seed, o.core));
  k.readoutBatch(
    buf.params, rows, batch, dG, d2, dV, buf.phases, buf.rowSums, buf.adcParams, o.adcTable,
    buf.ldpu, o.ldpuFlags ?? 0, rxPtr, outPtr, countsPtr, buf.rowCache, resPtr, ROWS,
  );
}

/** Nominal ADC counts per unit of W·x (W in [−1, 1], x in INT8 steps) at a core's Gmax. */
export function countsPerWeightUnit(gmax: number): number {
  return gmax * ARCH.pwmLsbNs.value * CHARGE_LSB_PER_COUNT_NS;
}

/** The global drift compensation's measurement: Σ|pos − neg| over the calibration inputs
 * (INT8, n × 256 at calPtr), read with noise keyed after any workload input (index 2^30). */
export function driftCalibrationSum(
  rt: WasmRuntime, buf: ReadoutBuffers, scales: PlaneScales, o: ReadOptions, calPtr: number, n: number, outPtr: number, countsPtr: number,
): number {
  readChunk(rt, buf, scales, o, calPtr, n, 1 << 30, outPtr, countsPtr);
  const c = rt.u16(countsPtr, n * ROWS * 2);
  let s = 0;
  for (let i = 0; i < c.length; i += 2) s += Math.abs(c[i]! - c[i + 1]!);
  return s;
}

/** The calibration inputs of a chip (seed): MVM.driftCalibrationInputs sparse uniform INT8 vectors. */
export function driftCalibrationInputs(seed: bigint): Int8Array {
  const n = MVM.driftCalibrationInputs.value * 256;
  const u = sparseUniform(seed, CHIP_CORE, Purpose.DRIFT_CALIBRATION, n, DEFAULT_SPARSITY);
  return Int8Array.from(u, (v) => Math.round(127 * v));
}

/** One slice of a batch MVM (a pool task): everything by pointer into the shared memory. */
export interface ReadTask {
  read: ReadOptions;
  /** Physical: G, S, V f32 planes at t (3 × 65,536); functional: int16 noisy weights, then
   * their packed copy (assembly/mvm-packed.ts packI16Quads). */
  planes: number;
  scales: PlaneScales;
  /** Functional fidelity: ADC counts per unit of the int16 dot product. */
  functionalCountsPerUnit?: number;
  /** LDPU gain (INT8 per count). */
  gain: number;
  xPtr: number;
  n: number;
  firstInput: number;
  outPtr: number;
  /** u16 pairs per output, or 0. */
  countsPtr: number;
  /** Physical: the planes already quantised (and row sums) by loadPlanes, kept per core:
   * used instead of loading `planes` into the buffer. */
  preloaded?: { planes: number; rowSums: number };
  /** INT8 link inputs per output (partial sums, residual), or 0. */
  rxPtr?: number;
  resPtr?: number;
  ldpu?: LdpuSettings;
  buf: ReadoutBuffers;
}

const TABLE_KEY = 2 * 8192;

/** Mark the buffer's LDPU tables as not matching any parameters (after writing them directly). */
export function invalidateTables(rt: WasmRuntime, buf: ReadoutBuffers): void {
  rt.f64(buf.tables + TABLE_KEY, 2).fill(NaN);
}

/** Run a slice: INT8 outputs (and counts) for n inputs. */
/** A read without its inputs and buffers (ChipAtTime.readTemplate). */
export type ReadTemplate = Omit<ReadTask, "xPtr" | "n" | "firstInput" | "outPtr" | "countsPtr" | "buf">;

export function readTaskInto(rt: WasmRuntime, t: ReadTask): number {
  const buf = t.preloaded ? { ...t.buf, ...t.preloaded } : t.buf;
  const k = rt.kernels;
  setLdpuGain(rt, buf, t.gain, t.ldpu);
  const functional = t.functionalCountsPerUnit !== undefined;
  const links = !!(t.rxPtr || t.resPtr);
  if (!functional && !t.preloaded) loadPlanes(rt, buf, t.planes, t.planes + CELLS * 4, t.planes + 2 * CELLS * 4);
  // One count per output at functional fidelity: the LDPU is a table of the count, rebuilt
  // only when the LDPU parameters change (the key lives beside the table in the buffer;
  // whoever else writes the tables sets it to NaN: invalidateTables).
  let table = false;
  if (functional && !links) {
    const flags = t.read.ldpuFlags ?? 0;
    const key = rt.f64(buf.tables + TABLE_KEY, 2);
    table = !t.ldpu && key[0] === t.gain && key[1] === flags;
    if (!table) {
      table = k.ldpuTable(buf.ldpu, ROWS, flags, buf.tables) === 1;
      key[0] = table && !t.ldpu ? t.gain : NaN;
      key[1] = flags;
    }
  }
  for (let b0 = 0; b0 < t.n; b0 += CHUNK) {
    const n = Math.min(CHUNK, t.n - b0);
    const x = t.xPtr + b0 * 256;
    const out = t.outPtr + b0 * ROWS;
    const rx = t.rxPtr ? t.rxPtr + b0 * ROWS : 0;
    const res = t.resPtr ? t.resPtr + b0 * ROWS : 0;
    if (functional) {
      const rows = t.read.rows ?? ROWS;
      functionalChunk(rt, buf, t.planes, x, n, t.functionalCountsPerUnit!, table ? buf.tables : 0, t.read.ldpuFlags ?? 0, out, rx, res, rows);
      if (table && rows < ROWS) for (let b = 0; b < n; b++) rt.i8(out + b * ROWS + rows, ROWS - rows).fill(0);
    } else {
      readChunk(rt, buf, t.scales, t.read, x, n, t.firstInput + b0, out, t.countsPtr ? t.countsPtr + b0 * ROWS * 4 : 0, rx, res);
    }
  }
  return t.n;
}

/** The functional model on one chunk: int16 weights × widened inputs, 12-bit counts, LDPU
 * (through `table` when non-zero, all 256 rows; else with the loaded per-row LDPU
 * parameters, two rows at a time, only rows 0..rows−1 — the others' outputs are 0).
 * `planes` holds the int16 weights row-major, and at planes + 128 KiB their packI16Quads copy. */
export function functionalChunk(
  rt: WasmRuntime, buf: ReadoutBuffers, planes: number, x: number, n: number, countsPerUnit: number, table: number, flags: number, out: number,
  rx = 0, res = 0, rows = ROWS,
): void {
  const k = rt.kernels;
  k.widenInputs(x, n, buf.inputs);
  if (table) {
    k.mvmI16Packed(planes + CELLS * 2, ROWS, 256, buf.inputs, n, buf.dots);
    k.functionalReadoutTable(buf.dots, n * ROWS, countsPerUnit, table, out);
  } else {
    k.mvmI16Packed(planes + CELLS * 2, rows, 256, buf.inputs, n, buf.dots);
    k.functionalReadoutRows(buf.dots, rows, n, countsPerUnit, buf.ldpu, flags, out, rx, res, ROWS, buf.rowCache);
  }
}
