// ONNX models in (opset 7 and later), decoded with onnx-proto (protobufjs), converted to the
// network IR of lib/network/graph.ts. Supported: Conv (pads, strides, auto_pad NOTSET / SAME_UPPER /
// SAME_LOWER / VALID when the padding comes out symmetric, group 1, square kernels), Gemm
// (transB 0/1, alpha, beta), MatMul with a constant [K, N] B (+ Add of a bias constant), Add
// (bias or residual), Relu, BatchNormalization (folded into the LDPU affine), MaxPool and
// GlobalMaxPool, AveragePool (symmetric pads, count_include_pad 0/1) and GlobalAveragePool
// (host side, on INT8 between layers: the mean rounded to nearest, ties to even), Flatten,
// Reshape to [N, −1], [1, −1] or [−1, K] (a flatten), Transpose as a layout no-op (identity
// perm, or one that moves only size-1 dimensions, e.g. [N, C, 1, 1] → [N, 1, 1, C]; only a
// Flatten / Reshape may read the latter), Identity/Dropout, Constant and initializers, and
// final Sigmoid / Tanh / Softmax: after the last weight layer, followed by nothing but these,
// Identity, Flatten or Reshape. They are monotonic, so they run on the host and are dropped
// from the chip graph (argmax is unchanged; `importOnnx` returns them as `head` and
// `applyHead` reproduces the ONNX output). Elsewhere they are an error: the chip's only
// activation between layers is the LDPU ReLU (the GDPU's sigmoid / tanh serve LSTMs).
// Pools need ceil_mode 0. Anything else is one clear error naming the op and the node; a
// corrupt or truncated file is one clear error too.

import { readFileSync } from "node:fs";
import onnxProto from "onnx-proto";
import { INPUT, inferShapes, type Network, type Node } from "./graph.ts";
import { ArgumentError } from "../runtime/validate.ts";

const { onnx } = onnxProto;
type NodeProto = InstanceType<typeof onnx.NodeProto>;
type TensorProto = InstanceType<typeof onnx.TensorProto>;

export class OnnxError extends Error {
  override name = "OnnxError";
}

const SUPPORTED = [
  "Conv", "Gemm", "MatMul", "Add", "Relu", "MaxPool", "GlobalMaxPool", "AveragePool", "GlobalAveragePool", "BatchNormalization",
  "Flatten", "Reshape", "Transpose", "Identity", "Dropout", "Constant", "Sigmoid", "Tanh", "Softmax",
];
/** Host-side final activations: dropped from the chip graph (monotonic: argmax unchanged). */
export type HeadOp = "sigmoid" | "tanh" | "softmax";
const HEAD_OPS: Record<string, HeadOp> = { Sigmoid: "sigmoid", Tanh: "tanh", Softmax: "softmax" };
/** What may follow a final activation. */
const TAIL_OPS = new Set(["Sigmoid", "Tanh", "Softmax", "Identity", "Dropout", "Flatten", "Reshape", "Constant"]);
/** What may read a tensor whose ONNX layout differs from the IR's (a no-op Transpose's output). */
const RELAID_READERS = new Set(["Flatten", "Reshape", "Transpose", "Identity", "Dropout", "Sigmoid", "Tanh", "Softmax"]);

interface Tensor {
  dims: number[];
  data: Float32Array;
}

export function tensorOf(t: TensorProto, where: string): Tensor {
  const dims = (t.dims ?? []).map((d) => Number(d));
  const n = dims.reduce((a, b) => a * b, 1);
  let data: Float32Array;
  if (t.rawData && t.rawData.length) {
    const raw = t.rawData;
    if (t.dataType === 1) {
      if (raw.length !== 4 * n) throw new OnnxError(`${where}: raw data of ${raw.length} bytes for ${n} floats`);
      data = new Float32Array(n);
      new Uint8Array(data.buffer).set(raw);
    } else if (t.dataType === 7) {
      const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      data = Float32Array.from({ length: n }, (_, i) => Number(v.getBigInt64(8 * i, true)));
    } else throw new OnnxError(`${where}: tensor data type ${t.dataType} is not supported (float32 or int64)`);
  } else if (t.floatData && t.floatData.length) data = Float32Array.from(t.floatData);
  else if (t.int64Data && t.int64Data.length) data = Float32Array.from(t.int64Data, (v) => Number(v));
  else data = new Float32Array(n);
  if (data.length !== n) throw new OnnxError(`${where}: ${data.length} values for dims [${dims.join(", ")}]`);
  return { dims, data };
}

