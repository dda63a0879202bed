// `chip.at(t)`: the chip as read t seconds after programming, for MVMs on programmed cores
// at either fidelity, one API:
//   physical   — drifted conductances and 1/f noise (assembly/drift.ts), PWM phases,
//                bit-line charge, read noise, leakage, CCO ADC counters, FP16 LDPU
//                (assembly/readout.ts), global drift compensation in the LDPU gain;
//   functional — the paper's Methods model: weights with the fitted per-core Gaussian
//                noise at t (lib/chip/functional-fit.ts), exact dot products, 12-bit ADC
//                counts, the same LDPU.
// Inputs are INT8 (the PWM's 8-bit signed durations, 1 ns/LSB); outputs are the LDPU's
// INT8 values. With the default output scale, INT8 127 stands for 4 × the rms of W·x for
// uniform full-range inputs; pass `outputScale` (INT8 per unit of W·x) to choose another.

import { MVM } from "./config.ts";
import { checkTime, DRIFT_PARAM_COUNT, driftParams, timeKey, writeTimes } from "./drift.ts";
import { fitAt, loadFit, type FunctionalFit } from "./functional-fit.ts";
import { functionalMvm } from "./functional-mvm.ts";
import { checkThreads, defaultThreads, mapTasks } from "../runtime/pool.ts";
import {
  CHUNK, READOUT_BYTES, countsPerWeightUnit, driftCalibrationInputs, driftCalibrationSum, loadPlanes, parsePhases, readTaskInto,
  type Phases, type PlaneScales, type ReadTask, type ReadTemplate, type ReadoutBuffers,
} from "./readout.ts";
import type { Scheme } from "./targets.ts";
import { ArgumentError, knownKeys } from "../runtime/validate.ts";
import { WasmRuntime } from "../runtime/wasm.ts";
import { AT_KEYS, MVM_KEYS, type AtOptions, type MvmOptions, type MvmResult, type ReadableChip } from "./read-options.ts";
import "./tasks.ts"; // the read task kind

const N = 256;
const CELLS = N * N;
/** The functional LDPU table (8,191 bytes), then its key as f64: gain, flags, 1 (written), formula K or 0. */


interface CoreState {
  planes: number; // physical: the int16 Ĝ, Ŝ, V̂ planes at t; functional: int16 noisy weights (+ packed copy)
  /** Physical: row sums S± of the planes (256 × 2 f64). */
  rowSums?: number;
  scales: PlaneScales;
  /** The drift compensation factor (measured, or the fit's). */
  alpha: number;
  /** What multiplies the nominal LDPU gain: physical α with compensation, 1 without;
   * functional (the fit's noise is measured after compensation) 1 with, 1/α without. */
  gainFactor: number;
}


/**
 * The chip as read `t` seconds after programming (from `chip.at(t)`): drift, read noise and
 * global drift compensation applied on each core's first read, then cached. `mvm` runs on the
 * calling thread, `mvmParallel` on worker threads (same bits). Reading a core that was never
 * programmed throws. Call `dispose()` to free the cached drifted state.
 */
export class ChipAtTime {
  /** Time since programming, s (≥ 0, finite). */
  readonly t: number;
  /** Read mode: 4 (4-phase) or 1 (1-phase); physical fidelity only. Default 4. */
  readonly phases: Phases;
  /** Whether global drift compensation scales the LDPU gain (default true). */
  readonly compensation: boolean;
  /** Whether read noise is applied (default true; physical fidelity only). */
  readonly noise: boolean;
  private readonly rt = WasmRuntime.get();
  private readonly cores = new Map<number, CoreState>();
  private buf: ReadoutBuffers | undefined;
  private fit: FunctionalFit | undefined;
  private disposed = false;

