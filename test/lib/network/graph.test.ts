import { test } from "uvu";
import * as assert from "uvu/assert";
import { matrixShape } from "../../../lib/network/graph.ts";
import { countParameters, inferShapes, outputShape } from "../../../lib/network/graph-shapes.ts";
import { GraphBuilder, RESNET9_BIASES, RESNET9_WEIGHTS, RESNET9_WIDTHS, resnet9 } from "../../../lib/network/builders.ts";
import type { Network, WeightNode } from "../../../lib/network/graph.ts";

const zeros = (n: number): Float32Array => new Float32Array(n);

test("ResNet-9: 1,866,536 weights and 10 biases (the paper's counts), 8 convs + 1 dense", () => {
  const net = resnet9({ seed: 3 });
  const p = countParameters(net);
  assert.is(p.weights, 1_866_536);
  assert.is(p.weights, RESNET9_WEIGHTS);
  assert.is(p.biases, 10);
  assert.is(p.biases, RESNET9_BIASES);
  assert.is(p.weightLayers, 9);
  assert.equal([...RESNET9_WIDTHS], [56, 112, 112, 112, 224, 224, 224, 224]);
  const convs = net.nodes.filter((n) => n.op === "conv2d");
  assert.equal(convs.map((n) => (n.op === "conv2d" ? n.outChannels : 0)), [56, 112, 112, 112, 224, 224, 224, 224]);
  assert.is(net.nodes.filter((n) => n.op === "maxPool").length, 4);
  assert.equal(
    net.nodes.filter((n) => n.op === "add").map((n) => (n.op === "add" ? [...n.inputs] : [])),
    [["relu3", "pool1"], ["relu7", "pool5"]],
  );
  // Per-layer weights, by hand: k·k·C_in·C_out.
  const per = net.nodes.filter((n): n is WeightNode => n.op === "conv2d" || n.op === "dense").map((n) => n.weights.length);
  assert.equal(per, [1512, 56448, 112896, 112896, 225792, 451584, 451584, 451584, 2240]);
  // The Methods' 1,869,122 trainable parameters = weights + biases + 2 BN parameters per conv channel.
  const bnChannels = RESNET9_WIDTHS.reduce((a, b) => a + b, 0);
  assert.is(p.weights + p.biases + 2 * bnChannels, 1_869_122);
});

test("ResNet-9 shapes: 32×32 → 16 → 8 → 4 → 1, flatten 224, output 10; deep layer matrix 224 × 2016", () => {
  const net = resnet9();
  const s = inferShapes(net);
  assert.equal(s.get("input"), [3, 32, 32]);
  assert.equal(s.get("conv0"), [56, 32, 32]);
  assert.equal(s.get("pool1"), [112, 16, 16]);
  assert.equal(s.get("add3"), [112, 16, 16]);
  assert.equal(s.get("pool4"), [224, 8, 8]);
  assert.equal(s.get("pool5"), [224, 4, 4]);
  assert.equal(s.get("add7"), [224, 4, 4]);
  assert.equal(s.get("pool8"), [224, 1, 1]);
  assert.equal(s.get("flatten"), [224]);
  assert.equal(outputShape(net), [10]);
  const conv5 = net.nodes.find((n) => n.name === "conv5") as WeightNode;
  assert.equal(matrixShape(conv5), { outputs: 224, inputs: 2016 });
});

test("ResNet-9 weights are reproducible from the seed and differ between seeds", () => {
  const a = resnet9({ seed: 7 }).nodes[0] as WeightNode;
  const b = resnet9({ seed: 7 }).nodes[0] as WeightNode;
  const c = resnet9({ seed: 8 }).nodes[0] as WeightNode;
  assert.equal(Array.from(a.weights.subarray(0, 16)), Array.from(b.weights.subarray(0, 16)));
  assert.not.equal(Array.from(a.weights.subarray(0, 16)), Array.from(c.weights.subarray(0, 16)));
  // He-normal: std √(2/27) ≈ 0.272 for conv0 (1512 draws).
  let ss = 0;
  for (const w of a.weights) ss += w * w;
  const std = Math.sqrt(ss / a.weights.length);
  assert.ok(Math.abs(std - Math.sqrt(2 / 27)) < 0.02, `std ${std}`);
});

