// The ops real exporters write (issue 18), each in a tiny ONNX model built here: read through
// the front end (readModel: onnxruntime normalisation, then lowering), evaluated by our
// float64 path and compared with onnxruntime on the same inputs; then on a noise-free
// functional chip (only INT8 quantisation separates it from float64). Ops the chip has no
// unit for give one OnnxError naming the node.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Chip } from "../../../lib/chip/chip.ts";
import { checkOnnxModel } from "../../fixtures/onnx-check.ts";
import { OnnxError, readModel } from "../../../lib/network/onnx.ts";
import { runOnChip } from "../../../lib/network/run.ts";
import { shutdownPool } from "../../../lib/runtime/pool.ts";
import { f32, float, i64, int, ints, node, onnxModel as model, rand, str } from "../../fixtures/onnx-models.ts";

const k3 = [ints("kernel_shape", [3, 3])];
const pads1 = ints("pads", [1, 1, 1, 1]);
const pos = (n: number, k = 1) => rand(n, k).map((v) => Math.abs(v) + 0.1);
const bn = (name: string, c: number) => [f32(`${name}.g`, [c], pos(c)), f32(`${name}.b`, [c], rand(c, 0.2)), f32(`${name}.m`, [c], rand(c, 0.2)), f32(`${name}.v`, [c], pos(c))];
const bnNode = (x: string, name: string, y: string) => node("BatchNormalization", [x, `${name}.g`, `${name}.b`, `${name}.m`, `${name}.v`], [y], [], name);

/** The shared check (test/fixtures/onnx-check.ts): float64 vs onnxruntime, then the quiet chip. */
const check = (bytes: Uint8Array, label: string, maxChip?: number, count?: number) => checkOnnxModel(bytes, label, { maxChip, count });

test("PyTorch view(): Shape → Gather → Unsqueeze → Concat → Reshape over a dynamic batch, Identity over an initializer, Dropout", async () => {
  const m = model([2, 6, 6], [
    node("Identity", ["w"], ["w_id"]),
    node("Conv", ["x", "w_id", "b"], ["c"], [...k3, pads1]),
    node("Relu", ["c"], ["r"]),
    node("Dropout", ["r"], ["d"]),
    node("Shape", ["d"], ["s"]),
    node("Gather", ["s", "zero"], ["n"], [int("axis", 0)]),
    node("Unsqueeze", ["n", "ax0"], ["n1"]),
    node("Concat", ["n1", "minus1"], ["shape"], [int("axis", 0)]),
    node("Reshape", ["d", "shape"], ["f"]),
    node("Gemm", ["f", "wd", "bd"], ["y"], [int("transB", 1)]),
  ], [f32("w", [4, 2, 3, 3], rand(72, 0.4)), f32("b", [4], rand(4, 0.1)), i64("zero", [0], []), i64("ax0", [0]), i64("minus1", [-1]), f32("wd", [5, 144], rand(720, 0.1)), f32("bd", [5], rand(5, 0.1))]);
  const r = await check(m, "view");
  assert.equal(r.ops, ["conv2d", "relu", "flatten", "dense"]);
  const { report } = await readModel(m);
  assert.equal(report.fixedBatch, ["x"]);
  assert.ok(report.folded["Shape"] === 1 && report.folded["Identity"] === 1 && report.folded["Concat"] === 1, JSON.stringify(report.folded));
  assert.is(report.removed, 1); // the Dropout
});

test("grouped and depthwise convs with BN and ReLU6 (Clip 0..6): block-diagonal tiles, clip saturates the INT8 output", async () => {
  const m = model([8, 6, 6], [
    node("Conv", ["x", "wg", "bg"], ["g"], [...k3, pads1, int("group", 2)]),
    bnNode("g", "bn1", "gb"),
    node("Clip", ["gb", "lo", "hi"], ["g6"]),
    node("Conv", ["g6", "wdw"], ["dw"], [...k3, pads1, int("group", 8), ints("strides", [2, 2])]),
    bnNode("dw", "bn2", "dwb"),
    node("Clip", ["dwb", "lo", "hi"], ["d6"]),
    node("Conv", ["d6", "wp"], ["y"], [ints("kernel_shape", [1, 1])]),
  ], [f32("wg", [8, 4, 3, 3], rand(288, 0.5)), f32("bg", [8], rand(8, 0.2)), ...bn("bn1", 8), f32("lo", [], [0]), f32("hi", [], [6]), f32("wdw", [8, 1, 3, 3], rand(72, 1)), ...bn("bn2", 8), f32("wp", [3, 8, 1, 1], rand(24, 0.5))]);
  const r = await check(m, "grouped", 0.15); // three INT8 layers of a random net
  assert.equal(r.ops, ["conv2d", "batchNorm", "relu", "conv2d", "batchNorm", "relu", "conv2d"]);
  assert.is(r.cores, 3);
});

