// Monte Carlo studies: N independent trials (simulated chips) × a list of read times ->
// per time point and metric: n, mean, std, min, p05, p50, p95, max, plus a SHA-256 digest
// of every per-trial result. The per-trial workload is a parameter (`runTrial`).
//
// Determinism: trial i gets the seed trialSeed(seed, i), which depends on (seed, i) only;
// results are assembled in (trial, time) order whatever the completion order, the
// concurrency, or how often the run was interrupted and resumed, so the returned object
// (and its JSON) is the same bit for bit. Metric values are finite numbers; −0 is stored
// as 0 and metric names are sorted, so a value read back from the checkpoint equals the
// freshly computed one (JSON round-trips finite doubles exactly).
//
// Checkpoint (lib/study/checkpoint.ts): each finished (trial, time) is appended as it comes;
// with `resume`, trials whose every time is recorded are skipped, and recorded values are
// used as they are.

import { canonicalJson, checkStudy, normalizeMetrics, openCheckpoint, sha256Hex, studyHash, type Checkpoint, type JsonValue, type Metrics, type Study } from "./checkpoint.ts";
import { ArgumentError, intInRange, seedToBigInt } from "../runtime/validate.ts";

/** Same bound as the trial field of RNG stream ids (lib/chip/rng.ts MAX_TRIAL). */
export const MAX_TRIALS = 0x1000000;

/** One trial: one metrics object per entry of `times`, in that order. */
export type RunTrial = (trial: number, trialSeed: bigint, times: number[], signal: AbortSignal) => Promise<Metrics[]>;

/** Options of `runStudy`: a Monte Carlo study of any workload (`runTrial`). Bad values throw ArgumentError. */
export interface StudyOptions {
  /** Master seed (0..2^64 − 1); trial i runs with trialSeed(seed, i). */
  seed: bigint | number;
  /** Trials, 1..2^24. */
  trials: number;
  /** Read times (distinct finite numbers, s for the built-in studies), in the order results are given. */
  times: number[];
  /** The workload of one trial. */
  runTrial: RunTrial;
  /** Describes the workload (anything that changes results); stored in the checkpoint header and the output. */
  options?: JsonValue;
  /** Trials in flight at once (default 1; set it to the thread count when runTrial uses the pool). */
  concurrency?: number;
  /** A JSONL checkpoint at `path`: `resume` continues the study it records (it must be the same study), `overwrite` replaces an existing file; with neither, an existing file is refused (CheckpointError). */
  checkpoint?: { path: string; resume?: boolean; overwrite?: boolean };
  /** Trials done (including those found in the checkpoint) out of `trials`. */
  onProgress?: (done: number, total: number) => void;
  /** Stops the study: trials in flight are dropped and StudyAbortedError is thrown. */
  signal?: AbortSignal;
}

/** The distribution over trials of one metric at one time. */
export interface SeriesPoint {
  /** The read time (an entry of `times`). */
  t: number;
  /** The metric's name. */
  metric: string;
  /** Trials. */
  n: number;
  /** Mean over trials. */
  mean: number;
  /** Sample standard deviation (divisor n − 1); null when n = 1. */
  std: number | null;
  /** Smallest value. */
  min: number;
  /** 5th percentile (linear interpolation, as numpy.percentile's default). */
  p05: number;
  /** Median (same interpolation). */
  p50: number;
  /** 95th percentile (same interpolation). */
  p95: number;
  /** Largest value. */
  max: number;
}

/** A finished study: every trial's metrics and, per time and metric, their distribution. */
export interface StudyResult {
  /** The master seed, decimal. */
  seed: string;
  /** Trials. */
  trials: number;
  /** Read times, as given. */
  times: number[];
  /** The workload's description (`StudyOptions.options`, or null). */
  options: JsonValue;
  /** SHA-256 (hex) of the canonical JSON of the study (seed, trials, times, options): the checkpoint's identity. */
  studyHash: string;
  /** Time-major (in the order of `times`), then metric name (sorted). */
  series: SeriesPoint[];
  /** SHA-256 (hex) of canonicalJson(results). */
  digest: string;
  /** results[trial][timeIndex]: the metrics of one trial at one time (keys sorted). */
  results: Metrics[][];
}