test("shape inference: stride, padding, pooling, flatten, dense", () => {
  const b = new GraphBuilder("small", [2, 9, 7]);
  b.conv2d("c", { inChannels: 2, outChannels: 4, kernel: 3, stride: 2, padding: 1, weights: zeros(4 * 2 * 9) });
  assert.equal(b.shapeOf(), [4, 5, 4]); // floor((9 + 2 − 3)/2) + 1 = 5, floor((7 + 2 − 3)/2) + 1 = 4
  b.conv2d("c2", { inChannels: 4, outChannels: 3, kernel: 2, weights: zeros(3 * 4 * 4) });
  assert.equal(b.shapeOf(), [3, 4, 3]); // no padding, stride 1
  b.maxPool("p", 2);
  assert.equal(b.shapeOf(), [3, 2, 1]);
  b.flatten("f");
  b.dense("d", { inFeatures: 6, outFeatures: 5, weights: zeros(30), bias: zeros(5) });
  const net = b.build();
  assert.equal(outputShape(net), [5]);
  assert.equal(countParameters(net), { weights: 72 + 48 + 30, biases: 5, weightLayers: 3 });
});

test("bad shapes and bad nodes throw ArgumentErrors naming the node", () => {
  const conv = (over: object): Network => ({
    name: "bad",
    inputShape: [3, 8, 8],
    nodes: [{ op: "conv2d", name: "c", input: "input", inChannels: 3, outChannels: 2, kernel: 3, stride: 1, padding: 1, weights: zeros(54), ...over } as never],
  });
  assert.not.throws(() => inferShapes(conv({})));
  assert.throws(() => inferShapes(conv({ inChannels: 4, weights: zeros(72) })), (e: Error) => e.name === "ArgumentError" && /c\.inChannels must be the input's channel count 3/.test(e.message));
  assert.throws(() => inferShapes(conv({ weights: zeros(53) })), /c\.weights \(\[out\]\[in\/groups\]\[kh\]\[kw\] = 2×3×3×3\) must be a Float32Array of length 54/);
  assert.throws(() => inferShapes(conv({ kernel: 11, padding: 1, weights: zeros(2 * 3 * 121) })), /c\.kernel must be a kernel no larger than the padded input \(8 \+ 2·1 = 10\), got 11/);
  assert.throws(() => inferShapes(conv({ stride: 0 })), /c\.stride must be an integer ≥ 1, got 0/);
  assert.throws(() => inferShapes(conv({ input: "nope" })), /c\.input must be "input" or the name of an earlier node, got "nope"/);
  assert.throws(() => inferShapes(conv({ bias: zeros(3) })), /c\.bias must be a Float32Array of length 2/);
  const w = zeros(54);
  w[5] = NaN;
  assert.throws(() => inferShapes(conv({ weights: w })), /\[5\] must be a finite number, got NaN/);
  assert.throws(() => inferShapes({ name: "x", inputShape: [3, 8], nodes: [] }), /inputShape must be \[C, H, W\] \(or \[N\]\)/);

  const b = new GraphBuilder("bad2", [4, 4, 4]);
  b.conv2d("a", { inChannels: 4, outChannels: 2, kernel: 1, weights: zeros(8) });
  b.relu("r");
  b.addResidual("sum", "r", "input");
  assert.throws(() => b.build(), /sum\.inputs must be two tensors of the same shape, got "\[2, 4, 4\] and \[4, 4, 4\]"/);

  const d = new GraphBuilder("bad3", [4, 2, 2]);
  d.dense("fc", { inFeatures: 16, outFeatures: 2, weights: zeros(32) });
  assert.throws(() => d.build(), /fc\.input must be a flat \[N\] tensor \(add a flatten node\), got "shape \[4, 2, 2\]"/);
  const d2 = new GraphBuilder("bad4", [16]);
  d2.dense("fc", { inFeatures: 15, outFeatures: 2, weights: zeros(30) });
  assert.throws(() => d2.build(), /fc\.inFeatures must be the input's size 16, got 15/);
  const dup = new GraphBuilder("dup", [16]);
  dup.relu("x");
  dup.relu("x");
  assert.throws(() => dup.build(), /nodes\[1\]\.name must be a name not used before/);
  const bn = new GraphBuilder("bn", [3, 2, 2]);
  bn.batchNorm("n", zeros(2), zeros(3));
  assert.throws(() => bn.build(), /n\.scale must be a Float32Array of length 3/);
  const pool = new GraphBuilder("pool", [3, 2, 2]);
  pool.maxPool("p", 3);
  assert.throws(() => pool.build(), /p\.kernel must be a kernel no larger than the padded input \(2 \+ 2·0 = 2\), got 3/);
  assert.throws(() => resnet9({ widths: [56, 112, 100, 112, 224, 224, 224, 224] }), /widths must be equal widths\[1\.\.3\]/);
});

test.run();
