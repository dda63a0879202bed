// The parallel engine: same seed ⇒ same bits whatever the thread count; failures name
// the task and leave the pool usable.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHash } from "node:crypto";
import { Chip } from "../../../lib/chip/chip.ts";
import { TaskError, checkThreads, run, shutdownPool } from "../../../lib/runtime/pool.ts";
import { characterisationWeights } from "../../../lib/chip/workload.ts";
import type { FailTask } from "../../../lib/runtime/tasks.ts";

function planesDigest(chip: Chip): string {
  const h = createHash("sha256");
  for (const c of chip.cores) for (let q = 0; q < 4; q++) h.update(new Uint8Array(c.devicePlane(q).slice().buffer));
  return h.digest("hex");
}

test("measure and programAll give identical results on 1 and 2 threads", async () => {
  const results: string[] = [];
  const digests: string[] = [];
  for (const threads of [1, 2]) {
    const chip = Chip.create({ seed: 21 });
    try {
      const dev = await chip.measure({ threads });
      const r = await chip.programAll((c) => characterisationWeights(chip.seed, c), { scheme: "tdp", threads });
      results.push(JSON.stringify({ dev, r }));
      digests.push(planesDigest(chip));
    } finally {
      chip.dispose();
    }
  }
  assert.is(results[0], results[1]);
  assert.is(digests[0], digests[1]);
});

test("a task that throws rejects with an error naming it; the pool keeps working", async () => {
  let err: unknown;
  await run({ kind: "fail", message: "boom" } as FailTask, 2).catch((e) => (err = e));
  assert.instance(err, TaskError);
  assert.match(String((err as Error).message), /^fail failed: .*boom/);
  const chip = Chip.create({ seed: 2 });
  try {
    const dev = await chip.measure({ threads: 2 });
    assert.is(dev.cores.length, 64);
  } finally {
    chip.dispose();
  }
});

test("a worker that dies surfaces as an error, not a hang", async () => {
  let err: unknown;
  await run({ kind: "fail", message: "crash", crash: true } as FailTask, 2).catch((e) => (err = e));
  assert.instance(err, TaskError);
  // And work still runs afterwards (Piscina replaces the worker).
  const chip = Chip.create({ seed: 3 });
  try {
    const r = await chip.programAll((c) => characterisationWeights(chip.seed, c), { scheme: "odp", threads: 2 });
    assert.is(r.cores.length, 64);
  } finally {
    chip.dispose();
  }
});

test("thread counts are checked", () => {
  assert.throws(() => checkThreads(0), /threads must be an integer in 1..256, got 0/);
  assert.throws(() => checkThreads(1.5), /threads must be/);
  assert.is(checkThreads(2), 2);
});

test.after(async () => {
  await shutdownPool();
});
test.run();
