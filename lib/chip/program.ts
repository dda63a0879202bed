// Programming a core: targets (Eq. 1) → the program-and-verify kernel → statistics and
// the programming time the chip would take (Methods "Weight programming").

import { ARCH, PROGRAMMING } from "./config.ts";
import { packParams, type CoreDeviceStats } from "./pcm-params.ts";
import { coreTargets, type Scheme } from "./targets.ts";
import { WasmRuntime } from "../runtime/wasm.ts";

const N = ARCH.crossbarCols.value;
const CELLS = N * N;
const JOBS = 2 * CELLS;

/** Byte offsets inside the kernel's work area; mirrors assembly/program.ts. */
export const WORK = (() => {
  const ACTIVE = 0;
  const CURRENT = ACTIVE + JOBS * 4;
  const GOAL = CURRENT + JOBS * 4;
  const LAST_ERR = GOAL + JOBS * 4;
  const GSET = LAST_ERR + JOBS * 4;
  const PLANE = GSET + JOBS * 4;
  const ITERS = PLANE + JOBS;
  const STUCK = ITERS + JOBS;
  const SET = STUCK + JOBS;
  const FLOOR = SET + JOBS * 4;
  const MID = FLOOR + JOBS * 4;
  const WIDTH = MID + JOBS * 4;
  const SLOT = WIDTH + JOBS * 4; // one cell's four device properties, 4 × 5 f64
  const BYTES = SLOT + 160;
  return { ACTIVE, CURRENT, GOAL, LAST_ERR, GSET, PLANE, ITERS, STUCK, SET, FLOOR, MID, WIDTH, SLOT, BYTES } as const;
})();

/** A distribution of programming errors |G − target|, counts. */
export interface ErrorSummary {
  /** Median of |G − target| over non-zero targets, counts. */
  p50: number;
  /** 90th percentile, counts. */
  p90: number;
  /** 99th percentile, counts. */
  p99: number;
  /** Root mean square, counts (includes defective cells). */
  rms: number;
}

/** What programming one core did (`chip.program`; one entry of `programAll`'s `cores`). */
export interface CoreProgramResult {
  /** Core index 0..63. */
  core: number;
  /** The weight-programming scheme used. */
  scheme: Scheme;
  /** Gmax used, counts; `capped` when the bit-line current limit lowered it. */
  gmax: number;
  /** True when the bit-line current limit lowered Gmax below the scheme's. */
  capped: boolean;
  /** Wmax of Eq. 1 used, weight units (the option, or the largest |weight|). */
  wmax: number;
  /** Iterated devices (program-and-verify jobs; 0 at functional fidelity). */
  jobs: number;
  /** Fraction 0..1 of the iterated devices that ended within the margin. */
  converged: number;
  /** Mean number of pulses per iterated device. */
  iterationsMean: number;
  /** histogram[k] = devices that stopped after k pulses (0..30). */
  iterationsHistogram: number[];
  /** |programmed − target| of the unit-cell conductance, counts. */
  error: ErrorSummary;
  /** Chip time to program this core (pulses and verify reads), seconds. */
  programmingTimeS: number;
  /** This core's unit-cell yield (Fig. 2a criterion), percent. */
  yieldPct: number;
}

/** What the chip keeps of a programmed core, for MVMs and metrics. */
export interface ProgrammedCore {
  /** The weight-programming scheme used. */
  scheme: Scheme;
  /** The weights, 256 × 256 row-major, zero-filled beyond the programmed shape. */
  weights: Float32Array;
  /** Target unit-cell conductances (Eq. 1: w · Gmax / Wmax), counts, 256 × 256 row-major. */
  targets: Float32Array;
  /** Gmax used, counts. */
  gmax: number;
  /** Wmax used, weight units. */
  wmax: number;
}

/** The wasm regions one programming task needs. */
export interface ProgramBuffers {
  params: number;
  /** f32[65536] targets, filled by the caller. */
  targets: number;
  work: number;
}
export const PROGRAM_BYTES = { params: 8 * 32, targets: CELLS * 4, work: WORK.BYTES } as const;

