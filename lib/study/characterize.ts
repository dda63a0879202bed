// The chip characterisation of Fig. 2b–d (paper §IV): program uniform random weights with
// 30 % zeros on every core, send the same inputs (uniform, 30 % zeros, 8 bit) to every
// core at a series of read times, for ODP and TDP, and reduce to the paper's metrics.

import { createHash } from "node:crypto";
import { ARCH, FIDELITIES, MVM, type Fidelity } from "../chip/config.ts";
import { fitAt, loadFit, type FunctionalFit } from "../chip/functional-fit.ts";
import { coreTargets } from "../chip/targets.ts";
import { Chip } from "../chip/chip.ts";
import { HIST_BIN, HIST_RANGE, characterizeBytes, type CoreCharacterization, type SharedInputs } from "./characterize-core.ts";
import type { DeviceMeasurement } from "../chip/devices.ts";
import { checkTime } from "../chip/drift.ts";
import { equivalentBits, inverseSpd } from "./metrics.ts";
import { checkThreads, defaultThreads, mapTasks } from "../runtime/pool.ts";
import { driftCalibrationInputs, type Phases } from "../chip/readout.ts";
import { CHIP_CORE, Purpose } from "../chip/rng.ts";
import type { Scheme } from "../chip/targets.ts";
import { ArgumentError, intInRange, oneOf } from "../runtime/validate.ts";
import { WasmRuntime } from "../runtime/wasm.ts";
import { DEFAULT_SPARSITY, characterisationWeights, sparseUniform } from "../chip/workload.ts";
import { digitalEngineErrors } from "./digital-engine.ts";
import "./tasks.ts"; // the characterize task kind

const N = 256;
const CELLS = N * N;
/** Read times of `characterize` by default, seconds: 25 s, 1 h, 1 day, 1 week, 1 month (30 days). */
export const DEFAULT_TIMES = [25, 3600, 86400, 7 * 86400, 30 * 86400];

/** Options of `characterize` (the Fig. 2 job of `hermes-sim characterize`). */
export interface CharacterizeOptions {
  /** Seed of the chip and the workload (0..2^64 − 1). Default 1. */
  seed?: bigint;
  /** Weight-programming schemes to characterise, in order. Default ["odp", "tdp"]. */
  schemes?: Scheme[];
  /** Characterise cores 0..cores−1 (all 64 are programmed). Default 64. */
  cores?: number;
  /** Input vectors per core. Default 2,048. */
  inputs?: number;
  /** Read times, seconds since programming. Default 25 s, 1 h, 1 d, 1 w, 1 month. */
  times?: number[];
  /** Read mode: 4 (4-phase, default) or 1 (1-phase). */
  phases?: Phases;
  /** Worker threads, 1..256 (default: all machine cores); the result does not depend on it. */
  threads?: number;
  /** Cores whose digital-engine errors set the equivalent bits. Default min(cores, 8). */
  digitalCores?: number;
  /** Progress: `done` of `total` units of the stage named `stage` (e.g. "programming tdp"). */
  onProgress?: (stage: string, done: number, total: number) => void;
  /** 'physical' (default) or 'functional' (the Methods model with `fit`'s weight noise). */
  fidelity?: Fidelity;
  /** The functional model's fit; default lib/chip/functional-fit.json. */
  fit?: FunctionalFit;
  /** Receives the Fig. 2a device measurement (for reports). */
  onDevices?: (dev: DeviceMeasurement) => void;
}

/** The characterisation of one scheme: Gmax and yield per core, the Fig. 2b–d errors, equivalent bits and errors against time. */
export interface SchemeResult {
  /** The weight-programming scheme. */
  scheme: Scheme;
  /** Per core: the Gmax used, ADC counts. */
  gmax: number[];
  /** Per core: unit-cell yield, percent. */
  yield: number[];
  /** Mean over cores of the normalised 2-norms at the first time. */
  errors: { total: number; linear: number; residual: number };
  /** Fig. 2c at the first time, 11 bins of the target weight: `target` the bin centre (fraction of Wmax, −1..1), `error` std(W − Ŵ)/Wmax (mean over cores), `std` its spread over cores. */
  weightError: { target: number; error: number; std: number }[];
  /** Fig. 2d: the equivalent digital weight bits of ε_total at the first time (1..8). */
  equivalentBits: number;
  /** Per read time: `t` (s), the normalised errors and ε_total without drift compensation (means over cores), their standard deviations over cores, and the mean compensation factor `alpha`. */
  drift: { t: number; total: number; linear: number; residual: number; totalNoCompensation: number; std: { total: number; linear: number; residual: number; totalNoCompensation: number }; alpha: number }[];
  /** Fig. 2b: error histograms over all cores (INT8 units). */
  histogram: { binStart: number; binWidth: number; total: number[]; linear: number[]; residual: number[] };
  /** SHA-256 (hex) over the cores' digests: equal digests, equal INT8 outputs. */
  digest: string;
  /** Per characterised core. */
  cores: CoreCharacterization[];
}

