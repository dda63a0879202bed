// Drift studies on several machines: BullMQ jobs on Redis (`hermes-sim drift --queue URL`,
// `hermes-sim worker --queue URL`).
//
// Jobs. One job per trial (simulated chip), carrying everything a worker needs: the study
// seed, the trial index, the read times and the workload (scheme, cores, inputs, phases,
// fidelity; a functional fit given with --fit is stored once in Redis under its SHA-256 and
// the job carries the hash). A worker derives the chip's seed with trialSeed(seed, trial)
// and runs driftTrial (lib/drift-study.ts), the very function of a local run, and the job's
// return value is the trial's metrics, one object per time.
//
// Ids. jobId = "drift-<key>-<trial>" where key is the SHA-256 of everything that determines a
// trial's result (protocol, hermes-sim version, seed, times, workload, fit hash): adding a
// job whose id exists is a no-op in BullMQ, so submitting a study twice (or resubmitting
// after an interruption) never duplicates work, and a longer study with the same settings
// reuses the trials already done (a trial's result does not depend on the trial count).
//
// Results. The submitter polls the jobs of the trials it still needs; a completed job's
// return value is handed to runStudy (lib/montecarlo.ts) as that trial's result, so the
// checkpoint, the ordering by trial, the statistics and the digest are those of a local run
// bit for bit. Results are keyed by trial: a job run twice (a worker killed mid-job leaves a
// stalled job, which BullMQ gives to another worker once its lock expires) counts once.
//
// Connections fail fast: no Redis, an unknown host or a dead link end with one clear line
// (the URL's user and password are never printed), never a hang; a link lost during a run
// is retried for a few seconds (HERMES_QUEUE_RECONNECT_MS), then the command stops.

import { existsSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { Queue, UnrecoverableError, Worker, type Job } from "bullmq";
import { Redis } from "ioredis";
import { canonicalJson, normalizeMetrics, openCheckpoint, sha256Hex, studyHash, type Metrics, type Study } from "./checkpoint.ts";
import { FIDELITIES, type Fidelity } from "./config.ts";
import { driftOptions, driftTrial, type DriftStudyOptions, type DriftWorkload } from "./drift-study.ts";
import type { FunctionalFit } from "./functional-fit.ts";
import { runStudy, TrialError, trialSeed, type StudyResult } from "./montecarlo.ts";
import { ArgumentError } from "./validate.ts";

export const QUEUE_NAME = "hermes-sim-drift";
export const JOB_NAME = "drift-trial";
/** Version of the job format; a worker refuses jobs of another version. */
export const PROTOCOL = 1;

const VERSION = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;

/** A queue failure (no server, lost connection, ...): exit code 1, one line. */
export class QueueError extends Error {
  override name = "QueueError";
}

// ---------------------------------------------------------------------------------------
// URLs and connections

export interface QueueTarget {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls: boolean;
  /** The URL without user or password (user:password shown as ***): safe to print. */
  display: string;
}

/** `text` with any user:password (or token) before an "@" replaced by "***". */
export function redactUrl(text: string): string {
  return text.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/?#]*@/, "$1***@");
}

/** Parse redis://[user:password@]host[:port][/db] (rediss:// for TLS). */
export function parseQueueUrl(text: string, argument = "--queue"): QueueTarget {
  const expected = "a Redis URL redis://HOST:PORT (or redis://[user:password@]HOST[:PORT][/DB], rediss:// for TLS)";
  const shown = redactUrl(String(text));
  let u: URL;
  try {
    u = new URL(String(text).trim());
  } catch {
    throw new ArgumentError(argument, expected, shown);
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") throw new ArgumentError(argument, expected, shown);
  const host = u.hostname.replace(/^\[(.*)\]$/, "$1");
  if (!host) throw new ArgumentError(argument, expected, shown);
  const port = u.port === "" ? 6379 : Number(u.port);
  const path = u.pathname.replace(/^\//, "");
  if (!/^\d{0,2}$/.test(path) || u.search || u.hash) throw new ArgumentError(argument, `${expected} with at most a database number as path`, shown);
  const db = path === "" ? 0 : Number(path);
  const username = u.username ? decodeURIComponent(u.username) : undefined;
  const password = u.password ? decodeURIComponent(u.password) : undefined;
  const auth = username || password ? "***@" : "";
  const display = `${u.protocol}//${auth}${u.hostname}:${port}${db ? `/${db}` : ""}`;
  return { host, port, db, tls: u.protocol === "rediss:", display, ...(username ? { username } : {}), ...(password ? { password } : {}) };
}

function envMs(name: string, fallback: number, lo = 100): number {
  const v = process.env[name];
  if (v === undefined || v === "") return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < lo || n > 86_400_000) throw new ArgumentError(name, `an integer number of milliseconds in ${lo}..86400000`, v);
  return n;
}

/** Timing knobs (milliseconds); tests shorten them through the environment. */
export function queueTimings(): { connectMs: number; reconnectMs: number; lockMs: number; stalledMs: number; pollMs: number } {
  const lockMs = envMs("HERMES_QUEUE_LOCK_MS", 30_000, 500);
  return {
    connectMs: envMs("HERMES_QUEUE_CONNECT_MS", 3_000),
    reconnectMs: envMs("HERMES_QUEUE_RECONNECT_MS", 15_000, 0),
    lockMs,
    stalledMs: envMs("HERMES_QUEUE_STALLED_MS", Math.min(lockMs, 30_000)),
    pollMs: envMs("HERMES_QUEUE_POLL_MS", 250, 10),
  };
}

/** One line for a connection failure; never contains the password. */
function explain(e: unknown, target: QueueTarget): string {
  const err = e as NodeJS.ErrnoException & { message?: string };
  const code = err?.code ?? "";
  const msg = String(err?.message ?? e);
  const where = target.display;
  if (code === "ECONNREFUSED" || /ECONNREFUSED/.test(msg)) return `no Redis server at ${where} (connection refused): start one (redis-server --port ${target.port}) or fix --queue`;
  if (code === "ENOTFOUND" || code === "EAI_AGAIN" || /ENOTFOUND|EAI_AGAIN/.test(msg)) return `cannot resolve the host of ${where}: check --queue`;
  if (code === "ETIMEDOUT" || /ETIMEDOUT|timed? ?out/i.test(msg)) return `no answer from ${where} within the connect timeout: is Redis running there and reachable?`;
  if (code === "ECONNRESET" || code === "EPIPE") return `${where} closed the connection (is it a Redis server?)`;
  if (/RESP|Protocol error/i.test(msg)) return `${where} does not answer as a Redis server does: check the host and port in --queue`;
  if (/NOAUTH|WRONGPASS|AUTH/.test(msg)) return `Redis at ${where} refused the credentials (${msg.split(/\s+/)[0]}): check the user and password in --queue`;
  const clean = target.password ? msg.split(target.password).join("***") : msg;
  return `Redis at ${where}: ${clean.split("\n")[0]}`;
}

interface Connection {
  client: Redis;
  /** Resolves with an explanation once the link is lost for good (retries exhausted). */
  lost: Promise<string>;
  close(): Promise<void>;
}

/**
 * Connect to Redis or fail within about `connectMs` with a clear QueueError. After the first
 * success a dropped link is retried for `reconnectMs`, then `lost` resolves. `blocking`
 * clients (BullMQ workers) must have maxRetriesPerRequest null (BullMQ requires it) and keep
 * the offline queue; others fail a command after one retry and at once while disconnected.
 */
export async function connectRedis(target: QueueTarget, role: string, blocking: boolean): Promise<Connection> {
  const t = queueTimings();
  let ready = false;
  let lostAt: number | undefined;
  let lastError: unknown;
  const client = new Redis({
    host: target.host,
    port: target.port,
    db: target.db,
    ...(target.username ? { username: target.username } : {}),
    ...(target.password ? { password: target.password } : {}),
    ...(target.tls ? { tls: {} } : {}),
    connectionName: `hermes-sim-${role}`,
    lazyConnect: true,
    // The first connection is made (and checked) here, before BullMQ sees the client. Later,
    // a submitter's command fails at once while the link is down (its poll loop waits between
    // tries); a worker's is held until the link is back or given up (BullMQ's worker loop
    // retries failed commands without waiting, which would starve the reconnection timers).
    enableOfflineQueue: blocking,
    maxRetriesPerRequest: blocking ? null : 1,
    connectTimeout: t.connectMs,
    // Never retry the first connection (fail fast); after a success, retry for reconnectMs.
    retryStrategy: (times: number) => {
      if (!ready) return null;
      lostAt ??= Date.now();
      if (Date.now() - lostAt > t.reconnectMs) return null;
      return Math.min(100 * times, 1000);
    },
  });
  let onLost: (why: string) => void = () => {};
  const lost = new Promise<string>((r) => (onLost = r));
  client.on("error", (e) => (lastError = e));
  client.on("ready", () => {
    ready = true;
    lostAt = undefined;
  });
  let closing = false;
  client.on("end", () => {
    if (!closing && ready) onLost(lastError ? explain(lastError, target) : `${target.display} closed the connection`);
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(Object.assign(new Error("timed out"), { code: "ETIMEDOUT" })), t.connectMs + 2000);
      }),
    ]);
    await client.ping();
  } catch (e) {
    closing = true;
    client.disconnect();
    throw new QueueError(explain(lastError ?? e, target));
  } finally {
    clearTimeout(timer);
  }
  return {
    client,
    lost,
    async close() {
      closing = true;
      if (client.status === "ready") await client.quit().catch(() => client.disconnect());
      else client.disconnect();
    },
  };
}

