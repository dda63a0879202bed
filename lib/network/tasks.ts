// The network part's task kind for the parallel engine (lib/runtime/tasks.ts): run one
// chunk of inputs through a weight-free plan (lib/network/run-exec.ts). Imported by
// run.ts, which builds these tasks, and by the worker threads (workers/kernels.ts).

import { registerTaskKinds, type Task, type TaskKind } from "../runtime/tasks.ts";
import { WasmRuntime } from "../runtime/wasm.ts";
import { runChunkPlan, type ExecBuffers } from "./run-exec.ts";
import type { RunPlan } from "./run-plan.ts";

export interface RunChunkTask extends Task {
  kind: "runChunk";
  plan: RunPlan;
  images: Int8Array[];
  firstImage: number;
  mem: ExecBuffers;
}

export const NETWORK_TASKS = {
  runChunk: {
    run: (t) => runChunkPlan(WasmRuntime.get(), t.plan, t.images, t.firstImage, t.mem),
    name: (t) => `run inputs ${t.firstImage}..${t.firstImage + t.images.length - 1}`,
  } satisfies TaskKind<RunChunkTask>,
};
registerTaskKinds(NETWORK_TASKS);