/** What `characterize` returns (and `hermes-sim characterize --json` prints). */
export interface CharacterizeResult {
  /** The seed, decimal. */
  seed: string;
  /** Worker threads used (the result does not depend on it). */
  threads: number;
  /** Read mode. */
  phases: Phases;
  /** Fidelity. */
  fidelity: Fidelity;
  /** Input vectors per core. */
  inputs: number;
  /** Cores characterised. */
  cores: number;
  /** Read times, s since programming. */
  times: number[];
  /** Digital engine with N-bit weights (N = 1..8), 8-bit I/O: normalised ε_total. */
  digitalEngine: number[];
  /** Per scheme, in the order of `schemes`. */
  results: SchemeResult[];
  /** Yield per core and ODP/TDP Gmax of the device measurement (Fig. 2a). */
  devices: { odpGmax: number; tdpGmax: number };
  /** SHA-256 (hex) over the schemes' digests. */
  digest: string;
}

const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
const std = (a: number[]) => {
  const m = mean(a);
  return Math.sqrt(a.reduce((s, v) => s + (v - m) ** 2, 0) / Math.max(1, a.length - 1));
};

/** The shared inputs: INT8 workload and calibration vectors, Xᵀ chunks, XᵀX and its inverse. */
export function sharedInputs(rt: WasmRuntime, seed: bigint, nInputs: number): SharedInputs {
  const chunks = Math.ceil(nInputs / N);
  const calInputs = MVM.driftCalibrationInputs.value;
  const sh: SharedInputs = {
    x: rt.alloc(nInputs * N),
    xt: rt.alloc(chunks * CELLS * 2),
    gram: rt.alloc(CELLS * 4),
    gramInv: rt.alloc(CELLS * 4),
    cal: rt.alloc(calInputs * N),
    nInputs,
    calInputs,
  };
  const toInt8 = (u: Float32Array, ptr: number) => {
    const x = rt.i8(ptr, u.length);
    for (let i = 0; i < u.length; i++) x[i] = Math.round(127 * u[i]!);
  };
  toInt8(sparseUniform(seed, CHIP_CORE, Purpose.INPUTS, nInputs * N, DEFAULT_SPARSITY), sh.x);
  rt.i8(sh.cal, calInputs * N).set(driftCalibrationInputs(seed));
  const x = rt.i8(sh.x, nInputs * N);
  const xt = rt.i16(sh.xt, chunks * CELLS);
  xt.fill(0);
  for (let b = 0; b < nInputs; b++) {
    const c = Math.floor(b / N);
    for (let j = 0; j < N; j++) xt[c * CELLS + j * N + (b % N)] = x[b * N + j]!;
  }
  // XᵀX = Σ_chunks XT_c XT_cᵀ, exact in int32.
  const part = rt.alloc(CELLS * 4);
  const gram = new Float64Array(CELLS);
  try {
    for (let c = 0; c < chunks; c++) {
      rt.kernels.mvmI16(sh.xt + c * CELLS * 2, N, N, sh.xt + c * CELLS * 2, N, part);
      const p = rt.i32(part, CELLS);
      for (let i = 0; i < CELLS; i++) gram[i] = gram[i]! + p[i]!;
    }
  } finally {
    rt.free(part);
  }
  rt.f32(sh.gram, CELLS).set(gram);
  rt.f32(sh.gramInv, CELLS).set(inverseSpd(gram, N));
  return sh;
}

export function freeShared(rt: WasmRuntime, sh: SharedInputs): void {
  for (const p of [sh.x, sh.xt, sh.gram, sh.gramInv, sh.cal]) rt.free(p);
}

