// The IR written as ONNX: read back identically and run by onnxruntime to the float64 result.
import { test } from "uvu";
import * as assert from "uvu/assert";
import ort from "onnxruntime-node";
import { resnet9 } from "../../../lib/network/builders.ts";
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

test.run();
