// The studies' task kind for the parallel engine (lib/runtime/tasks.ts): characterise one
// core (lib/study/characterize-core.ts). Imported by characterize.ts, which builds these
// tasks, and by the worker threads (workers/kernels.ts).

import { registerTaskKinds, type Task, type TaskKind } from "../runtime/tasks.ts";
import { characterizeCoreInto, type CharacterizeTask } from "./characterize-core.ts";

export interface CharacterizeCoreTask extends Task {
  kind: "characterize";
  task: CharacterizeTask;
}

export const STUDY_TASKS = {
  characterize: {
    run: (t) => characterizeCoreInto(t.task),
    name: (t) => `characterize core ${t.task.core}`,
  } satisfies TaskKind<CharacterizeCoreTask>,
};
registerTaskKinds(STUDY_TASKS);
