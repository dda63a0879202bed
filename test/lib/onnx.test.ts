// ONNX import: a small CNN built here with onnx-proto (Conv with pads and with auto_pad
// SAME_UPPER, BatchNormalization, Relu, MaxPool, Reshape, MatMul + a separate bias Add),
// checked against onnxruntime on the same inputs, run on the chip; corrupt, truncated and
// unsupported models give one clear error.
import { test } from "uvu";
import * as assert from "uvu/assert";
import onnxProto from "onnx-proto";
import ort from "onnxruntime-node";
import { Chip } from "../../lib/chip.ts";
import { evaluate } from "../../lib/graph-eval.ts";
import { mapNetwork } from "../../lib/mapper.ts";
import { loadOnnx, OnnxError } from "../../lib/onnx.ts";
import { programNetwork, runNetwork } from "../../lib/run.ts";

const { onnx } = onnxProto;
let s = 11;
const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
const rand = (n: number, k = 1) => Float32Array.from({ length: n }, () => (rnd() * 2 - 1) * k);

function tensor(name: string, dims: number[], data: Float32Array | number[], type = 1) {
  const raw = type === 1 ? new Uint8Array(Float32Array.from(data).buffer) : new Uint8Array(BigInt64Array.from(Array.from(data, (v) => BigInt(v))).buffer);
  return { name, dims, dataType: type, rawData: raw };
}
const node = (opType: string, input: string[], output: string[], attribute: object[] = [], name = output[0]) => ({ opType, input, output, attribute, name });
const ints = (name: string, v: number[]) => ({ name, type: 7, ints: v });
const str = (name: string, v: string) => ({ name, type: 3, s: new TextEncoder().encode(v) });
const vi = (name: string, dims: (number | string)[]) => ({
  name,
  type: { tensorType: { elemType: 1, shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) } } },
});

function smallCnn(extra?: object): Uint8Array {
  const nodes = [
    node("Conv", ["x", "w1", "b1"], ["c1"], [ints("pads", [1, 1, 1, 1]), ints("kernel_shape", [3, 3])]),
    node("BatchNormalization", ["c1", "g", "beta", "mu", "var"], ["n1"]),
    node("Relu", ["n1"], ["r1"]),
    node("MaxPool", ["r1"], ["p1"], [ints("kernel_shape", [2, 2]), ints("strides", [2, 2])]),
    node("Conv", ["p1", "w2"], ["c2"], [str("auto_pad", "SAME_UPPER")]),
    node("Relu", ["c2"], ["r2"]),
    node("Reshape", ["r2", "shape"], ["f"]),
    node("MatMul", ["f", "wd"], ["m"]),
    node("Add", ["m", "bd"], ["y"]),
    ...(extra ? [extra] : []),
  ];
  const model = {
    irVersion: 7,
    opsetImport: [{ domain: "", version: 13 }],
    graph: {
      name: "small-cnn",
      node: nodes,
      input: [vi("x", ["N", 1, 8, 8])],
      output: [vi(extra ? "z" : "y", ["N", 10])],
      initializer: [
        tensor("w1", [4, 1, 3, 3], rand(36, 0.5)), tensor("b1", [4], rand(4, 0.1)),
        tensor("g", [4], rand(4, 0.2).map((v) => 1 + v)), tensor("beta", [4], rand(4, 0.1)), tensor("mu", [4], rand(4, 0.1)), tensor("var", [4], rand(4, 0.2).map((v) => 1 + v)),
        tensor("w2", [8, 4, 3, 3], rand(288, 0.3)), tensor("shape", [2], [-1, 128], 7),
        tensor("wd", [128, 10], rand(1280, 0.2)), tensor("bd", [10], rand(10, 0.1)),
      ],
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model as never)).finish();
}

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
  assert.throws(() => loadOnnx(lrn), /node "norm1" \(op LRN\) is not supported; supported ops: Conv/);
  assert.throws(() => loadOnnx("/nonexistent.onnx"), /model must be a readable ONNX file/);
});

test.run();
