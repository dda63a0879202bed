// `hermes-sim run --model M.onnx --images X --labels Y`: an ONNX model over an IDX test set
// (.npy test sets, --mean/--std/--layout and bad input: run-test-sets.test.ts).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { main } from "../../../../lib/cli/main.ts";
import { f32, float, ints, node, onnxModel, rand, rnd, smallCnn, tinyCharLstm } from "../../../fixtures/onnx-models.ts";

const dir = mkdtempSync(join(tmpdir(), "hermes-run-model-"));
function idx(dims: number[], data: Uint8Array): Uint8Array {
  const head = new Uint8Array(4 + 4 * dims.length);
  head[2] = 0x08;
  head[3] = dims.length;
  dims.forEach((d, i) => new DataView(head.buffer).setUint32(4 + 4 * i, d));
  return Uint8Array.from([...head, ...data]);
}
const N = 24;
writeFileSync(join(dir, "m.onnx"), smallCnn());
writeFileSync(join(dir, "x.gz"), gzipSync(idx([N, 8, 8], Uint8Array.from({ length: N * 64 }, () => Math.floor(rnd() * 256)))));
writeFileSync(join(dir, "y"), idx([N], Uint8Array.from({ length: N }, () => Math.floor(rnd() * 10))));

async function run(argv: string[]) {
  let out = "";
  const code = await main(argv, (s) => (out += s));
  return { code, out };
}

test("accuracy on the chip and in float (onnxruntime), cores and cost", async () => {
  const { code, out } = await run([
    "run", "--model", join(dir, "m.onnx"), "--images", join(dir, "x.gz"), "--labels", join(dir, "y"), "--limit", "20", "--fidelity", "functional",
    "--threads", "1", "--runs", "3", "--json", "--out", join(dir, "report"),
  ]);
  assert.is(code, 0, out);
  // The report: one bar per run plus float, the floorplan, the cost per layer, the data behind them.
  const svg = readFileSync(join(dir, "report", "accuracy.svg"), "utf8");
  for (const label of ["run 1", "run 2", "run 3", "float"]) assert.ok(svg.includes(`>${label}<`), label);
  for (const f of ["floorplan.svg", "layer-cost.svg", "index.html"]) assert.ok(readFileSync(join(dir, "report", f), "utf8").length > 200, f);
  const data = JSON.parse(readFileSync(join(dir, "report", "report.json"), "utf8")) as { accuracies: number[] };
  const d = JSON.parse(out) as {
    n: number; cores: number; accuracy: number; accuracies: number[]; accuracyStd: number; floatAccuracy: number; cost: { latencyUs: number };
    agreement: number; agreements: number[]; outputError: number; outputErrors: number[];
  };
  assert.is(d.accuracies.length, 3);
  // Agreement with float and output error: per run, and their means (checked against a direct computation in run-test-sets.test.ts).
  assert.ok(d.agreements.length === 3 && d.outputErrors.length === 3 && d.outputErrors.every((e) => e > 0 && e < 1));
  assert.ok(Math.abs(d.agreement - d.agreements.reduce((a, b) => a + b, 0) / 3) < 1e-12);
  assert.ok(Math.abs(d.outputError - d.outputErrors.reduce((a, b) => a + b, 0) / 3) < 1e-12);
  assert.equal(data.accuracies, d.accuracies);
  assert.ok(Math.abs(d.accuracy - d.accuracies.reduce((a, b) => a + b, 0) / 3) < 1e-12 && d.accuracyStd >= 0);
  assert.is(d.n, 20);
  assert.is(d.cores, 24); // three one-tile layers, 8 copies each (--replicas auto)
  // Random labels: both accuracies are fractions of 20; the chip's prediction agrees with float's most of the time.
  assert.ok(d.accuracies.every((a) => Number.isInteger(Math.round(a * 20 * 1e9) / 1e9)) && Number.isInteger(d.floatAccuracy * 20));
  assert.ok(d.cost.latencyUs > 0);
});

