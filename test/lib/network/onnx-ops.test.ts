// ONNX import of the ops CNNs of this class use besides the basics (issue 10): AveragePool
// (pads, count_include_pad, auto_pad), GlobalAveragePool, Transpose as a layout no-op,
// final Sigmoid / Tanh / Softmax (dropped, host side), Conv auto_pad SAME_LOWER / VALID /
// strided SAME, Gemm transB 0/1 with alpha and beta, MatMul + Add of a bias, Reshape to
// [1, −1] / [0, −1]. Each tiny model is built here with onnx-proto and run by our float64
// path and by onnxruntime on the same inputs; one runs on the chip; unsupported cases give
// one OnnxError naming the node.
import { test } from "uvu";
import * as assert from "uvu/assert";
import ort from "onnxruntime-node";
import { Chip } from "../../../lib/chip/chip.ts";
import { quietFit } from "../../fixtures/quiet-fit.ts";
import { avgPool, evaluate } from "../../../lib/network/graph-eval.ts";
import { GraphBuilder } from "../../../lib/network/builders.ts";
import { exportOnnx } from "../../../lib/network/onnx-export.ts";
import { applyHead, importOnnx, loadOnnx, OnnxError } from "../../../lib/network/onnx.ts";
import { argmax, runOnChip } from "../../../lib/network/run.ts";
import { f32, float, i64, int, ints, node, onnxModel as model, rand, str } from "../../fixtures/onnx-models.ts";

/** max |float64 (loadOnnx → evaluate → the dropped head) − onnxruntime| over `count` random inputs, run `batch` at a time. */
async function worstDiff(bytes: Uint8Array, count = 4, batch = count): Promise<number> {
  const { net, head } = importOnnx(bytes);
  const size = net.inputShape.reduce((a, b) => a * b, 1);
  const xs = Array.from({ length: count }, () => rand(size));
  const ours = evaluate(net, xs).get(net.nodes[net.nodes.length - 1]!.name)!.map((y) => applyHead(head, y));
  const session = await ort.InferenceSession.create(bytes);
  let worst = 0;
  for (let i0 = 0; i0 < count; i0 += batch) {
    const data = new Float32Array(batch * size);
    for (let i = 0; i < batch; i++) data.set(xs[i0 + i]!, i * size);
    const y = (await session.run({ x: new ort.Tensor("float32", data, [batch, ...net.inputShape]) }))["y"]!.data as Float32Array;
    const k = y.length / batch;
    assert.is(k, ours[0]!.length, "output size");
    for (let i = 0; i < batch; i++) for (let j = 0; j < k; j++) worst = Math.max(worst, Math.abs(ours[i0 + i]![j]! - y[i * k + j]!));
  }
  return worst;
}

const close = async (what: string, bytes: Uint8Array, count?: number, batch?: number) => {
  const d = await worstDiff(bytes, count, batch);
  assert.ok(d < 1e-4, `${what}: max |float64 − onnxruntime| ${d}`);
};

test("AveragePool (pads, count_include_pad, auto_pad) and GlobalAveragePool match onnxruntime", async () => {
  const pool = (attrs: object[], shape = [2, 9, 9]) => model(shape, [node("AveragePool", ["x"], ["y"], attrs, "avg")]);
  await close("k3 s2", pool([ints("kernel_shape", [3, 3]), ints("strides", [2, 2])]));
  await close("k2, default stride 1", pool([ints("kernel_shape", [2, 2])]));
  await close("k3 s2 pads 1", pool([ints("kernel_shape", [3, 3]), ints("strides", [2, 2]), ints("pads", [1, 1, 1, 1])]));
  await close("k3 s1 pads 1 count_include_pad", pool([ints("kernel_shape", [3, 3]), ints("pads", [1, 1, 1, 1]), int("count_include_pad", 1)]));
  await close("k3 s1 SAME_UPPER", pool([ints("kernel_shape", [3, 3]), str("auto_pad", "SAME_UPPER")]));
  await close("k2 s2 pads 1 on 8×8", pool([ints("kernel_shape", [2, 2]), ints("strides", [2, 2]), ints("pads", [1, 1, 1, 1])], [3, 8, 8]));
  await close("global", model([3, 5, 5], [node("GlobalAveragePool", ["x"], ["y"])]));
  const net = loadOnnx(model([3, 5, 5], [node("GlobalAveragePool", ["x"], ["y"])]));
  assert.equal(net.nodes.map((n) => [n.op, (n as { kernel?: number }).kernel]), [["avgPool", 5]]);
});

