// `hermes-sim run --model M.onnx --images X.npy --labels Y.npy` for a sequence model: labels
// are onnxruntime's own predictions, so the float accuracy is 1 and the chip's accuracy is its
// agreement; bad input is one line with exit 2, a model the chip cannot hold exit 1.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../../../lib/cli/main.ts";
import { loadSequenceModel } from "../../../../lib/network/onnx-sequence.ts";
import { sequenceFloatOutputs } from "../../../../lib/network/sequence-data.ts";
import { rnd } from "../../../fixtures/onnx-models.ts";
import { seqModel } from "../../../fixtures/sequence-models.ts";
import { npy } from "../../../fixtures/npy.ts";

const dir = mkdtempSync(join(tmpdir(), "hermes-run-seq-"));
const argmax = (v: ArrayLike<number>) => Array.from(v).reduce((b, x, i, a) => (x > a[b]! ? i : b), 0);

async function run(argv: string[]) {
  let out = "";
  const code = await main(argv, (s) => (out += s));
  return { code, out };
}

const N = 12;
const T = 8;

test("a batch_first 2-layer float model over N × T × F uint8 sequences (input scale 1/255)", async () => {
  const bytes = seqModel({ batchFirst: true, layers: 2, hidden: 16, features: 6, classes: 5, softmax: true });
  writeFileSync(join(dir, "rows.onnx"), bytes);
  const raw = Array.from({ length: N * T * 6 }, () => Math.floor(rnd() * 256));
  writeFileSync(join(dir, "x.npy"), npy("|u1", [N, T, 6], raw));
  const m = await loadSequenceModel(bytes, { steps: T });
  const seqs = Array.from({ length: N }, (_, i) => Float32Array.from(raw.slice(i * T * 6, (i + 1) * T * 6), (v) => v / 255));
  const labels = (await sequenceFloatOutputs(m, seqs)).map((ys) => argmax(ys[0]!));
  writeFileSync(join(dir, "y.npy"), npy("<i8", [N], labels));
  const { code, out } = await run(["run", "--model", join(dir, "rows.onnx"), "--images", join(dir, "x.npy"), "--labels", join(dir, "y.npy"), "--limit", "10", "--fidelity", "functional", "--threads", "1", "--json", "--out", join(dir, "report")]);
  assert.is(code, 0, out);
  const d = JSON.parse(out) as Record<string, number | string | number[] | Record<string, number>>;
  assert.is(d["n"], 10);
  assert.is(d["steps"], T);
  assert.is(d["outputs"], "last");
  assert.equal(d["layers"], [16, 16]);
  // The default copies: 8 of each LSTM layer's gates and of the head (5 cores → 40).
  assert.is(d["cores"], 40);
  assert.equal(d["replicas"], [8, 8, 8]);
  assert.is(d["floatAccuracy"], 1);
  assert.is(d["accuracy"], d["agreement"]);
  assert.ok((d["agreement"] as number) >= 0.7 && (d["outputError"] as number) < 0.2, out);
  assert.ok((d["cost"] as Record<string, number>)["latencyUs"]! > 0);
  assert.ok(readFileSync(join(dir, "report", "floorplan.svg"), "utf8").includes("lstm1.gates"));
  // --replicas 1: the plain layout (5 cores); too many copies: exit 2 naming the flag and the limit.
  const plain = await run(["run", "--model", join(dir, "rows.onnx"), "--images", join(dir, "x.npy"), "--labels", join(dir, "y.npy"), "--limit", "4", "--fidelity", "functional", "--threads", "1", "--json", "--replicas", "1"]);
  assert.is(plain.code, 0, plain.out);
  const p = JSON.parse(plain.out) as Record<string, number | number[]>;
  assert.equal([p["cores"], p["replicas"]], [5, [1, 1, 1]]);
  const err: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((x: string) => (err.push(x), true)) as typeof process.stderr.write;
  try {
    const many = await run(["run", "--model", join(dir, "rows.onnx"), "--images", join(dir, "x.npy"), "--labels", join(dir, "y.npy"), "--replicas", "13"]);
    assert.is(many.code, 2);
  } finally {
    process.stderr.write = write;
  }
  assert.match(err.join(""), /--replicas must be copies that fit on the chip \(.*rows\.onnx with 13 copies of every matrix needs 65 cores; the chip has 64 \(replicas: 12 at most\)\)/);
});

