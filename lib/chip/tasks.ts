// The units of work the parallel engine ships to worker threads. Each is a pure function
// of its description and the shared wasm memory, so running it inline or in any worker
// gives the same bits.

import { characterizeCoreInto, type CharacterizeTask, type CoreCharacterization } from "../study/characterize-core.ts";
import { measureCoreInto, type CoreDeviceMeasurement, type MeasureBuffers } from "./devices.ts";
import type { CoreDeviceStats } from "./pcm-params.ts";
import { readTaskInto, type ReadTask } from "./readout.ts";
import { runChunkPlan, type ExecBuffers } from "../network/run-exec.ts";
import type { RunPlan } from "../network/run-plan.ts";
import { WasmRuntime } from "../runtime/wasm.ts";
import { programCoreInto, type CoreProgramResult, type ProgramBuffers, type ProgramTask } from "./program.ts";

export type Task =
  | { kind: "measure"; seed: bigint; core: number; stats: CoreDeviceStats; buf: MeasureBuffers }
  | { kind: "program"; task: ProgramTask; buf: ProgramBuffers }
  | { kind: "characterize"; task: CharacterizeTask }
  | { kind: "read"; task: ReadTask }
  | { kind: "runChunk"; plan: RunPlan; images: Int8Array[]; firstImage: number; mem: ExecBuffers }
  | { kind: "fail"; message: string; crash?: boolean }; // for fault tests

export type TaskResult<T extends Task> = T extends { kind: "measure" }
  ? CoreDeviceMeasurement
  : T extends { kind: "program" }
    ? CoreProgramResult
    : T extends { kind: "characterize" }
      ? CoreCharacterization
      : never;

/** A short name for errors: which task failed. */
export function taskName(t: Task): string {
  switch (t.kind) {
    case "measure":
      return `measure core ${t.core}`;
    case "program":
      return `program core ${t.task.core} (${t.task.scheme})`;
    case "characterize":
      return `characterize core ${t.task.core}`;
    case "read":
      return `read core ${t.task.read.core} inputs ${t.task.firstInput}..${t.task.firstInput + t.task.n - 1}`;
    case "runChunk":
      return `run inputs ${t.firstImage}..${t.firstImage + t.images.length - 1}`;
    case "fail":
      return "fail";
  }
}

export function runTask(t: Task): unknown {
  switch (t.kind) {
    case "measure":
      return measureCoreInto(t.seed, t.core, t.stats, t.buf);
    case "program":
      return programCoreInto(t.task, t.buf);
    case "characterize":
      return characterizeCoreInto(t.task);
    case "read":
      return readTaskInto(WasmRuntime.get(), t.task);
    case "runChunk":
      return runChunkPlan(WasmRuntime.get(), t.plan, t.images, t.firstImage, t.mem);
    case "fail":
      if (t.crash) process.exit(3);
      throw new Error(t.message);
  }
}