test("a depthwise conv's groups share a tile but not their inputs: one read per group, no crosstalk through zero-weight cells", async () => {
  const { mapNetwork } = await import("../../../lib/network/mapper.ts");
  const m = model([40, 5, 5], [node("Conv", ["x", "w"], ["y"], [...k3, pads1, int("group", 40)])], [f32("w", [40, 1, 3, 3], rand(360, 1))]);
  const { net } = await readModel(m);
  const mp = mapNetwork(net);
  // 28 groups of 1 row × 9 columns fit a 256 × 256 tile: 2 tiles (28 + 12 groups), read 28 times per step.
  assert.equal(mp.layers[0]!.tiles.map((t) => [t.rowRange, t.colRange]), [[[0, 28], [0, 252]], [[28, 40], [252, 360]]]);
  assert.is(mp.layers[0]!.groupsPerTile, 28);
  // Only channel 0 driven: on the default (noisy) functional chip every other channel reads exactly 0.
  const x = new Float32Array(40 * 25);
  for (let i = 0; i < 25; i++) x[i] = (i % 7) / 7 + 0.1;
  const chip = Chip.create({ seed: 3, fidelity: "functional" });
  try {
    const r = await runOnChip(chip, net, [x, x], { calibration: [x, Float32Array.from(x, (v, i) => (i < 25 ? v : 0.5))] });
    const y = r.outputs[0]!;
    assert.ok(y.subarray(0, 25).some((v) => v !== 0), "channel 0 responds");
    assert.ok(y.subarray(25).every((v) => v === 0), "channels 1..39 read only their own (zero) inputs");
  } finally {
    chip.dispose();
  }
});

test("a grouped conv wider than a core leaves out the tiles without weights", async () => {
  const { mapNetwork } = await import("../../../lib/network/mapper.ts");
  const m = model([64, 4, 4], [node("Conv", ["x", "w"], ["y"], [...k3, pads1, int("group", 2)])], [f32("w", [512, 32, 3, 3], rand(512 * 288, 0.1))]);
  const { net } = await readModel(m);
  const mp = mapNetwork(net);
  // 512 × 576 matrix: 2 × 3 blocks of 256 × 192; output block 0 (group 0) meets input blocks 0..1 only (cols 0..287), block 1 meets 1..2.
  assert.is(mp.layers[0]!.groups, 2);
  assert.equal(mp.layers[0]!.tiles.map((t) => [t.outputBlock, t.inputBlock]), [[0, 0], [0, 1], [1, 1], [1, 2]]);
  assert.is(mp.weights, 512 * 32 * 9);
});

test("SqueezeNet-style fire module: MaxPool ceil_mode, squeeze 1×1, expand 1×1 and 3×3 concatenated on channels, GlobalAveragePool", async () => {
  const m = model([3, 9, 9], [
    node("Conv", ["x", "w0"], ["c0"], [...k3]),
    node("Relu", ["c0"], ["r0"]),
    node("MaxPool", ["r0"], ["p0"], [...k3, ints("strides", [2, 2]), int("ceil_mode", 1)]),
    node("Conv", ["p0", "ws"], ["s"], [ints("kernel_shape", [1, 1])]),
    node("Relu", ["s"], ["sr"]),
    node("Conv", ["sr", "we1"], ["e1"], [ints("kernel_shape", [1, 1])]),
    node("Relu", ["e1"], ["e1r"]),
    node("Conv", ["sr", "we3"], ["e3"], [...k3, pads1]),
    node("Relu", ["e3"], ["e3r"]),
    node("Concat", ["e1r", "e3r"], ["cat"], [int("axis", 1)]),
    node("GlobalAveragePool", ["cat"], ["gap"]),
    node("Flatten", ["gap"], ["f"]),
    node("Gemm", ["f", "wd"], ["y"], [int("transB", 1)]),
  ], [f32("w0", [6, 3, 3, 3], rand(162, 0.4)), f32("ws", [4, 6, 1, 1], rand(24, 0.6)), f32("we1", [5, 4, 1, 1], rand(20, 0.6)), f32("we3", [5, 4, 3, 3], rand(180, 0.3)), f32("wd", [4, 10], rand(40, 0.5))]);
  const r = await check(m, "fire");
  assert.ok(r.ops.includes("concat"));
  assert.equal(r.host.filter((h) => h.startsWith("p0") || h.startsWith("cat")), ["p0", "cat"]);
});