test("an embedding model predicting every step over N × T int64 token ids with N × T labels", async () => {
  const bytes = seqModel({ vocab: 9, outputs: "all", hidden: 12, classes: 9 });
  writeFileSync(join(dir, "char.onnx"), bytes);
  const ids = Array.from({ length: N * T }, () => Math.floor(rnd() * 9));
  writeFileSync(join(dir, "ids.npy"), npy("<i8", [N, T], ids));
  writeFileSync(join(dir, "next.npy"), npy("<i8", [N, T], ids.map((_, i) => ids[i + 1] ?? 0)));
  const { code, out } = await run(["run", "--model", join(dir, "char.onnx"), "--images", join(dir, "ids.npy"), "--labels", join(dir, "next.npy"), "--limit", "6", "--fidelity", "functional", "--json"]);
  assert.is(code, 0, out);
  const d = JSON.parse(out) as Record<string, number | string>;
  assert.is(d["outputs"], "all");
  assert.is(d["predictions"], 6 * T);
  assert.ok((d["agreement"] as number) > 0.8, out);
  // Labels of one per sequence for an all-steps model: exit 2, one line naming the flag.
  writeFileSync(join(dir, "one.npy"), npy("<i8", [N], Array(N).fill(0)));
  const bad = await run(["run", "--model", join(dir, "char.onnx"), "--images", join(dir, "ids.npy"), "--labels", join(dir, "one.npy"), "--json"]);
  assert.is(bad.code, 2);
});

