// The chip: 64 cores on an 8 × 8 grid, their state in the process's shared wasm memory:
// create, measure the devices, program (program-and-verify or the functional model) and
// read at a time after programming (`at(t)`, lib/chip/analog.ts). Running a whole network
// is the network part's: runOnChip(chip, net, inputs) in lib/network/run.ts.

import { ARCH, FIDELITIES, type Fidelity } from "./config.ts";
import { ADC_TABLE_BYTES, CoreAdcs } from "./adc.ts";
import { Core, DEVICE_PLANE_BYTES, READ_PLANE_BYTES } from "./core.ts";
import { ArgumentError, intInRange, knownKeys, oneOf, seedToBigInt } from "../runtime/validate.ts";
import { WasmRuntime } from "../runtime/wasm.ts";
import {
  MEASURE_BYTES, measureDevices, summariseDevices, type CoreDeviceMeasurement, type DeviceMeasurement, type MeasureBuffers,
} from "./devices.ts";
import { coreDeviceStats } from "./pcm-params.ts";
import { checkThreads, defaultThreads, mapTasks } from "../runtime/pool.ts";
import {
  PROGRAM_BYTES, prepareProgram, programCoreState, type CoreProgramResult, type ProgramBuffers, type ProgrammedCore,
} from "./program.ts";
import { coreTargets, padWeights, parseScheme, type Scheme } from "./targets.ts";
import { ChipAtTime } from "./analog.ts";
import type { AtOptions } from "./read-options.ts";
import { loadFit, type FunctionalFit } from "./functional-fit.ts";
import "./tasks.ts"; // the measure and program task kinds

/** Options of `chip.program` and `chip.programAll`; an unknown key throws UnknownOptionError. */
export interface ProgramOptions {
  /** 'odp', 'tdp' (default) or 'tdp-maxfill'. */
  scheme?: Scheme;
  /** Worker threads for whole-chip work (programAll); 1 runs inline. Default: all cores. */
  threads?: number;
  /** Wmax of Eq. 1, in weight units; default the largest |weight| of the core. Must be \> 0 and ≥ max |w|. */
  wmax?: number;
  /** Rows of `weights` (row-major), 1..256; default 256. Smaller matrices are zero-filled. */
  rows?: number;
  /** Columns of `weights`, 1..256; default 256. */
  cols?: number;
  /** programAll: program cores 0..cores−1 only (default all 64). */
  cores?: number;
}
const PROGRAM_KEYS = ["scheme", "wmax", "rows", "cols", "threads", "cores"] as const;

/** What `chip.programAll` did: per-core results and chip-wide summaries. */
export interface ChipProgramResult {
  /** The weight-programming scheme used. */
  scheme: Scheme;
  /** The chip's seed, as a decimal string. */
  seed: string;
  /** Per core: the Gmax used, ADC counts. */
  gmax: number[];
  /** Per core: unit-cell yield, percent (Fig. 2a criterion; functional fidelity: the fit's). */
  yield: number[];
  /** Fraction of iterated devices that converged within the margin, over all cores. */
  converged: number;
  /** Mean pulses per iterated device, over all cores. */
  iterations: number;
  /** Chip time to program every core, cores in parallel (each has its own FSM and IDACs), s. */
  programmingTimeS: number;
  /** The same, cores one after another, s. */
  programmingTimeSerialS: number;
  /** Per programmed core, in core order. */
  cores: CoreProgramResult[];
}

/** Options of `Chip.create`; an unknown key throws UnknownOptionError. */
export interface ChipOptions {
  /** Seed of every random draw of this chip (device statistics, noise). Default 1. */
  seed?: number | bigint;
  /** 'physical' (devices, program-and-verify, ADC curves) or 'functional' (the paper's
   * Methods model). Default 'physical'. */
  fidelity?: Fidelity;
}

const OPTION_KEYS = ["seed", "fidelity"] as const;
/** The seed of `Chip.create()` without one (the chip of the README's figures). */
export const DEFAULT_SEED = 1;

