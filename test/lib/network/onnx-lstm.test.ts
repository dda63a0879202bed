// ONNX LSTMs in: gates reordered from i, o, f, c to the GDPU's interleaved I, A, F, O; the
// float64 LSTM on the converted weights equals onnxruntime on the original file.
import { test } from "uvu";
import * as assert from "uvu/assert";
import ort from "onnxruntime-node";
import { lstmReference } from "../../../lib/network/lstm-run.ts";
import { loadOnnxLstm } from "../../../lib/network/onnx-lstm.ts";
import { OnnxError } from "../../../lib/network/onnx.ts";
import { tinyCharLstm, smallCnn } from "../../fixtures/onnx-models.ts";

test("converted weights reproduce onnxruntime's logits", async () => {
  const bytes = tinyCharLstm();
  const m = loadOnnxLstm(bytes);
  assert.equal(m.weights.spec, { name: "onnx-lstm", inputs: 5, hidden: 6, outputs: 7 });
  assert.is(m.embedding!.vocabulary, 7);
  const ids = [0, 3, 6, 2, 2, 5, 1, 4, 0, 6];
  const xs = ids.map((id) => m.embedding!.table.subarray(id * 5, id * 5 + 5));
  const ours = lstmReference(m.weights, xs).outputs;
  const session = await ort.InferenceSession.create(bytes);
  const y = (await session.run({ ids: new ort.Tensor("int64", BigInt64Array.from(ids.map(BigInt)), [ids.length, 1]) }))["logits"]!.data as Float32Array;
  ours.forEach((o, t) => o.forEach((v, j) => assert.ok(Math.abs(v - y[t * 7 + j]!) < 1e-5, `t ${t} j ${j}: ${v} vs ${y[t * 7 + j]}`)));
});

test("models without one forward LSTM are refused clearly", () => {
  assert.throws(() => loadOnnxLstm(smallCnn()), (e: Error) => e instanceof OnnxError && /exactly one LSTM node, found 0/.test(e.message));
  assert.throws(() => loadOnnxLstm(Uint8Array.from([1, 2, 3])), (e: Error) => e instanceof OnnxError);
});

test.run();
