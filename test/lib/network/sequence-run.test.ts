// Sequence models on the chip (lib/network/sequence-run.ts): stacked LSTM layers through the
// cores and GDPU slices, timestep by timestep, state reset per sequence, the head on the last
// step or on every step; against the float64 reference on a noise-free functional chip (only
// INT8 and the GDPU's FP16 separate them) and on the physical chip.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Chip } from "../../../lib/chip/chip.ts";
import { quietFit } from "../../fixtures/quiet-fit.ts";
import { loadSequenceModel } from "../../../lib/network/onnx-sequence.ts";
import { mapSequenceModel, programSequenceModel, runSequenceModel, runSequences } from "../../../lib/network/sequence-run.ts";
import { shutdownPool } from "../../../lib/runtime/pool.ts";
import { rnd } from "../../fixtures/onnx-models.ts";
import { seqModel, type SeqModelOptions } from "../../fixtures/sequence-models.ts";

const T = 6;
const sequences = (n: number, features: number, vocab?: number, steps = T) =>
  Array.from({ length: n }, () => Float32Array.from({ length: steps * features }, () => (vocab ? Math.floor(rnd() * vocab) : rnd() * 2 - 1)));

const cases: [string, SeqModelOptions, number][] = [
  ["seq-first, 1 layer, last step", {}, 3],
  ["batch_first, 2 layers, last step, Softmax", { batchFirst: true, layers: 2, softmax: true }, 5],
  ["embedding, batch_first, 2 layers, all steps", { vocab: 13, batchFirst: true, layers: 2, outputs: "all" }, 5],
  ["seq-first, 2 layers, h_n[−1]", { layers: 2, outputs: "hn" }, 5],
  ["seq-first, Slice of the last step, dense + ReLU + dense head", { slice: true, mlp: 10 }, 4],
];

for (const [label, o, cores] of cases) {
  test(`${label}: a quiet functional chip follows float64`, async () => {
    const m = await loadSequenceModel(seqModel({ hidden: 16, ...o }), { steps: T });
    const xs = sequences(24, m.features, o.vocab);
    const chip = Chip.create({ seed: 4, fidelity: "functional" });
    try {
      const r = await runSequenceModel(chip, m, xs, { fit: quietFit() });
      // The default maps 8 copies of every matrix (replicas "auto"); the plain layout's cores:
      assert.is(mapSequenceModel(m, { replicas: 1 }).cores, cores);
      assert.is(r.mapping.cores, 8 * cores);
      assert.is(r.outputs.length, 24);
      assert.ok(r.outputs.every((ys) => ys.length === (o.outputs === "all" ? T : 1) && ys.every((y) => y.length === 4 && y.every(Number.isFinite))));
      assert.ok(r.error < 0.05, `error ${r.error}`);
      assert.ok(r.agreement >= 0.9, `agreement ${r.agreement}`);
    } finally {
      chip.dispose();
    }
  });
}

test("physical TDP: a 2-layer batch_first model close to float64", async () => {
  const m = await loadSequenceModel(seqModel({ hidden: 24, features: 10, batchFirst: true, layers: 2, classes: 6 }), { steps: T });
  const chip = Chip.create({ seed: 5 });
  try {
    const r = await runSequenceModel(chip, m, sequences(32, 10), { scheme: "tdp", threads: 2 });
    assert.ok(r.error < 0.25, `error ${r.error}`);
    assert.ok(r.agreement >= 0.75, `agreement ${r.agreement}`);
  } finally {
    chip.dispose();
  }
});

test("the state starts at zero for every sequence: a sequence's outputs do not depend on its batch (functional)", async () => {
  const m = await loadSequenceModel(seqModel({ hidden: 16, vocab: 13, outputs: "all" }), { steps: T });
  const xs = sequences(3, 1, 13);
  const chip = Chip.create({ seed: 4, fidelity: "functional" });
  try {
    const mapping = mapSequenceModel(m);
    await programSequenceModel(chip, mapping, m, "tdp");
    const all = await runSequences(chip, m, mapping, xs);
    const alone = await runSequences(chip, m, mapping, [xs[2]!], { scales: all.scales });
    assert.equal(alone.outputs[0]!.map((y) => Array.from(y)), all.outputs[2]!.map((y) => Array.from(y)));
  } finally {
    chip.dispose();
  }
});

test("the same bits on 1 and 2 threads (batches of 512 sequences go over the pool)", async () => {
  const m = await loadSequenceModel(seqModel({ hidden: 8, batchFirst: true }), { steps: 2 });
  const xs = sequences(520, m.features, undefined, 2);
  const chip = Chip.create({ seed: 6 });
  try {
    const mapping = mapSequenceModel(m);
    await programSequenceModel(chip, mapping, m, "tdp", 2);
    const one = await runSequences(chip, m, mapping, xs, { threads: 1, reference: false });
    const two = await runSequences(chip, m, mapping, xs, { threads: 2, reference: false, scales: one.scales });
    assert.ok(one.outputs.every((ys, s) => ys.every((y, t) => y.every((v, j) => v === two.outputs[s]![t]![j]))));
    assert.ok(Number.isNaN(one.error));
  } finally {
    chip.dispose();
    await shutdownPool();
  }
});

test("sequences of the wrong length are named", async () => {
  const m = await loadSequenceModel(seqModel({ hidden: 8 }), { steps: T });
  const chip = Chip.create({ seed: 4, fidelity: "functional" });
  try {
    const rejects = async (p: Promise<unknown>, re: RegExp) => assert.match(await p.then(() => "no error", (e: Error) => e.message), re);
    await rejects(runSequenceModel(chip, m, [new Float32Array(3)]), /sequences\[0\] must be 30 values \(6 steps × 5 features\)/);
    await rejects(runSequenceModel(chip, m, []), /sequences must be a non-empty array/);
  } finally {
    chip.dispose();
  }
});

test.run();