test("INT8 average pool: the mean rounded to nearest, ties to even; float64: the exact mean", () => {
  const x = Int8Array.of(1, 2, 1, 0, -1, -2, -1, 0, 3, 4, 127, 127, -128, -127, 5, 6);
  // 1×4×4, k2 s2: windows {1,2,-1,-2}=0, {1,0,-1,0}=0, {3,4,-128,-127}=-62, {127,127,5,6}=66.25
  assert.equal(Array.from(avgPool(x, [1, 4, 4], 2, 2)), [0, 0, -62, 66]);
  // One 2×2 window: means 0.5, 1.5, 2.5, −0.5, −1.5, 0.75 → 0, 2, 2, 0, −2, 1.
  const mean = (a: number[]) => avgPool(Int8Array.from(a), [1, 2, 2], 2, 2)[0];
  assert.equal([[1, 1, 0, 0], [3, 3, 0, 0], [5, 5, 0, 0], [-1, -1, 0, 0], [-3, -3, 0, 0], [1, 1, 1, 0]].map(mean), [0, 2, 2, 0, -2, 1]);
  assert.equal(Array.from(avgPool(Float64Array.of(1, 1, 1, 0), [1, 2, 2], 2, 2)), [0.75]);
  // Padding: count_include_pad 0 divides by the in-bounds count, 1 by k·k.
  assert.equal(Array.from(avgPool(Float64Array.of(4), [1, 1, 1], 3, 1, 1)), [4]);
  assert.equal(Array.from(avgPool(Float64Array.of(9), [1, 1, 1], 3, 1, 1, true)), [1]);
  const b = new GraphBuilder("p", [1, 4, 4]);
  b.avgPool("a", 2, 2, undefined, 2);
  assert.throws(() => b.build(), /a\.padding must be less than the kernel 2, got 2/);
});

test("Transpose as a layout no-op; Sigmoid, Tanh, Softmax at the end (dropped, host side)", async () => {
  const gap = [node("Conv", ["x", "w"], ["c"], [ints("kernel_shape", [3, 3])]), node("GlobalAveragePool", ["c"], ["g"])];
  const inits = [f32("w", [6, 2, 3, 3], rand(108, 0.4)), f32("wd", [6, 4], rand(24, 0.5)), f32("bd", [4], rand(4, 0.1))];
  const tail = (t: object[], out = "t") => [...gap, ...t, node("Flatten", [out], ["f"]), node("MatMul", ["f", "wd"], ["m"]), node("Add", ["m", "bd"], ["y"])];
  await close("identity perm", model([2, 5, 5], tail([node("Transpose", ["g"], ["t"], [ints("perm", [0, 1, 2, 3])])]), inits));
  await close("[N,C,1,1] → [N,1,1,C]", model([2, 5, 5], tail([node("Transpose", ["g"], ["t"], [ints("perm", [0, 2, 3, 1])], "to-nhwc")]), inits));
  const flat = [node("Transpose", ["x"], ["t"], []), node("Reshape", ["t", "s"], ["r"]), node("MatMul", ["r", "wd"], ["y"])];
  await close("default perm of [1, F] (batch fixed at 1)", model([6], flat, [i64("s", [1, -1]), f32("wd", [6, 4], rand(24))], 1), 3, 1);
  // Logits "z", then the head ops in a chain ending in "y".
  const logits = [...gap, node("Flatten", ["g"], ["f"]), node("MatMul", ["f", "wd"], ["m"]), node("Add", ["m", "bd"], ["z"])];
  const withHead = (ops: string[]) => model([2, 5, 5], [...logits, ...ops.map((op, i) => node(op, [i ? `a${i - 1}` : "z"], [i === ops.length - 1 ? "y" : `a${i}`]))], inits);
  await close("Sigmoid", withHead(["Sigmoid"]));
  await close("Tanh", withHead(["Tanh"]));
  await close("Softmax", withHead(["Softmax"]));
  await close("Softmax, Identity", withHead(["Softmax", "Identity"]));
  await close("Tanh, Flatten, Sigmoid", withHead(["Tanh", "Flatten", "Sigmoid"]));
  assert.equal(importOnnx(withHead(["Tanh", "Flatten", "Sigmoid"])).head, ["tanh", "sigmoid"]);
  const { net, head } = importOnnx(withHead(["Sigmoid"]));
  assert.equal(head, ["sigmoid"]);
  assert.equal(net.nodes.map((n) => n.op), ["conv2d", "avgPool", "flatten", "dense"]);
});

