// Sequence model drift studies (lib/study/drift-sequence.ts) on a tiny generated LSTM on functional
// chips: loading and the study hash, each chip's accuracy against a direct run on a chip of the
// same seed with the same scales, the same digest for 1 and 2 threads and after a resume.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Chip } from "../../../lib/chip/chip.ts";
import { studyHash } from "../../../lib/study/checkpoint.ts";
import { sequenceAccuracy } from "../../../lib/network/sequence-data.ts";
import { programSequenceModel, runSequences } from "../../../lib/network/sequence-run.ts";
import { trialSeed, type StudyResult } from "../../../lib/study/montecarlo.ts";
import { loadSequenceData, sequenceDriftOptions, sequenceDriftStudy, sequenceStudyScales, type SequenceWorkload } from "../../../lib/study/drift-sequence.ts";
import { shutdownPool } from "../../../lib/runtime/pool.ts";
import { seqModel } from "../../fixtures/sequence-models.ts";
import { writeSequenceSet } from "../../fixtures/sequence-set.ts";

const dir = mkdtempSync(join(tmpdir(), "hermes-drift-seq-"));
const N = 20;
const T = 6;
const F = 5;
let files = { model: "", images: "", labels: "" };
const other = join(dir, "seq2.onnx");
const sha = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");

test.before(async () => {
  files = await writeSequenceSet(dir, N, T, F);
  writeFileSync(other, seqModel({ hidden: 8, features: F, classes: 4 }));
});

test("loadSequenceData: the first `limit` sequences and labels, file hashes, the mapping; the study hash covers them", async () => {
  const d = await loadSequenceData(files, 12);
  assert.is(d.sequences.length, 12);
  assert.is(d.labels.length, 12);
  assert.is(d.sequences[0]!.length, T * F);
  assert.equal(d.sha256, { model: sha(files.model), images: sha(files.images), labels: sha(files.labels) });
  assert.is(d.mapping.cores, 24); // gates (input, hidden) and head: one core each, 8 copies
  assert.is((await loadSequenceData(files, 1000)).sequences.length, N, "a limit above the set's size takes the whole set");
  assert.ok(sequenceStudyScales(d) === sequenceStudyScales(d), "computed once per data set");
  const w: SequenceWorkload = { data: d, scheme: "tdp", fidelity: "functional" };
  const h = (o: SequenceWorkload) => studyHash({ seed: "1", trials: 2, times: [25], options: sequenceDriftOptions(o) });
  assert.is(h(w), h({ ...w, data: await loadSequenceData(files, 12) }));
  assert.is.not(h(w), h({ ...w, data: await loadSequenceData(files, 11) }));
  assert.is.not(h(w), h({ ...w, data: await loadSequenceData({ ...files, model: other }, 12) }));
  assert.is.not(h(w), h({ ...w, data: await loadSequenceData(files, 12, { inputScale: 0.5 }) }));
  assert.is.not(h(w), h({ ...w, scheme: "odp" }));
  assert.is.not(h(w), h({ ...w, fidelity: "physical" }));
  const o = sequenceDriftOptions(w) as { workload: string; metric: string; model: { sha256: string; replicas: number[] }; scales: string };
  assert.is(o.workload, "sequence-model");
  assert.match(o.metric, /^accuracy: fraction in \[0, 1\] of the predictions/);
  assert.equal(o.model.replicas, [8, 8, 8]);
  assert.match(o.scales, /first 12 sequences/);
  try {
    await loadSequenceData(files, 0);
    assert.unreachable("limit 0 loaded");
  } catch (e) {
    assert.match((e as Error).message, /--limit must be a positive integer/);
  }
});

test("each chip: the study's accuracy per time equals programming and reading a chip of the same seed with the same scales", async () => {
  const data = await loadSequenceData(files, N);
  const times = [25, 86400];
  const seed = 5n;
  const r = await sequenceDriftStudy({ data, scheme: "tdp", fidelity: "functional", seed, trials: 2, times, threads: 1 });
  assert.equal(r.series.map((p) => [p.t, p.metric, p.n]), [[25, "accuracy", 2], [86400, "accuracy", 2]]);
  const scales = sequenceStudyScales(data);
  const accs: number[] = [];
  for (let i = 0; i < 2; i++) {
    const chip = Chip.create({ seed: trialSeed(seed, i), fidelity: "functional" });
    try {
      await programSequenceModel(chip, data.mapping, data.model, "tdp", 1);
      // runSequences' own calibration (first 16 sequences) gives the study's scales.
      const own = await runSequences(chip, data.model, data.mapping, data.sequences, { t: 25 });
      assert.equal(own.scales, scales);
      for (const [j, t] of times.entries()) {
        const y = await runSequences(chip, data.model, data.mapping, data.sequences, { t, reference: false, scales });
        const acc = sequenceAccuracy(y.outputs, data.labels);
        assert.is(r.results[i]![j]!.accuracy, acc, `chip ${i} at t = ${t}`);
        accs.push(acc);
      }
    } finally {
      chip.dispose();
    }
  }
  // Not every reading is perfect or empty: the comparison above could fail.
  assert.ok(accs.some((a) => a > 0.3), accs.join(", "));
});

test("same seed, same bits: 1 and 2 threads give the same digest; a stopped study resumed from its checkpoint too", async () => {
  const data = await loadSequenceData(files, 10);
  const base = { data, scheme: "tdp" as const, fidelity: "functional" as const, seed: 9n, trials: 3, times: [25, 3600] };
  const one = await sequenceDriftStudy({ ...base, threads: 1 });
  const two = await sequenceDriftStudy({ ...base, threads: 2 });
  assert.is(two.digest, one.digest);
  assert.is(JSON.stringify(two.series), JSON.stringify(one.series));
  const path = join(dir, "study.jsonl");
  const ac = new AbortController();
  const progress: number[] = [];
  let err: unknown;
  try {
    await sequenceDriftStudy({ ...base, threads: 1, checkpoint: { path }, signal: ac.signal, onProgress: (d) => (progress.push(d), d >= 2 && ac.abort()) });
  } catch (e) {
    err = e;
  }
  assert.is((err as Error | undefined)?.name, "AbortError", String(err));
  assert.ok(existsSync(path));
  const recorded = readFileSync(path, "utf8").trim().split("\n").length - 1; // less the header
  assert.ok(recorded >= 2 && recorded < 6, `${recorded} readings recorded before the stop`);
  const resumed: StudyResult = await sequenceDriftStudy({ ...base, threads: 2, checkpoint: { path, resume: true } });
  assert.is(resumed.digest, one.digest);
  assert.is(JSON.stringify(resumed.results), JSON.stringify(one.results));
});

test.after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await shutdownPool();
});
test.run();
