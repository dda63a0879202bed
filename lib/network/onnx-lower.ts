// Lowering a canonical ONNX graph (lib/network/onnx-normalize.ts's output) to the network IR
// of lib/network/graph.ts. Where each op runs:
//   crossbars  Conv (any groups: grouped / depthwise convs as block-diagonal matrices; square
//              kernels; asymmetric pads become a host Pad), Gemm (transB, alpha, beta),
//              MatMul with a constant B (an Add of a constant after it is its bias);
//   LDPU       Relu, Clip(0, max) / ReLU6 (the INT8 scale saturates at max),
//              BatchNormalization, Add / Sub / Mul / Div by a constant after a weight layer
//              (all folded into the receiver's affine), a residual Add of two tensors;
//   host       MaxPool / AveragePool (asymmetric pads, ceil_mode, count_include_pad),
//              GlobalMax/AveragePool and ReduceMean / ReduceMax over axes [2, 3] (global
//              pools), Pad (constant 0), Concat on channels, Flatten and any
//              Reshape / Squeeze / Unsqueeze that only flattens or keeps the shape, a
//              Transpose that moves only size-1 dimensions, constant arithmetic elsewhere
//              (an input normalisation runs on the float input), and final Sigmoid / Tanh /
//              Softmax / LogSoftmax (monotonic: dropped from the chip graph, `head`).
// A channels-last input (N × H × W × C read by a Transpose perm [0, 3, 1, 2]) is read as
// C × H × W. GRU / RNN nodes and 1-D convs are refused naming the node.
// LeakyRelu, PRelu, HardSwish, HardSigmoid, Elu, Selu, Celu, Gelu, Softplus, Softsign, Mish,
// ThresholdedRelu and Sigmoid / Tanh between layers have no unit on this chip (the LDPU has
// ReLU only; the GDPU's sigmoid / tanh serve LSTM gates): one OnnxError naming the node, or
// with `hostActivations` a host-side activation between layers (onnx-lower-activation.ts).

import { INPUT, type Network } from "./graph.ts";
import { inferShapes } from "./graph-shapes.ts";
import { attr, channelsLastInput, OnnxError, tensorOf, type HeadOp, type ModelProto, type NodeProto, type Tensor, type TensorProto } from "./onnx-decode.ts";
import { LowerContext, windowPads } from "./onnx-lower-context.ts";
import { lowerOtherOp, OTHER_OPS } from "./onnx-lower-ops.ts";
import { lowerActivation, NO_UNIT } from "./onnx-lower-activation.ts";

/** Host-side final activations and what may follow them. */
const HEAD_OPS: Record<string, HeadOp> = { Sigmoid: "sigmoid", Tanh: "tanh", Softmax: "softmax", LogSoftmax: "logSoftmax" };
const TAIL_OPS = new Set([...Object.keys(HEAD_OPS), "Identity", "Dropout", "Flatten", "Reshape", "Squeeze", "Constant"]);
/** How a model is lowered. */
export interface LowerOptions {
  /** Run the activations the chip has no unit for between layers (LeakyRelu, PRelu,
   * HardSwish, Sigmoid, ...) on the host, off-chip, on the INT8 values (lib/network/activation.ts),
   * instead of refusing the model (default false). */
  hostActivations?: boolean;
}

