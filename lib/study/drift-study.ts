// Monte Carlo drift studies (`hermes-sim drift`): N simulated chips, each with its own
// seed (lib/study/montecarlo.ts trialSeed), run the characterisation workload for one scheme
// at a list of read times; per time, the distribution over chips of the normalised MVM
// errors with and without global drift compensation. `threads` trials are in flight at
// once, each sharding its cores over the shared pool; results depend only on each trial's
// seed, never on the thread count or the order of completion; a JSONL checkpoint keeps
// every finished (trial, time).

import { characterize } from "./characterize.ts";
import type { Fidelity } from "../chip/config.ts";
import type { FunctionalFit } from "../chip/functional-fit.ts";
import type { JsonValue, Metrics } from "./checkpoint.ts";
import { runStudy, type StudyResult } from "./montecarlo.ts";
import type { Phases } from "../chip/readout.ts";
import type { Scheme } from "../chip/targets.ts";

/** How a study runs, whatever its workload: N trials (chips) × read times. */
export interface StudyRunOptions {
  /** Master seed (0..2^64 − 1): trial i is the chip with seed trialSeed(seed, i). */
  seed: bigint;
  /** Trials (simulated chips), 1..2^24. */
  trials: number;
  /** Read times, s since programming (distinct; \> 0 for `driftStudy`, ≥ 0 for `modelDriftStudy`). */
  times: number[];
  /** Trials in flight at once and worker threads, 1..256; results do not depend on it. */
  threads: number;
  /** A JSONL checkpoint (see StudyOptions.checkpoint): `resume` continues an interrupted study. */
  checkpoint?: { path: string; resume?: boolean; overwrite?: boolean };
  /** Progress: trials done (including those found in the checkpoint) out of `trials`. */
  onProgress?: (done: number, total: number) => void;
  /** Stops the study (StudyAbortedError); finished trials stay in the checkpoint. */
  signal?: AbortSignal;
}

/** Options of `driftStudy`: how the study runs and what each chip computes. */
export interface DriftStudyOptions extends DriftWorkload, StudyRunOptions {}

/** The metrics of one trial at each time. */
export const DRIFT_METRICS = ["total", "linear", "residual", "totalNoCompensation", "alpha", "equivalentBits"] as const;

/** What a drift trial computes besides its seed and times (shared by local runs and queue workers). */
export interface DriftWorkload {
  /** Weight-programming scheme. */
  scheme: Scheme;
  /** Cores characterised per chip, 1..64. */
  cores: number;
  /** Input vectors per core, 256..65536. */
  inputs: number;
  /** Read mode: 4 or 1. */
  phases: Phases;
  /** Fidelity of the simulated chips. */
  fidelity: Fidelity;
  /** Functional fidelity: the fit (default lib/chip/functional-fit.json). */
  fit?: FunctionalFit;
}

/** The study options recorded in the checkpoint header and the output (they feed the study hash). */
export function driftOptions(w: DriftWorkload): JsonValue {
  return { scheme: w.scheme, cores: w.cores, inputs: w.inputs, phases: w.phases, fidelity: w.fidelity, workload: "characterisation (uniform, 30 % zeros)" };
}

/** One simulated chip: the characterisation workload with seed `seed` at `times` (one metrics object per time). */
export async function driftTrial(w: DriftWorkload, seed: bigint, times: number[], threads: number): Promise<Metrics[]> {
  // Let the event loop run between chips (signals, progress), even when all work is inline.
  await new Promise((r) => setImmediate(r));
  const r = await characterize({
    seed, schemes: [w.scheme], cores: w.cores, inputs: w.inputs, times, phases: w.phases, threads,
    fidelity: w.fidelity, digitalCores: Math.min(w.cores, 2), ...(w.fit ? { fit: w.fit } : {}),
  });
  const s = r.results[0]!;
  return s.drift.map((d) => ({
    total: d.total, linear: d.linear, residual: d.residual, totalNoCompensation: d.totalNoCompensation, alpha: d.alpha,
    equivalentBits: s.equivalentBits,
  }));
}

/**
 * Monte Carlo drift study of the characterisation workload: `trials` chips (trial seeds from
 * `seed`), each programmed and read at every time of `times` (seconds); per time, the
 * distribution over chips of the MVM errors with and without drift compensation. With a
 * `checkpoint` every finished chip is kept and `resume` continues an interrupted study (same
 * result). Throws StudyAbortedError on `signal`, TrialError when a chip fails, CheckpointError.
 */
export async function driftStudy(o: DriftStudyOptions): Promise<StudyResult> {
  return runStudy({
    seed: o.seed,
    trials: o.trials,
    times: o.times,
    options: driftOptions(o),
    // Trials in flight = threads: each trial shards its cores on the shared pool, and a second
    // trial keeps the workers busy while the first does its serial parts.
    concurrency: o.threads,
    ...(o.checkpoint ? { checkpoint: o.checkpoint } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    runTrial: (_trial, seed, times) => driftTrial(o, seed, times, o.threads),
  });
}
