// Task kinds: the units of work the parallel engine ships to worker threads, registered by
// the parts that own them (lib/chip/tasks.ts, lib/network/tasks.ts, lib/study/tasks.ts) so
// that this runtime knows no chip rule. A task is a plain object with a `kind`; its
// function is pure in its description and the shared wasm memory, so running it inline or
// in any worker gives the same bits. Worker threads import every part's tasks module
// (workers/kernels.ts); on the main thread the module that builds a task imports its kind's.

/** A unit of work: `kind` names a registered task kind; the rest is that kind's data. */
export interface Task {
  /** The registered task kind that runs it (e.g. "program", "read", "runChunk"). */
  readonly kind: string;
}

/** How to run a kind of task, and how to name one in an error ("program core 3 (tdp)"). */
export interface TaskKind<T extends Task = Task> {
  run(task: T): unknown;
  name(task: T): string;
}

const kinds = new Map<string, TaskKind>();

/** Register task kinds by name (idempotent for the same functions; a clash throws). */
export function registerTaskKinds(table: Readonly<Record<string, TaskKind<never>>>): void {
  for (const [kind, k] of Object.entries(table)) {
    const old = kinds.get(kind);
    if (old && old !== k) throw new Error(`task kind '${kind}' is registered twice`);
    kinds.set(kind, k as unknown as TaskKind);
  }
}

function kindOf(t: Task): TaskKind {
  const k = kinds.get(t?.kind);
  if (!k) throw new Error(`unknown task kind '${String(t?.kind)}' (registered: ${[...kinds.keys()].join(", ")})`);
  return k;
}

/** A short name for errors: which task failed. */
export function taskName(t: Task): string {
  const k = kinds.get(t?.kind);
  return k ? k.name(t) : String(t?.kind);
}

export function runTask(t: Task): unknown {
  return kindOf(t).run(t);
}

/** For fault tests: a task that throws `message`, or with `crash` ends its worker thread's process. */
export interface FailTask extends Task {
  kind: "fail";
  message: string;
  crash?: boolean;
}
registerTaskKinds({
  fail: {
    run(t: FailTask): never {
      if (t.crash) process.exit(3);
      throw new Error(t.message);
    },
    name: () => "fail",
  } satisfies TaskKind<FailTask>,
});