/** Lower a decoded, canonical ONNX model; `what` names it in errors. */
export function lowerOnnx(m: ModelProto, what: string, name?: string, options: LowerOptions = {}): { net: Network; head: HeadOp[] } {
  const g = m.graph!;
  const inits = new Map<string, Tensor>();
  for (const t of g.initializer ?? []) inits.set(t.name ?? "", tensorOf(t as TensorProto, `${what}: initializer ${t.name}`));
  const input = (g.input ?? []).find((i) => !inits.has(i.name ?? ""));
  if (!input) throw new OnnxError(`${what}: every graph input is an initializer; no data input`);
  const dims0 = (input.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimValue !== undefined && d.dimValue !== null ? Number(d.dimValue) : -1));
  const all = (g.node ?? []) as NodeProto[];
  // Recurrent layers other than LSTM, and 1-D convs: name the node, not only the input's rank.
  const rnn = all.find((n) => n.opType === "GRU" || n.opType === "RNN");
  if (rnn) throw new OnnxError(`${what}: node "${rnn.name ?? ""}" (${rnn.opType}) is a recurrent layer the chip does not run: the GDPU runs LSTM cells only (nn.LSTM exported as the ONNX LSTM op: run --model with a sequence test set)`);
  const conv1d = all.find((n) => (n.opType === "Conv" || n.opType === "ConvTranspose") && (n.input ?? [])[1] && (g.initializer ?? []).some((t) => t.name === n.input![1] && (t.dims ?? []).length === 3));
  if (conv1d) throw new OnnxError(`${what}: node "${conv1d.name ?? ""}" (${conv1d.opType}) is a 1-D convolution; only 2-D convs over an [N, C, H, W] input map onto the crossbars`);
  if (dims0.length !== 4 && dims0.length !== 2) {
    throw new OnnxError(`${what}: input ${input.name} is [${dims0.map((d) => (d < 0 ? "?" : d)).join(", ")}]; a CNN's input must be [N, C, H, W] or [N, F] (sequence models: see loadOnnxLstm)`);
  }
  if (dims0.slice(1).some((d) => !(d > 0))) throw new OnnxError(`${what}: input ${input.name} needs fixed sizes except the batch, got [${dims0.join(", ")}]`);
  // A channels-last input (N × H × W × C, then Transpose to NCHW): the IR's input is the
  // Transpose's output, C × H × W (the float reference transposes back: onnx-float.ts).
  const nhwc = channelsLastInput(m);
  const inputShape = nhwc ? [dims0[3]!, dims0[1]!, dims0[2]!] : dims0.slice(1);
  const list = (g.node ?? []) as NodeProto[];
  const consumers = new Map<string, NodeProto[]>();
  for (const n of list) for (const t of n.input ?? []) if (t) consumers.set(t, [...(consumers.get(t) ?? []), n]);
  const cx = new LowerContext(what, inits, inputShape, consumers);
  cx.alias.set(input.name ?? "", INPUT);
  const head: HeadOp[] = [];
  const skip = new Set<NodeProto>();
  if (nhwc) {
    cx.alias.set((nhwc.output ?? [])[0] ?? "", INPUT);
    skip.add(nhwc);
  }

  for (let idx = 0; idx < list.length; idx++) {
    const n = list[idx]!;
    if (skip.has(n)) continue;
    const op = n.opType ?? "";
    const ins = n.input ?? [];
    const out = (n.output ?? [])[0] ?? "";
    if (op === "Constant") {
      const t = attr(n, "value")?.t;
      if (!t) throw cx.error(n, "has no tensor value");
      inits.set(out, tensorOf(t, `${what}: Constant ${n.name}`));
    } else if (op === "Identity" || op === "Dropout") {
      cx.alias.set(out, cx.get(ins[0]!, n, true));
      if (cx.relaid.has(ins[0]!)) cx.relaid.set(out, cx.relaid.get(ins[0]!)!);
    } else if (op === "Conv") {
      lowerConv(cx, n);
    } else if (op === "Gemm" || op === "MatMul") {
      const bias = lowerDense(cx, n);
      if (bias) skip.add(bias);
    } else if (HEAD_OPS[op] && !list.slice(idx + 1).some((x) => !TAIL_OPS.has(x.opType ?? ""))) {
      head.push(HEAD_OPS[op]!);
      cx.alias.set(out, cx.get(ins[0]!, n, true));
      if (cx.relaid.has(ins[0]!)) cx.relaid.set(out, cx.relaid.get(ins[0]!)!);
    } else if (NO_UNIT.has(op)) {
      const mul = lowerActivation(cx, n, options.hostActivations ?? false, HEAD_OPS[op] ? " (as the final op of the graph it would run on the host)" : "");
      if (mul) skip.add(mul);
    } else if (OTHER_OPS.has(op)) {
      lowerOtherOp(cx, n);
    } else {
      throw cx.error(n, `is not supported (see lib/network/onnx-lower.ts for the ops that map onto the chip)`);
    }
  }
  const net: Network = { name: name ?? (g.name || "onnx"), inputShape, nodes: cx.nodes };
  try {
    inferShapes(net);
  } catch (e) {
    throw new OnnxError(`${what}: inconsistent shapes: ${(e as Error).message}`);
  }
  const lastOut = (g.output ?? [])[0]?.name;
  const last = lastOut ? cx.alias.get(lastOut) : undefined;
  if (last === undefined || last !== cx.nodes[cx.nodes.length - 1]?.name) throw new OnnxError(`${what}: the graph output ${lastOut} is not the last supported node`);
  return { net, head };
}

