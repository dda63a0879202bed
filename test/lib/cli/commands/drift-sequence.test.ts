// `hermes-sim drift --model M.onnx --images X.npy --labels Y.npy` with a sequence (LSTM) model, in
// process on a tiny generated model (functional chips): the JSON has a series for every time and
// the digest of the library's study with the same seed; the text and report from a resumed
// checkpoint (no chip work); --queue and a set that does not fit: exit 2 with one line.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../../../lib/cli/main.ts";
import { loadSequenceData, sequenceDriftStudy } from "../../../../lib/study/drift-sequence.ts";
import { writeSequenceSet } from "../../../fixtures/sequence-set.ts";

const dir = mkdtempSync(join(tmpdir(), "hermes-drift-seq-cli-"));
let files = { model: "", images: "", labels: "" };
test.before(async () => {
  files = await writeSequenceSet(dir, 16, 6, 5);
});

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  try {
    const code = await main(argv, (s) => (out += s));
    return { code, out, err };
  } finally {
    process.stderr.write = write;
  }
}

type Point = { t: number; metric: string; n: number; mean: number; min: number; max: number };
type Doc = { trials: number; times: number[]; n: number; cores: number; steps: number; outputs: string; predictions: number; replicas: number[]; floatAccuracy: number; floatReference: string; metrics: { accuracy: string }; options: { workload: string }; series: Point[]; digest: string };

test("JSON: a series point per time over the chips, float accuracy 1 (labels = onnxruntime's predictions), the library study's digest; then text and report from the checkpoint", async () => {
  const set = () => ["--model", files.model, "--images", files.images, "--labels", files.labels, "--limit", "12", "--chips", "2", "--times", "25,1d,1mo", "--fidelity", "functional", "--seed", "3", "--threads", "1"];
  const checkpoint = join(dir, "c.jsonl");
  const r = await run(["drift", ...set(), "--checkpoint", checkpoint, "--json"]);
  assert.is(r.code, 0, r.err);
  const d = JSON.parse(r.out) as Doc;
  assert.equal([d.trials, d.times, d.n, d.cores, d.steps, d.outputs, d.predictions, d.replicas], [2, [25, 86400, 2592000], 12, 24, 6, "last", 12, [8, 8]]);
  assert.is(d.options.workload, "sequence-model");
  assert.match(d.metrics.accuracy, /of the predictions/);
  assert.is(d.floatAccuracy, 1);
  assert.match(d.floatReference, /onnxruntime .* sequences/);
  assert.equal(d.series.map((p) => [p.t, p.metric, p.n]), [[25, "accuracy", 2], [86400, "accuracy", 2], [2592000, "accuracy", 2]]);
  for (const p of d.series) assert.ok(p.min >= 0 && p.max <= 1 && Number.isInteger(Math.round(p.min * 12 * 1e9) / 1e9), JSON.stringify(p));
  const data = await loadSequenceData(files, 12);
  const lib = await sequenceDriftStudy({ data, scheme: "tdp", fidelity: "functional", seed: 3n, trials: 2, times: [25, 86400, 2592000], threads: 1 });
  assert.is(d.digest, lib.digest);
  // Resumed from the full checkpoint: no chip runs again; the same digest, as text and a report.
  const out = join(dir, "report");
  const t = await run(["drift", ...set(), "--checkpoint", checkpoint, "--resume", "--out", out]);
  assert.is(t.code, 0, t.err);
  assert.match(t.out, /on 2 chips \(24 cores each, tdp, functional\), first 12 sequences of 6 steps,/);
  assert.match(t.out, /float accuracy \(onnxruntime\): 100\.0 %/);
  assert.match(t.out, /\n {2}1mo +\d+\.\d ± \d+\.\d %/);
  assert.ok(t.out.includes(`digest ${d.digest.slice(0, 16)}…`), t.out);
  assert.ok(existsSync(join(out, "index.html")));
  const report = JSON.parse(readFileSync(join(out, "report.json"), "utf8")) as Doc;
  assert.is(report.digest, d.digest);
  assert.match(readFileSync(join(out, "index.html"), "utf8"), /test sequences/);
});

test("--queue with a sequence model, a set that does not fit it: exit 2, one line naming the flag", async () => {
  const m = ["drift", "--model", files.model, "--images", files.images, "--labels", files.labels, "--chips", "1", "--times", "25"];
  const cases: [string[], RegExp][] = [
    [[...m, "--queue", "redis://localhost:1"], /^hermes-sim: --queue is not supported for sequence models yet: .*seq\.onnx has an LSTM node; leave --queue out/],
    [[...m, "--layout", "nhwc"], /--layout must be nchw \(the default\) for a sequence model/],
    [["drift", "--model", files.model, "--images", files.labels, "--labels", files.labels], /--images must be N × T × F sequences for this model/],
  ];
  for (const [args, re] of cases) {
    const r = await run(args);
    assert.is(r.code, 2, `${args.join(" ")}: ${r.err}`);
    assert.match(r.err, re);
    assert.is(r.err.trim().split("\n").length, 1, r.err);
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
