// `hermes-sim run --model M.onnx --images X --labels Y`: an ONNX model over an IDX test set
// (.npy test sets, --mean/--std/--layout and bad input: run-test-sets.test.ts).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { main } from "../../../../lib/cli/main.ts";
import { rnd, smallCnn, tinyCharLstm } from "../../../fixtures/onnx-models.ts";

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

test("bad usage", async () => {
  assert.is((await run(["run", "--model", join(dir, "m.onnx")])).code, 2);
  assert.is((await run(["run", "--model", join(dir, "m.onnx"), "--images", join(dir, "y"), "--labels", join(dir, "y")])).code, 2);
  assert.is((await run(["run", "--model", join(dir, "nope.onnx"), "--images", join(dir, "x.gz"), "--labels", join(dir, "y")])).code, 2);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