  /**
   * Prefer `chip.at(t, options)`.
   * @param chip - the chip to read
   * @param t - time since programming, s (≥ 0, finite)
   * @throws {@link ArgumentError} on a bad `t` or option value; {@link UnknownOptionError} on an unknown option
   */
  constructor(
    private readonly chip: ReadableChip,
    t: number,
    options: AtOptions = {},
  ) {
    this.t = checkTime(t, "t");
    knownKeys(options, AT_KEYS, "at options");
    this.phases = parsePhases(options.phases ?? MVM.phases.value, "phases");
    this.compensation = options.compensation ?? true;
    this.noise = options.noise ?? true;
    if (typeof this.compensation !== "boolean") throw new ArgumentError("compensation", "true or false", this.compensation);
    if (typeof this.noise !== "boolean") throw new ArgumentError("noise", "true or false", this.noise);
    this.fit = options.fit;
    this.draw = options.draw ?? 0;
    if (!Number.isInteger(this.draw) || this.draw < 0 || this.draw > 0xffff) throw new ArgumentError("draw", "an integer in 0..65535", this.draw);
  }
  /** The independent repetition 0..65535 this view reads (default 0). */
  readonly draw: number;

  /**
   * MVMs of `batch` INT8 input vectors (x: batch × 256, values −128..127) on a programmed core,
   * on the calling thread.
   * @param core - core index 0..63 (a programmed core)
   * @param x - inputs, batch × 256 row-major, integers −128..127
   * @throws {@link ArgumentError} when the core is not programmed, on bad inputs or option
   *   values; {@link UnknownOptionError} on an unknown option; Error when the view is disposed
   */
  mvm(core: number, x: Int8Array | ArrayLike<number>, options: MvmOptions = {}): MvmResult {
    const p = this.prepare(core, x, options);
    const rt = this.rt;
    const buf = (this.buf ??= scratchBuffers(rt));
    if (p.task.functionalCountsPerUnit !== undefined && !options.rx && !options.residual) {
      const y = functionalMvm(this.rt, p.task, p.x, p.batch, buf);
      if (y) return { y, outputScale: p.outputScale, alpha: p.alpha };
    }
    const xPtr = rt.scratch("at.x", CHUNK * N);
    const outPtr = rt.scratch("at.y", CHUNK * N);
    const countsPtr = rt.scratch("at.counts", CHUNK * N * 4);
    const rxPtr = options.rx ? rt.scratch("at.rx", CHUNK * N) : 0;
    const resPtr = options.residual ? rt.scratch("at.res", CHUNK * N) : 0;
    const y = new Int8Array(p.batch * N);
    const counts = options.counts ? new Uint16Array(p.batch * N * 2) : undefined;
    for (let b0 = 0; b0 < p.batch; b0 += CHUNK) {
      const n = Math.min(CHUNK, p.batch - b0);
      rt.i8(xPtr, n * N).set(p.x.subarray(b0 * N, (b0 + n) * N));
      if (rxPtr) rt.i8(rxPtr, n * N).set(options.rx!.subarray(b0 * N, (b0 + n) * N));
      if (resPtr) rt.i8(resPtr, n * N).set(options.residual!.subarray(b0 * N, (b0 + n) * N));
      readTaskInto(rt, { ...p.task, xPtr, n, firstInput: p.first + b0, outPtr, countsPtr: counts ? countsPtr : 0, rxPtr, resPtr, buf });
      y.set(rt.i8(outPtr, n * N), b0 * N);
      if (counts) counts.set(rt.u16(countsPtr, n * N * 2), b0 * N * 2);
    }
    return { y, outputScale: p.outputScale, alpha: p.alpha, ...(counts ? { counts } : {}) };
  }