/**
 * A simulated HERMES chip: 64 cores of 256 × 256 PCM unit cells on an 8 × 8 grid, their state
 * in the process's shared wasm memory. Create with `Chip.create`, program cores (`program`,
 * `programAll`), read them at a time after programming (`at(t)`), and `dispose()` when done
 * (the memory is not garbage-collected); using a disposed chip throws.
 */
export class Chip {
  /** Seed of every random draw of this chip (0..2^64 − 1). */
  readonly seed: bigint;
  /** 'physical' or 'functional', fixed at creation. */
  readonly fidelity: Fidelity;
  /** The 64 cores, by index (row-major over the 8 × 8 grid). */
  readonly cores: readonly Core[];
  private readonly rt: WasmRuntime;
  private readonly regionPtr: number;
  private isDisposed = false;
  private measured: DeviceMeasurement | undefined;
  private readonly programmed = new Map<number, ProgrammedCore>();

  private constructor(options: ChipOptions) {
    this.seed = seedToBigInt(options.seed ?? DEFAULT_SEED, "seed");
    this.fidelity = oneOf(options.fidelity ?? "physical", FIDELITIES, "fidelity");
    this.rt = WasmRuntime.get();
    const n = ARCH.cores.value;
    const physical = this.fidelity === "physical";
    const devBytes = physical ? DEVICE_PLANE_BYTES : 0;
    const adcBytes = physical ? ADC_TABLE_BYTES : 0;
    const perCore = devBytes + READ_PLANE_BYTES + adcBytes;
    this.regionPtr = this.rt.alloc(perCore * n);
    const cores: Core[] = [];
    for (let i = 0; i < n; i++) {
      const base = this.regionPtr + i * perCore;
      let adcs: CoreAdcs | undefined;
      if (physical) {
        // The ADC calibration run at chip creation (paper §II): independent of weights.
        adcs = new CoreAdcs(this.seed, i, base + devBytes + READ_PLANE_BYTES);
        adcs.draw();
        adcs.calibrate();
      }
      cores.push(new Core(i, this.rt, devBytes ? base : 0, base + devBytes, adcs));
    }
    this.cores = cores;
  }

  /**
   * Create a chip: about 73 MiB of the shared wasm memory at physical fidelity (device
   * planes, read planes, ADC tables), 8 MiB at functional fidelity.
   * @throws {@link UnknownOptionError} on an unknown option; {@link ArgumentError} on a bad
   *   seed or fidelity; TypeError when `options` is not an object;
   *   {@link WasmMemoryExhaustedError} when the 2 GiB shared memory is full
   */
  static create(options: ChipOptions = {}): Chip {
    if (options === null || typeof options !== "object") {
      throw new TypeError(`Chip.create options must be an object, got ${String(options)}`);
    }
    knownKeys(options, OPTION_KEYS, "Chip.create options");
    return new Chip(options);
  }

  /** Core by index 0..63 (row-major over the 8 × 8 grid). @throws {@link ArgumentError} on another index */
  core(index: number): Core {
    this.assertLive();
    return this.cores[intInRange(index, 0, this.cores.length - 1, "core index")]!;
  }

  /** Core by 0-based grid position (row, col 0..7). @throws {@link ArgumentError} on a position off the grid */
  coreAt(row: number, col: number): Core {
    intInRange(row, 0, ARCH.gridRows.value - 1, "row");
    intInRange(col, 0, ARCH.gridCols.value - 1, "col");
    return this.core(row * ARCH.gridCols.value + col);
  }

  /**
   * The Fig. 2a measurement: per-core SET/RESET distributions and yield, and the ODP/TDP
   * Gmax derived from them. Measured once (about 1.4 s for 64 cores on one thread), then
   * cached; `measure` does the same on worker threads.
   */
  devices(onCore?: (done: number, total: number) => void): DeviceMeasurement {
    this.assertLive();
    this.measured ??= measureDevices(this.seed, onCore);
    return this.measured;
  }