export function checkTimes(times: unknown, argument = "times"): number[] {
  if (!Array.isArray(times) || times.length === 0) throw new ArgumentError(argument, "a non-empty list of read times in seconds", times);
  times.forEach((t, i) => {
    checkTime(t, `${argument}[${i}]`);
    if (t <= 0) throw new ArgumentError(`${argument}[${i}]`, "a time > 0 s after programming", t);
  });
  return times as number[];
}

/**
 * Run the characterisation (Fig. 2). The result does not depend on `threads`.
 * @throws {@link ArgumentError} on an option out of range (named), a scheme the functional fit lacks
 */
export async function characterize(options: CharacterizeOptions = {}): Promise<CharacterizeResult> {
  const seed = options.seed ?? 1n;
  const schemes = options.schemes ?? ["odp", "tdp"];
  const nCores = intInRange(options.cores ?? ARCH.cores.value, 1, ARCH.cores.value, "cores");
  const nInputs = intInRange(options.inputs ?? 2048, N, 1 << 16, "inputs");
  const times = checkTimes(options.times ?? DEFAULT_TIMES);
  const phases = options.phases ?? (MVM.phases.value as Phases);
  const threads = checkThreads(options.threads ?? defaultThreads());
  const progress = options.onProgress ?? (() => {});
  const fidelity = oneOf(options.fidelity ?? "physical", FIDELITIES, "fidelity");
  if (fidelity === "functional") return characterizeFunctional({ seed, schemes, nCores, nInputs, times, phases, threads, progress, fit: options.fit ?? loadFit() });
  const rt = WasmRuntime.get();
  const chip = Chip.create({ seed });
  const sh = sharedInputs(rt, seed, nInputs);
  try {
    const dev = await chip.measure({ threads, onCore: (d, n) => progress("measuring devices", d, n) });
    options.onDevices?.(dev);
    const digitalCores = Math.min(options.digitalCores ?? 8, nCores);
    const engine = digitalEngineErrors(seed, sh, digitalCores, (d, n) => progress("digital engine", d, n));
    const results: SchemeResult[] = [];
    for (const scheme of schemes) {
      const prog = await chip.programAll((c) => characterisationWeights(seed, c), { scheme, threads, cores: nCores }, (d, n) => progress(`programming ${scheme}`, d, n));
      const cores = await mapTasks<string, CoreCharacterization>(
        nCores, threads, characterizeBytes(nInputs, times.length),
        (core, buf) => {
          const pc = chip.programmedCore(core)!;
          rt.f32(buf["weights"]!, CELLS).set(pc.weights);
          const c = chip.core(core);
          return {
            kind: "characterize",
            task: { seed, core, phases, times, gmax: pc.gmax, wmax: pc.wmax, devicesPtr: c.devicesPtr, adcTable: c.adcs!.ptr, shared: sh, buf },
          };
        },
        (d, n) => progress(`reading ${scheme}`, d, n),
      );
      results.push(summarise(scheme, prog.gmax, prog.yield, cores, engine));
    }
    const digest = createHash("sha256").update(results.map((r) => r.digest).join("")).digest("hex");
    return {
      seed: seed.toString(), threads, phases, fidelity, inputs: nInputs, cores: nCores, times, digitalEngine: engine,
      results, devices: { odpGmax: dev.odpGmax, tdpGmax: dev.tdpGmax }, digest,
    };
  } finally {
    freeShared(rt, sh);
    chip.dispose();
  }
}

interface Resolved {
  seed: bigint;
  schemes: Scheme[];
  nCores: number;
  nInputs: number;
  times: number[];
  phases: Phases;
  threads: number;
  progress: (stage: string, done: number, total: number) => void;
  fit: FunctionalFit;
}