/** What a programming task needs besides its buffers (structured-cloneable). */
export interface ProgramTask {
  seed: bigint;
  core: number;
  stats: CoreDeviceStats;
  yieldPct: number;
  statePtr: number;
  scheme: Scheme;
  odpGmax: number;
  gmax: number;
  capped: boolean;
  wmax: number;
}

/**
 * Run program-and-verify on one core whose targets are in `buf.targets`, and summarise.
 * Runs on the main thread or in a worker: it only touches the buffers and the core's planes.
 */
export function programCoreInto(task: ProgramTask, buf: ProgramBuffers): CoreProgramResult {
  const rt = WasmRuntime.get();
  const block = packParams(task.seed, task.core, task.stats, task.scheme, task.odpGmax);
  rt.f64(buf.params, block.length).set(block);
  const jobs = rt.kernels.programCore(buf.params, buf.targets, task.statePtr, buf.work);
  const planes = [0, 1, 2, 3].map((q) => rt.f32(task.statePtr + q * CELLS * 4, CELLS));
  return {
    core: task.core,
    scheme: task.scheme,
    gmax: task.gmax,
    capped: task.capped,
    wmax: task.wmax,
    jobs,
    ...iterationStats(rt, buf.work),
    error: errorSummary(planes, rt.f32(buf.targets, CELLS)),
    programmingTimeS: programmingTime(rt, buf.work, task.scheme),
    yieldPct: task.yieldPct,
  };
}

/** Eq. 1 for one core: the task description and what the chip keeps (main thread). */
export function prepareProgram(
  base: Omit<ProgramTask, "gmax" | "capped" | "wmax" | "scheme" | "odpGmax">,
  weights: Float32Array,
  scheme: Scheme,
  odpGmax: number,
  wmax?: number,
): { task: ProgramTask; programmed: ProgrammedCore } {
  const t = coreTargets(weights, scheme, odpGmax, wmax);
  return {
    task: { ...base, scheme, odpGmax, gmax: t.gmax, capped: t.capped, wmax: t.wmax },
    programmed: { scheme, weights, targets: t.targets, gmax: t.gmax, wmax: t.wmax },
  };
}

/** Program one core on the main thread (reusable scratch buffers). */
export function programCoreState(
  seed: bigint,
  core: number,
  stats: CoreDeviceStats,
  yieldPct: number,
  statePtr: number,
  weights: Float32Array,
  scheme: Scheme,
  odpGmax: number,
  wmax?: number,
): { result: CoreProgramResult; programmed: ProgrammedCore } {
  const { task, programmed } = prepareProgram({ seed, core, stats, yieldPct, statePtr }, weights, scheme, odpGmax, wmax);
  const rt = WasmRuntime.get();
  const buf = {
    params: rt.scratch("program.params", PROGRAM_BYTES.params),
    targets: rt.scratch("program.targets", PROGRAM_BYTES.targets),
    work: rt.scratch("program.work", PROGRAM_BYTES.work),
  };
  rt.f32(buf.targets, CELLS).set(programmed.targets);
  return { result: programCoreInto(task, buf), programmed };
}

function iterationStats(rt: WasmRuntime, work: number) {
  const plane = rt.u8(work + WORK.PLANE, JOBS);
  const iters = rt.u8(work + WORK.ITERS, JOBS);
  const lastErr = rt.f32(work + WORK.LAST_ERR, JOBS);
  const margin = PROGRAMMING.marginCounts.value;
  const hist = new Array<number>(PROGRAMMING.maxIterations.value + 1).fill(0);
  let n = 0;
  let conv = 0;
  let sum = 0;
  for (let j = 0; j < JOBS; j++) {
    if (plane[j] === 255) continue;
    n++;
    if (Math.abs(lastErr[j]!) < margin) conv++;
    sum += iters[j]!;
    hist[iters[j]!]!++;
  }
  return { converged: n ? conv / n : 1, iterationsMean: n ? sum / n : 0, iterationsHistogram: hist };
}

