// The parallel engine: one Piscina pool per process whose workers share the process's wasm
// memory and run the task kinds the parts register (lib/runtime/tasks.ts), and slots of
// scratch buffers so that at most `threads` tasks hold them at once.
// `threads: 1` runs inline, without a pool (unless setInlineOneThread(false)). Results never depend on the thread count:
// every random draw is keyed by what it belongs to (seed, core, device, step).

import { availableParallelism } from "node:os";
import { Piscina } from "piscina";
import { runTask, taskName, type Task } from "./tasks.ts";
import { ArgumentError } from "./validate.ts";
import { WasmRuntime } from "./wasm.ts";
import { COMPILED } from "./files.ts";

// The worker entry: compiled JavaScript in the package (dist/workers/kernels.js), the
// TypeScript sources through tsx in a checkout.
const WORKER = new URL(COMPILED ? "../../workers/kernels.js" : "../../workers/kernels.worker.mjs", import.meta.url).href;

/** Worker threads used when none is given: `os.availableParallelism()` (the machine's cores). */
export function defaultThreads(): number {
  return availableParallelism();
}

export function checkThreads(threads: unknown, argument = "threads"): number {
  const max = 256;
  if (typeof threads !== "number" || !Number.isInteger(threads) || threads < 1 || threads > max) {
    throw new ArgumentError(argument, `an integer in 1..${max}`, threads);
  }
  return threads;
}

/** A task that failed inline or on a worker thread: `task` names it (as its kind describes it), `cause` is the original error. */
export class TaskError extends Error {
  constructor(
    /** The failed task, as its kind describes it. */
    readonly task: string,
    cause: unknown,
  ) {
    super(`${task} failed: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = "TaskError";
  }
}

let pool: Piscina | undefined;
let poolThreads = 0;

function piscina(threads: number): Piscina {
  if (pool && poolThreads === threads) return pool;
  if (pool) void pool.destroy();
  const rt = WasmRuntime.get();
  pool = new Piscina({
    filename: WORKER,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: 10_000,
    workerData: { module: rt.module, memory: rt.memory },
  });
  poolThreads = threads;
  return pool;
}

/** Stop the pool's workers (the CLI calls this before exiting). Safe to call anytime. */
export async function shutdownPool(): Promise<void> {
  const p = pool;
  pool = undefined;
  poolThreads = 0;
  if (p) await p.destroy();
}

let inlineOneThread = true;

/**
 * Whether `threads: 1` runs tasks inline (the default) or on a pool of one thread. A process
 * whose main thread must stay responsive while it computes (a queue worker renewing its job
 * locks) turns inlining off; results are the same bits either way.
 */
export function setInlineOneThread(on: boolean): void {
  inlineOneThread = on;
}

/** Runs a task somewhere other than this process's Piscina pool (see setTaskRunner). */
export type TaskRunner = (task: Task, threads: number) => Promise<unknown>;

let runner: TaskRunner | undefined;

/**
 * Run every task (whatever `threads`, 1 included) through `r` instead of inline or on the
 * Piscina pool; undefined restores the default. The browser playground (web/) sets a pool of
 * Web Workers over the same shared wasm memory; results are the same bits.
 */
export function setTaskRunner(r: TaskRunner | undefined): void {
  runner = r;
}

/** Run one task inline or on the pool; failures name the task. */
export async function run(task: Task, threads: number): Promise<unknown> {
  try {
    if (runner) return await runner(task, threads);
    if (threads === 1 && inlineOneThread) {
      // Inline, but yield to the event loop first so signals and progress are handled.
      await new Promise((r) => setImmediate(r));
      return runTask(task);
    }
    return await piscina(threads).run(task);
  } catch (e) {
    throw new TaskError(taskName(task), e);
  }
}

/** Buffers for `slots` concurrent tasks, each `layout` (name → bytes), allocated once. */
export class Slots<K extends string> {
  private readonly free: Record<K, number>[] = [];
  private readonly waiting: ((b: Record<K, number>) => void)[] = [];
  private readonly all: Record<K, number>[] = [];

  constructor(slots: number, layout: Record<K, number>) {
    const rt = WasmRuntime.get();
    for (let i = 0; i < slots; i++) {
      const b = {} as Record<K, number>;
      // Zero-filled, so no task sees a previous owner's bytes (e.g. a stale table key).
      for (const k of Object.keys(layout) as K[]) {
        b[k] = rt.alloc(layout[k]);
        rt.u8(b[k], layout[k]).fill(0);
      }
      this.free.push(b);
      this.all.push(b);
    }
  }

  async acquire(): Promise<Record<K, number>> {
    const b = this.free.pop();
    if (b) return b;
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(b: Record<K, number>): void {
    const next = this.waiting.shift();
    if (next) next(b);
    else this.free.push(b);
  }

  dispose(): void {
    const rt = WasmRuntime.get();
    for (const b of this.all) for (const k of Object.keys(b) as K[]) rt.free(b[k]);
    this.all.length = 0;
    this.free.length = 0;
  }
}

/**
 * Run `make(i, buffers)` tasks for i = 0..n−1 with at most `threads` in flight, each with
 * its own slot of buffers; results in index order. `onDone` reports progress.
 */
export async function mapTasks<K extends string, R>(
  n: number,
  threads: number,
  layout: Record<K, number>,
  make: (i: number, buf: Record<K, number>) => Task,
  onDone?: (done: number, total: number) => void,
): Promise<R[]> {
  checkThreads(threads);
  const slots = new Slots(Math.min(threads, n), layout);
  const out = new Array<R>(n);
  let done = 0;
  let failed = false;
  try {
    // allSettled, not all: buffers must not be freed while another task still runs.
    const settled = await Promise.allSettled(
      Array.from({ length: n }, async (_, i) => {
        const buf = await slots.acquire();
        try {
          if (failed) return; // stop starting new work after a failure
          out[i] = (await run(make(i, buf), threads)) as R;
        } catch (e) {
          failed = true;
          throw e;
        } finally {
          slots.release(buf);
        }
        onDone?.(++done, n);
      }),
    );
    const err = settled.find((r) => r.status === "rejected");
    if (err) throw (err as PromiseRejectedResult).reason;
  } finally {
    slots.dispose();
  }
  return out;
}
