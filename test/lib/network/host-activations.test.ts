// Activations the chip has no unit for between layers (lib/network/activation.ts,
// onnx-lower-activation.ts): refused naming the node by default; with hostActivations run on
// the host between layers as one INT8 table per channel. Each op is checked in a tiny ONNX
// model against onnxruntime in float and on a quiet chip, and the functions against values
// worked out by hand.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { activationTable, activationValue } from "../../../lib/network/activation.ts";
import type { ActivationNode } from "../../../lib/network/graph.ts";
import { OnnxError, readModel } from "../../../lib/network/onnx.ts";
import { shutdownPool } from "../../../lib/runtime/pool.ts";
import { WasmRuntime } from "../../../lib/runtime/wasm.ts";
import { runChunkPlan, type ExecBuffers } from "../../../lib/network/run-exec.ts";
import type { RunPlan } from "../../../lib/network/run-plan.ts";
import { checkOnnxModel } from "../../fixtures/onnx-check.ts";
import { f32, float, ints, node, onnxModel as model, rand, str } from "../../fixtures/onnx-models.ts";

const act = (fn: ActivationNode["fn"], p: Partial<ActivationNode> = {}): ActivationNode => ({ op: "activation", name: "a", input: "input", fn, ...p });

test("each function at points worked out by hand (ONNX defaults where the attribute is absent)", () => {
  const e1 = Math.exp(-1) - 1; // expm1(−1)
  const cases: [ActivationNode, number, number][] = [
    [act("leakyRelu"), -2, -0.02], [act("leakyRelu", { alpha: 0.1 }), -2, -0.2], [act("leakyRelu"), 3, 3],
    [act("prelu", { slope: Float32Array.of(0.5, 0.25) }), -2, -0.5], // channel 1's slope
    [act("hardSigmoid"), 1, 0.7], [act("hardSigmoid"), 5, 1], [act("hardSigmoid"), -5, 0],
    [act("hardSwish"), 1, 1 * (1 / 6 + 0.5)], [act("hardSwish"), 4, 4], [act("hardSwish"), -4, -0],
    [act("sigmoid"), 0, 0.5], [act("silu"), 1, 1 / (1 + Math.exp(-1))], [act("tanh"), 0.5, Math.tanh(0.5)],
    [act("elu"), -1, e1], [act("selu"), -1, 1.0507009873554805 * 1.6732632423543772 * e1], [act("selu"), 2, 2 * 1.0507009873554805],
    [act("celu", { alpha: 2 }), -1, 2 * (Math.exp(-0.5) - 1)], [act("gelu"), 1, 0.8413447460685429], [act("geluTanh"), 1, 0.8411919906082768],
    [act("softplus"), 0, Math.LN2], [act("softsign"), 1, 0.5], [act("mish"), 1, Math.tanh(Math.log(1 + Math.E))],
    [act("thresholdedRelu"), 0.5, 0], [act("thresholdedRelu"), 1.5, 1.5],
  ];
  for (const [n, x, want] of cases) {
    const got = activationValue(n, x, 1);
    assert.ok(Math.abs(got - want) < 2e-7, `${n.fn}(${x}) = ${got}, expected ${want}`);
  }
});

test("the host's INT8 table: entry q + 128 is round(sOut · f(q / sIn)) saturated; one table per PRelu channel", () => {
  // LeakyRelu 0.1, sIn 10 (x = q / 10), sOut 20: q = −128 → x −12.8 → y −1.28 → −25.6 → −26;
  // q = 100 → 10 → 200, saturated to 127; q = 3 → 0.3 → 6.
  const t = activationTable(act("leakyRelu", { alpha: 0.1 }), 10, 20);
  assert.is(t.length, 256);
  assert.equal([t[0], t[128 + 100], t[128 + 3], t[128]], [-26, 127, 6, 0]);
  const p = activationTable(act("prelu", { slope: Float32Array.of(0.5, 0.25) }), 1, 1);
  assert.is(p.length, 512);
  assert.equal([p[128 - 4], p[256 + 128 - 4], p[256 + 128 + 4]], [-2, -1, 4]);
});

test("the executor's host step maps each INT8 value through its channel's table", () => {
  const table = activationTable(act("prelu", { slope: Float32Array.of(0.5, 0.25) }), 1, 1);
  const plan: RunPlan = { input: "input", steps: [{ op: "lut", name: "a", input: "input", table, per: 2 }], last: "a", maxPositions: 1, maxPadded: 0 };
  const [y] = runChunkPlan(WasmRuntime.get(), plan, [Int8Array.of(-4, 4, -4, 4)], 0, {} as ExecBuffers);
  assert.equal(Array.from(y!), [-2, 4, -1, 4]); // channel 0 (slope 0.5): −2, 4; channel 1 (0.25): −1, 4
});

