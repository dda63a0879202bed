// The chip's task kinds for the parallel engine (lib/runtime/tasks.ts): measure a core's
// devices, program a core, read a batch slice of a core. Imported by the modules that
// build these tasks (chip.ts, analog.ts) and by the worker threads (workers/kernels.ts).

import { registerTaskKinds, type Task, type TaskKind } from "../runtime/tasks.ts";
import { WasmRuntime } from "../runtime/wasm.ts";
import { measureCoreInto, type MeasureBuffers } from "./devices.ts";
import type { CoreDeviceStats } from "./pcm-params.ts";
import { programCoreInto, type ProgramBuffers, type ProgramTask } from "./program.ts";
import { readTaskInto, type ReadTask } from "./readout.ts";

export interface MeasureCoreTask extends Task {
  kind: "measure";
  seed: bigint;
  core: number;
  stats: CoreDeviceStats;
  buf: MeasureBuffers;
}
export interface ProgramCoreTask extends Task {
  kind: "program";
  task: ProgramTask;
  buf: ProgramBuffers;
}
export interface ReadSliceTask extends Task {
  kind: "read";
  task: ReadTask;
}

export const CHIP_TASKS = {
  measure: {
    run: (t) => measureCoreInto(t.seed, t.core, t.stats, t.buf),
    name: (t) => `measure core ${t.core}`,
  } satisfies TaskKind<MeasureCoreTask>,
  program: {
    run: (t) => programCoreInto(t.task, t.buf),
    name: (t) => `program core ${t.task.core} (${t.task.scheme})`,
  } satisfies TaskKind<ProgramCoreTask>,
  read: {
    run: (t) => readTaskInto(WasmRuntime.get(), t.task),
    name: (t) => `read core ${t.task.read.core} inputs ${t.task.firstInput}..${t.task.firstInput + t.task.n - 1}`,
  } satisfies TaskKind<ReadSliceTask>,
};
registerTaskKinds(CHIP_TASKS);
