// lib/runtime — the machinery every other part runs on, knowing no chip rule: the compiled
// wasm module and the process's shared memory (wasm.ts, arena.ts), the Piscina pool and
// its registered task kinds (pool.ts, tasks.ts), argument validation and errors
// (validate.ts), durations (duration.ts), atomic file writes (atomic.ts), signal handling
// (signals.ts) and progress bars (progress.ts).
// May import: node built-ins and npm packages only — no other part of lib/.

export { WasmRuntime, wasmPath, provideWasmModule } from "./wasm.ts";
export { defaultThreads, shutdownPool, setTaskRunner, TaskError, type TaskRunner } from "./pool.ts";
export type { Task } from "./tasks.ts";
export { ArgumentError, UnknownOptionError } from "./validate.ts";
export { parseDuration, parseDurations, formatDuration } from "./duration.ts";
export { writeFileAtomic } from "./atomic.ts";
export { WasmMemoryExhaustedError } from "./arena.ts";
export type { OnProgress } from "./progress.ts";
