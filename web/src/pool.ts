// The playground's parallel engine: N Web Workers (./worker.ts) over the page's one shared
// WebAssembly.Memory, each task sent to an idle worker, the others queued in order. Installed
// as lib/runtime/pool.ts's task runner, so lib/'s mapTasks hands its tasks here instead of to
// Piscina: the same task functions on the same memory, the same bits as the CLI.

import type { Task } from "../../lib/runtime/tasks.ts";
import type { FromWorker, ToWorker } from "./worker.ts";

interface Pending {
  task: Task;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

/** A pool of Web Workers sharing one wasm memory. */
export class WebWorkerPool {
  private readonly idle: Worker[] = [];
  private readonly queue: Pending[] = [];
  private readonly busy = new Map<Worker, Pending>();
  private nextId = 1;

  private constructor(readonly workers: readonly Worker[]) {
    this.idle.push(...workers);
    for (const w of workers) {
      w.onmessage = (e: MessageEvent<FromWorker>) => this.reply(w, e.data);
      w.onerror = (e) => this.fail(w, new Error(`a Web Worker failed: ${e.message}`));
    }
  }

  /** Start `n` workers from `url`, each given `module` and `memory`; resolves when all are ready. */
  static async create(n: number, url: string, module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<WebWorkerPool> {
    const workers = Array.from({ length: n }, () => new Worker(url, { type: "module" }));
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            w.onmessage = (e: MessageEvent<FromWorker>) => ("ready" in e.data ? resolve() : reject(new Error("a Web Worker answered before it was ready")));
            w.onerror = (e) => reject(new Error(`a Web Worker could not start: ${e.message}`));
            w.postMessage({ init: { module, memory } } satisfies ToWorker);
          }),
      ),
    );
    return new WebWorkerPool(workers);
  }

  /** Workers in the pool. */
  get size(): number {
    return this.workers.length;
  }

  /** Run `task` on the next idle worker: its result, or its error. */
  run(task: Task): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.queue.push({ task, resolve, reject });
      this.pump();
    });
  }

  /** Stop every worker; tasks not finished fail. */
  terminate(): void {
    for (const w of this.workers) w.terminate();
    for (const p of [...this.busy.values(), ...this.queue]) p.reject(new Error("the Web Workers were stopped"));
    this.busy.clear();
    this.queue.length = 0;
    this.idle.length = 0;
  }

  private pump(): void {
    while (this.idle.length && this.queue.length) {
      const w = this.idle.shift()!;
      const p = this.queue.shift()!;
      this.busy.set(w, p);
      w.postMessage({ id: this.nextId++, task: p.task } satisfies ToWorker);
    }
  }

  private reply(w: Worker, m: FromWorker): void {
    const p = this.busy.get(w);
    if (!p || "ready" in m) return;
    this.busy.delete(w);
    this.idle.push(w);
    if ("error" in m) p.reject(new Error(m.error));
    else p.resolve(m.result);
    this.pump();
  }

  private fail(w: Worker, e: Error): void {
    const p = this.busy.get(w);
    this.busy.delete(w);
    p?.reject(e);
  }
}
