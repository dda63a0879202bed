// A Web Worker of the playground: the browser's counterpart of workers/kernels.ts. It
// instantiates the page's compiled wasm module on the page's one shared memory (both sent once,
// in the first message) and runs tasks of every part's registered kinds, the same functions
// Piscina's worker threads run under the CLI; it never allocates wasm memory.

import { runTask, type Task } from "../../lib/runtime/tasks.ts";
import { WasmRuntime } from "../../lib/runtime/wasm.ts";
import "../../lib/chip/tasks.ts";
import "../../lib/network/tasks.ts";
import "../../lib/study/tasks.ts";

/** Page → worker: first the runtime, then tasks. */
export type ToWorker = { init: { module: WebAssembly.Module; memory: WebAssembly.Memory } } | { id: number; task: Task };
/** Worker → page: ready after init, then one reply per task. */
export type FromWorker = { ready: true } | { id: number; result: unknown } | { id: number; error: string };

const scope = self as unknown as { onmessage: ((e: MessageEvent<ToWorker>) => void) | null; postMessage(m: FromWorker): void };

scope.onmessage = (e) => {
  const m = e.data;
  if ("init" in m) {
    WasmRuntime.attach(m.init.module, m.init.memory);
    scope.postMessage({ ready: true });
    return;
  }
  try {
    scope.postMessage({ id: m.id, result: runTask(m.task) });
  } catch (err) {
    scope.postMessage({ id: m.id, error: (err as Error)?.message ?? String(err) });
  }
};