/** The same workload through the functional model: no devices, the fit's weight noise. */
async function characterizeFunctional(o: Resolved): Promise<CharacterizeResult> {
  const rt = WasmRuntime.get();
  const sh = sharedInputs(rt, o.seed, o.nInputs);
  try {
    const engine = digitalEngineErrors(o.seed, sh, Math.min(8, o.nCores), (d, n) => o.progress("digital engine", d, n));
    const results: SchemeResult[] = [];
    for (const scheme of o.schemes) {
      const f = o.fit.schemes[scheme];
      if (!f) throw new ArgumentError("scheme", `one the functional fit holds (${Object.keys(o.fit.schemes).join(", ")})`, scheme);
      const weights = Array.from({ length: o.nCores }, (_, c) => characterisationWeights(o.seed, c));
      const targets = weights.map((w) => coreTargets(w, scheme, o.fit.odpGmax));
      const cores = await mapTasks<string, CoreCharacterization>(
        o.nCores, o.threads, characterizeBytes(o.nInputs, o.times.length),
        (core, buf) => {
          rt.f32(buf["weights"]!, CELLS).set(weights[core]!);
          return {
            kind: "characterize",
            task: {
              seed: o.seed, core, phases: o.phases, times: o.times, gmax: targets[core]!.gmax, wmax: targets[core]!.wmax,
              devicesPtr: 0, adcTable: 0, shared: sh, buf, functional: o.times.map((t) => fitAt(f, core, t)),
            },
          };
        },
        (d, n) => o.progress(`functional ${scheme}`, d, n),
      );
      results.push(summarise(scheme, targets.map((t) => t.gmax), f.yield, cores, engine));
    }
    const digest = createHash("sha256").update(results.map((r) => r.digest).join("")).digest("hex");
    return {
      seed: o.seed.toString(), threads: o.threads, phases: o.phases, fidelity: "functional", inputs: o.nInputs, cores: o.nCores,
      times: o.times, digitalEngine: engine, results, devices: { odpGmax: o.fit.odpGmax, tdpGmax: 2 * o.fit.odpGmax }, digest,
    };
  } finally {
    freeShared(rt, sh);
  }
}

/** The functional model's fit from a physical characterisation. */
export function functionalFit(r: CharacterizeResult): FunctionalFit {
  if (r.fidelity !== "physical") throw new ArgumentError("result", "a physical characterisation", r.fidelity);
  const schemes: FunctionalFit["schemes"] = {};
  for (const s of r.results) {
    schemes[s.scheme] = {
      times: r.times, gmax: s.gmax, yield: s.yield,
      cores: s.cores.map((c) => ({ poly: c.weightErrorFit, alpha: c.times.map((t) => t.alpha) })),
    };
  }
  return { kind: "hermes-sim-functional-fit", version: 1, seed: r.seed, phases: r.phases, odpGmax: r.devices.odpGmax, schemes };
}

function summarise(scheme: Scheme, gmax: number[], yieldPct: number[], cores: CoreCharacterization[], engine: number[]): SchemeResult {
  const first = cores.map((c) => c.times[0]!);
  const errors = { total: mean(first.map((e) => e.total)), linear: mean(first.map((e) => e.linear)), residual: mean(first.map((e) => e.residual)) };
  const bins = cores[0]!.weightError.length;
  const weightError = Array.from({ length: bins }, (_, b) => {
    const v = cores.map((c) => c.weightError[b]!.error).filter((e) => Number.isFinite(e));
    return { target: cores[0]!.weightError[b]!.target, error: v.length ? mean(v) : NaN, std: v.length > 1 ? std(v) : 0 };
  });
  const drift = cores[0]!.times.map((t0, k) => {
    const at = (f: (e: CoreCharacterization["times"][number]) => number) => cores.map((c) => f(c.times[k]!));
    return {
      t: t0.t,
      total: mean(at((e) => e.total)), linear: mean(at((e) => e.linear)), residual: mean(at((e) => e.residual)),
      totalNoCompensation: mean(at((e) => e.totalNoCompensation)),
      std: { total: std(at((e) => e.total)), linear: std(at((e) => e.linear)), residual: std(at((e) => e.residual)), totalNoCompensation: std(at((e) => e.totalNoCompensation)) },
      alpha: mean(at((e) => e.alpha)),
    };
  });
  const sumBins = (k: "total" | "linear" | "residual") => cores[0]!.hist[k].map((_, i) => cores.reduce((s, c) => s + c.hist[k][i]!, 0));
  return {
    scheme, gmax, yield: yieldPct, errors, weightError,
    equivalentBits: equivalentBits(errors.total, engine).bits,
    drift,
    histogram: { binStart: -HIST_RANGE, binWidth: HIST_BIN, total: sumBins("total"), linear: sumBins("linear"), residual: sumBins("residual") },
    digest: createHash("sha256").update(cores.map((c) => c.digest).join("")).digest("hex"),
    cores,
  };
}
