// A queue worker: runs drift-trial jobs with the local per-trial function (see lib/study/queue/index.ts).

import { hostname } from "node:os";
import { Worker, type Job } from "bullmq";
import { Redis } from "ioredis";
import { normalizeMetrics, sha256Hex, studyHash } from "../checkpoint.ts";
import type { Fidelity } from "../../chip/config.ts";
import { driftTrial, type DriftWorkload } from "../drift-study.ts";
import type { FunctionalFit } from "../../chip/functional-fit.ts";
import { trialSeed } from "../montecarlo.ts";
import { BLOB_PREFIX, QUEUE_NAME, checkJobData } from "./jobs.ts";
import { QueueError, connectRedis, explain, parseQueueUrl, queueTimings } from "./connection.ts";

// ---------------------------------------------------------------------------------------
// Worker

/** Options of `runQueueWorker`: the queue's Redis URL (redis://HOST:PORT), worker threads, a status-line sink. */
export interface WorkerRunOptions {
  queue: string;
  threads: number;
  /** Status lines (stderr). */
  log: (line: string) => void;
}

/** Process drift-trial jobs until SIGINT/SIGTERM (or a lost connection: QueueError). */
export async function runWorker(o: WorkerRunOptions): Promise<{ completed: number }> {
  const target = parseQueueUrl(o.queue);
  const t = queueTimings();
  const conn = await connectRedis(target, "worker", true);
  const fits = new Map<string, FunctionalFit>();
  const getFit = async (h: string): Promise<FunctionalFit> => {
    let f = fits.get(h);
    if (!f) {
      const text = await conn.client.get(BLOB_PREFIX + h);
      if (text === null || sha256Hex(text) !== h) throw new Error(`functional fit ${h.slice(0, 12)} is not in Redis (expired?): submit the study again`);
      f = JSON.parse(text) as FunctionalFit;
      fits.set(h, f);
    }
    return f;
  };
  let completed = 0;
  const worker = new Worker(
    QUEUE_NAME,
    async (job: Job) => {
      const d = checkJobData(job.data);
      const w = d.workload;
      const workload: DriftWorkload = {
        scheme: w.scheme as DriftWorkload["scheme"], cores: w.cores, inputs: w.inputs, phases: w.phases as DriftWorkload["phases"], fidelity: w.fidelity as Fidelity,
        ...(w.fitHash ? { fit: await getFit(w.fitHash) } : {}),
      };
      o.log(`worker: trial ${d.trial} of study ${d.studyHash.slice(0, 12)} started (job ${job.id}, attempt ${job.attemptsStarted})`);
      const t0 = performance.now();
      const metrics = await driftTrial(workload, trialSeed(BigInt(d.seed), d.trial), [...d.times], o.threads);
      if (metrics.length !== d.times.length) throw new Error(`trial ${d.trial} gave ${metrics.length} results for ${d.times.length} times`);
      const out = metrics.map((m, j) => normalizeMetrics(m, `result of trial ${d.trial} at t = ${d.times[j]}`));
      o.log(`worker: trial ${d.trial} of study ${d.studyHash.slice(0, 12)} done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      return out;
    },
    {
      connection: conn.client,
      concurrency: o.threads,
      autorun: false,
      lockDuration: t.lockMs,
      stalledInterval: t.stalledMs,
      maxStalledCount: 3,
      name: `hermes-sim@${hostname()}:${process.pid}`,
    },
  );
  const seen = new Set<string>();
  worker.on("error", (e) => {
    const line = explain(e, target);
    if (!seen.has(line)) {
      seen.add(line);
      o.log(`worker: ${line}`);
    }
  });
  worker.on("failed", (job, e) => o.log(`worker: job ${job?.id ?? "?"} failed: ${e.message}`));
  let signalled = false;
  let stopRequested: () => void = () => {};
  const stopped = new Promise<void>((r) => (stopRequested = r));
  worker.on("completed", () => void completed++);
  const onSignal = (sig: "SIGINT" | "SIGTERM"): void => {
    if (!signalled) {
      signalled = true;
      o.log(`worker: ${sig}: finishing the trial in flight, then stopping (${sig === "SIGINT" ? "Ctrl-C" : "signal"} again to quit at once; an unfinished trial is then retried by another worker)`);
      stopRequested();
    } else process.exit(sig === "SIGINT" ? 130 : 143);
  };
  const onInt = (): void => onSignal("SIGINT");
  const onTerm = (): void => onSignal("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  try {
    o.log(`worker: waiting for drift trials on ${target.display} (queue ${QUEUE_NAME}), ${o.threads} thread${o.threads === 1 ? "" : "s"}; Ctrl-C to stop`);
    const running = worker.run();
    const outcome = await Promise.race([
      stopped.then(() => "stop" as const),
      conn.lost.then((why) => why),
      running.then(() => "stop" as const),
    ]);
    if (outcome !== "stop") {
      await worker.close(true).catch(() => {});
      throw new QueueError(`lost the connection to Redis: ${outcome}; jobs in flight are retried by other workers`);
    }
    await worker.close();
    await running.catch(() => {});
    o.log(`worker: stopped after ${completed} trial${completed === 1 ? "" : "s"}`);
    return { completed };
  } finally {
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
    await conn.close();
  }
}
