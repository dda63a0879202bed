// Model drift studies (lib/study/drift-model.ts) on a tiny CNN: loading and checks, the study hash,
// and each chip's accuracies against an independent recomputation on the same chip seed.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Chip } from "../../../lib/chip/chip.ts";
import { studyHash } from "../../../lib/study/checkpoint.ts";
const rejects = (p: Promise<unknown>, re: RegExp) => p.then(() => assert.unreachable("resolved"), (e: Error) => assert.match(e.message, re));
import { loadModelData, modelDriftOptions, modelDriftStudy, type ModelWorkload } from "../../../lib/study/drift-model.ts";
import { trialSeed } from "../../../lib/study/montecarlo.ts";
import { argmax, programNetwork, runNetwork } from "../../../lib/network/run.ts";
import { shutdownPool } from "../../../lib/runtime/pool.ts";
import { idxBytes, writeTinyTestSet } from "../../fixtures/tiny-test-set.ts";

const dir = mkdtempSync(join(tmpdir(), "hermes-drift-model-"));
const f = writeTinyTestSet(dir, 24);
const files = { model: f.a, images: f.images, labels: f.labels };
const sha = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");

test("loadModelData: the first `limit` images and labels, file hashes, the mapping; clear errors", async () => {
  const d = await loadModelData(files, 20, { inputScale: 1 / 255 });
  assert.is(d.images.length, 20);
  assert.is(d.labels.length, 20);
  assert.is(d.images[0]!.length, 64);
  assert.ok(d.images.every((x) => x.every((v) => v >= 0 && v <= 1)));
  assert.equal(d.sha256, { model: sha(f.a), images: sha(f.images), labels: sha(f.labels) });
  assert.is(d.mapping.cores, 24); // three one-tile layers, 8 copies each (replicas auto)
  assert.is((await loadModelData(files, 1000, { inputScale: 1 / 255 })).images.length, 24, "a limit above the set's size takes the whole set");
  writeFileSync(join(dir, "x28"), idxBytes([2, 28, 28], new Uint8Array(2 * 784)));
  await rejects(loadModelData({ ...files, images: join(dir, "x28") }, 2, { inputScale: 1 }), /--images must be N × 1 × 8 × 8 or N × 8 × 8, or N × 8 × 8 × 1 with --layout nhwc for the model's input \[1, 8, 8\], got .*x28 of shape \[2, 28, 28\] \(uint8\)/);
  writeFileSync(join(dir, "y3"), idxBytes([3], new Uint8Array(3)));
  await rejects(loadModelData({ ...files, labels: join(dir, "y3") }, 10, { inputScale: 1 }), /--labels must be at least 10 labels \(one per image used: the first 10 of the 24 in .*\), got .*y3 with 3/);
  await rejects(loadModelData({ ...files, model: join(dir, "nope.onnx") }, 10, { inputScale: 1 }), /--model must be a readable file/);
  await rejects(loadModelData(files, 0, { inputScale: 1 }), /--limit/);
  await rejects(loadModelData(files, 4, { inputScale: -1 }), /--input-scale/);
});

test("the study hash covers the model's and test set's contents, the image count and the input scale", async () => {
  const w: ModelWorkload = { data: await loadModelData(files, 20, { inputScale: 1 / 255 }), scheme: "tdp", fidelity: "physical" };
  const h = (o: ModelWorkload) => studyHash({ seed: "1", trials: 2, times: [25], options: modelDriftOptions(o) });
  assert.is(h(w), h({ ...w, data: await loadModelData(files, 20, { inputScale: 1 / 255 }) }));
  assert.is.not(h(w), h({ ...w, data: await loadModelData({ ...files, model: f.b }, 20, { inputScale: 1 / 255 }) }));
  assert.is.not(h(w), h({ ...w, data: await loadModelData(files, 19, { inputScale: 1 / 255 }) }));
  assert.is.not(h(w), h({ ...w, data: await loadModelData(files, 20, { inputScale: 1 / 256 }) }));
  assert.is.not(h(w), h({ ...w, scheme: "odp" }));
  const o = modelDriftOptions(w) as { metric: string; model: { sha256: string } };
  assert.match(o.metric, /^accuracy: fraction in \[0, 1\]/);
  assert.is(o.model.sha256, sha(f.a));
});

test("each chip: accuracy per time equals programming and reading a chip of the same seed directly", async () => {
  const data = await loadModelData(files, 24, { inputScale: 1 / 255 });
  const times = [25, 30 * 86400];
  const seed = 77n;
  const r = await modelDriftStudy({ data, scheme: "odp", fidelity: "physical", seed, trials: 3, times, threads: 1 });
  assert.is(r.series.length, 2);
  for (const p of r.series) {
    assert.is(p.metric, "accuracy");
    assert.is(p.n, 3);
    assert.ok(p.min >= 0 && p.max <= 1 && p.min <= p.mean && p.mean <= p.max);
  }
  for (let i = 0; i < 3; i++) {
    // Independently: the scales calibrated at every time (the study computes them once).
    const chip = Chip.create({ seed: trialSeed(seed, i), fidelity: "physical" });
    try {
      await programNetwork(chip, data.net, data.mapping, "odp", 1);
      for (const [j, t] of times.entries()) {
        const y = await runNetwork(chip, data.net, data.mapping, data.images, { t, reference: false, calibration: data.images.slice(0, 16) });
        const acc = y.outputs.filter((o, k) => argmax(o) === data.labels[k]).length / 24;
        assert.is(r.results[i]![j]!.accuracy, acc, `chip ${i} at t = ${t}`);
      }
    } finally {
      chip.dispose();
    }
  }
});

test.after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await shutdownPool();
});
test.run();
