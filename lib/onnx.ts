// ONNX models in (opset 7 and later), decoded with onnx-proto (protobufjs), converted to the
// network IR of lib/graph.ts. Supported: Conv (pads, strides, auto_pad, group 1), Gemm,
// MatMul (+ Add of a bias), Add (bias or residual), Relu, MaxPool, BatchNormalization,
// Flatten, Reshape to [N, −1] (a flatten), Identity/Dropout, Constant and initializers, and a
// final Softmax (host side: dropped, argmax is unchanged). Anything else is one clear error
// naming the op and the node; a corrupt or truncated file is one clear error too.

import { readFileSync } from "node:fs";
import onnxProto from "onnx-proto";
import { INPUT, inferShapes, type Network, type Node } from "./graph.ts";
import { ArgumentError } from "./validate.ts";

const { onnx } = onnxProto;
type NodeProto = InstanceType<typeof onnx.NodeProto>;
type TensorProto = InstanceType<typeof onnx.TensorProto>;

export class OnnxError extends Error {
  override name = "OnnxError";
}

const SUPPORTED = ["Conv", "Gemm", "MatMul", "Add", "Relu", "MaxPool", "GlobalMaxPool", "BatchNormalization", "Flatten", "Reshape", "Identity", "Dropout", "Constant", "Softmax"];

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

/** Load an ONNX model (path or bytes) as a network of lib/graph.ts. */
export function loadOnnx(source: string | Uint8Array, name?: string): Network {
  const { model: m, what } = readOnnx(source);
  const g = m.graph!;
  const inits = new Map<string, Tensor>();
  for (const t of g.initializer ?? []) inits.set(t.name ?? "", tensorOf(t as TensorProto, `initializer ${t.name}`));
  const input = (g.input ?? []).find((i) => !inits.has(i.name ?? ""));
  if (!input) throw new OnnxError(`${what}: every graph input is an initializer; no data input`);
  const dims = (input.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimValue !== undefined && d.dimValue !== null ? Number(d.dimValue) : -1));
  if (dims.length !== 4 && dims.length !== 2) throw new OnnxError(`${what}: input ${input.name} must be [N, C, H, W] or [N, F], got [${dims.join(", ")}]`);
  const inputShape = dims.slice(1);
  if (inputShape.some((d) => !(d > 0))) throw new OnnxError(`${what}: input ${input.name} needs fixed sizes except the batch, got [${dims.join(", ")}]`);

  const nodes: Node[] = [];
  const alias = new Map<string, string>([[input.name ?? "", INPUT]]); // ONNX tensor → IR node
  const get = (t: string, n: NodeProto) => {
    const v = alias.get(t);
    if (v === undefined) throw new OnnxError(`${what}: node "${n.name}" (${n.opType}) reads ${t}, which no supported node produced`);
    return v;
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
        alias.set(out, get(ins[0]!, n));
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
        let pads = attr(n, "pads")?.ints ?? [0, 0, 0, 0];
        const auto = attr(n, "auto_pad")?.s ?? "NOTSET";
        if (auto === "SAME_UPPER" || auto === "SAME_LOWER") {
          if (strides[0] !== 1 || kh % 2 !== 1) throw new OnnxError(`${what}: Conv "${n.name}": auto_pad ${auto} is supported for stride 1 and odd kernels`);
          pads = [(kh - 1) / 2, (kh - 1) / 2, (kh - 1) / 2, (kh - 1) / 2];
        } else if (auto === "VALID") pads = [0, 0, 0, 0];
        if (new Set(pads).size !== 1) throw new OnnxError(`${what}: Conv "${n.name}" has asymmetric pads [${pads.join(", ")}]`);
        const name = fresh(n, "conv");
        nodes.push({
          op: "conv2d", name, input: get(ins[0]!, n), inChannels: ci, outChannels: co, kernel: kh, stride: strides[0]!, padding: pads[0]!,
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
        let bias: Float32Array | undefined = op === "Gemm" && ins[2] ? Float32Array.from(init(ins[2], n, "bias (C)").data, (v) => beta * v) : undefined;
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
      case "MaxPool": {
        const ks = attr(n, "kernel_shape")?.ints ?? [];
        const st = attr(n, "strides")?.ints ?? ks;
        const pads = attr(n, "pads")?.ints ?? [0, 0, 0, 0];
        if (ks.length !== 2 || ks[0] !== ks[1] || st[0] !== st[1] || pads.some((p) => p !== 0)) {
          throw new OnnxError(`${what}: MaxPool "${n.name}" must have a square kernel, equal strides and no padding`);
        }
        const name = fresh(n, "pool");
        nodes.push({ op: "maxPool", name, input: get(ins[0]!, n), kernel: ks[0]!, stride: st[0]! });
        alias.set(out, name);
        break;
      }
      case "GlobalMaxPool": {
        const src = get(ins[0]!, n);
        const sh = shapes().get(src)!;
        if (sh.length !== 3 || sh[1] !== sh[2]) throw new OnnxError(`${what}: GlobalMaxPool "${n.name}" needs a square [C, H, W] input, got [${sh.join(", ")}]`);
        const name = fresh(n, "pool");
        nodes.push({ op: "maxPool", name, input: src, kernel: sh[1]!, stride: sh[1]! });
        alias.set(out, name);
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
      case "Softmax":
        if (idx !== list.length - 1) throw new OnnxError(`${what}: Softmax "${n.name}" only at the end of the graph (it runs on the host)`);
        alias.set(out, get(ins[0]!, n));
        break;
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
  return net;
}