test("Conv auto_pad SAME_LOWER / VALID / strided SAME, Gemm transB 0/1 with alpha, beta, MatMul + Add(bias, ·), Reshape [1, −1] / [0, −1]", async () => {
  const conv = (attrs: object[], shape = [2, 9, 9]) => model(shape, [node("Conv", ["x", "w", "b"], ["y"], [ints("kernel_shape", [3, 3]), ...attrs])], [f32("w", [3, 2, 3, 3], rand(54, 0.4)), f32("b", [3], rand(3, 0.1))]);
  await close("SAME_LOWER", conv([str("auto_pad", "SAME_LOWER")]));
  await close("VALID", conv([str("auto_pad", "VALID")]));
  await close("NOTSET pads 2", conv([str("auto_pad", "NOTSET"), ints("pads", [2, 2, 2, 2])]));
  await close("SAME_UPPER stride 2 (9×9: symmetric)", conv([str("auto_pad", "SAME_UPPER"), ints("strides", [2, 2])]));
  const gemm = (transB: number, attrs: object[], c: object = f32("c", [5], rand(5, 0.2))) =>
    model([7], [node("Gemm", ["x", "b", "c"], ["y"], [int("transB", transB), ...attrs])], [f32("b", transB ? [5, 7] : [7, 5], rand(35, 0.5)), c]);
  await close("Gemm transB 0", gemm(0, []));
  await close("Gemm transB 1 alpha beta", gemm(1, [float("alpha", 0.5), float("beta", 2)]));
  await close("Gemm transB 0 alpha beta, scalar C", gemm(0, [float("alpha", -1.5), float("beta", 0.25)], f32("c", [1], [0.7])));
  const mm = model([7], [node("MatMul", ["x", "b"], ["m"]), node("Add", ["bias", "m"], ["y"])], [f32("b", [7, 5], rand(35, 0.5)), f32("bias", [5], rand(5, 0.2))]);
  await close("MatMul + Add(bias, m)", mm);
  assert.equal(loadOnnx(mm).nodes.map((n) => n.op), ["dense"]);
  for (const shape of [[1, -1], [0, -1], [-1, 18]]) {
    const r = model([2, 3, 3], [node("Reshape", ["x", "s"], ["f"]), node("MatMul", ["f", "b"], ["y"])], [i64("s", shape), f32("b", [18, 4], rand(72, 0.3))], 1);
    await close(`Reshape [${shape}]`, r, 3, 1);
  }
});