test("an ONNX character LSTM over a text: bits per character on the chip and in float64", async () => {
  writeFileSync(join(dir, "lstm.onnx"), tinyCharLstm());
  writeFileSync(join(dir, "vocab.json"), JSON.stringify({ chars: ["a", "b", "c", "d", "e", "f", " "], lowercase: true }));
  writeFileSync(join(dir, "text.txt"), "A bad cafe faced a bead. ".repeat(20));
  const { code, out } = await run(["run", "--model", join(dir, "lstm.onnx"), "--text", join(dir, "text.txt"), "--vocab", join(dir, "vocab.json"), "--limit", "200", "--fidelity", "functional", "--json"]);
  assert.is(code, 0, out);
  const d = JSON.parse(out) as { characters: number; bpc: number; floatBpc: number; cores: number };
  assert.is(d.characters, 200);
  assert.is(d.cores, 3);
  assert.ok(d.floatBpc > 0 && d.floatBpc < 6 && Math.abs(d.bpc - d.floatBpc) < 0.5, JSON.stringify(d));
});

test("--host-activations: a LeakyRelu between layers runs on the host (same digest on 1 and 2 threads); without it exit 1 naming the node", async () => {
  writeFileSync(join(dir, "leaky.onnx"), onnxModel([1, 8, 8], [
    node("Conv", ["x", "w1", "b1"], ["c1"], [ints("kernel_shape", [3, 3]), ints("pads", [1, 1, 1, 1])]),
    node("LeakyRelu", ["c1"], ["a"], [float("alpha", 0.1)], "leaky"),
    node("Flatten", ["a"], ["f"]),
    node("Gemm", ["f", "wd", "bd"], ["y"], [{ name: "transB", type: 2, i: 1 }]),
  ], [f32("w1", [4, 1, 3, 3], rand(36, 0.5)), f32("b1", [4], rand(4, 0.1)), f32("wd", [10, 256], rand(2560, 0.1)), f32("bd", [10], rand(10, 0.1))]));
  const args = ["run", "--model", join(dir, "leaky.onnx"), "--images", join(dir, "x.gz"), "--labels", join(dir, "y"), "--limit", "12", "--json"];
  const refused = await run(args);
  assert.is(refused.code, 1);
  // One after the other: each CLI run shuts the shared worker pool down when it ends.
  const runs = [await run([...args, "--host-activations", "--threads", "1"]), await run([...args, "--host-activations", "--threads", "2"])];
  for (const r of runs) assert.is(r.code, 0, r.out);
  const [a, b] = runs.map((r) => JSON.parse(r.out) as { digest: string; agreement: number; n: number });
  assert.is(a!.digest, b!.digest);
  assert.ok(a!.n === 12 && a!.agreement >= 0.75, JSON.stringify(a));
  // map and cost read the model the same way; the host node is listed.
  const m = await run(["map", "--model", join(dir, "leaky.onnx"), "--host-activations", "--json"]);
  assert.is(m.code, 0, m.out);
  assert.ok((JSON.parse(m.out) as { mapping: { host: string[] } }).mapping.host.includes("leaky"), m.out);
  assert.is((await run(["cost", "--model", join(dir, "leaky.onnx"), "--host-activations", "--json"])).code, 0);
  // Where the flag has no meaning: exit 2.
  assert.is((await run(["run", "--host-activations"])).code, 2);
  assert.is((await run(["map", "--host-activations", "--json"])).code, 2);
});

test("bad usage", async () => {
  assert.is((await run(["run", "--model", join(dir, "m.onnx")])).code, 2);
  assert.is((await run(["run", "--model", join(dir, "m.onnx"), "--images", join(dir, "y"), "--labels", join(dir, "y")])).code, 2);
  assert.is((await run(["run", "--model", join(dir, "nope.onnx"), "--images", join(dir, "x.gz"), "--labels", join(dir, "y")])).code, 2);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