const MASK64 = (1n << 64n) - 1n;
const GOLDEN_GAMMA = 0x9e3779b97f4a7c15n;

/**
 * The seed of trial `trial`: the (trial + 1)-th output of SplitMix64 (Steele, Lea & Flood,
 * OOPSLA 2014) started from state `seed`, i.e. mix64(seed + (trial + 1) · 0x9E3779B97F4A7C15
 * mod 2^64) with Stafford's variant-13 finalizer. A bijection of the state, so distinct
 * trials of one study never share a seed.
 */
export function trialSeed(seed: bigint | number, trial: number): bigint {
  const s = seedToBigInt(seed);
  intInRange(trial, 0, MAX_TRIALS - 1, "trial");
  let z = (s + BigInt(trial + 1) * GOLDEN_GAMMA) & MASK64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return z ^ (z >> 31n);
}

/**
 * The p-quantile (0 <= p <= 1) of ascending `sorted` by linear interpolation between
 * closest ranks, as numpy.percentile's default ("linear", Hyndman & Fan type 7):
 * h = (n − 1) p, q = x[⌊h⌋] + (h − ⌊h⌋) (x[⌊h⌋ + 1] − x[⌊h⌋]).
 */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) throw new ArgumentError("sorted", "a non-empty array", sorted);
  if (!(p >= 0 && p <= 1)) throw new ArgumentError("p", "a number in [0, 1]", p);
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const a = sorted[lo]!;
  if (lo + 1 >= n) return a;
  return a + (h - lo) * (sorted[lo + 1]! - a);
}

/** Statistics of `values` (in a fixed order: the sums are taken in that order). @throws {@link ArgumentError} when `values` is empty */
export function summarize(values: readonly number[]): Omit<SeriesPoint, "t" | "metric"> {
  const n = values.length;
  if (n === 0) throw new ArgumentError("values", "a non-empty array", values);
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / n;
  let ss = 0;
  for (const v of values) ss += (v - mean) * (v - mean);
  const sorted = Float64Array.from(values).sort();
  return {
    n,
    mean,
    std: n > 1 ? Math.sqrt(ss / (n - 1)) : null,
    min: sorted[0]!,
    p05: quantileSorted(sorted, 0.05),
    p50: quantileSorted(sorted, 0.5),
    p95: quantileSorted(sorted, 0.95),
    max: sorted[n - 1]!,
  };
}

/** A stopped study: says how to go on. `name` is "AbortError", as for fetch and timers. */
export class StudyAbortedError extends Error {
  constructor(
    /** Trials finished (and kept in the checkpoint, if one was set). */
    readonly done: number,
    /** Trials of the study. */
    readonly total: number,
    /** The checkpoint to resume from, or undefined when none was set. */
    readonly checkpointPath: string | undefined,
    reason?: unknown,
  ) {
    super(
      `study stopped with ${done} of ${total} trials done; ` +
        (checkpointPath
          ? `checkpoint ${checkpointPath} is kept: run again with the same settings and resume (--resume) to continue`
          : "no checkpoint was set, so finished trials are not kept (set a checkpoint to make a run resumable)"),
      { cause: reason },
    );
    this.name = "AbortError";
  }
}

/** One trial of a study threw: `trial` and `cause`; finished trials stay in the checkpoint, if one was set. */
export class TrialError extends Error {
  constructor(
    /** The failed trial's index, 0-based. */
    readonly trial: number,
    cause: unknown,
    checkpointPath?: string,
  ) {
    super(
      `trial ${trial} failed: ${(cause as Error)?.message ?? String(cause)}` +
        (checkpointPath ? ` (finished trials are kept in checkpoint ${checkpointPath}; resume after fixing the cause)` : ""),
      { cause },
    );
    this.name = "TrialError";
  }
}

function checkResult(trial: number, times: number[], res: unknown): Metrics[] {
  if (!Array.isArray(res) || res.length !== times.length) {
    throw new ArgumentError(`runTrial result of trial ${trial}`, `an array of ${times.length} metrics objects (one per time)`, res);
  }
  return res.map((m, j) => normalizeMetrics(m, `result of trial ${trial} at t = ${times[j]}`));
}

