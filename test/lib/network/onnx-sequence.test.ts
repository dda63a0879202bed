// ONNX sequence models as PyTorch exports nn.LSTM (test/fixtures/sequence-models.ts): read
// through the front end (sequence axis traced, dims fixed, constants folded by onnxruntime),
// the float64 reference against onnxruntime on the original file; the variants the GDPU cannot
// run are one OnnxError naming the node.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadSequenceModel } from "../../../lib/network/onnx-sequence.ts";
import { OnnxError } from "../../../lib/network/onnx.ts";
import { applyHead } from "../../../lib/network/onnx.ts";
import { sequenceForward } from "../../../lib/network/sequence-model.ts";
import { sequenceFloatOutputs } from "../../../lib/network/sequence-data.ts";
import { f32, node, rnd, smallCnn, str } from "../../fixtures/onnx-models.ts";
import { seqModel, type SeqModelOptions } from "../../fixtures/sequence-models.ts";

const T = 7;
const sequences = (features: number, vocab?: number, n = 4) =>
  Array.from({ length: n }, () => Float32Array.from({ length: T * features }, () => (vocab ? Math.floor(rnd() * vocab) : rnd() * 2 - 1)));

const cases: [string, SeqModelOptions, { layers: number; outputs: "last" | "all"; seqAxis: number; head: string[] }][] = [
  ["seq-first, 1 layer, float input, last step (Gather −1), Gemm", {}, { layers: 1, outputs: "last", seqAxis: 0, head: [] }],
  ["batch_first (Transposes), 1 layer, last step", { batchFirst: true }, { layers: 1, outputs: "last", seqAxis: 1, head: [] }],
  ["batch_first, 2 layers (Squeeze between), last step, Softmax", { batchFirst: true, layers: 2, softmax: true }, { layers: 2, outputs: "last", seqAxis: 1, head: ["softmax"] }],
  ["seq-first, 2 layers, h_n[−1] (Concat of Y_h, Gather)", { layers: 2, outputs: "hn" }, { layers: 2, outputs: "last", seqAxis: 0, head: [] }],
  ["embedding (int64 ids), seq-first, all steps (MatMul + Add)", { vocab: 11, outputs: "all" }, { layers: 1, outputs: "all", seqAxis: 0, head: [] }],
  ["embedding, batch_first, 2 layers, all steps, no initial state", { vocab: 11, batchFirst: true, layers: 2, outputs: "all", shapeState: false }, { layers: 2, outputs: "all", seqAxis: 1, head: [] }],
  ["batch_first, last step by Slice + Squeeze, hidden dense layer with ReLU", { batchFirst: true, slice: true, mlp: 6 }, { layers: 1, outputs: "last", seqAxis: 1, head: [] }],
  ["static sequence length (no steps given)", { batchFirst: true, steps: T }, { layers: 1, outputs: "last", seqAxis: 1, head: [] }],
];

for (const [label, o, want] of cases) {
  test(`${label}: float64 = onnxruntime`, async () => {
    const bytes = seqModel(o);
    const m = await loadSequenceModel(bytes, o.steps ? {} : { steps: T });
    assert.is(m.layers.length, want.layers);
    assert.is(m.outputs, want.outputs);
    assert.is(m.input.seqAxis, want.seqAxis);
    assert.equal(m.head, want.head);
    assert.is(m.steps, T);
    assert.is(!!m.embedding, o.vocab !== undefined);
    const xs = sequences(m.features, o.vocab);
    const ours = xs.map((s) => sequenceForward(m, s).map((y) => applyHead(m.head, y)));
    const theirs = await sequenceFloatOutputs(m, xs);
    let worst = 0;
    ours.forEach((ys, i) => {
      assert.is(ys.length, want.outputs === "all" ? T : 1);
      ys.forEach((y, t) => y.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - theirs[i]![t]![j]!)))));
    });
    assert.ok(worst < 1e-4, `max |float64 − onnxruntime| ${worst}`);
  });
}

const refused = async (bytes: Uint8Array, re: RegExp, steps: number | null = T) => {
  try {
    await loadSequenceModel(bytes, steps === null ? {} : { steps });
  } catch (e) {
    assert.ok(e instanceof OnnxError || (e as Error).name === "ArgumentError", `${(e as Error).name}: ${(e as Error).message}`);
    assert.match((e as Error).message, re);
    return;
  }
  assert.unreachable(`no error for ${re}`);
};

test("bidirectional, peepholes, custom activations, clip: one error naming the LSTM node", async () => {
  await refused(seqModel({ lstmAttrs: [str("direction", "bidirectional")] }), /LSTM node "\/lstm\/LSTM_0" runs bidirectional: the GDPU slices run forward LSTMs only/);
  await refused(seqModel({ lstmAttrs: [str("direction", "reverse")] }), /"\/lstm\/LSTM_0" runs reverse/);
  await refused(seqModel({ peepholes: true }), /LSTM node "\/lstm\/LSTM_0" has peepholes/);
  const acts = { name: "activations", type: 8, strings: ["Relu", "Tanh", "Tanh"].map((s) => new TextEncoder().encode(s)) };
  await refused(seqModel({ layers: 2, lstmAttrs: [acts] }), /LSTM node "\/lstm\/LSTM_0" has activations relu, tanh, tanh: the GDPU computes sigmoid and tanh only/);
  await refused(seqModel({ lstmAttrs: [{ name: "clip", type: 1, f: 3 }] }), /"\/lstm\/LSTM_0" clips its cell input/);
});

test("other models and shapes are refused clearly", async () => {
  await refused(smallCnn(), /no LSTM node/);
  await refused(seqModel(), /steps must be the sequence length: input x's sequence axis 0 is free/, null);
  await refused(seqModel({ steps: 5 }), /input x takes sequences of 5 steps, not 7/);
  await refused(Uint8Array.from([1, 2, 3]), /not a valid ONNX model/);
});

test("an op between the LSTM and the head with no unit on the chip is named", async () => {
  // Tanh on the LSTM output before the Gemm: swap the Gather's input for a Tanh of it.
  const { onnx } = (await import("onnx-proto")).default;
  const m = onnx.ModelProto.decode(seqModel({ batchFirst: true }));
  const g = m.graph!;
  const gather = g.node!.find((n) => n.name === "/Gather_last")!;
  gather.input![0] = "th";
  g.node!.splice(g.node!.indexOf(gather), 0, onnx.NodeProto.create(node("Tanh", ["yt"], ["th"], [], "/act/Tanh") as never));
  await refused(onnx.ModelProto.encode(m).finish(), /Tanh node "\/act\/Tanh" is a final activation that does not follow the last dense layer/);
  // Mul of the features by a constant between the layers.
  const m2 = onnx.ModelProto.decode(seqModel({ layers: 2 }));
  const l1 = m2.graph!.node!.find((n) => n.name === "/lstm/LSTM_1")!;
  l1.input![0] = "scaled";
  m2.graph!.node!.splice(m2.graph!.node!.indexOf(l1), 0, onnx.NodeProto.create(node("Mul", ["Ys0", "k"], ["scaled"], [], "/scale/Mul") as never));
  m2.graph!.initializer!.push(onnx.TensorProto.create(f32("k", [1], [2]) as never));
  await refused(onnx.ModelProto.encode(m2).finish(), /Mul node "\/scale\/Mul" has no unit on the chip in a sequence model/);
});

test.run();
