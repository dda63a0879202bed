// A queue worker (see lib/study/queue/index.ts): runs drift-trial jobs with the local per-trial
// function and infer jobs with the local inference functions (./worker-infer.ts), until stopped.

import { hostname } from "node:os";
import { Worker, type Job } from "bullmq";
import { normalizeMetrics } from "../checkpoint.ts";
import type { Fidelity } from "../../chip/config.ts";
import { driftTrial, type DriftWorkload } from "../drift-study.ts";
import type { FunctionalFit } from "../../chip/functional-fit.ts";
import { trialSeed } from "../montecarlo.ts";
import { BlobError, getBlob } from "./blobs.ts";
import { QUEUE_NAME, RefusedJob, checkJobData, type DriftJobData, type InferJobData } from "./jobs.ts";
import { QueueError, connectRedis, explain, queueTarget, queueTimings, type QueueAccess } from "./connection.ts";
import { InferRunner } from "./worker-infer.ts";
import { setInlineOneThread } from "../../runtime/pool.ts";

/** Options of `runQueueWorker`: the queue's Redis URL and access (password, TLS CA), worker threads, a status-line sink. */
export interface WorkerRunOptions extends QueueAccess {
  /** Worker threads for each job, 1..256. */
  threads: number;
  /** Status lines (stderr). */
  log: (line: string) => void;
}

const secs = (ms: number): string => (ms / 1000).toFixed(ms < 10_000 ? 2 : 1);

/** Process jobs until SIGINT/SIGTERM (or a lost connection: QueueError). */
export async function runWorker(o: WorkerRunOptions): Promise<{ completed: number }> {
  const target = queueTarget(o);
  const t = queueTimings();
  // Tasks run on worker threads even with --threads 1: the main thread renews the job locks.
  setInlineOneThread(false);
  const conn = await connectRedis(target, "worker", true);
  const fits = new Map<string, FunctionalFit>();
  const getFit = async (h: string): Promise<FunctionalFit> => {
    let f = fits.get(h);
    if (!f) {
      try {
        f = JSON.parse((await getBlob(conn.client, h, "functional fit")).toString("utf8")) as FunctionalFit;
      } catch (e) {
        throw e instanceof BlobError ? new RefusedJob(e.message) : e;
      }
      fits.set(h, f);
    }
    return f;
  };
  const infer = new InferRunner(conn.client, o.threads, Math.max(1, o.threads));

  const driftJob = async (job: Job, d: DriftJobData): Promise<unknown> => {
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
    o.log(`worker: trial ${d.trial} of study ${d.studyHash.slice(0, 12)} done in ${secs(performance.now() - t0)} s`);
    return out;
  };

  const inferJob = async (job: Job, d: InferJobData): Promise<unknown> => {
    const inputs = await infer.inputs(d);
    const what = `images ${d.first}..${d.first + d.count - 1}${d.draw ? ` (run ${d.draw})` : ""} at ${d.t} s on chip ${d.chip.seed} of study ${d.studyHash.slice(0, 12)}`;
    o.log(`worker: ${what} started (job ${job.id}, attempt ${job.attemptsStarted})`);
    const t0 = performance.now();
    const r = await infer.run(d, inputs);
    o.log(`worker: ${what} done in ${secs(performance.now() - t0)} s`);
    return r;
  };

  let completed = 0;
  const worker = new Worker(
    QUEUE_NAME,
    async (job: Job) => {
      const d = checkJobData(job.data);
      return d.kind === "drift-trial" ? driftJob(job, d) : inferJob(job, d);
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
  worker.on("failed", (job, e) => {
    const msg = (e?.message ?? String(e)).split("\n")[0];
    o.log(e instanceof RefusedJob || e?.name === "RefusedJob" ? `worker: refused job ${job?.id ?? "?"}: ${msg}` : `worker: job ${job?.id ?? "?"} failed: ${msg}`);
  });
  let signalled = false;
  let stopRequested: () => void = () => {};
  const stopped = new Promise<void>((r) => (stopRequested = r));
  worker.on("completed", () => void completed++);
  const onSignal = (sig: "SIGINT" | "SIGTERM"): void => {
    if (!signalled) {
      signalled = true;
      o.log(`worker: ${sig}: finishing the jobs in flight, then stopping (${sig === "SIGINT" ? "Ctrl-C" : "signal"} again to quit at once; an unfinished job is then retried by another worker)`);
      stopRequested();
    } else process.exit(sig === "SIGINT" ? 130 : 143);
  };
  const onInt = (): void => onSignal("SIGINT");
  const onTerm = (): void => onSignal("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  try {
    o.log(`worker: waiting for jobs on ${target.display} (queue ${QUEUE_NAME}), ${o.threads} thread${o.threads === 1 ? "" : "s"}; Ctrl-C to stop`);
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
    o.log(`worker: stopped after ${completed} job${completed === 1 ? "" : "s"}`);
    return { completed };
  } finally {
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
    await infer.dispose();
    await conn.close();
  }
}
