// The float reference (lib/network/onnx-float.ts) on a model whose batch is fixed at 1 (and at
// 3, with a padded last call), against the project's float64 evaluator of the same network;
// compareOutputs and accuracyOf against a direct computation.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import onnxProto from "onnx-proto";
import ort from "onnxruntime-node";
import { GraphBuilder } from "../../../lib/network/builders.ts";
import { evaluate } from "../../../lib/network/graph-eval.ts";
import { exportOnnx } from "../../../lib/network/onnx-export.ts";
import { accuracyOf, compareOutputs, onnxDataInput, onnxruntimeAccuracy, onnxruntimeOutputs } from "../../../lib/network/onnx-float.ts";
import { f32, i64, int, ints, node, onnxModel, rand, rnd } from "../../fixtures/onnx-models.ts";
import { loadOnnx } from "../../../lib/network/onnx.ts";

const dir = mkdtempSync(join(tmpdir(), "hermes-onnx-float-"));
const b = new GraphBuilder("fixed-batch", [1, 6, 6]);
b.conv2d("conv", { inChannels: 1, outChannels: 4, kernel: 3, padding: 1, weights: rand(36, 0.5), bias: rand(4, 0.1) });
b.relu("relu");
b.flatten("flat");
b.dense("fc", { inFeatures: 144, outFeatures: 5, weights: rand(720, 0.2), bias: rand(5, 0.1) });
const net = b.build();
const images = Array.from({ length: 7 }, () => Float32Array.from({ length: 36 }, () => rnd()));
const ref = evaluate(net, images).get("fc")!;
const path = (name: string, batch?: number) => {
  const p = join(dir, name);
  writeFileSync(p, exportOnnx(net, batch === undefined ? {} : { batch }));
  return p;
};
const one = path("b1.onnx", 1);
const three = path("b3.onnx", 3);
const free = path("free.onnx");

function close(got: readonly Float32Array[]): void {
  assert.is(got.length, ref.length);
  got.forEach((y, i) => {
    assert.is(y.length, 5);
    for (let j = 0; j < 5; j++) assert.ok(Math.abs(y[j]! - ref[i]![j]!) <= 1e-5 * (1 + Math.abs(ref[i]![j]!)), `image ${i} output ${j}: ${y[j]} vs ${ref[i]![j]}`);
  });
}

test("exportOnnx's batch option: a fixed batch axis of 1 (or 3), else a free one", () => {
  const dims = (p: Uint8Array) => onnxProto.onnx.ModelProto.decode(p).graph!.input![0]!.type!.tensorType!.shape!.dim!;
  const fixed = dims(exportOnnx(net, { batch: 1 }));
  assert.is(Number(fixed[0]!.dimValue), 1);
  assert.equal(fixed.slice(1).map((d) => Number(d.dimValue)), [1, 6, 6]);
  assert.is(dims(exportOnnx(net))[0]!.dimParam, "N");
  assert.equal(onnxDataInput(exportOnnx(net, { batch: 3 })), { name: "input", dims: [3, 1, 6, 6] });
  assert.equal(onnxDataInput(exportOnnx(net)), { name: "input", dims: [undefined, 1, 6, 6] });
  assert.throws(() => exportOnnx(net, { batch: 0 }), /batch must be a positive integer/);
});

test("batch fixed at 1: one image per call, the same outputs as float64; a whole batch would be refused by onnxruntime", async () => {
  // What the reference used to do: all images in one call.
  const session = await ort.InferenceSession.create(one);
  const all = new Float32Array(7 * 36);
  images.forEach((x, i) => all.set(x, i * 36));
  let refused = "";
  await session.run({ input: new ort.Tensor("float32", all, [7, 1, 6, 6]) }).catch((e: Error) => (refused = e.message));
  assert.match(refused, /invalid dimensions/i);
  const r = await onnxruntimeOutputs(one, [1, 6, 6], images);
  assert.is(r.batch, 1);
  assert.ok(r.fixedBatch);
  assert.is(r.backend, "onnxruntime-node");
  close(r.outputs);
});

