// The submitter's side of the queue (see lib/study/queue/index.ts): connect, add jobs
// (idempotent ids), and collect the return value of the jobs it waits for.
//
// Polling: the jobs waited for are looked at in the order they were asked for, a batch at a
// time, stopping at the first batch that holds an unfinished job, so that a submitter
// waiting for a long run reads little more than the head of its queue. A job that has
// disappeared (expired, cleaned) is added again; a job that had failed before this
// submission started is retried once; a job failing now rejects its waiter with the
// worker's reason. A lost connection rejects every waiter with one QueueError.

import { setMaxListeners } from "node:events";
import { Queue, type Job, type JobsOptions } from "bullmq";
import { QueueError, connectRedis, explain, queueTarget, queueTimings, type QueueAccess, type QueueTarget } from "./connection.ts";
import { KEEP_S, QUEUE_NAME, type JobData } from "./jobs.ts";

export interface JobSpec {
  name: string;
  data: JobData;
  opts: JobsOptions;
}

/** A job with its id, 3 attempts, kept KEEP_S in Redis. */
export function jobSpec(id: string, data: JobData): JobSpec {
  return {
    name: data.kind,
    data,
    opts: { jobId: id, attempts: 3, backoff: { type: "fixed", delay: 1000 }, removeOnComplete: { age: KEEP_S }, removeOnFail: { age: KEEP_S } },
  };
}

interface Waiter {
  spec: () => JobSpec;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** A connection to the queue for a submitter: add jobs, wait for their results. */
export class Submission {
  readonly target: QueueTarget;
  private readonly queue: Queue;
  private readonly waiters = new Map<string, Waiter>();
  private readonly retried = new Set<string>();
  private readonly signals = new WeakSet<AbortSignal>();
  private readonly startedAt = Date.now();
  private fatal: QueueError | undefined;
  private stopping = false;
  private wake: () => void = () => {};
  private idle = false;
  private readonly loop: Promise<void>;

  private constructor(
    target: QueueTarget,
    private readonly conn: Awaited<ReturnType<typeof connectRedis>>,
  ) {
    this.target = target;
    this.queue = new Queue(QUEUE_NAME, { connection: conn.client });
    this.queue.on("error", () => {}); // surfaced through polling and `lost`
    void conn.lost.then((why) => this.failAll(new QueueError(`lost the connection to Redis: ${why}`)));
    this.loop = this.pollLoop();
  }

  /** Connect (or fail within seconds with one QueueError line). */
  static async open(access: QueueAccess): Promise<Submission> {
    const target = queueTarget(access);
    return new Submission(target, await connectRedis(target, "submitter", false));
  }

  get client(): Awaited<ReturnType<typeof connectRedis>>["client"] {
    return this.conn.client;
  }

  /** Add jobs (a job whose id exists is left as it is). */
  async add(specs: readonly JobSpec[]): Promise<void> {
    for (let i = 0; i < specs.length; i += 1000) await this.queue.addBulk(specs.slice(i, i + 1000) as JobSpec[]);
  }

  /**
   * Remove those of jobs `ids` that no worker has started (waiting, delayed, prioritized):
   * what a submitter that stops (Ctrl-C, a failed job, a failed float reference) leaves for
   * nobody. Running jobs finish and completed ones stay (a later submission reuses them); a
   * concurrent submission of the same jobs adds a removed job again when it polls. Never
   * throws (a lost connection removes nothing). Returns how many were removed.
   */
  async removeWaiting(ids: readonly string[]): Promise<number> {
    let removed = 0;
    try {
      for (let i = 0; i < ids.length; i += 256) {
        const jobs = await Promise.all(ids.slice(i, i + 256).map((id) => this.queue.getJob(id)));
        const counts = await Promise.all(
          jobs.map(async (job) => {
            if (!job?.id) return 0;
            const state = await job.getState();
            // Removing is refused (0) for a job a worker has locked in the meantime.
            return state === "waiting" || state === "delayed" || state === "prioritized" ? this.queue.remove(job.id) : 0;
          }),
        );
        for (const c of counts) removed += c === 1 ? 1 : 0;
      }
    } catch {
      // The link is gone: the jobs stay (they expire after KEEP_S).
    }
    return removed;
  }