test("pools with ceil_mode and asymmetric pads, count_include_pad 0 and 1, an explicit Pad, strided SAME_UPPER conv", async () => {
  for (const cip of [0, 1]) {
    const m = model([2, 8, 8], [
      node("Conv", ["x", "w"], ["c"], [...k3, ints("strides", [2, 2]), str("auto_pad", "SAME_UPPER")]),
      node("Relu", ["c"], ["r"]),
      node("Pad", ["r", "pp"], ["rp"], [str("mode", "constant")]),
      node("AveragePool", ["rp"], ["a"], [ints("kernel_shape", [2, 2]), ints("strides", [2, 2]), ints("pads", [0, 1, 1, 0]), int("ceil_mode", 1), int("count_include_pad", cip)]),
      node("MaxPool", ["a"], ["mx"], [ints("kernel_shape", [2, 2]), ints("pads", [1, 0, 0, 1]), int("ceil_mode", 1), ints("strides", [2, 2])]),
      node("Flatten", ["mx"], ["y"]),
    ], [f32("w", [4, 2, 3, 3], rand(72, 0.5)), i64("pp", [0, 0, 1, 0, 0, 0, 0, 2])]);
    // (No dense layer after the pools: ONNX shape inference sizes the ceil_mode MaxPool without
    // the rule that a window must start inside the padded input, which onnxruntime's kernel
    // and lib/network/graph.ts poolOut apply, and would refuse a MatMul after it.)
    const r = await check(m, `pools cip ${cip}`, 0.08);
    assert.equal(r.ops, ["pad", "conv2d", "relu", "pad", "avgPool", "maxPool", "flatten"]);
  }
});

test("input normalisation (Sub, Div), Mul / Add by constants after a conv (LDPU affine), Squeeze / Unsqueeze / Reshape that only flatten", async () => {
  const m = model([1, 6, 6], [
    node("Sub", ["x", "mean"], ["xs"]),
    node("Div", ["xs", "std"], ["xn"]),
    node("Conv", ["xn", "w"], ["c"], [...k3]),
    node("Mul", ["c", "gain"], ["cm"]),
    node("Add", ["cm", "off"], ["ca"]),
    node("Relu", ["ca"], ["r"]),
    node("GlobalMaxPool", ["r"], ["g"]),
    node("Squeeze", ["g", "ax23"], ["sq"]),
    node("Unsqueeze", ["sq", "ax2"], ["us"]),
    node("Reshape", ["us", "flat"], ["f"]),
    node("Gemm", ["f", "wd", "bd"], ["l"]),
    node("Softmax", ["l"], ["y"], [int("axis", 1)]),
  ], [f32("mean", [], [0.3]), f32("std", [], [0.4]), f32("w", [4, 1, 3, 3], rand(36, 0.5)), f32("gain", [1, 4, 1, 1], pos(4)), f32("off", [4, 1, 1], rand(4, 0.2)),
    i64("ax23", [2, 3]), i64("ax2", [2]), i64("flat", [1, -1]), f32("wd", [4, 3], rand(12, 0.5)), f32("bd", [3], rand(3, 0.1))]);
  const r = await check(m, "prep", 0.06);
  assert.equal(r.ops, ["batchNorm", "batchNorm", "conv2d", "batchNorm", "batchNorm", "relu", "maxPool", "flatten", "dense"]);
  assert.equal(r.host.filter((h) => h === "xs" || h === "xn"), ["xs", "xn"]); // on the float input
});

test("no unit on the chip: LeakyRelu, PRelu, HardSwish, a Clip that is not 0..max, Mul of two tensors — one OnnxError naming the node", async () => {
  const w = f32("w", [2, 2, 1, 1], rand(4));
  const conv = node("Conv", ["x", "w"], ["c"], [ints("kernel_shape", [1, 1])]);
  const cases: [object, object[], RegExp][] = [
    [node("LeakyRelu", ["c"], ["y"], [float("alpha", 0.1)], "leaky"), [], /"leaky" \(LeakyRelu\) between layers has no unit on this chip/],
    [node("PRelu", ["c"], ["y"], [], "prelu"), [f32("slope", [2, 1, 1], [0.1, 0.2])], /"prelu" \(PRelu\) between layers has no unit/],
    [node("HardSwish", ["c"], ["y"], [], "hs"), [], /"hs" \(HardSwish\) between layers has no unit/],
    [node("Clip", ["c", "m1", "p1"], ["y"], [], "clip11"), [f32("m1", [], [-1]), f32("p1", [], [1])], /"clip11" \(Clip\) clips to \[-1, 1\]; the chip runs only Clip\(0, max > 0\)/],
    [node("Mul", ["c", "c"], ["y"], [], "sq"), [], /"sq" \(Mul\) of two tensors has no unit on this chip/],
  ];
  for (const [n, extra, re] of cases) {
    const bytes = model([2, 3, 3], [conv, n], [w, ...extra]);
    const e = await readModel(bytes, "bad").then(() => undefined, (err: Error) => err);
    assert.ok(e instanceof OnnxError && re.test(e.message), `${re}: ${e?.message}`);
  }
});

test.after(() => shutdownPool());
test.run();
