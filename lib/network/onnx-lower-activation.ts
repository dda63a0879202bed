// Lowering the activations the chip has no unit for between layers (LeakyRelu, PRelu,
// HardSwish, Sigmoid, ...) to host-side activation nodes (lib/network/activation.ts), when
// the caller opts in with `hostActivations`. Without it, one OnnxError naming the node. Two
// two-node patterns become one node: Mul(x, Sigmoid(x)) is SiLU (PyTorch's nn.SiLU) and
// Mul(x, HardSigmoid(x)) is HardSwish (nn.Hardswish exported below opset 14).

import type { ActivationNode } from "./graph.ts";
import { ONNX_ACTIVATIONS } from "./activation.ts";
import { attr, type NodeProto } from "./onnx-decode.ts";
import type { LowerContext } from "./onnx-lower-context.ts";

/** Activations with no unit on the chip between layers (ONNX op types). */
export const NO_UNIT = new Set(Object.keys(ONNX_ACTIVATIONS));

/** Lower `n` (an op of NO_UNIT) to a host activation; returns the Mul folded into it (SiLU,
 * HardSwish), if any. Throws naming the node without `host` (the option's value). */
export function lowerActivation(cx: LowerContext, n: NodeProto, host: boolean, headNote: string): NodeProto | undefined {
  const op = n.opType ?? "";
  if (!host) {
    throw cx.error(n, `between layers has no unit on this chip: the LDPU applies only ReLU (and a clip through its INT8 saturation), and the GDPU's sigmoid / tanh serve LSTM gates${headNote}; --host-activations (hostActivations in the API) runs it on the host between layers, off-chip`);
  }
  const ins = n.input ?? [];
  const out = (n.output ?? [])[0] ?? "";
  const src = cx.get(ins[0]!, n);
  let fn = ONNX_ACTIVATIONS[op]!;
  if (op === "Gelu" && attr(n, "approximate")?.s === "tanh") fn = "geluTanh";
  const f = (k: string) => attr(n, k)?.f;
  const params: { -readonly [K in "alpha" | "beta" | "gamma" | "slope"]?: ActivationNode[K] } = {};
  for (const k of ["alpha", "beta", "gamma"] as const) if (f(k) !== undefined) params[k] = f(k)!;
  if (op === "PRelu") {
    const slope = cx.init(ins[1], n, "slope");
    const channels = cx.shape(src)[0]!;
    if (slope.data.length !== 1 && slope.data.length !== channels) {
      throw cx.error(n, `has a slope of ${slope.data.length} values [${slope.dims.join(", ")}]; the host applies one value or one per channel (${channels})`);
    }
    params.slope = Float32Array.from(slope.data);
  }
  // x · Sigmoid(x) and x · HardSigmoid(x): the only reader is a Mul of the activation's own input.
  const readers = cx.consumers.get(out) ?? [];
  const mul = readers.length === 1 && readers[0]!.opType === "Mul" ? readers[0]! : undefined;
  const fused = mul && (op === "Sigmoid" || op === "HardSigmoid") && [...(mul.input ?? [])].sort().join() === [ins[0]!, out].sort().join() ? mul : undefined;
  if (fused) fn = op === "Sigmoid" ? "silu" : "hardSwish";
  cx.push(n, { op: "activation", name: cx.fresh(n, "act"), input: src, fn, ...params }, fused ? ((fused.output ?? [])[0] ?? out) : out);
  return fused;
}