test("avgPool round trip: IR → exportOnnx → onnxruntime and → loadOnnx", async () => {
  const b = new GraphBuilder("pools", [2, 6, 6]);
  b.avgPool("a", 3, 1, undefined, 1, true);
  b.avgPool("b", 3, 2, undefined, 1);
  b.avgPool("g", 3);
  const net = b.build();
  const bytes = exportOnnx(net);
  assert.equal(loadOnnx(bytes).nodes, net.nodes);
  const xs = Array.from({ length: 2 }, () => rand(72));
  const ref = evaluate(net, xs).get("g")!;
  const session = await ort.InferenceSession.create(bytes);
  const data = new Float32Array(144);
  xs.forEach((x, i) => data.set(x, i * 72));
  const y = (await session.run({ input: new ort.Tensor("float32", data, [2, 2, 6, 6]) }))["g"]!.data as Float32Array;
  ref.forEach((o, i) => o.forEach((v, j) => assert.ok(Math.abs(v - y[i * 2 + j]!) < 1e-5, `${v} vs ${y[i * 2 + j]}`)));
});

// Conv · Relu · AveragePool · Conv · Relu · GlobalAveragePool · Transpose (no-op) · Flatten · Gemm · Sigmoid,
// with texture detectors as weights so that the inputs fall in different classes: conv1 ± horizontal
// stripes, ± vertical stripes, ± checkerboard, ± mean; conv2 about the identity; the dense layer adds
// the ± pairs into 4 classes (h, v, checker, mean).
const h = [1, 1, 1, -2, -2, -2, 1, 1, 1], v = [1, -2, 1, 1, -2, 1, 1, -2, 1], ch = [1, -1, 1, -1, 1, -1, 1, -1, 1], mean = Array(9).fill(1);
const w2 = rand(576, 0.05);
for (let o = 0; o < 8; o++) w2[(o * 8 + o) * 9 + 4]! += 1;
const cnn = model([1, 8, 8], [
  node("Conv", ["x", "w1", "b1"], ["c1"], [ints("kernel_shape", [3, 3]), ints("pads", [1, 1, 1, 1])]),
  node("Relu", ["c1"], ["r1"]),
  node("AveragePool", ["r1"], ["p1"], [ints("kernel_shape", [2, 2]), ints("strides", [2, 2])], "avg1"),
  node("Conv", ["p1", "w2"], ["c2"], [ints("kernel_shape", [3, 3]), str("auto_pad", "SAME_UPPER")]),
  node("Relu", ["c2"], ["r2"]),
  node("GlobalAveragePool", ["r2"], ["g"]),
  node("Transpose", ["g"], ["t"], [ints("perm", [0, 2, 3, 1])]),
  node("Flatten", ["t"], ["f"]),
  node("Gemm", ["f", "wd", "bd"], ["l"], [int("transB", 1)]),
  node("Sigmoid", ["l"], ["y"], [], "out"),
], [
  f32("w1", [8, 1, 3, 3], [h, v, ch, mean].flatMap((k) => [k, k.map((x) => -x)]).flat().map((x) => x / 6)), f32("b1", [8], rand(8, 0.05)),
  f32("w2", [8, 8, 3, 3], w2),
  f32("wd", [4, 8], [[1, 1, 0, 0, 0, 0, 0, 0], [0, 0, 1, 1, 0, 0, 0, 0], [0, 0, 0, 0, 1, 1, 0, 0], [0, 0, 0, 0, 0, 0, 0.6, 0]].flat().map((x) => x + rand(1, 0.1)[0]!)),
  f32("bd", [4], rand(4, 0.1)),
]);
// Six textures: constant, horizontal and vertical stripes, checkerboard, gradient, noise.
const pattern = [() => 0.8, (y: number) => y % 2, (_: number, x: number) => x % 2, (y: number, x: number) => (x + y) % 2, (y: number, x: number) => (x + y) / 14, () => rand(1)[0]! / 2 + 0.5];
const images = pattern.map((f) => Float32Array.from({ length: 64 }, (_, i) => f(Math.floor(i / 8), i % 8)));

