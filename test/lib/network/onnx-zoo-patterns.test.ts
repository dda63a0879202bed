// Patterns the model sweep (tools/fixtures/zoo_sweep.py / .mjs, docs/onnx.md) found in models
// exported the way users do, each in a tiny ONNX model built here: read through the front end
// (readModel), evaluated by our float64 path and compared with onnxruntime (through
// onnxruntimeOutputs, the CLI's float reference), then on a noise-free functional chip.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { checkOnnxModel } from "../../fixtures/onnx-check.ts";
import { OnnxError, readModel } from "../../../lib/network/onnx.ts";
import { shutdownPool } from "../../../lib/runtime/pool.ts";
import { f32, i64, int, ints, node, onnxModel as model, rand } from "../../fixtures/onnx-models.ts";


/** The shared check (test/fixtures/onnx-check.ts): float64 vs onnxruntime, then the quiet chip. */
const check = (bytes: Uint8Array, label: string, maxChip?: number, count?: number) => checkOnnxModel(bytes, label, { maxChip, count });

const conv = (x: string, y: string, w = "w", b = "b") => node("Conv", [x, w, b], [y], [ints("kernel_shape", [3, 3]), ints("pads", [1, 1, 1, 1])]);

test("x.mean([2, 3]) (ReduceMean keepdims 1, then Flatten) and without keepdim straight into Gemm: a global average pool", async () => {
  const inits = [f32("w", [6, 3, 3, 3], rand(162, 0.4)), f32("b", [6], rand(6, 0.1)), f32("wd", [4, 6], rand(24, 0.5)), f32("bd", [4], rand(4, 0.1))];
  const keep = model([3, 6, 6], [
    conv("x", "c"), node("Relu", ["c"], ["r"]),
    node("ReduceMean", ["r"], ["m"], [ints("axes", [2, 3]), int("keepdims", 1)]),
    node("Flatten", ["m"], ["f"], [int("axis", 1)]),
    node("Gemm", ["f", "wd", "bd"], ["y"], [int("transB", 1)]),
  ], inits);
  assert.equal((await check(keep, "mean-keep")).ops, ["conv2d", "relu", "avgPool", "flatten", "dense"]);
  const noKeep = model([3, 6, 6], [
    conv("x", "c"), node("Relu", ["c"], ["r"]),
    node("ReduceMean", ["r"], ["m"], [ints("axes", [-2, -1]), int("keepdims", 0)]),
    node("Gemm", ["m", "wd", "bd"], ["y"], [int("transB", 1)]),
  ], inits);
  assert.equal((await check(noKeep, "mean-nokeep")).ops, ["conv2d", "relu", "avgPool", "flatten", "dense"]);
  // opset 18: axes is an input; ReduceMax is a global max pool.
  const max18 = model([3, 6, 6], [
    conv("x", "c"), node("Relu", ["c"], ["r"]),
    node("ReduceMax", ["r", "axes"], ["m"], [int("keepdims", 0)]),
    node("Gemm", ["m", "wd", "bd"], ["y"], [int("transB", 1)]),
  ], [...inits, i64("axes", [2, 3])], "N", 18);
  assert.equal((await check(max18, "max-o18")).ops, ["conv2d", "relu", "maxPool", "flatten", "dense"]);
});

test("a ReduceMean over the channels or one spatial axis: one OnnxError naming the node and the axes", async () => {
  for (const axes of [[1], [3]]) {
    const m = model([3, 6, 6], [conv("x", "c"), node("ReduceMean", ["c"], ["y"], [ints("axes", axes), int("keepdims", 1)], "rm")],
      [f32("w", [6, 3, 3, 3], rand(162, 0.4)), f32("b", [6], rand(6, 0.1))]);
    const e = await readModel({ name: "rm.onnx", bytes: m }).then(() => undefined, (err: Error) => err);
    assert.ok(e instanceof OnnxError && /rm\.onnx: node "rm" \(ReduceMean\) reduces axes \[\d\].*only the spatial axes \[2, 3\]/.test(e.message), e?.message);
  }
});