export function attr(n: NodeProto, name: string): { i?: number; f?: number; ints?: number[]; s?: string; t?: TensorProto } | undefined {
  const a = (n.attribute ?? []).find((x) => x.name === name);
  if (!a) return undefined;
  return {
    i: a.i === undefined || a.i === null ? undefined : Number(a.i),
    f: a.f ?? undefined,
    ints: (a.ints ?? []).map(Number),
    s: a.s && a.s.length ? new TextDecoder().decode(a.s) : undefined,
    t: (a.t as TensorProto | null) ?? undefined,
  } as never;
}

/** Decode an ONNX file's bytes. */
export function decodeOnnx(bytes: Uint8Array, what = "model"): InstanceType<typeof onnx.ModelProto> {
  let m: InstanceType<typeof onnx.ModelProto>;
  try {
    m = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new OnnxError(`${what} is not a valid ONNX model (corrupt or truncated protobuf: ${(e as Error).message})`);
  }
  if (!m.graph || !m.graph.node || m.graph.node.length === 0 || !m.graph.input || m.graph.input.length === 0) {
    throw new OnnxError(`${what} is not a valid ONNX model (no graph, nodes or inputs)`);
  }
  return m;
}

/** An ONNX model given as a path or as bytes, decoded; `what` names it in errors. */
export function readOnnx(source: string | Uint8Array): { model: InstanceType<typeof onnx.ModelProto>; what: string } {
  let bytes: Uint8Array;
  if (typeof source === "string") {
    try {
      bytes = readFileSync(source);
    } catch (e) {
      throw new ArgumentError("model", `a readable ONNX file (${(e as Error).message})`, source);
    }
  } else bytes = source;
  const what = typeof source === "string" ? source : "model";
  return { model: decodeOnnx(bytes, what), what };
}

/** Load an ONNX model (path or bytes) as a network of lib/network/graph.ts (final activations dropped). */
export function loadOnnx(source: string | Uint8Array, name?: string): Network {
  return importOnnx(source, name).net;
}

/** The final activations `head` (of importOnnx) applied to one output vector: the ONNX model's
 * output (softmax over the whole vector, i.e. over K of an [N, K] output). */
export function applyHead(head: readonly HeadOp[], y: ArrayLike<number>): Float64Array {
  let v = Float64Array.from(y);
  for (const h of head) {
    if (h === "sigmoid") v = v.map((x) => 1 / (1 + Math.exp(-x)));
    else if (h === "tanh") v = v.map(Math.tanh);
    else {
      const m = Math.max(...v);
      const e = v.map((x) => Math.exp(x - m));
      const sum = e.reduce((a, b) => a + b, 0);
      v = e.map((x) => x / sum);
    }
  }
  return v;
}

/** Symmetric padding of a window op (Conv, pools) from its pads or auto_pad over an [H, W]
 * input (`hw`, asked only for SAME_*); one OnnxError for anything asymmetric. */
function windowPadding(n: NodeProto, where: string, k: number, s: number, hw: () => number[]): number {
  const auto = attr(n, "auto_pad")?.s ?? "NOTSET";
  let pads: number[];
  if (auto === "NOTSET") pads = attr(n, "pads")?.ints ?? [];
  else if (auto === "VALID") pads = [];
  else if (auto === "SAME_UPPER" || auto === "SAME_LOWER") {
    // Output ceil(in / s); total padding (out − 1)·s + k − in, the odd one at the end (UPPER) or the start (LOWER).
    const total = hw().map((d) => Math.max((Math.ceil(d / s) - 1) * s + k - d, 0));
    const begin = total.map((t) => (auto === "SAME_UPPER" ? Math.floor(t / 2) : Math.ceil(t / 2)));
    pads = [...begin, ...total.map((t, i) => t - begin[i]!)];
  } else throw new OnnxError(`${where} has an unknown auto_pad "${auto}"`);
  if (pads.length === 0) pads = [0, 0, 0, 0];
  if (pads.length !== 4 || new Set(pads).size !== 1) throw new OnnxError(`${where} has asymmetric pads [${pads.join(", ")}]${auto === "NOTSET" ? "" : ` (auto_pad ${auto})`}`);
  return pads[0]!;
}

