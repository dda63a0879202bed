// `hermes-sim drift --model M.onnx --images X --labels Y` in real processes: the trained
// ResNet-9 end to end (float reference = onnxruntime), then a tiny CNN whose accuracy varies
// over chips and times: same JSON for 1 and 2 threads, a resumed partial checkpoint gives the
// uninterrupted result, a checkpoint of another model or test subset is refused; usage errors.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ort from "onnxruntime-node";
import { main } from "../../../../lib/cli/main.ts";
import { idxImages, readIdx } from "../../../../lib/network/idx.ts";
import { argmax } from "../../../../lib/network/run.ts";
import { writeTinyTestSet } from "../../../fixtures/tiny-test-set.ts";

const root = new URL("../../../../", import.meta.url).pathname;
const BIN = join(root, "bin/hermes-sim.mjs");
const DATA = join(root, "data");
const R9 = { model: join(DATA, "resnet9-fmnist.onnx"), images: join(DATA, "t10k-images-idx3-ubyte.gz"), labels: join(DATA, "t10k-labels-idx1-ubyte.gz") };
const dir = mkdtempSync(join(tmpdir(), "hermes-drift-model-cli-"));
const tiny = writeTinyTestSet(dir, 24);

type Point = { t: number; metric: string; n: number; mean: number; std: number | null; min: number; p05: number; p50: number; p95: number; max: number };
type Doc = { trials: number; times: number[]; n: number; cores: number; floatAccuracy: number; metrics: { accuracy: string }; options: { model: { sha256: string } }; series: Point[]; digest: string };

function cli(args: string[]): { code: number; doc: Doc; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, "drift", ...args, "--json"], { encoding: "utf8", env: { ...process.env, CI: "1" } });
  return { code: r.status ?? -1, doc: r.status === 0 ? JSON.parse(r.stdout) : {}, stderr: r.stderr };
}
const stable = (d: object) => ({ ...d, threads: 0, wallS: 0, checkpoint: "" });
const sha = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");
const TINY = (model = tiny.a, limit = "24") => ["--model", model, "--images", tiny.images, "--labels", tiny.labels, "--limit", limit, "--chips", "3", "--times", "25,1mo", "--scheme", "odp"];

test("ResNet-9 (Fashion-MNIST): accuracy over 2 chips × 2 times; the float reference is onnxruntime's", async () => {
  const r = cli(["--model", R9.model, "--images", R9.images, "--labels", R9.labels, "--limit", "8", "--chips", "2", "--times", "25,1mo", "--threads", "2"]);
  assert.is(r.code, 0, r.stderr);
  const d = r.doc;
  assert.is(d.trials, 2);
  assert.equal(d.times, [25, 2592000]);
  assert.is(d.n, 8);
  assert.is(d.cores, 64); // 40, and copies of the smallest layers on the 24 free cores (replicas auto)
  assert.is(d.options.model.sha256, sha(R9.model));
  assert.match(d.metrics.accuracy, /fraction in \[0, 1\]/);
  assert.equal(d.series.map((p) => [p.t, p.metric, p.n]), [[25, "accuracy", 2], [2592000, "accuracy", 2]]);
  for (const p of d.series) {
    assert.ok(p.min >= 0 && p.max <= 1 && p.min <= p.p05 && p.p05 <= p.p50 && p.p50 <= p.p95 && p.p95 <= p.max, JSON.stringify(p));
    assert.ok(Number.isInteger(Math.round(p.min * 8 * 1e9) / 1e9), "a fraction of 8 images");
    assert.ok(p.mean >= 0.75, `a trained model stays accurate: ${JSON.stringify(p)}`);
  }
  // onnxruntime on the same 8 images, computed here.
  const images = idxImages(readIdx(R9.images), 1 / 255, 8);
  const labels = readIdx(R9.labels).data.subarray(0, 8);
  const session = await ort.InferenceSession.create(R9.model);
  const batch = new Float32Array(8 * 784);
  images.forEach((x, i) => batch.set(x, i * 784));
  const y = (await session.run({ [session.inputNames[0]!]: new ort.Tensor("float32", batch, [8, 1, 28, 28]) }))[session.outputNames[0]!]!.data as Float32Array;
  const ok = images.filter((_, i) => argmax(y.subarray(i * 10, i * 10 + 10)) === labels[i]).length;
  assert.is(d.floatAccuracy, ok / 8);
});

const ck = join(dir, "tiny.jsonl");
let full: Doc;

