// ONNX import: a small CNN built here with onnx-proto (Conv with pads and with auto_pad
// SAME_UPPER, BatchNormalization, Relu, MaxPool, Reshape, MatMul + a separate bias Add),
// checked against onnxruntime on the same inputs, run on the chip; corrupt, truncated and
// unsupported models give one clear error.
import { test } from "uvu";
import * as assert from "uvu/assert";
import ort from "onnxruntime-node";
import { Chip } from "../../../lib/chip/chip.ts";
import { evaluate } from "../../../lib/network/graph-eval.ts";
import { mapNetwork } from "../../../lib/network/mapper.ts";
import { loadOnnx, OnnxError } from "../../../lib/network/onnx.ts";
import { programNetwork, runNetwork } from "../../../lib/network/run.ts";
import { node, rand, rnd, smallCnn } from "../../fixtures/onnx-models.ts";

const bytes = smallCnn();
const images = Array.from({ length: 6 }, () => rand(64).map((v) => (v + 1) / 2));

test("the imported network computes what onnxruntime computes", async () => {
  const net = loadOnnx(bytes);
  assert.equal(net.inputShape, [1, 8, 8]);
  assert.equal(net.nodes.map((n) => n.op), ["conv2d", "batchNorm", "relu", "maxPool", "conv2d", "relu", "flatten", "dense"]);
  const ours = evaluate(net, images).get(net.nodes[net.nodes.length - 1]!.name)!;
  const session = await ort.InferenceSession.create(bytes);
  const batch = new Float32Array(6 * 64);
  images.forEach((x, i) => batch.set(x, i * 64));
  const res = await session.run({ x: new ort.Tensor("float32", batch, [6, 1, 8, 8]) });
  const y = res["y"]!.data as Float32Array;
  let worst = 0;
  ours.forEach((o, i) => o.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - y[i * 10 + j]!)))));
  assert.ok(worst < 1e-4, `max |float64 − onnxruntime| ${worst}`);
});

test("the imported CNN runs on the chip within its quantisation and noise", async () => {
  const net = loadOnnx(bytes);
  const m = mapNetwork(net);
  assert.is(m.cores, 3);
  const chip = Chip.create({ seed: 2 });
  await programNetwork(chip, net, m, "tdp", 1);
  const r = await runNetwork(chip, net, m, images);
  chip.dispose();
  assert.ok(r.error > 0 && r.error < 0.25, `error ${r.error}`);
});

test("corrupt, truncated and unsupported models: one clear error each, never a crash or a hang", () => {
  for (let trial = 0; trial < 50; trial++) {
    const junk = Uint8Array.from({ length: 1 + Math.floor(rnd() * 400) }, () => Math.floor(rnd() * 256));
    assert.throws(() => loadOnnx(junk), (e: Error) => e instanceof OnnxError && /not a valid ONNX model|ONNX/.test(e.message));
  }
  for (const cut of [1, 10, 100, Math.floor(bytes.length / 2), bytes.length - 3]) {
    assert.throws(() => loadOnnx(bytes.subarray(0, cut)), (e: Error) => e instanceof OnnxError, `truncated at ${cut}`);
  }
  const lrn = smallCnn(node("LRN", ["y"], ["z"], [], "norm1"));
  assert.throws(() => loadOnnx(lrn), /node "norm1" \(LRN\) is not supported \(see lib\/network\/onnx-lower.ts/);
  assert.throws(() => loadOnnx("/nonexistent.onnx"), /model must be a readable ONNX file/);
});

test.run();