/** Unit-cell conductance of the four planes. */
export function cellConductance(planes: Float32Array[], i: number): number {
  return planes[0]![i]! + planes[1]![i]! - planes[2]![i]! - planes[3]![i]!;
}

const ERR_BIN = 0.01; // counts; quantiles are reported to this resolution
const ERR_BINS = 20000; // up to 200 counts; larger errors go to the last bin

function errorSummary(planes: Float32Array[], targets: Float32Array): ErrorSummary {
  const hist = new Uint32Array(ERR_BINS);
  let n = 0;
  let se = 0;
  const [a, b, c, d] = planes as [Float32Array, Float32Array, Float32Array, Float32Array];
  for (let i = 0; i < CELLS; i++) {
    const t = targets[i]!;
    if (t === 0) continue;
    const e = Math.abs(a[i]! + b[i]! - c[i]! - d[i]! - t);
    hist[Math.min(ERR_BINS - 1, Math.floor(e / ERR_BIN))]!++;
    n++;
    se += e * e;
  }
  if (n === 0) return { p50: 0, p90: 0, p99: 0, rms: 0 };
  const q = (f: number) => {
    const rank = Math.floor(f * n);
    let seen = 0;
    for (let i = 0; i < ERR_BINS; i++) {
      seen += hist[i]!;
      if (seen > rank) return (i + 0.5) * ERR_BIN;
    }
    return ERR_BINS * ERR_BIN;
  };
  return { p50: q(0.5), p90: q(0.9), p99: q(0.99), rms: Math.sqrt(se / n) };
}

/**
 * Chip time to program a core, from the Methods: cells are programmed diagonal by
 * diagonal (cells with (col − row) mod 256 = d); per diagonal and per (polarity, device)
 * group, the 32 IDACs each drive 8 consecutive source lines, so a pulse step takes as
 * many 125 ns cycles as there are distinct (col mod 8) among the cells that need it (8 for
 * a full diagonal). RESET of all four devices, SET of the polarity's device(s) (250 ns +
 * 50 ns edge), one verify read (256 ns precharge + 512 ns) per group after the SET and
 * after each pulse step. TDP's RESET of the deselected device is one more RESET step.
 */
function programmingTime(rt: WasmRuntime, work: number, scheme: Scheme): number {
  const P = PROGRAMMING;
  const resetNs = P.resetPulseNs.value;
  const setNs = P.setPulseNs.value + P.setTrailingEdgeNs.value;
  const readNs = P.verifyPrechargeNs.value + P.verifyPwmNs.value;
  const pulseNs = P.programPulseNs.value;
  const cycles = P.cyclesPerDiagonal.value;
  const setDevices = scheme === "odp" ? 1 : 2;
  // Per diagonal: RESET 4 groups; SET and read the polarity devices of both polarities.
  let ns = N * (4 * cycles * resetNs + 2 * setDevices * (cycles * setNs + readNs));
  if (scheme === "tdp") ns += N * 2 * cycles * resetNs; // deselected-device RESET, both polarities
  // Iterations: mask[(diag · 4 + group) · 31 + k − 1] has bit (col & 7) set when a cell
  // of that diagonal and group receives its k-th pulse.
  const maxIt = P.maxIterations.value;
  const mask = new Uint8Array(N * 4 * maxIt);
  const plane = rt.u8(work + WORK.PLANE, JOBS);
  const iters = rt.u8(work + WORK.ITERS, JOBS);
  for (let j = 0; j < JOBS; j++) {
    const q = plane[j]!;
    const k = iters[j]!;
    if (q === 255 || k === 0) continue;
    const cell = j & (CELLS - 1);
    const row = cell >> 8;
    const col = cell & 255;
    const diag = (col - row + N) & 255;
    const base = (diag * 4 + q) * maxIt;
    const bit = 1 << (col & 7);
    for (let s = 0; s < k; s++) mask[base + s]! |= bit;
  }
  for (let i = 0; i < mask.length; i++) {
    const m = mask[i]!;
    if (m === 0) continue;
    let bits = 0;
    for (let v = m; v; v &= v - 1) bits++;
    ns += bits * pulseNs + readNs;
  }
  return ns * 1e-9;
}
