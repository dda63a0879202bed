// Submitting a drift study to the queue and collecting its results (see lib/study/queue/index.ts).

import { existsSync } from "node:fs";
import { Queue, type Job } from "bullmq";
import { Redis } from "ioredis";
import { openCheckpoint, sha256Hex, studyHash, type Metrics, type Study } from "../checkpoint.ts";
import { driftOptions, type DriftStudyOptions } from "../drift-study.ts";
import { runStudy, TrialError, type StudyResult } from "../montecarlo.ts";
import { BLOB_PREFIX, JOB_NAME, KEEP_S, PROTOCOL, QUEUE_NAME, VERSION, jobId, jobKey, type DriftJobData } from "./jobs.ts";
import { QueueError, connectRedis, explain, parseQueueUrl, queueTimings } from "./connection.ts";

// ---------------------------------------------------------------------------------------
// Submitter

/** Options of `driftStudyOnQueue`: a drift study plus the queue's Redis URL. */
export interface QueueStudyOptions extends DriftStudyOptions {
  /** redis://HOST:PORT */
  queue: string;
  /** Status lines (stderr). */
  log?: (line: string) => void;
}

interface Waiter {
  resolve: (m: Metrics[]) => void;
  reject: (e: unknown) => void;
}

/** Run a drift study on the workers of a BullMQ queue; same result as driftStudy (see the header). */
export async function driftStudyOnQueue(o: QueueStudyOptions): Promise<StudyResult> {
  const target = parseQueueUrl(o.queue);
  const log = o.log ?? (() => {});
  const t = queueTimings();
  const study: Study = { seed: o.seed.toString(), trials: o.trials, times: [...o.times], options: driftOptions(o) };
  const hash = studyHash(study);

  // Trials the checkpoint already holds need no job; a checkpoint that would be refused is refused now.
  const done = new Set<number>();
  if (o.checkpoint && existsSync(o.checkpoint.path)) {
    if (o.checkpoint.resume) {
      const ck = openCheckpoint(o.checkpoint.path, study, { resume: true });
      for (let i = 0; i < o.trials; i++) if (o.times.every((time) => ck.has(i, time))) done.add(i);
      ck.close();
    } else if (!o.checkpoint.overwrite) {
      openCheckpoint(o.checkpoint.path, study, {}); // throws "already exists; resume it, ..."
    }
  }

  const conn = await connectRedis(target, "submitter", false);
  const queue = new Queue(QUEUE_NAME, { connection: conn.client });
  queue.on("error", () => {}); // surfaced through polling and `lost`
  let stopPolling = false;
  let pollLoop: Promise<void> = Promise.resolve();
  try {
    let fitHash: string | undefined;
    if (o.fit) {
      const text = JSON.stringify(o.fit);
      fitHash = sha256Hex(text);
      await conn.client.set(BLOB_PREFIX + fitHash, text, "EX", KEEP_S);
    }
    const base = {
      protocol: PROTOCOL, hermesSim: VERSION, seed: study.seed, times: study.times,
      workload: { scheme: o.scheme, cores: o.cores, inputs: o.inputs, phases: o.phases, fidelity: o.fidelity, ...(fitHash ? { fitHash } : {}) },
    };
    const key = jobKey(base);
    const jobFor = (trial: number) => ({
      name: JOB_NAME,
      data: { ...base, studyHash: hash, trial } satisfies DriftJobData,
      opts: {
        jobId: jobId(key, trial), attempts: 3, backoff: { type: "fixed", delay: 1000 },
        removeOnComplete: { age: KEEP_S }, removeOnFail: { age: KEEP_S },
      },
    });
    const pending: number[] = [];
    for (let i = 0; i < o.trials; i++) if (!done.has(i)) pending.push(i);
    for (let i = 0; i < pending.length; i += 1000) await queue.addBulk(pending.slice(i, i + 1000).map(jobFor));
    let workers = -1;
    try {
      workers = await queue.getWorkersCount();
    } catch {
      // CLIENT LIST may be disabled on managed Redis: say nothing about workers.
    }
    log(
      `drift study ${hash.slice(0, 12)}: ${pending.length} trial job${pending.length === 1 ? "" : "s"} on ${target.display} (queue ${QUEUE_NAME})` +
        (done.size ? `, ${done.size} already in the checkpoint` : "") +
        (workers === 0 ? `; no worker is connected yet: start \`hermes-sim worker --queue ${target.display}\` on one or more machines` : workers > 0 ? `; ${workers} worker${workers === 1 ? "" : "s"} connected` : ""),
    );

    // Collector: results by trial (a duplicate completion is the same entry).
    const results = new Map<number, Metrics[]>();
    const failures = new Map<number, Error>();
    const waiters = new Map<number, Waiter>();
    let fatal: QueueError | undefined;
    const outstanding = new Set(pending);
    const settle = (trial: number): void => {
      const w = waiters.get(trial);
      if (!w) return;
      const r = results.get(trial);
      const f = fatal ?? failures.get(trial);
      if (r) w.resolve(r);
      else if (f) w.reject(f);
      else return;
      waiters.delete(trial);
    };
    const failAll = (e: QueueError): void => {
      fatal ??= e;
      for (const trial of [...waiters.keys()]) settle(trial);
    };
    void conn.lost.then((why) => failAll(new QueueError(`lost the connection to Redis: ${why}`)));

    let first = true;
    let failingSince: number | undefined;
    const poll = async (): Promise<void> => {
      const batch = [...outstanding].slice(0, 2000);
      const readd: number[] = [];
      for (let i = 0; i < batch.length && !fatal; i += 200) {
        const part = batch.slice(i, i + 200);
        const jobs = await Promise.all(part.map((trial) => queue.getJob(jobId(key, trial))));
        for (let k = 0; k < part.length; k++) {
          const trial = part[k]!;
          const job = jobs[k] as Job | undefined;
          if (!job) {
            readd.push(trial); // removed (expired or cleaned): enqueue it again
            continue;
          }
          if (!job.finishedOn) continue;
          if (Array.isArray(job.returnvalue)) {
            if (job.returnvalue.length !== o.times.length) {
              failures.set(trial, new Error(`job ${job.id} returned ${job.returnvalue.length} results for ${o.times.length} times`));
            } else results.set(trial, job.returnvalue as Metrics[]);
            outstanding.delete(trial);
            settle(trial);
          } else if (first) {
            await job.retry("failed"); // failed in an earlier submission: give it another go
          } else {
            failures.set(trial, new Error(job.failedReason || "job failed"));
            outstanding.delete(trial);
            settle(trial);
          }
        }
      }
      if (readd.length) await queue.addBulk(readd.map(jobFor));
      first = false;
    };
    pollLoop = (async () => {
      while (!stopPolling && !fatal && outstanding.size > 0) {
        try {
          await poll();
          failingSince = undefined;
        } catch (e) {
          failingSince ??= Date.now();
          if (Date.now() - failingSince > t.reconnectMs + t.connectMs) {
            failAll(new QueueError(`lost the connection to Redis: ${explain(e, target)}`));
            return;
          }
        }
        if (outstanding.size > 0) await new Promise((r) => setTimeout(r, t.pollMs));
      }
    })();

    try {
      return await runStudy({
        seed: o.seed,
        trials: o.trials,
        times: o.times,
        options: study.options,
        // Every job is already queued: runStudy only waits, in trial order, for the results.
        concurrency: Math.min(256, o.trials),
        ...(o.checkpoint ? { checkpoint: o.checkpoint } : {}),
        ...(o.onProgress ? { onProgress: o.onProgress } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
        runTrial: (trial, _seed, _times, signal) =>
          new Promise<Metrics[]>((resolve, reject) => {
            const onAbort = (): void => {
              waiters.delete(trial);
              reject(signal.reason);
            };
            if (signal.aborted) return onAbort();
            signal.addEventListener("abort", onAbort, { once: true });
            waiters.set(trial, {
              resolve: (m) => (signal.removeEventListener("abort", onAbort), resolve(m)),
              reject: (e) => (signal.removeEventListener("abort", onAbort), reject(e)),
            });
            settle(trial);
          }),
      });
    } catch (e) {
      if (e instanceof TrialError && e.cause instanceof QueueError) {
        const where = o.checkpoint ? `; finished trials are kept in checkpoint ${o.checkpoint.path} (run again with --resume to continue)` : "";
        throw new QueueError(`${e.cause.message}${where}`);
      }
      throw e;
    }
  } finally {
    stopPolling = true;
    await pollLoop.catch(() => {});
    await queue.close().catch(() => {});
    await conn.close();
  }
}