  /** `devices()` on `threads` worker threads (default: all machine cores; same result for any thread count). @throws {@link ArgumentError} on a bad thread count */
  async measure(options: { threads?: number; onCore?: (done: number, total: number) => void } = {}): Promise<DeviceMeasurement> {
    this.assertLive();
    if (this.measured) return this.measured;
    const threads = checkThreads(options.threads ?? defaultThreads());
    const stats = coreDeviceStats(this.seed, this.cores.length);
    const cores = await mapTasks<keyof typeof MEASURE_BYTES, CoreDeviceMeasurement>(
      this.cores.length,
      threads,
      MEASURE_BYTES,
      (core, buf) => ({ kind: "measure", seed: this.seed, core, stats: stats[core]!, buf: buf as MeasureBuffers }),
      options.onCore,
    );
    this.measured = summariseDevices(cores, stats);
    return this.measured;
  }

  /**
   * Program one core's weights by iterative program-and-verify (physical fidelity) or record
   * Eq. 1's mapping (functional), on the calling thread.
   * @param core - core index 0..63
   * @param weights - rows × cols weights, row-major (default 256 × 256), finite
   * @throws {@link ArgumentError} on a bad core, weights or option value;
   *   {@link UnknownOptionError} on an unknown option
   */
  program(core: number, weights: ArrayLike<number>, options: ProgramOptions = {}): CoreProgramResult {
    this.assertLive();
    const c = this.core(core);
    knownKeys(options, PROGRAM_KEYS, "program options");
    const scheme = parseScheme(options.scheme ?? "tdp");
    const padded = padWeights(weights, options.rows, options.cols);
    if (this.fidelity !== "physical") return this.programFunctional(c.index, padded, scheme, options.wmax);
    const dev = this.devices();
    const { result, programmed } = programCoreState(
      this.seed, c.index, dev.stats[c.index]!, dev.cores[c.index]!.yieldPct, c.devicesPtr, padded, scheme, dev.odpGmax, options.wmax,
    );
    this.programmed.set(c.index, programmed);
    return result;
  }

  /**
   * Program every core, on `options.threads` worker threads (default: all machine cores;
   * the result does not depend on it). `weights(core)` gives a core's matrix (or pass an
   * array of 64 matrices). `onCore` reports progress.
   * @throws {@link ArgumentError} on bad weights or option values; {@link UnknownOptionError} on an unknown option
   */
  async programAll(
    weights: ArrayLike<number>[] | ((core: number) => ArrayLike<number>),
    options: ProgramOptions = {},
    onCore?: (done: number, total: number) => void,
  ): Promise<ChipProgramResult> {
    this.assertLive();
    knownKeys(options, PROGRAM_KEYS, "program options");
    if (Array.isArray(weights) && weights.length !== this.cores.length) {
      throw new ArgumentError("weights", `an array of ${this.cores.length} matrices (one per core) or a function of the core index`, weights);
    }
    const scheme = parseScheme(options.scheme ?? "tdp");
    if (this.fidelity !== "physical") {
      const get0 = typeof weights === "function" ? weights : (i: number) => weights[i]!;
      const cores = this.cores.map((c) => {
        const r = this.programFunctional(c.index, padWeights(get0(c.index), options.rows, options.cols, `weights(${c.index})`), scheme, options.wmax);
        onCore?.(c.index + 1, this.cores.length);
        return r;
      });
      const fit = this.functionalFit();
      return {
        scheme, seed: this.seed.toString(), gmax: cores.map((r) => r.gmax), yield: fit.schemes[scheme]?.yield ?? cores.map(() => 100),
        converged: 1, iterations: 0, programmingTimeS: 0, programmingTimeSerialS: 0, cores,
      };
    }
    const threads = checkThreads(options.threads ?? defaultThreads());
    const get = typeof weights === "function" ? weights : (i: number) => weights[i]!;
    const nCores = intInRange(options.cores ?? this.cores.length, 1, this.cores.length, "cores");
    const dev = await this.measure({ threads });
    // Targets are prepared per task on the main thread, overlapping the workers' kernels.
    const prepared: ReturnType<typeof prepareProgram>[] = [];
    const rt = WasmRuntime.get();
    const cores = await mapTasks<keyof typeof PROGRAM_BYTES, CoreProgramResult>(
      nCores,
      threads,
      PROGRAM_BYTES,
      (i, buf) => {
        const c = this.cores[i]!;
        const padded = padWeights(get(i), options.rows, options.cols, `weights(${i})`);
        const p = prepareProgram(
          { seed: this.seed, core: i, stats: dev.stats[i]!, yieldPct: dev.cores[i]!.yieldPct, statePtr: c.devicesPtr },
          padded, scheme, dev.odpGmax, options.wmax,
        );
        prepared[i] = p;
        rt.f32(buf["targets"], p.programmed.targets.length).set(p.programmed.targets);
        return { kind: "program", task: p.task, buf: buf as ProgramBuffers };
      },
      onCore,
    );
    prepared.forEach((p, i) => this.programmed.set(i, p.programmed));
    const jobs = cores.reduce((s, r) => s + r.jobs, 0);
    const wsum = (f: (r: CoreProgramResult) => number) =>
      jobs ? cores.reduce((s, r) => s + f(r) * r.jobs, 0) / jobs : 0;
    return {
      scheme,
      seed: this.seed.toString(),
      gmax: cores.map((r) => r.gmax),
      yield: dev.cores.slice(0, nCores).map((m) => m.yieldPct),
      converged: jobs ? wsum((r) => r.converged) : 1,
      iterations: wsum((r) => r.iterationsMean),
      programmingTimeS: Math.max(...cores.map((r) => r.programmingTimeS)),
      programmingTimeSerialS: cores.reduce((s, r) => s + r.programmingTimeS, 0),
      cores,
    };
  }