test("a channels-last input (N × H × W × C, Transpose perm [0, 3, 1, 2] first): the IR reads C × H × W, the float reference transposes back", async () => {
  for (const c of [3, 1]) {
    const m = model([6, 5, c], [
      node("Transpose", ["x"], ["t"], [ints("perm", [0, 3, 1, 2])]),
      conv("t", "cv"), node("Relu", ["cv"], ["r"]),
      node("Flatten", ["r"], ["f"], [int("axis", 1)]),
      node("Gemm", ["f", "wd", "bd"], ["y"], [int("transB", 1)]),
    ], [f32("w", [4, c, 3, 3], rand(36 * c, 0.4)), f32("b", [4], rand(4, 0.1)), f32("wd", [5, 120], rand(600, 0.2)), f32("bd", [5], rand(5, 0.1))]);
    const r = await check(m, `nhwc-c${c}`);
    assert.equal(r.inputShape, [c, 6, 5]);
    assert.equal(r.ops, ["conv2d", "relu", "flatten", "dense"]);
  }
});

test("ReLU6 as PyTorch exports it at opset 9 / 10: Relu, then Clip with only a max attribute — one clipped ReLU", async () => {
  const m = model([2, 6, 6], [
    conv("x", "c"), node("Relu", ["c"], ["r"]), node("Clip", ["r"], ["k"], [{ name: "max", type: 1, f: 0.5 }]),
    node("Flatten", ["k"], ["f"], [int("axis", 1)]),
    node("Gemm", ["f", "wd", "bd"], ["y"], [int("transB", 1)]),
  ], [f32("w", [4, 2, 3, 3], rand(72, 0.5)), f32("b", [4], rand(4, 0.1)), f32("wd", [3, 144], rand(432, 0.2)), f32("bd", [3], rand(3, 0.1))], "N", 10);
  const { net } = await readModel({ name: "relu6-o10", bytes: m });
  assert.equal(net.nodes.map((n) => n.op), ["conv2d", "relu", "flatten", "dense"]);
  assert.is((net.nodes[1] as { max?: number }).max, 0.5);
  await check(m, "relu6-o10");
  // A Clip without min on a tensor that is not a lone Relu's output stays refused.
  const bad = model([2, 6, 6], [conv("x", "c"), node("Clip", ["c"], ["y"], [{ name: "max", type: 1, f: 6 }], "clip")], [f32("w", [4, 2, 3, 3], rand(72, 0.5)), f32("b", [4], rand(4, 0.1))], "N", 10);
  const e = await readModel({ name: "clip.onnx", bytes: bad }).then(() => undefined, (err: Error) => err);
  assert.ok(e instanceof OnnxError && /node "clip" \(Clip\) clips to \[−∞, 6\]/.test(e.message), e?.message);
});

test("a batch fixed at 8 in the file (a training batch as the dummy input): read at batch 1, Reshape [8, -1] (folded by torch, or from Shape) becomes [1, -1]", async () => {
  const inits = [f32("w", [4, 2, 3, 3], rand(72, 0.5)), f32("b", [4], rand(4, 0.1)), f32("wd", [3, 144], rand(432, 0.2)), f32("bd", [3], rand(3, 0.1))];
  const folded = model([2, 6, 6], [
    conv("x", "c"), node("Relu", ["c"], ["r"]), node("Reshape", ["r", "shape"], ["f"]),
    node("Gemm", ["f", "wd", "bd"], ["y"], [int("transB", 1)]),
  ], [...inits, i64("shape", [8, -1])], 8);
  const viaShape = model([2, 6, 6], [
    conv("x", "c"), node("Relu", ["c"], ["r"]),
    node("Shape", ["r"], ["s"]), node("Gather", ["s", "zero"], ["n"], [int("axis", 0)]), node("Unsqueeze", ["n", "ax0"], ["n1"]),
    node("Concat", ["n1", "minus1"], ["shape"], [int("axis", 0)]), node("Reshape", ["r", "shape"], ["f"]),
    node("Gemm", ["f", "wd", "bd"], ["y"], [int("transB", 1)]),
  ], [...inits, i64("zero", [0], []), i64("ax0", [0]), i64("minus1", [-1])], 8);
  for (const [m, label] of [[folded, "batch8-folded"], [viaShape, "batch8-shape"]] as const) {
    const { report } = await readModel({ name: label, bytes: m });
    assert.equal(report.batchWas, { x: 8 });
    assert.equal(report.fixedBatch, []);
    assert.equal((await check(m, label, 0.06, 11)).ops, ["conv2d", "relu", "flatten", "dense"]); // 11 images: a padded second call
  }
});