function lowerConv(cx: LowerContext, n: NodeProto): void {
  const ins = n.input ?? [];
  const w = cx.init(ins[1], n, "weights");
  const [co, cig, kh, kw] = w.dims as [number, number, number, number];
  const groups = attr(n, "group")?.i ?? 1;
  if ((attr(n, "dilations")?.ints ?? []).some((d) => d !== 1)) throw cx.error(n, "has dilations, which the tiling does not map");
  if (kh !== kw) throw cx.error(n, `has a ${kh}×${kw} kernel; only square kernels map to the IR`);
  const strides = attr(n, "strides")?.ints ?? [1, 1];
  if (strides[0] !== strides[1]) throw cx.error(n, `has unequal strides [${strides.join(", ")}]`);
  let src = cx.get(ins[0]!, n);
  const pads = windowPads(cx, n, kh, strides[0] ?? 1, () => cx.shape(src).slice(1));
  let padding = pads[0];
  if (!pads.every((p) => p === padding)) {
    // Asymmetric: a host zero pad, then the conv without padding.
    const pname = cx.fresh({ name: `${n.name ?? "conv"}.pad` } as NodeProto, "pad");
    cx.nodes.push({ op: "pad", name: pname, input: src, pads });
    src = pname;
    padding = 0;
  }
  const name = cx.fresh(n, "conv");
  cx.push(n, {
    op: "conv2d", name, input: src, inChannels: cig * groups, outChannels: co, kernel: kh, stride: strides[0] ?? 1, padding,
    ...(groups !== 1 ? { groups } : {}), weights: w.data, ...(ins[2] ? { bias: cx.init(ins[2], n, "bias").data } : {}),
  });
}

/** Gemm / MatMul as a dense layer; returns the Add node folded in as its bias, if any. */
function lowerDense(cx: LowerContext, n: NodeProto): NodeProto | undefined {
  const ins = n.input ?? [];
  const op = n.opType;
  const out = (n.output ?? [])[0] ?? "";
  if (!cx.isConst(ins[1])) throw cx.error(n, `multiplies two tensors (${ins.join(", ")}); only a constant matrix B maps onto the crossbars`);
  const w = cx.init(ins[1], n, "weights (B)");
  if (w.dims.length !== 2) throw cx.error(n, `has a ${w.dims.length}-D B [${w.dims.join(", ")}]; a dense layer needs a 2-D matrix`);
  if (op === "Gemm" && (attr(n, "transA")?.i ?? 0) !== 0) throw cx.error(n, "has transA, which is not supported");
  const transB = op === "Gemm" && (attr(n, "transB")?.i ?? 0) === 1;
  const [a, b] = w.dims as [number, number];
  const inF = transB ? b : a;
  const outF = transB ? a : b;
  const alpha = op === "Gemm" ? (attr(n, "alpha")?.f ?? 1) : 1;
  const beta = op === "Gemm" ? (attr(n, "beta")?.f ?? 1) : 1;
  const weights = new Float32Array(outF * inF);
  for (let o = 0; o < outF; o++) for (let i = 0; i < inF; i++) weights[o * inF + i] = alpha * (transB ? w.data[o * inF + i]! : w.data[i * outF + o]!);
  const c = op === "Gemm" && ins[2] ? cx.init(ins[2], n, "bias (C)").data : undefined;
  let bias = c ? Float32Array.from({ length: c.length === 1 ? outF : c.length }, (_, o) => beta * c[c.length === 1 ? 0 : o]!) : undefined; // a scalar C broadcasts
  // MatMul (or a Gemm without C) whose only reader adds a constant of outF values: its bias.
  let output = out;
  let folded: NodeProto | undefined;
  const readers = cx.consumers.get(out) ?? [];
  const r = readers[0];
  if (!bias && readers.length === 1 && r?.opType === "Add") {
    const other = (r.input ?? []).find((t) => t !== out);
    const k = other ? cx.inits.get(other) : undefined;
    if (k && (k.data.length === outF || k.data.length === 1)) {
      bias = Float32Array.from({ length: outF }, (_, o) => k.data[k.data.length === 1 ? 0 : o]!);
      output = (r.output ?? [])[0] ?? output;
      folded = r;
    }
  }
  const src = cx.get(ins[0]!, n);
  const sh = cx.shape(src);
  if (sh.length !== 1) throw cx.error(n, `reads a [${sh.join(", ")}] tensor; a dense layer needs a flat one (flatten first)`);
  const name = cx.fresh(n, "dense");
  cx.push(n, { op: "dense", name, input: src, inFeatures: inF, outFeatures: outF, weights, ...(bias ? { bias } : {}) }, output);
  return folded;
}