test("a CNN with AveragePool, GlobalAveragePool, a no-op Transpose and a final Sigmoid runs on the chip", async () => {
  await close("float64", cnn, 6);
  const { net, head } = importOnnx(cnn);
  assert.equal(net.nodes.map((n) => n.op), ["conv2d", "relu", "avgPool", "conv2d", "relu", "avgPool", "flatten", "dense"]);
  assert.equal(head, ["sigmoid"]);
  const session = await ort.InferenceSession.create(cnn);
  const data = new Float32Array(6 * 64);
  images.forEach((x, i) => data.set(x, i * 64));
  const y = (await session.run({ x: new ort.Tensor("float32", data, [6, 1, 8, 8]) }))["y"]!.data as Float32Array;
  const classes = images.map((_, i) => argmax(y.subarray(i * 4, i * 4 + 4)));
  assert.equal(classes, [3, 0, 1, 2, 3, 3]);
  // Noise-free functional chip: only INT8 quantisation (the pools' rounding included) separates it
  // from float64; the default functional chip adds its weight noise.
  const quiet = quietFit();
  const chip = Chip.create({ seed: 4, fidelity: "functional" });
  try {
    const q = await runOnChip(chip, net, images, { fit: quiet });
    assert.equal(q.mapping.host, ["avg1", "g", "f"]);
    assert.ok(q.error > 0 && q.error < 0.05, `quantisation-only error ${q.error}`);
    assert.is(q.agreement, 1);
    const r = await runOnChip(chip, net, images, { mapping: q.mapping });
    assert.ok(r.error > q.error && r.error < 0.4, `error ${r.error}`);
    // The dropped Sigmoid leaves argmax alone: the chip's classes are onnxruntime's.
    const same = r.outputs.filter((o, i) => argmax(o) === classes[i]).length;
    assert.ok(same >= 5 && r.agreement >= 5 / 6, `chip vs onnxruntime argmax: ${same} of 6`);
  } finally {
    chip.dispose();
  }
});

test("unsupported: a real Transpose, an activation mid-graph, a relaid tensor into a Conv — one OnnxError naming the node", () => {
  const bad = (bytes: Uint8Array, name: string, what: RegExp) =>
    assert.throws(() => loadOnnx(bytes), (e: Error) => e instanceof OnnxError && e.message.includes(`"${name}"`) && what.test(e.message), `${name}`);
  bad(model([2, 4, 4], [node("Transpose", ["x"], ["y"], [ints("perm", [0, 2, 3, 1])], "nhwc")]), "nhwc", /changes the layout, which is not supported/);
  bad(model([2, 4, 4], [node("Transpose", ["x"], ["y"], [], "rev")]), "rev", /perm \[3, 2, 1, 0\].*not supported/);
  const w = f32("w", [2, 2, 1, 1], rand(4));
  bad(model([2, 4, 4], [node("Conv", ["x", "w"], ["c"], [ints("kernel_shape", [1, 1])]), node("Sigmoid", ["c"], ["s"], [], "mid"), node("Conv", ["s", "w"], ["y"], [ints("kernel_shape", [1, 1])])], [w]),
    "mid", /between layers has no unit on this chip/);
  bad(model([2, 4, 4], [node("Tanh", ["x"], ["t"], [], "early"), node("MaxPool", ["t"], ["y"], [ints("kernel_shape", [2, 2])])]), "early", /no unit on this chip.*as the final op of the graph it would run on the host/);
  bad(model([2, 1, 1], [node("Transpose", ["x"], ["t"], [ints("perm", [0, 2, 3, 1])]), node("Conv", ["t", "w"], ["y"], [ints("kernel_shape", [1, 1])], "after")], [w]),
    "after", /Transpose's \[1, 1, 1, 2\] layout; only Flatten or Reshape may read it/);
});

test.run();