/**
 * Run (or resume) a Monte Carlo study: `trials` × `times`, the same result bit for bit for
 * any concurrency, completion order or number of interruptions.
 * @throws {@link ArgumentError} on a bad option (named); {@link CheckpointError} when the
 *   checkpoint is of another study, corrupt, or exists without resume/overwrite;
 *   {@link StudyAbortedError} on `signal`; {@link TrialError} when a trial throws
 */
export async function runStudy(opts: StudyOptions): Promise<StudyResult> {
  if (typeof opts !== "object" || opts === null) throw new ArgumentError("options", "an object", opts);
  const seed = seedToBigInt(opts.seed);
  const trials = intInRange(opts.trials, 1, MAX_TRIALS, "trials");
  const concurrency = intInRange(opts.concurrency ?? 1, 1, 256, "concurrency");
  if (typeof opts.runTrial !== "function") throw new ArgumentError("runTrial", "a function", opts.runTrial);
  if (!Array.isArray(opts.times)) throw new ArgumentError("times", "a non-empty array of distinct finite numbers", opts.times);
  const times = [...opts.times];
  const study: Study = { seed: seed.toString(), trials, times, options: opts.options ?? null };
  const userSignal = opts.signal;
  const ckptPath = opts.checkpoint?.path;
  checkStudy(study);
  if (userSignal?.aborted) throw new StudyAbortedError(0, trials, undefined, userSignal.reason);

  const ckpt: Checkpoint | undefined = opts.checkpoint
    ? openCheckpoint(opts.checkpoint.path, study, { resume: !!opts.checkpoint.resume, overwrite: !!opts.checkpoint.overwrite })
    : undefined;
  try {
    const results: Metrics[][] = Array.from({ length: trials }, () => new Array<Metrics>(times.length));
    const pending: number[] = [];
    let done = 0;
    for (let i = 0; i < trials; i++) {
      if (ckpt && times.every((t) => ckpt.has(i, t))) {
        times.forEach((t, j) => (results[i]![j] = ckpt.get(i, t)!));
        done++;
      } else pending.push(i);
    }
    opts.onProgress?.(done, trials);

    const inner = new AbortController();
    const onAbort = (): void => inner.abort(userSignal?.reason);
    userSignal?.addEventListener("abort", onAbort, { once: true });
    let failure: TrialError | undefined;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < pending.length && !inner.signal.aborted) {
        const trial = pending[next++]!;
        let metrics: Metrics[];
        try {
          metrics = checkResult(trial, times, await opts.runTrial(trial, trialSeed(seed, trial), [...times], inner.signal));
        } catch (e) {
          if (userSignal?.aborted) return; // a trial that gave up on the abort: not a failure
          failure ??= new TrialError(trial, e, ckptPath);
          inner.abort(failure);
          return;
        }
        times.forEach((t, j) => {
          const recorded = ckpt?.get(trial, t);
          if (recorded) results[trial]![j] = recorded;
          else {
            ckpt?.append(trial, t, metrics[j]!);
            results[trial]![j] = metrics[j]!;
          }
        });
        done++; // not inside `onProgress?.(...)`: arguments of a skipped optional call are not evaluated
        opts.onProgress?.(done, trials);
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, pending.length)) }, worker));
    } finally {
      userSignal?.removeEventListener("abort", onAbort);
    }
    if (failure) throw failure;
    if (done < trials) throw new StudyAbortedError(done, trials, ckptPath, userSignal?.reason);

    const series: SeriesPoint[] = [];
    times.forEach((t, j) => {
      const names = new Set<string>();
      for (const r of results) for (const k of Object.keys(r[j]!)) names.add(k);
      for (const metric of [...names].sort()) {
        const values: number[] = [];
        for (const r of results) {
          const v = r[j]![metric];
          if (v !== undefined) values.push(v);
        }
        series.push({ t, metric, ...summarize(values) });
      }
    });
    return {
      seed: study.seed,
      trials,
      times,
      options: study.options,
      studyHash: studyHash(study),
      series,
      digest: sha256Hex(canonicalJson(results, "results")),
      results,
    };
  } finally {
    ckpt?.close();
  }
}