  /**
   * `mvm` on `threads` worker threads (default: all cores), the batch sharded in slices
   * of at least 256 inputs: the same bits as `mvm` for any thread count.
   * @throws as `mvm`, and {@link ArgumentError} on a bad `threads` (1..256)
   */
  async mvmParallel(core: number, x: Int8Array | ArrayLike<number>, options: MvmOptions & { threads?: number } = {}): Promise<MvmResult> {
    const { threads: th, ...rest } = options;
    const threads = checkThreads(th ?? defaultThreads());
    const p = this.prepare(core, x, rest);
    const rt = this.rt;
    const slice = Math.max(CHUNK, Math.ceil(p.batch / (4 * threads) / CHUNK) * CHUNK);
    const slices = Math.ceil(p.batch / slice);
    const xPtr = rt.alloc(p.batch * N);
    const outPtr = rt.alloc(p.batch * N);
    const countsPtr = rest.counts ? rt.alloc(p.batch * N * 4) : 0;
    const rxPtr = rest.rx ? rt.alloc(p.batch * N) : 0;
    const resPtr = rest.residual ? rt.alloc(p.batch * N) : 0;
    try {
      rt.i8(xPtr, p.batch * N).set(p.x);
      if (rxPtr) rt.i8(rxPtr, p.batch * N).set(rest.rx!);
      if (resPtr) rt.i8(resPtr, p.batch * N).set(rest.residual!);
      await mapTasks<keyof typeof READOUT_BYTES, number>(slices, threads, READOUT_BYTES, (i, buf) => {
        const b0 = i * slice;
        const n = Math.min(slice, p.batch - b0);
        return {
          kind: "read",
          task: {
            ...p.task, xPtr: xPtr + b0 * N, n, firstInput: p.first + b0, outPtr: outPtr + b0 * N,
            countsPtr: countsPtr ? countsPtr + b0 * N * 4 : 0, buf: buf as ReadoutBuffers,
            rxPtr: rxPtr ? rxPtr + b0 * N : 0, resPtr: resPtr ? resPtr + b0 * N : 0,
          },
        };
      });
      const y = rt.i8(outPtr, p.batch * N).slice();
      const counts = countsPtr ? rt.u16(countsPtr, p.batch * N * 2).slice() : undefined;
      return { y, outputScale: p.outputScale, alpha: p.alpha, ...(counts ? { counts } : {}) };
    } finally {
      rt.free(xPtr);
      rt.free(outPtr);
      if (countsPtr) rt.free(countsPtr);
      if (rxPtr) rt.free(rxPtr);
      if (resPtr) rt.free(resPtr);
    }
  }

  /** Check the arguments, make the core's state at t, and describe the read. */
  private prepare(core: number, x: Int8Array | ArrayLike<number>, options: MvmOptions) {
    if (this.disposed) throw new Error("this chip view has been disposed");
    knownKeys(options, MVM_KEYS, "mvm options");
    const c = this.chip.core(core);
    const pc = this.chip.programmedCore(c.index);
    if (!pc) throw new ArgumentError("core", "a programmed core (call chip.program or chip.programAll first)", core);
    if (!x || typeof (x as ArrayLike<number>).length !== "number" || x.length === 0 || x.length % N !== 0) {
      throw new ArgumentError("x", `INT8 inputs, a multiple of ${N} values (batch × ${N})`, x);
    }
    if (!(x instanceof Int8Array)) {
      for (let i = 0; i < x.length; i++) {
        const v = x[i]!;
        if (!Number.isInteger(v) || v < -128 || v > 127) throw new ArgumentError(`x[${i}]`, "an integer in −128..127 (8-bit input)", v);
      }
    }
    const first = options.firstInput ?? 0;
    if (!Number.isInteger(first) || first < 0 || first >= 2 ** 30) throw new ArgumentError("firstInput", "an integer in 0..2^30 − 1", first);
    const outputScale = options.outputScale ?? this.defaultScale(c.index, pc.weights);
    if (!(outputScale > 0) || !Number.isFinite(outputScale)) throw new ArgumentError("outputScale", "a finite number > 0", outputScale);
    const functional = this.chip.fidelity === "functional";
    if (options.counts && functional) throw new ArgumentError("counts", "physical fidelity (the functional model has no counters)", true);
    for (const [name, v] of [["rx", options.rx], ["residual", options.residual]] as const) {
      if (v !== undefined && (!(v instanceof Int8Array) || v.length !== x.length)) {
        throw new ArgumentError(name, `an Int8Array of ${x.length} values (batch × ${N}, like x)`, v);
      }
    }
    const rows = options.rows ?? N;
    if (!Number.isInteger(rows) || rows < 1 || rows > N) throw new ArgumentError("rows", `an integer in 1..${N} (rows to read)`, options.rows);
    const { flags = 0, ...ldpu } = options.ldpu ?? {};
    if (!Number.isInteger(flags) || flags < 0 || flags > 7) throw new ArgumentError("ldpu.flags", "0..7 (ReLU 1: before the RX add, 2: after it, 4: after the residual add)", flags);
    const st = this.state(c.index, pc.scheme, pc.weights, pc.wmax);
    const gain = ((outputScale * pc.wmax) / countsPerWeightUnit(pc.gmax)) * st.gainFactor;
    const task: ReadTemplate = {
      read: { ...this.readOptions(c.index), ldpuFlags: flags, ...(rows < N ? { rows } : {}) },
      ...(options.ldpu ? { ldpu } : {}),
      planes: st.planes,
      scales: st.scales,
      ...(st.rowSums ? { preloaded: { planes: st.planes, rowSums: st.rowSums } } : {}),
      gain,
      ...(functional ? { functionalCountsPerUnit: countsPerWeightUnit(pc.gmax) / pc.wmax / st.scales.qG } : {}),
    };
    const xi = x instanceof Int8Array ? x : Int8Array.from(x);
    return { task, x: xi, batch: x.length / N, first, outputScale, alpha: this.compensation ? st.alpha : 1 };
  }