test("opset 18 Pad with an axes input (pads for H and W only)", async () => {
  const m = model([2, 5, 5], [
    node("Pad", ["x", "pads", "", "axes"], ["p"]),
    node("Conv", ["p", "w", "b"], ["c"], [ints("kernel_shape", [3, 3])]), node("Relu", ["c"], ["r"]),
    node("Flatten", ["r"], ["f"], [int("axis", 1)]),
    node("Gemm", ["f", "wd", "bd"], ["y"], [int("transB", 1)]),
  ], [i64("pads", [1, 0, 1, 2]), i64("axes", [2, 3]), f32("w", [4, 2, 3, 3], rand(72, 0.5)), f32("b", [4], rand(4, 0.1)), f32("wd", [3, 100], rand(300, 0.2)), f32("bd", [3], rand(3, 0.1))], "N", 18);
  const r = await check(m, "pad-o18");
  assert.equal(r.ops, ["pad", "conv2d", "relu", "flatten", "dense"]);
});

test("a ResNet block with a conv shortcut (Add of two convs' outputs): the later conv's receiver adds the earlier one's output; relu(x + residual) in its LDPU (flag 4)", async () => {
  const c = (x: string, w: string, y: string, k: number, stride: number) =>
    node("Conv", [x, w], [y], [ints("kernel_shape", [k, k]), ints("strides", [stride, stride]), ints("pads", k === 3 ? [1, 1, 1, 1] : [0, 0, 0, 0])]);
  const block = (relu: boolean) => model([4, 6, 6], [
    c("x", "wd", "down", 1, 2), // the shortcut first, as torchvision's BasicBlock exports it
    c("x", "w1", "a", 3, 2), node("Relu", ["a"], ["ar"]),
    c("ar", "w2", "b", 3, 1),
    node("Add", ["b", "down"], ["s"]), ...(relu ? [node("Relu", ["s"], ["r"], [], "relu_out")] : []),
    node("GlobalAveragePool", [relu ? "r" : "s"], ["p"]), node("Flatten", ["p"], ["f"], [int("axis", 1)]),
    node("Gemm", ["f", "wf", "bf"], ["y"], [int("transB", 1)]),
  ], [f32("wd", [8, 4, 1, 1], rand(32, 0.5)), f32("w1", [8, 4, 3, 3], rand(288, 0.3)), f32("w2", [8, 8, 3, 3], rand(576, 0.2)), f32("wf", [3, 8], rand(24, 0.5)), f32("bf", [3], rand(3, 0.1))]);
  const r = await check(block(false), "resnet-down");
  assert.equal(r.ops, ["conv2d", "conv2d", "relu", "conv2d", "add", "avgPool", "flatten", "dense"]);
  // relu(x + residual) (torchvision's BasicBlock): the receiver's LDPU applies its last ReLU
  // after the residual add (flag 4), so the chip follows onnxruntime as closely as without it.
  const bb = await check(block(true), "bb");
  assert.equal(bb.ops, ["conv2d", "conv2d", "relu", "conv2d", "add", "relu", "avgPool", "flatten", "dense"]);
});

test("a GRU / RNN layer and a 1-D conv: one OnnxError naming the node (not only the input's rank)", async () => {
  const gru = model([6, 4], [
    node("GRU", ["x", "W", "R"], ["Y", "Yh"], [int("hidden_size", 3)], "gru1"),
    node("Squeeze", ["Yh"], ["y"], [ints("axes", [0])]),
  ], [f32("W", [1, 9, 4], rand(36)), f32("R", [1, 9, 3], rand(27))], "N", 11);
  const conv1d = model([4, 16], [
    node("Conv", ["x", "w", "b"], ["c"], [ints("kernel_shape", [3]), ints("pads", [1, 1])], "c1d"),
    node("Flatten", ["c"], ["f"], [int("axis", 1)]),
    node("Gemm", ["f", "wd"], ["y"], [int("transB", 1)]),
  ], [f32("w", [8, 4, 3], rand(96)), f32("b", [8], rand(8)), f32("wd", [5, 128], rand(640))]);
  for (const [bytes, re] of [
    [gru, /g\.onnx: node "gru1" \(GRU\) is a recurrent layer the chip does not run: the GDPU runs LSTM cells only/],
    [conv1d, /g\.onnx: node "c1d" \(Conv\) is a 1-D convolution; only 2-D convs/],
  ] as const) {
    const e = await readModel({ name: "g.onnx", bytes }).then(() => undefined, (err: Error) => err);
    assert.ok(e instanceof OnnxError && re.test(e.message), `${re}: ${e?.message}`);
  }
});

test.after(() => shutdownPool());
test.run();