/** Load an ONNX model (path or bytes) as a network of lib/network/graph.ts plus the dropped final activations. */
export function importOnnx(source: string | Uint8Array, name?: string): { net: Network; head: HeadOp[] } {
  const { model: m, what } = readOnnx(source);
  const g = m.graph!;
  const inits = new Map<string, Tensor>();
  for (const t of g.initializer ?? []) inits.set(t.name ?? "", tensorOf(t as TensorProto, `initializer ${t.name}`));
  const input = (g.input ?? []).find((i) => !inits.has(i.name ?? ""));
  if (!input) throw new OnnxError(`${what}: every graph input is an initializer; no data input`);
  const dims0 = (input.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimValue !== undefined && d.dimValue !== null ? Number(d.dimValue) : -1));
  if (dims0.length !== 4 && dims0.length !== 2) throw new OnnxError(`${what}: input ${input.name} must be [N, C, H, W] or [N, F], got [${dims0.join(", ")}]`);
  const inputShape = dims0.slice(1);
  if (inputShape.some((d) => !(d > 0))) throw new OnnxError(`${what}: input ${input.name} needs fixed sizes except the batch, got [${dims0.join(", ")}]`);

  const nodes: Node[] = [];
  const alias = new Map<string, string>([[input.name ?? "", INPUT]]); // ONNX tensor → IR node
  const relaid = new Map<string, number[]>(); // ONNX tensor → its ONNX dims (batch first, −1 if not fixed), where they differ from the IR's
  const dimsText = (d: readonly number[]) => `[${d.map((v) => (v < 0 ? "N" : v)).join(", ")}]`;
  const head: HeadOp[] = [];
  const get = (t: string, n: NodeProto) => {
    const v = alias.get(t);
    if (v === undefined) throw new OnnxError(`${what}: node "${n.name}" (${n.opType}) reads ${t}, which no supported node produced`);
    if (relaid.has(t) && !RELAID_READERS.has(n.opType ?? "")) {
      throw new OnnxError(`${what}: node "${n.name}" (${n.opType}) reads ${t}, a Transpose's ${dimsText(relaid.get(t)!)} layout; only Flatten or Reshape may read it`);
    }
    return v;
  };
  const pass = (n: NodeProto, out: string) => {
    const src = (n.input ?? [])[0]!;
    alias.set(out, get(src, n));
    if (relaid.has(src)) relaid.set(out, relaid.get(src)!);
  };
  const init = (t: string | undefined, n: NodeProto, role: string): Tensor => {
    const v = t === undefined ? undefined : inits.get(t);
    if (!v) throw new OnnxError(`${what}: node "${n.name}" (${n.opType}) needs its ${role} as an initializer or Constant`);
    return v;
  };
  let k = 0;
  const fresh = (n: NodeProto, op: string) => (n.name && !nodes.some((x) => x.name === n.name) ? n.name : `${op}${k++}`);
  const list = g.node ?? [];
  for (let idx = 0; idx < list.length; idx++) {
    const n = list[idx] as NodeProto;
    const op = n.opType ?? "";
    const ins = n.input ?? [];
    const out = (n.output ?? [])[0] ?? "";
    const shapes = () => inferShapes({ name: "partial", inputShape, nodes });
    switch (op) {
      case "Constant": {
        const t = attr(n, "value")?.t;
        if (!t) throw new OnnxError(`${what}: Constant node "${n.name}" without a tensor value`);
        inits.set(out, tensorOf(t, `Constant ${n.name}`));
        break;
      }
      case "Identity":
      case "Dropout":
        pass(n, out);
        break;
      case "Relu": {
        const name = fresh(n, "relu");
        nodes.push({ op: "relu", name, input: get(ins[0]!, n) });
        alias.set(out, name);
        break;
      }
      case "Conv": {
        const w = init(ins[1], n, "weights");
        const [co, ci, kh, kw] = w.dims as [number, number, number, number];
        if ((attr(n, "group")?.i ?? 1) !== 1) throw new OnnxError(`${what}: Conv "${n.name}" with group ≠ 1 is not supported`);
        if ((attr(n, "dilations")?.ints ?? []).some((d) => d !== 1)) throw new OnnxError(`${what}: Conv "${n.name}" with dilations is not supported`);
        if (kh !== kw) throw new OnnxError(`${what}: Conv "${n.name}" has a ${kh}×${kw} kernel; only square kernels map to the IR`);
        const strides = attr(n, "strides")?.ints ?? [1, 1];
        if (strides[0] !== strides[1]) throw new OnnxError(`${what}: Conv "${n.name}" has unequal strides`);
        const src = get(ins[0]!, n);
        const padding = windowPadding(n, `${what}: Conv "${n.name}"`, kh, strides[0] ?? 1, () => shapes().get(src)!.slice(1));
        const name = fresh(n, "conv");
        nodes.push({
          op: "conv2d", name, input: src, inChannels: ci, outChannels: co, kernel: kh, stride: strides[0] ?? 1, padding,
          weights: w.data, ...(ins[2] ? { bias: init(ins[2], n, "bias").data } : {}),
        });
        alias.set(out, name);
        break;
      }
      case "Gemm":
      case "MatMul": {
        const w = init(ins[1], n, "weights (B)");
        if (op === "Gemm" && (attr(n, "transA")?.i ?? 0) !== 0) throw new OnnxError(`${what}: Gemm "${n.name}" with transA is not supported`);
        const transB = op === "Gemm" && (attr(n, "transB")?.i ?? 0) === 1;
        const [a, b] = w.dims as [number, number];
        const inF = transB ? b : a;
        const outF = transB ? a : b;
        const alpha = op === "Gemm" ? (attr(n, "alpha")?.f ?? 1) : 1;
        const beta = op === "Gemm" ? (attr(n, "beta")?.f ?? 1) : 1;
        const weights = new Float32Array(outF * inF);
        for (let o = 0; o < outF; o++) for (let i = 0; i < inF; i++) weights[o * inF + i] = alpha * (transB ? w.data[o * inF + i]! : w.data[i * outF + o]!);
        const c = op === "Gemm" && ins[2] ? init(ins[2], n, "bias (C)").data : undefined;
        let bias = c ? Float32Array.from({ length: c.length === 1 ? outF : c.length }, (_, o) => beta * c[c.length === 1 ? 0 : o]!) : undefined; // a scalar C broadcasts
        // MatMul followed by Add of an initializer: a bias.
        const next = list[idx + 1] as NodeProto | undefined;
        let output = out;
        if (!bias && next?.opType === "Add" && next.input?.includes(out)) {
          const other = next.input.find((t) => t !== out);
          if (other && inits.has(other)) {
            bias = Float32Array.from(inits.get(other)!.data);
            output = next.output?.[0] ?? output;
            idx++;
          }
        }
        const name = fresh(n, "dense");
        nodes.push({ op: "dense", name, input: get(ins[0]!, n), inFeatures: inF, outFeatures: outF, weights, ...(bias ? { bias: Float32Array.from(bias) } : {}) });
        alias.set(output, name);
        break;
      }
      case "Add": {
        const [x, y] = [ins[0]!, ins[1]!];
        const name = fresh(n, "add");
        if (inits.has(x) || inits.has(y)) throw new OnnxError(`${what}: Add "${n.name}" of a constant that does not follow a MatMul (as its bias) is not supported`);
        nodes.push({ op: "add", name, inputs: [get(x, n), get(y, n)] });
        alias.set(out, name);
        break;
      }
      case "BatchNormalization": {
        const s = init(ins[1], n, "scale").data;
        const b = init(ins[2], n, "B").data;
        const mean = init(ins[3], n, "mean").data;
        const v = init(ins[4], n, "var").data;
        const eps = attr(n, "epsilon")?.f ?? 1e-5;
        const scale = s.map((si, c) => si / Math.sqrt(v[c]! + eps));
        const name = fresh(n, "bn");
        nodes.push({ op: "batchNorm", name, input: get(ins[0]!, n), scale, shift: b.map((bi, c) => bi - mean[c]! * scale[c]!) });
        alias.set(out, name);
        break;
      }
      case "MaxPool":
      case "AveragePool": {
        const ks = attr(n, "kernel_shape")?.ints ?? [];
        const st = attr(n, "strides")?.ints ?? [];
        const stride = st.length ? st[0]! : 1; // ONNX's default stride is 1
        const where = `${what}: ${op} "${n.name}"`;
        if (ks.length !== 2 || ks[0] !== ks[1] || (st.length && (st.length !== 2 || st[0] !== st[1]))) throw new OnnxError(`${where} must have a square 2-D kernel and equal strides`);
        if ((attr(n, "ceil_mode")?.i ?? 0) !== 0) throw new OnnxError(`${where} has ceil_mode 1; only ceil_mode 0 (floor) is supported`);
        if ((attr(n, "dilations")?.ints ?? []).some((d) => d !== 1)) throw new OnnxError(`${where} with dilations is not supported`);
        const src = get(ins[0]!, n);
        const padding = windowPadding(n, where, ks[0]!, stride, () => shapes().get(src)!.slice(1));
        const name = fresh(n, "pool");
        if (op === "MaxPool") {
          if (padding !== 0) throw new OnnxError(`${where} must have no padding`);
          nodes.push({ op: "maxPool", name, input: src, kernel: ks[0]!, stride });
        } else {
          if (padding >= ks[0]!) throw new OnnxError(`${where} has pads ${padding}, not less than the kernel ${ks[0]}`);
          const countIncludePad = (attr(n, "count_include_pad")?.i ?? 0) === 1;
          nodes.push({ op: "avgPool", name, input: src, kernel: ks[0]!, stride, padding, ...(countIncludePad ? { countIncludePad } : {}) });
        }
        alias.set(out, name);
        break;
      }
      case "GlobalMaxPool":
      case "GlobalAveragePool": {
        const src = get(ins[0]!, n);
        const sh = shapes().get(src)!;
        if (sh.length !== 3 || sh[1] !== sh[2]) throw new OnnxError(`${what}: ${op} "${n.name}" needs a square [C, H, W] input, got [${sh.join(", ")}]`);
        const name = fresh(n, "pool");
        const k = sh[1]!;
        nodes.push(op === "GlobalMaxPool" ? { op: "maxPool", name, input: src, kernel: k, stride: k } : { op: "avgPool", name, input: src, kernel: k, stride: k, padding: 0 });
        alias.set(out, name);
        break;
      }
      case "Transpose": {
        // A layout no-op only: the dimensions other than 1 keep their order (a batch not fixed at 1 counts as one).
        const src = get(ins[0]!, n);
        const dims = relaid.get(ins[0]!) ?? [dims0[0]!, ...shapes().get(src)!];
        const perm = attr(n, "perm")?.ints ?? dims.map((_, i) => dims.length - 1 - i);
        const big = (p: readonly number[]) => p.filter((i) => dims[i] !== 1).join(",");
        if (perm.length !== dims.length || !dims.every((_, i) => perm.includes(i)) || big(perm) !== big(dims.map((_, i) => i))) {
          throw new OnnxError(`${what}: Transpose "${n.name}" with perm [${perm.join(", ")}] of a ${dimsText(dims)} tensor changes the layout, which is not supported (only an identity perm or one that moves size-1 dimensions is)`);
        }
        alias.set(out, src);
        const after = perm.map((i) => dims[i]!);
        if (perm.some((p, i) => p !== i)) relaid.set(out, after);
        else if (relaid.has(ins[0]!)) relaid.set(out, relaid.get(ins[0]!)!);
        break;
      }
      case "Flatten":
      case "Reshape": {
        const src = get(ins[0]!, n);
        const sh = shapes().get(src)!;
        if (op === "Reshape") {
          const target = init(ins[1], n, "shape").data;
          const flat = target.length === 2 && (target[1] === -1 || target[1] === sh.reduce((a, b) => a * b, 1));
          if (!flat) throw new OnnxError(`${what}: Reshape "${n.name}" to [${Array.from(target).join(", ")}] is not a flatten to [N, ${sh.reduce((a, b) => a * b, 1)}]`);
        } else if ((attr(n, "axis")?.i ?? 1) !== 1) throw new OnnxError(`${what}: Flatten "${n.name}" with axis ≠ 1 is not supported`);
        if (sh.length === 1) {
          alias.set(out, src);
          break;
        }
        const name = fresh(n, "flatten");
        nodes.push({ op: "flatten", name, input: src });
        alias.set(out, name);
        break;
      }
      case "Sigmoid":
      case "Tanh":
      case "Softmax": {
        const after = list.slice(idx + 1).find((x) => !TAIL_OPS.has(x.opType ?? ""));
        if (after) {
          throw new OnnxError(
            `${what}: ${op} "${n.name}" is followed by ${after.opType} "${after.name}": activations other than Relu run only as the final op of the graph ` +
              `(on the host, dropped from the chip graph; the chip's GDPU sigmoid / tanh serve LSTMs only)`,
          );
        }
        head.push(HEAD_OPS[op]!);
        pass(n, out);
        break;
      }
      default:
        throw new OnnxError(`${what}: node "${n.name}" (op ${op}) is not supported; supported ops: ${SUPPORTED.join(", ")}`);
    }
  }
  const net: Network = { name: name ?? (g.name || "onnx"), inputShape, nodes };
  try {
    inferShapes(net);
  } catch (e) {
    throw new OnnxError(`${what}: inconsistent shapes: ${(e as Error).message}`);
  }
  const lastOut = (g.output ?? [])[0]?.name;
  const last = lastOut ? alias.get(lastOut) : undefined;
  if (last !== nodes[nodes.length - 1]?.name) throw new OnnxError(`${what}: the graph output ${lastOut} is not the last supported node`);
  return { net, head };
}