  /** What `mvm` would read for `core` with `options`, without inputs: the read description
   * for executors that call readTaskInto on their own buffers (lib/network/run-exec.ts), in this
   * thread or a worker. Valid while this view is not disposed.
   * @internal */
  readTemplate(core: number, options: Omit<MvmOptions, "rx" | "residual" | "counts" | "firstInput"> = {}): ReadTemplate {
    return this.prepare(core, new Int8Array(N), options).task;
  }

  /** The drift compensation factor of a core (measured at first use; 1 means no drift). @throws {@link ArgumentError} when the core is not programmed */
  alpha(core: number): number {
    const pc = this.chip.programmedCore(this.chip.core(core).index);
    if (!pc) throw new ArgumentError("core", "a programmed core", core);
    return this.state(core, pc.scheme, pc.weights, pc.wmax).alpha;
  }

  /** Free the per-core read state (the chip itself is not touched). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const s of this.cores.values()) {
      this.rt.free(s.planes);
      if (s.rowSums) this.rt.free(s.rowSums);
    }
    this.cores.clear();
  }

  private readonly scales = new Map<number, { weights: Float32Array; scale: number }>();
  private defaultScale(core: number, weights: Float32Array): number {
    const have = this.scales.get(core);
    if (have?.weights === weights) return have.scale;
    const scale = defaultOutputScale(weights);
    this.scales.set(core, { weights, scale });
    return scale;
  }

  private readOptions(core: number) {
    const c = this.chip.core(core);
    return { seed: this.chip.seed, core, adcTable: c.adcs?.ptr ?? 0, timeKey: timeKey(this.t), phases: this.phases, noise: this.noise, draw: this.draw };
  }

  private state(core: number, scheme: Scheme, weights: Float32Array, wmax: number): CoreState {
    const have = this.cores.get(core);
    if (have) return have;
    const st = this.chip.fidelity === "functional" ? this.functionalState(core, scheme, weights, wmax) : this.physicalState(core);
    this.cores.set(core, st);
    return st;
  }

  private physicalState(core: number): CoreState {
    const rt = this.rt;
    const c = this.chip.core(core);
    // Planes at t = 0 (the compensation's reference) and at t, in one drift pass.
    const both = rt.alloc(6 * CELLS * 4);
    const planes = rt.alloc(3 * CELLS * 4);
    const quantised = rt.alloc(3 * CELLS * 2);
    const rowSums = rt.alloc(N * 16);
    try {
      const p = rt.scratch("at.drift", DRIFT_PARAM_COUNT * 8);
      const tp = rt.scratch("at.times", 32);
      const kp = rt.scratch("at.keys", 8);
      rt.f64(p, DRIFT_PARAM_COUNT).set(driftParams(this.chip.seed, core));
      writeTimes(rt, tp, kp, [0, this.t]);
      rt.kernels.readCellsAt(p, c.devicesPtr, tp, kp, 2, both, both + 2 * CELLS * 4, both + 4 * CELLS * 4);
      for (let q = 0; q < 3; q++) rt.u8(planes + q * CELLS * 4, CELLS * 4).set(rt.u8(both + (2 * q + 1) * CELLS * 4, CELLS * 4));
      const buf = (this.buf ??= scratchBuffers(rt));
      const cal = rt.scratch("at.cal", MVM.driftCalibrationInputs.value * N);
      const n = MVM.driftCalibrationInputs.value;
      rt.i8(cal, n * N).set(driftCalibrationInputs(this.chip.seed));
      const out = rt.scratch("at.caly", CHUNK * N);
      const counts = rt.scratch("at.calc", CHUNK * N * 4);
      const o = this.readOptions(core);
      const s0 = loadPlanes(rt, buf, both, both + 2 * CELLS * 4, both + 4 * CELLS * 4);
      const ref = driftCalibrationSum(rt, buf, s0, { ...o, timeKey: timeKey(0), noise: true }, cal, n, out, counts);
      const scales = loadPlanes(rt, buf, planes, planes + CELLS * 4, planes + 2 * CELLS * 4);
      const now = driftCalibrationSum(rt, buf, scales, { ...o, noise: true }, cal, n, out, counts);
      const alpha = now > 0 ? ref / now : 1;
      // Keep the quantised planes and row sums: later reads of this core skip loadPlanes.
      rt.u8(quantised, 3 * CELLS * 2).set(rt.u8(buf.planes, 3 * CELLS * 2));
      rt.u8(rowSums, N * 16).set(rt.u8(buf.rowSums, N * 16));
      return { planes: quantised, rowSums, scales, alpha, gainFactor: this.compensation ? alpha : 1 };
    } catch (e) {
      rt.free(quantised);
      rt.free(rowSums);
      throw e;
    } finally {
      rt.free(both);
      rt.free(planes);
    }
  }

  private functionalState(core: number, scheme: Scheme, weights: Float32Array, wmax: number): CoreState {
    const rt = this.rt;
    const fit = (this.fit ??= loadFit());
    const f = fit.schemes[scheme];
    if (!f) throw new ArgumentError("scheme", `one the functional fit holds (${Object.keys(fit.schemes).join(", ")})`, scheme);
    const { poly, alpha } = fitAt(f, core, Math.max(this.t, Number.MIN_VALUE));
    const w = rt.alloc(CELLS * 4);
    const noisy = rt.alloc(CELLS * 4);
    const p = rt.scratch("at.poly", 24);
    try {
      rt.f32(w, CELLS).set(weights);
      rt.f64(p, 3).set(poly);
      const seed = this.chip.seed;
      rt.kernels.functionalWeights(Number(seed & 0xffffffffn), Number((seed >> 32n) & 0xffffffffn), core, timeKey(this.t), w, CELLS, wmax, p, noisy, this.draw);
      const v = rt.f32(noisy, CELLS);
      let m = 0;
      for (let i = 0; i < CELLS; i++) m = Math.max(m, Math.abs(v[i]!));
      const qW = m > 0 ? 2 ** Math.min(20, Math.floor(Math.log2(32767 / m))) : 1;
      rt.kernels.quantisePlane(noisy, CELLS, qW, noisy); // int16 over the first half, in place
      rt.kernels.packI16Quads(noisy, N, N, noisy + CELLS * 2); // the packed copy after it
      // Without compensation the outputs shrink with the mean drift (1/α).
      return { planes: noisy, scales: { qG: qW, qV: 1 }, alpha, gainFactor: this.compensation ? 1 : 1 / alpha };
    } catch (e) {
      rt.free(noisy);
      throw e;
    } finally {
      rt.free(w);
    }
  }
}

function scratchBuffers(rt: WasmRuntime): ReadoutBuffers {
  return Object.fromEntries(Object.entries(READOUT_BYTES).map(([k, b]) => [k, rt.scratch(`at.${k}`, b)])) as ReadoutBuffers;
}

/** 127 / (4 · rms of W·x) for uniform full-range 8-bit inputs (E[x²] = 127²/3) and 70 % non-zero. */
export function defaultOutputScale(weights: Float32Array): number {
  let s = 0;
  for (let i = 0; i < weights.length; i++) s += weights[i]! * weights[i]!;
  const rms = Math.sqrt(((s / N) * 0.7 * 127 * 127) / 3);
  return rms > 0 ? 127 / (MVM.outputRangeSigma.value * rms) : 1;
}