  /**
   * Functional fidelity: no devices; the core records Eq. 1's mapping (Gmax from the
   * functional fit's ODP Gmax, the scheme and the bit-line current cap). The device
   * statistics of the result are those of no programming (0 jobs, 0 pulses, 0 s).
   */
  private programFunctional(core: number, weights: Float32Array, scheme: Scheme, wmax?: number): CoreProgramResult {
    const fit = this.functionalFit();
    const t = coreTargets(weights, scheme, fit.odpGmax, wmax);
    this.programmed.set(core, { scheme, weights, targets: t.targets, gmax: t.gmax, wmax: t.wmax });
    const none = { p50: 0, p90: 0, p99: 0, rms: 0 };
    return {
      core, scheme, gmax: t.gmax, capped: t.capped, wmax: t.wmax, jobs: 0, converged: 1, iterationsMean: 0,
      iterationsHistogram: new Array<number>(31).fill(0), error: none, programmingTimeS: 0,
      yieldPct: fit.schemes[scheme]?.yield[core] ?? 100,
    };
  }

  private fit: FunctionalFit | undefined;
  private functionalFit(): FunctionalFit {
    return (this.fit ??= loadFit());
  }

  /**
   * The chip as read `t` seconds after programming (drift, noise, compensation): MVMs on
   * programmed cores at this chip's fidelity. Dispose the view when done.
   * @param t - time since programming, s (≥ 0, finite)
   * @throws {@link ArgumentError} on a bad `t` or option value; {@link UnknownOptionError} on an unknown option; Error when the chip is disposed
   */
  at(t: number, options: AtOptions = {}): ChipAtTime {
    this.assertLive();
    return new ChipAtTime(this, t, options);
  }

  /** What was programmed on a core (weights, targets, Gmax), or undefined. */
  programmedCore(core: number): ProgrammedCore | undefined {
    return this.programmed.get(this.core(core).index);
  }

  /** Bytes of wasm memory this chip holds. */
  get bytes(): number {
    const physical = this.fidelity === "physical";
    return ((physical ? DEVICE_PLANE_BYTES + ADC_TABLE_BYTES : 0) + READ_PLANE_BYTES) * this.cores.length;
  }

  /** Whether `dispose()` was called. */
  get disposed(): boolean {
    return this.isDisposed;
  }

  /** Release the chip's memory. Using it afterwards throws. Idempotent. */
  dispose(): void {
    if (this.isDisposed) return;
    this.isDisposed = true;
    this.rt.free(this.regionPtr);
  }

  private assertLive(): void {
    if (this.isDisposed) throw new Error("this chip has been disposed");
  }
}