// ---------------------------------------------------------------------------------------
// Jobs

export interface DriftJobData {
  protocol: number;
  /** hermes-sim version of the submitter: a worker refuses another (results could differ). */
  hermesSim: string;
  /** For logs only (the study of the submitter). */
  studyHash: string;
  seed: string;
  trial: number;
  times: number[];
  workload: { scheme: string; cores: number; inputs: number; phases: number; fidelity: string; fitHash?: string };
}

const BLOB_PREFIX = "hermes-sim:blob:";
const KEEP_S = 7 * 86_400;

/** The part of every job id that names what the trial computes (everything except the trial index). */
export function jobKey(d: Omit<DriftJobData, "trial" | "studyHash">): string {
  return sha256Hex(canonicalJson({ protocol: d.protocol, hermesSim: d.hermesSim, seed: d.seed, times: d.times, workload: d.workload })).slice(0, 40);
}

export const jobId = (key: string, trial: number): string => `drift-${key}-${trial}`;

function checkJobData(d: unknown): DriftJobData {
  const j = d as DriftJobData;
  if (typeof j !== "object" || j === null || j.protocol !== PROTOCOL) {
    throw new UnrecoverableError(`job format ${String((j as { protocol?: unknown })?.protocol)} is not this worker's (${PROTOCOL}): run the same hermes-sim version on every machine`);
  }
  if (j.hermesSim !== VERSION) {
    throw new UnrecoverableError(`the study was submitted by hermes-sim ${j.hermesSim}, this worker runs ${VERSION}: run the same version on every machine`);
  }
  const w = j.workload;
  if (!/^\d{1,20}$/.test(String(j.seed)) || !Number.isInteger(j.trial) || j.trial < 0 || !Array.isArray(j.times) || typeof w !== "object" || !FIDELITIES.includes(w.fidelity as Fidelity)) {
    throw new UnrecoverableError("malformed drift-trial job");
  }
  return j;
}

// ---------------------------------------------------------------------------------------
// Submitter

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

// ---------------------------------------------------------------------------------------
// Worker

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