test("bad input: exit 2 naming the flag; a model the chip cannot hold: exit 1 with the cores it needs", async () => {
  const ex = async (argv: string[]) => {
    const err: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => (err.push(s), true)) as typeof process.stderr.write;
    try {
      const r = await run(argv);
      return { ...r, err: err.join("") };
    } finally {
      process.stderr.write = write;
    }
  };
  const flat = await ex(["run", "--model", join(dir, "rows.onnx"), "--images", join(dir, "ids.npy"), "--labels", join(dir, "y.npy")]);
  assert.is(flat.code, 2);
  assert.match(flat.err, /--images must be N × T × F sequences for this model/);
  const queued = await ex(["run", "--model", join(dir, "rows.onnx"), "--images", join(dir, "x.npy"), "--labels", join(dir, "y.npy"), "--queue", "redis://127.0.0.1:1"]);
  assert.is(queued.code, 2);
  assert.match(queued.err, /--queue must be given only with a CNN --model \(sequence models run on this machine\)/);
  writeFileSync(join(dir, "x5.npy"), npy("<f4", [N, T, 5], Array(N * T * 5).fill(0.1)));
  const narrow = await ex(["run", "--model", join(dir, "rows.onnx"), "--images", join(dir, "x5.npy"), "--labels", join(dir, "y.npy")]);
  assert.is(narrow.code, 2);
  assert.match(narrow.err, /--images must be sequences of 8 × 6 \(the model's input \[1, 8, 6\]\), got ".*x5\.npy: 5 features per step"/);
  writeFileSync(join(dir, "big.onnx"), seqModel({ batchFirst: true, layers: 3, hidden: 256, features: 4, classes: 3 }));
  writeFileSync(join(dir, "x4.npy"), npy("<f4", [2, 3, 4], Array(24).fill(0.1)));
  writeFileSync(join(dir, "y2.npy"), npy("<i8", [2], [0, 1]));
  const big = await ex(["run", "--model", join(dir, "big.onnx"), "--images", join(dir, "x4.npy"), "--labels", join(dir, "y2.npy"), "--out", join(dir, "no-report")]);
  assert.is(big.code, 1);
  assert.match(big.err, /big\.onnx: the LSTM layers' gates need 12 output blocks, one GDPU slice each; the chip has 8 \(it needs 25 cores/);
  assert.ok(!existsSync(join(dir, "no-report")));
});

// The trained fixtures (tools/fixtures/make_onnx_fixtures.py: real torch.onnx.export graphs).
const FIXTURES = join(new URL("../../../../", import.meta.url).pathname, "test/fixtures/models");
test("the trained 2-layer batch_first row LSTM (Fashion-MNIST rows, last step) on 20 images", async () => {
  const model = join(FIXTURES, "lstm-rows.onnx");
  if (!existsSync(model)) {
    console.log("skipped: test/fixtures/models/lstm-rows.onnx not generated");
    return;
  }
  const { code, out } = await run(["run", "--model", model, "--images", join(FIXTURES, "fmnist-500-u8.npy"), "--labels", join(FIXTURES, "fmnist-500-labels.npy"), "--limit", "20", "--fidelity", "functional", "--json"]);
  assert.is(code, 0, out);
  const d = JSON.parse(out) as Record<string, number | string | number[]>;
  assert.equal([d["n"], d["steps"], d["outputs"], d["cores"], d["gdpuSlices"]], [20, 28, "last", 40, 2]);
  assert.equal(d["layers"], [64, 64]);
  assert.ok((d["floatAccuracy"] as number) >= 0.6, out);
  assert.ok(Math.abs((d["accuracy"] as number) - (d["floatAccuracy"] as number)) <= 0.15 && (d["agreement"] as number) >= 0.8, out);
});

test("map and cost of a sequence model: its mapping (copies by default) and cost; drift runs it (one chip, two read times)", async () => {
  const model = join(FIXTURES, "lstm-rows.onnx");
  if (!existsSync(model)) return;
  const err: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((x: string) => (err.push(x), true)) as typeof process.stderr.write;
  const res: { code: number; out: string }[] = [];
  try {
    const set = ["--images", join(FIXTURES, "fmnist-500-u8.npy"), "--labels", join(FIXTURES, "fmnist-500-labels.npy")];
    for (const argv of [["map", "--model", model, "--json"], ["cost", "--model", model, "--json", "--replicas", "1"], ["drift", "--model", model, ...set, "--limit", "5", "--chips", "1", "--times", "25,1d", "--fidelity", "functional", "--threads", "1", "--json"], ["map", "--model", model, "--steps", "5"], ["map", "--network", "resnet9", "--steps", "5"]]) {
      res.push(await run(argv));
    }
  } finally {
    process.stderr.write = write;
  }
  assert.equal(res.map((r) => r.code), [0, 0, 0, 2, 2], err.join(""));
  // map: 2 LSTM layers of 64 (one column and GDPU slice each) and the 10-way head, 8 copies each.
  const map = JSON.parse(res[0]!.out) as { mapping: { cores: number; weights: number; gdpuSlices: number[]; layers: { name: string; cores: number[]; coresNeeded: number; replicas: number }[] }; replicas: number[]; cost: { steps: number; latencyUsPerSequence: number } };
  assert.equal([map.mapping.cores, map.mapping.weights, map.mapping.gdpuSlices, map.replicas], [40, 4 * 64 * (28 + 64) + 4 * 64 * 128 + 10 * 64, [0, 1], [8, 8, 8]]);
  assert.equal(map.mapping.layers.map((l) => [l.name, l.cores.length, l.coresNeeded]), [["lstm0.gates.input", 8, 1], ["lstm0.gates.hidden", 8, 1], ["lstm1.gates.input", 8, 1], ["lstm1.gates.hidden", 8, 1], ["output", 8, 1]]);
  assert.is(new Set(map.mapping.layers.flatMap((l) => l.cores)).size, 40);
  assert.is(map.cost.steps, 28);
  // cost --replicas 1: the plain layout's timestep (5 cores), and per sequence: 28 gate steps, the head once (last step).
  const cost = JSON.parse(res[1]!.out) as { cores: number; per: string; layers: { layer: string; latencyUs: number }[]; latencyUs: number; steps: number; latencyUsPerSequence: number };
  assert.equal([cost.cores, cost.per, cost.steps], [5, "timestep", 28]);
  const gates = cost.layers.filter((l) => l.layer.includes("gates")).reduce((s, l) => s + l.latencyUs, 0);
  const head = cost.layers.find((l) => l.layer === "output")!.latencyUs;
  assert.ok(Math.abs(cost.latencyUsPerSequence - (28 * gates + head)) < 1e-9);
  // drift: the first 5 sequences of 28 steps on the same 40 cores, one accuracy per read time.
  const drift = JSON.parse(res[2]!.out) as { n: number; steps: number; cores: number; predictions: number; series: { t: number; metric: string; n: number; mean: number }[]; options: { workload: string } };
  assert.equal([drift.n, drift.steps, drift.cores, drift.predictions, drift.options.workload], [5, 28, 40, 5, "sequence-model"]);
  assert.equal(drift.series.map((p) => [p.t, p.metric, p.n]), [[25, "accuracy", 1], [86400, "accuracy", 1]]);
  assert.ok(drift.series.every((p) => p.mean >= 0 && p.mean <= 1 && Number.isInteger(p.mean * 5)));
  assert.match(err[0]!, /--steps must be the model's own sequence length 28 \(or absent\), got "5"/);
  assert.match(err[1]!, /--steps must be given only with a sequence \(LSTM\) --model/);
});

test.run();
