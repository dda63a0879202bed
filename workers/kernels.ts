// A worker thread: instantiate the main thread's compiled module on its shared memory
// (both passed once in workerData) and run tasks of every part's registered kinds.
// Workers never allocate wasm memory.
import { workerData } from "piscina";
import { runTask, type Task } from "../lib/runtime/tasks.ts";
import { WasmRuntime } from "../lib/runtime/wasm.ts";
import "../lib/chip/tasks.ts";
import "../lib/network/tasks.ts";
import "../lib/study/tasks.ts";

const data = workerData as { module: WebAssembly.Module; memory: WebAssembly.Memory };
WasmRuntime.attach(data.module, data.memory);

export default function handle(task: Task): unknown {
  return runTask(task);
}