test("batch fixed at 3 (7 images: the last call padded) and a free batch: the same outputs", async () => {
  const r3 = await onnxruntimeOutputs(three, [1, 6, 6], images);
  assert.ok(r3.fixedBatch && r3.batch === 3);
  close(r3.outputs);
  const rf = await onnxruntimeOutputs(free, [1, 6, 6], images);
  assert.ok(!rf.fixedBatch && rf.batch === 7);
  close(rf.outputs);
  // Accuracy of the float model: its own classes are all right, one changed label is wrong.
  const argmax = (v: ArrayLike<number>) => Array.from(v).indexOf(Math.max(...Array.from(v)));
  const labels = ref.map(argmax);
  labels[2] = (labels[2]! + 1) % 5;
  assert.is(await onnxruntimeAccuracy(one, [1, 6, 6], images, labels), 6 / 7);
});

/** The float64 evaluation of an ONNX model read by the front end (batch 1), per image. */
const float64Of = (bytes: Uint8Array, xs: Float32Array[]) => {
  const n = loadOnnx(bytes);
  return evaluate(n, xs).get(n.nodes[n.nodes.length - 1]!.name)!;
};

test("a free batch axis the graph does not honour (x.view(1, -1)): one image per call after the batched call fails", async () => {
  const bytes = onnxModel([1, 4, 4], [
    node("Conv", ["x", "w"], ["c"], [ints("kernel_shape", [3, 3]), ints("pads", [1, 1, 1, 1])]),
    node("Relu", ["c"], ["r"]),
    node("Reshape", ["r", "one"], ["f"]),
    node("Gemm", ["f", "wd"], ["y"], [int("transB", 1)]),
  ], [f32("w", [2, 1, 3, 3], rand(18, 0.5)), i64("one", [1, -1]), f32("wd", [3, 32], rand(96, 0.3))]);
  const xs = Array.from({ length: 5 }, () => rand(16));
  const r = await onnxruntimeOutputs({ name: "view1", bytes }, [1, 4, 4], xs);
  assert.ok(!r.fixedBatch && r.batch === 1);
  const want = float64Of(bytes, xs);
  r.outputs.forEach((y, i) => y.forEach((v, j) => assert.ok(Math.abs(v - want[i]![j]!) < 1e-5, `${i},${j}: ${v} vs ${want[i]![j]}`)));
});

test("a model onnxruntime's own optimiser breaks (a Pad fused into the AveragePool after it, pads = kernel) is the reference without it", async () => {
  const bytes = onnxModel([1, 4, 4], [
    node("Pad", ["x", "pads"], ["p"]),
    node("AveragePool", ["p"], ["a"], [ints("kernel_shape", [2, 2]), ints("strides", [2, 2]), int("count_include_pad", 1)]),
    node("Flatten", ["a"], ["f"]),
    node("Gemm", ["f", "wd"], ["y"], [int("transB", 1)]),
  ], [i64("pads", [0, 0, 2, 2, 0, 0, 2, 2]), f32("wd", [3, 16], rand(48, 0.3))]);
  let refused = "";
  await ort.InferenceSession.create(bytes).catch((e: Error) => (refused = e.message));
  assert.match(refused, /Pad should be smaller than kernel/);
  const xs = Array.from({ length: 3 }, () => rand(16));
  const r = await onnxruntimeOutputs({ name: "padpool", bytes }, [1, 4, 4], xs);
  const want = float64Of(bytes, xs);
  r.outputs.forEach((y, i) => y.forEach((v, j) => assert.ok(Math.abs(v - want[i]![j]!) < 1e-5, `${i},${j}: ${v} vs ${want[i]![j]}`)));
});

test("compareOutputs: top-1 agreement and ‖y_chip − y_float‖ / ‖y_float‖ over the whole set", () => {
  const float = [[1, 2, 3], [0, -1, 4], [5, 0, 0], [0.5, 0.25, 0]];
  const chip = [[1.1, 2.2, 2.9], [0, 4.5, 4], [4, 0.5, 0], [0.1, 0.3, 0.2]];
  // By hand: argmax float 2, 2, 0, 0; chip 2, 1, 0, 1 → 2 of 4 agree.
  let num = 0;
  let den = 0;
  float.forEach((f, i) => f.forEach((v, j) => ((num += (chip[i]![j]! - v) ** 2), (den += v * v))));
  const c = compareOutputs(chip, float);
  assert.is(c.agreement, 0.5);
  assert.ok(Math.abs(c.outputError - Math.sqrt(num / den)) < 1e-15);
  assert.is(accuracyOf(float, [2, 2, 1, 0]), 0.75);
  assert.throws(() => compareOutputs(chip, float.slice(1)), /3 float outputs/);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
