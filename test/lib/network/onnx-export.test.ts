// The IR written as ONNX: read back identically and run by onnxruntime to the float64 result.
import { test } from "uvu";
import * as assert from "uvu/assert";
import ort from "onnxruntime-node";
import { GraphBuilder, resnet9 } from "../../../lib/network/builders.ts";
import { evaluate } from "../../../lib/network/graph-eval.ts";
import { exportOnnx } from "../../../lib/network/onnx-export.ts";
import { loadOnnx } from "../../../lib/network/onnx.ts";

test("ResNet-9 → ONNX → onnxruntime equals the float64 evaluator; → loadOnnx gives the same network", async () => {
  const net = resnet9({ seed: 3 });
  const bytes = exportOnnx(net);
  const back = loadOnnx(bytes);
  assert.equal(back.nodes.map((n) => n.op), net.nodes.map((n) => n.op));
  assert.equal(back.inputShape, net.inputShape);
  let s = 3;
  const imgs = Array.from({ length: 3 }, () => Float32Array.from({ length: 3072 }, () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32));
  const ref = evaluate(net, imgs).get("dense")!;
  const mine = evaluate(back, imgs).get(back.nodes[back.nodes.length - 1]!.name)!;
  const session = await ort.InferenceSession.create(bytes);
  const batch = new Float32Array(3 * 3072);
  imgs.forEach((x, i) => batch.set(x, i * 3072));
  const y = (await session.run({ input: new ort.Tensor("float32", batch, [3, 3, 32, 32]) }))[session.outputNames[0]!]!.data as Float32Array;
  ref.forEach((o, i) => o.forEach((v, j) => {
    assert.ok(Math.abs(v - y[i * 10 + j]!) < 1e-4 * (1 + Math.abs(v)), `onnxruntime ${y[i * 10 + j]} vs ${v}`);
    assert.ok(Math.abs(v - mine[i]![j]!) < 1e-4 * (1 + Math.abs(v)), "round trip");
  }));
});

test("grouped convs, clipped ReLU, pad, concat, pools with pads and ceil_mode → ONNX → onnxruntime equals float64 and reads back the same", async () => {
  let s = 5;
  const r = (n: number, k = 1) => Float32Array.from({ length: n }, () => (((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1) * k);
  const b = new GraphBuilder("ops", [4, 7, 7]);
  b.conv2d("g", { inChannels: 4, outChannels: 6, kernel: 3, padding: 1, groups: 2, weights: r(6 * 2 * 9, 0.5), bias: r(6, 0.1) });
  const a = b.relu("a", "g", 1.5);
  const p = b.pad("p", [1, 0, 0, 2], a);
  const d = b.conv2d("dw", { inChannels: 6, outChannels: 6, kernel: 3, stride: 2, groups: 6, weights: r(54) }, p);
  const e = b.relu("e", d);
  const c = b.concat("cat", [e, e]);
  b.maxPool("mp", 2, 2, c, [0, 1, 1, 0], true);
  b.avgPool("ap", 2, 1, "mp", 1, true);
  const net = b.build();
  const bytes = exportOnnx(net);
  const back = loadOnnx(bytes);
  assert.equal(back.nodes.map((n) => n.op), net.nodes.map((n) => n.op));
  const imgs = Array.from({ length: 3 }, () => r(4 * 49));
  const ref = evaluate(net, imgs).get("ap")!;
  const mine = evaluate(back, imgs).get(back.nodes[back.nodes.length - 1]!.name)!;
  const session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3, graphOptimizationLevel: "disabled" });
  const y = (await session.run({ input: new ort.Tensor("float32", Float32Array.from(imgs.flatMap((x) => Array.from(x))), [3, 4, 7, 7]) }))["ap"]!.data as Float32Array;
  const k = ref[0]!.length;
  assert.ok(k > 0 && y.length === 3 * k, `onnxruntime gave ${y.length} values, float64 ${3 * k}`);
  ref.forEach((o, i) => o.forEach((v, j) => {
    assert.ok(Math.abs(v - y[i * k + j]!) < 1e-5 * (1 + Math.abs(v)), `onnxruntime ${y[i * k + j]} vs ${v}`);
    assert.ok(Math.abs(v - mine[i]![j]!) < 1e-6 * (1 + Math.abs(v)), "round trip");
  }));
});

test.run();