test("tiny CNN: same JSON for 1 and 2 threads; accuracy varies over chips and falls with drift", () => {
  const a = cli([...TINY(), "--threads", "1", "--checkpoint", ck]);
  const b = cli([...TINY(), "--threads", "2"]);
  assert.is(a.code, 0, a.stderr);
  assert.is(b.code, 0, b.stderr);
  assert.equal(stable(b.doc), stable(a.doc));
  full = a.doc;
  const [p25, pMonth] = a.doc.series;
  assert.ok(p25!.n === 3 && pMonth!.n === 3);
  assert.ok(p25!.max > p25!.min || pMonth!.max > pMonth!.min, "chips differ");
  assert.ok(pMonth!.mean < p25!.mean, `ODP loses accuracy in a month: ${p25!.mean} → ${pMonth!.mean}`);
  assert.ok(a.doc.floatAccuracy >= 0.75 && a.doc.floatAccuracy <= 0.85, `labels are the float64 classes but every fifth: ${a.doc.floatAccuracy}`);
  assert.is(readFileSync(ck, "utf8").split("\n").filter(Boolean).length, 1 + 3 * 2);
});

test("resume after a partial checkpoint (one chip and a torn line) equals the uninterrupted run", () => {
  const lines = readFileSync(ck, "utf8").split("\n").filter(Boolean);
  const partial = join(dir, "partial.jsonl");
  writeFileSync(partial, [...lines.slice(0, 3), lines[3]!.slice(0, 20)].join("\n"));
  const r = cli([...TINY(), "--threads", "2", "--checkpoint", partial, "--resume"]);
  assert.is(r.code, 0, r.stderr);
  assert.equal(stable(r.doc), stable(full));
  const after = readFileSync(partial, "utf8").split("\n").filter(Boolean);
  assert.equal(after.slice(0, 3), lines.slice(0, 3));
  assert.equal([...after].sort(), [...lines].sort());
});

test("resume with another model or another test subset is refused, naming what differs", () => {
  const r = cli([...TINY(tiny.b), "--threads", "1", "--checkpoint", ck, "--resume"]);
  assert.is(r.code, 1);
  // The checkpoint's message shortens long values: the hashes' first 50 hex digits.
  assert.match(r.stderr, new RegExp(`checkpoint .*tiny\\.jsonl: was written for a different study \\(options\\.model\\.sha256 is "${sha(tiny.a).slice(0, 50)}\\w*\\.\\.\\. there, "${sha(tiny.b).slice(0, 50)}\\w*\\.\\.\\. here`));
  const s = cli([...TINY(tiny.a, "20"), "--threads", "1", "--checkpoint", ck, "--resume"]);
  assert.is(s.code, 1);
  assert.match(s.stderr, /different study \(options\.images\.count is 24 there, 20 here; options\.images\.limit is 24 there, 20 here/);
});

async function usage(args: string[]): Promise<{ code: number; err: string }> {
  let err = "";
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  try {
    return { code: await main(["drift", ...args], () => {}), err };
  } finally {
    process.stderr.write = write;
  }
}

test("usage errors: one clear line, exit 2", async () => {
  const m = ["--model", tiny.a, "--images", tiny.images, "--labels", tiny.labels];
  const cases: [string[], RegExp][] = [
    [["--images", tiny.images], /--images must be given only with --model/],
    [["--limit", "5"], /--limit must be given only with --model/],
    [["--model", tiny.a, "--labels", tiny.labels], /--images must be given with --model/],
    [["--model", tiny.a, "--images", tiny.images], /--labels must be given with --model/],
    [[...m, "--cores", "4"], /--cores must be left out with --model/],
    [[...m, "--phases", "1"], /--phases must be left out with --model/],
    [[...m, "--job-images", "5"], /--job-images must be given only with --queue/],
    [[...m, "--tls-ca", "ca.pem"], /--tls-ca must be given only with --queue/],
    [[...m, "--queue", "rediss://localhost:1", "--tls-ca", join(dir, "no-such-ca.pem")], /--tls-ca must be a readable PEM file/],
    [[...m, "--chips", "2", "--trials", "2"], /--chips must be left out when --trials is given/],
    [[...m, "--chips", "0"], /--chips must be an integer in 1\.\./],
    [[...m, "--limit", "0"], /--limit must be an integer in 1\.\./],
    [[...m, "--input-scale", "-1"], /--input-scale must be a number > 0/],
    [["--model", join(dir, "nope.onnx"), "--images", tiny.images, "--labels", tiny.labels], /--model must be a readable file/],
    [[...m, "--resume"], /--resume must be a checkpoint/],
  ];
  for (const [args, re] of cases) {
    const r = await usage(args);
    assert.is(r.code, 2, `${args.join(" ")}: ${r.err}`);
    assert.match(r.err, re);
    assert.is(r.err.trim().split("\n").length, 1, r.err);
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
