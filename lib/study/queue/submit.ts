// Submitting a characterisation drift study to the queue and collecting its results (see
// lib/study/queue/index.ts): one job per trial (chip), results handed to runStudy.

import { existsSync } from "node:fs";
import { openCheckpoint, studyHash, type Metrics, type Study } from "../checkpoint.ts";
import { driftOptions, type DriftStudyOptions } from "../drift-study.ts";
import { runStudy, TrialError, type RunTrial, type StudyResult } from "../montecarlo.ts";
import { putBlob } from "./blobs.ts";
import { Submission, jobSpec, type JobSpec } from "./collector.ts";
import { PROTOCOL, QUEUE_NAME, VERSION, jobId, jobKey, type DriftJobData } from "./jobs.ts";
import { QueueError, type QueueAccess } from "./connection.ts";

/** Options of `driftStudyOnQueue`: a drift study plus the queue's Redis URL and access (password, TLS CA). */
export interface QueueStudyOptions extends DriftStudyOptions, QueueAccess {
  /** Status lines (stderr). */
  log?: (line: string) => void;
}

/** Trials whose every time the checkpoint holds (they need no job); a checkpoint that would
 * be refused is refused now, before anything is queued. */
export function trialsDone(study: Study, checkpoint: QueueStudyOptions["checkpoint"]): Set<number> {
  const done = new Set<number>();
  if (checkpoint && existsSync(checkpoint.path)) {
    if (checkpoint.resume) {
      const ck = openCheckpoint(checkpoint.path, study, { resume: true });
      for (let i = 0; i < study.trials; i++) if (study.times.every((time) => ck.has(i, time))) done.add(i);
      ck.close();
    } else if (!checkpoint.overwrite) {
      openCheckpoint(checkpoint.path, study, {}); // throws "already exists; resume it, ..."
    }
  }
  return done;
}

/** runStudy's error for a lost queue, with where the finished trials are. */
export function queueStudyError(e: unknown, checkpoint: { path: string } | undefined): unknown {
  if (e instanceof TrialError && e.cause instanceof QueueError) {
    const where = checkpoint ? `; finished trials are kept in checkpoint ${checkpoint.path} (run again with --resume to continue)` : "";
    return new QueueError(`${e.cause.message}${where}`);
  }
  return e;
}

/** A stopped submission (interrupted, a job failed): remove its jobs that no worker has started
 * (Submission.removeWaiting) and say how many, under the name `what`. */
export async function removeLeft(sub: Submission, specs: readonly JobSpec[], what: string, log: (line: string) => void): Promise<void> {
  const n = await sub.removeWaiting(specs.map((s) => s.opts.jobId!));
  if (n) log(`${what}: removed ${n} job${n === 1 ? "" : "s"} no worker had started from the queue`);
}

/** Run a drift study on the workers of a BullMQ queue; same result as driftStudy (see the header). */
export async function driftStudyOnQueue(o: QueueStudyOptions): Promise<StudyResult> {
  const log = o.log ?? (() => {});
  const study: Study = { seed: o.seed.toString(), trials: o.trials, times: [...o.times], options: driftOptions(o) };
  const hash = studyHash(study);
  const done = trialsDone(study, o.checkpoint);

  const sub = await Submission.open(o);
  try {
    const fitHash = o.fit ? await putBlob(sub.client, Buffer.from(JSON.stringify(o.fit))) : undefined;
    const base = {
      protocol: PROTOCOL, hermesSim: VERSION, seed: study.seed, times: study.times,
      workload: { scheme: o.scheme, cores: o.cores, inputs: o.inputs, phases: o.phases, fidelity: o.fidelity, ...(fitHash ? { fitHash } : {}) },
    };
    const key = jobKey(base);
    const specFor = (trial: number) => jobSpec(jobId(key, trial), { ...base, kind: "drift-trial", studyHash: hash, trial } satisfies DriftJobData);
    const pending: number[] = [];
    for (let i = 0; i < o.trials; i++) if (!done.has(i)) pending.push(i);
    await sub.add(pending.map(specFor));
    log(
      `drift study ${hash.slice(0, 12)}: ${pending.length} trial job${pending.length === 1 ? "" : "s"} on ${sub.target.display} (queue ${QUEUE_NAME})` +
        (done.size ? `, ${done.size} already in the checkpoint` : "") + (await sub.workersNote()),
    );
    const runTrial: RunTrial = async (trial, _seed, times, signal) => {
      const r = await sub.wait(jobId(key, trial), () => specFor(trial), signal);
      if (!Array.isArray(r) || r.length !== times.length) throw new Error(`job ${jobId(key, trial)} returned ${Array.isArray(r) ? r.length : "no"} results for ${times.length} times`);
      return r as Metrics[];
    };
    try {
      return await runStudy({
        seed: o.seed, trials: o.trials, times: o.times, options: study.options,
        // Every job is already queued: runStudy only waits, in trial order, for the results.
        concurrency: Math.min(256, o.trials), runTrial,
        ...(o.checkpoint ? { checkpoint: o.checkpoint } : {}),
        ...(o.onProgress ? { onProgress: o.onProgress } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
      });
    } catch (e) {
      const err = queueStudyError(e, o.checkpoint);
      if (!(err instanceof QueueError)) await removeLeft(sub, pending.map(specFor), `drift study ${hash.slice(0, 12)}`, log);
      throw err;
    }
  } finally {
    await sub.close();
  }
}