  /** "; N workers connected" or a hint that none is (empty when Redis will not say). */
  async workersNote(): Promise<string> {
    let n = -1;
    try {
      n = await this.queue.getWorkersCount();
    } catch {
      // CLIENT LIST may be disabled on managed Redis: say nothing about workers.
    }
    if (n === 0) return `; no worker is connected yet: start \`hermes-sim worker --queue ${this.target.display}\` on one or more machines`;
    return n > 0 ? `; ${n} worker${n === 1 ? "" : "s"} connected` : "";
  }

  /** The return value of job `id` once it has completed (`spec` adds it again if it disappears). */
  wait(id: string, spec: () => JobSpec, signal?: AbortSignal): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.fatal) return reject(this.fatal);
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = (): void => {
        this.waiters.delete(id);
        reject(signal!.reason);
      };
      if (signal && !this.signals.has(signal)) {
        this.signals.add(signal);
        setMaxListeners(0, signal); // one listener per job waited for
      }
      signal?.addEventListener("abort", onAbort, { once: true });
      const done = (): void => signal?.removeEventListener("abort", onAbort);
      this.waiters.set(id, { spec, resolve: (v) => (done(), resolve(v)), reject: (e) => (done(), reject(e)) });
      if (this.idle) this.wake();
    });
  }

  private failAll(e: QueueError): void {
    this.fatal ??= e;
    for (const [id, w] of [...this.waiters]) {
      this.waiters.delete(id);
      w.reject(this.fatal);
    }
  }

  private async poll(): Promise<void> {
    const ids = [...this.waiters.keys()];
    const readd: JobSpec[] = [];
    // Batches of 16, 32, 64, ... up to 256 jobs while every job looked at has finished.
    for (let i = 0, size = 16; i < ids.length && i < 5000 && !this.fatal; i += size, size = Math.min(256, 2 * size)) {
      const part = ids.slice(i, i + size);
      const jobs = await Promise.all(part.map((id) => this.queue.getJob(id)));
      let pending = false;
      for (let k = 0; k < part.length; k++) {
        const id = part[k]!;
        const w = this.waiters.get(id);
        if (!w) continue;
        const job = jobs[k] as Job | undefined;
        if (!job) {
          readd.push(w.spec()); // removed (expired or cleaned): enqueue it again
          pending = true;
        } else if (!job.finishedOn) pending = true;
        else if (job.returnvalue !== null && job.returnvalue !== undefined) {
          this.waiters.delete(id);
          w.resolve(job.returnvalue);
        } else if (!this.retried.has(id) && job.timestamp < this.startedAt) {
          this.retried.add(id); // failed in an earlier submission: give it another go
          await job.retry("failed");
          pending = true;
        } else {
          this.waiters.delete(id);
          w.reject(new Error(job.failedReason || "job failed"));
        }
      }
      if (pending) break;
    }
    if (readd.length) await this.add(readd);
  }

  private async pollLoop(): Promise<void> {
    const t = queueTimings();
    let failingSince: number | undefined;
    while (!this.stopping && !this.fatal) {
      if (this.waiters.size > 0) {
        try {
          await this.poll();
          failingSince = undefined;
        } catch (e) {
          failingSince ??= Date.now();
          if (Date.now() - failingSince > t.reconnectMs + t.connectMs) {
            this.failAll(new QueueError(`lost the connection to Redis: ${explain(e, this.target)}`));
            return;
          }
        }
      }
      this.idle = this.waiters.size === 0;
      await new Promise<void>((r) => {
        const timer = setTimeout(r, this.idle ? 60_000 : t.pollMs);
        this.wake = () => {
          clearTimeout(timer);
          r();
        };
      });
      this.idle = false;
      this.wake = () => {};
    }
  }

  async close(): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.loop.catch(() => {});
    await this.queue.close().catch(() => {});
    await this.conn.close();
  }
}