const k3 = [ints("kernel_shape", [3, 3]), ints("pads", [1, 1, 1, 1])];
/** conv → activation(s) → conv → flatten → gemm, 3 × 6 × 6 in, 5 classes. */
function actModel(acts: object[], out: string, extra: object[] = [], opset = 13): Uint8Array {
  return model([3, 6, 6], [
    node("Conv", ["x", "w1", "b1"], ["c1"], k3),
    ...acts,
    node("Conv", [out, "w2", "b2"], ["c2"], k3),
    node("Relu", ["c2"], ["r2"]),
    node("Flatten", ["r2"], ["f"]),
    node("Gemm", ["f", "wd", "bd"], ["y"], [{ name: "transB", type: 2, i: 1 }]),
  ], [
    f32("w1", [4, 3, 3, 3], rand(108, 0.5)), f32("b1", [4], rand(4, 0.2)), f32("w2", [4, 4, 3, 3], rand(144, 0.4)), f32("b2", [4], rand(4, 0.1)),
    f32("wd", [5, 144], rand(720, 0.15)), f32("bd", [5], rand(5, 0.1)), ...extra,
  ], "N", opset);
}

const CASES: [string, object[], string, object[], number?][] = [
  ["LeakyRelu", [node("LeakyRelu", ["c1"], ["a"], [float("alpha", 0.1)], "leaky")], "a", []],
  ["PRelu per channel", [node("PRelu", ["c1", "slope"], ["a"], [], "prelu")], "a", [f32("slope", [4, 1, 1], [0.1, 0.3, 0.05, 0.2])]],
  ["HardSwish (opset 14)", [node("HardSwish", ["c1"], ["a"], [], "hs")], "a", [], 14],
  ["x · HardSigmoid(x) (HardSwish below opset 14)", [node("HardSigmoid", ["c1"], ["h"], [float("alpha", 1 / 6)], "hsig"), node("Mul", ["c1", "h"], ["a"], [], "hmul")], "a", []],
  ["x · Sigmoid(x) (SiLU)", [node("Sigmoid", ["c1"], ["s"], [], "sig"), node("Mul", ["s", "c1"], ["a"], [], "smul")], "a", []],
  ["Sigmoid", [node("Sigmoid", ["c1"], ["a"], [], "sig")], "a", []],
  ["Tanh", [node("Tanh", ["c1"], ["a"], [], "tanh")], "a", []],
  ["Elu", [node("Elu", ["c1"], ["a"], [float("alpha", 0.5)], "elu")], "a", []],
  ["Selu", [node("Selu", ["c1"], ["a"], [], "selu")], "a", []],
  ["Celu", [node("Celu", ["c1"], ["a"], [float("alpha", 2)], "celu")], "a", []],
  ["Softplus", [node("Softplus", ["c1"], ["a"], [], "softplus")], "a", []],
  ["Softsign", [node("Softsign", ["c1"], ["a"], [], "softsign")], "a", []],
  ["Mish (opset 18)", [node("Mish", ["c1"], ["a"], [], "mish")], "a", [], 18],
  ["Gelu (opset 20)", [node("Gelu", ["c1"], ["a"], [], "gelu")], "a", [], 20],
  ["Gelu tanh (opset 20)", [node("Gelu", ["c1"], ["a"], [str("approximate", "tanh")], "gelut")], "a", [], 20],
  ["ThresholdedRelu", [node("ThresholdedRelu", ["c1"], ["a"], [float("alpha", 0.2)], "thr")], "a", []],
];

for (const [label, acts, out, extra, opset] of CASES) {
  test(`${label}: refused by default naming the node; with hostActivations one host node, float64 = onnxruntime, the quiet chip close`, async () => {
    const bytes = actModel(acts, out, extra, opset);
    const name = (acts[0] as { name: string }).name;
    const e = await readModel({ name: label, bytes }).then(() => undefined, (err: Error) => err);
    assert.ok(e instanceof OnnxError && e.message.includes(`"${name}"`) && e.message.includes("--host-activations"), e?.message);
    const r = await checkOnnxModel(bytes, label, { lower: { hostActivations: true }, maxChip: 0.08 });
    assert.equal(r.ops, ["conv2d", "activation", "conv2d", "relu", "flatten", "dense"]);
    assert.ok(r.host.includes(name), `host: ${r.host.join(", ")}`);
  });
}

test("a PRelu slope that is neither one value nor one per channel is refused naming the node", async () => {
  const bytes = actModel([node("PRelu", ["c1", "slope"], ["a"], [], "prelu")], "a", [f32("slope", [1, 6, 6], rand(36, 0.2))]);
  const e = await readModel({ name: "p", bytes }, undefined, { hostActivations: true }).then(() => undefined, (err: Error) => err);
  assert.ok(e instanceof OnnxError && /"prelu" \(PRelu\) has a slope of 36 values \[1, 6, 6\]; the host applies one value or one per channel \(4\)/.test(e.message), e?.message);
});

test.after(() => shutdownPool());
test.run();
