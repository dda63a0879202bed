// ONNX protobuf basics shared by the importers: decoding a model, reading a TensorProto and
// a node's attributes, the importers' error type.

import { readFileSync } from "node:fs";
import onnxProto from "onnx-proto";
import type { onnx as OnnxTypes } from "onnx-proto";
import { ArgumentError } from "../runtime/validate.ts";

const { onnx } = onnxProto;
export type NodeProto = InstanceType<typeof onnx.NodeProto>;
export type TensorProto = InstanceType<typeof onnx.TensorProto>;
/** A decoded ONNX model (onnx-proto's `onnx.ModelProto`). */
export type ModelProto = OnnxTypes.ModelProto;

/** An ONNX model the chip cannot run, or a file that is not one: the message names the file, the node and the reason (exit 1 on the command line). */
export class OnnxError extends Error {
  /** Always "OnnxError". */
  override name = "OnnxError";
}

/** Host-side final activations: dropped from the chip graph (monotonic: argmax unchanged). */
export type HeadOp = "sigmoid" | "tanh" | "softmax" | "logSoftmax";

export interface Tensor {
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
    } else if (t.dataType === 7 || t.dataType === 6 || t.dataType === 11 || t.dataType === 9) {
      const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      const get = t.dataType === 7 ? (i: number) => Number(v.getBigInt64(8 * i, true))
        : t.dataType === 6 ? (i: number) => v.getInt32(4 * i, true)
        : t.dataType === 11 ? (i: number) => v.getFloat64(8 * i, true)
        : (i: number) => v.getUint8(i);
      data = Float32Array.from({ length: n }, (_, i) => get(i));
    } else throw new OnnxError(`${where}: tensor data type ${t.dataType} is not supported (float32, float64, int32, int64 or bool)`);
  } else if (t.floatData && t.floatData.length) data = Float32Array.from(t.floatData);
  else if (t.int64Data && t.int64Data.length) data = Float32Array.from(t.int64Data, (v) => Number(v));
  else if (t.int32Data && t.int32Data.length) data = Float32Array.from(t.int32Data);
  else if (t.doubleData && t.doubleData.length) data = Float32Array.from(t.doubleData);
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

/**
 * A channels-last data input: the graph's data input is 4-D and its only reader is a Transpose
 * with perm [0, 3, 1, 2] (N × H × W × C → N × C × H × W, as a model written for NHWC data
 * starts: `x.permute(0, 3, 1, 2)`). Returns that Transpose node, else undefined.
 */
export function channelsLastInput(m: ModelProto): NodeProto | undefined {
  const g = m.graph;
  const inits = new Set((g?.initializer ?? []).map((t) => t.name ?? ""));
  const input = (g?.input ?? []).find((i) => !inits.has(i.name ?? ""));
  if (!input || (input.type?.tensorType?.shape?.dim ?? []).length !== 4) return undefined;
  const readers = ((g?.node ?? []) as NodeProto[]).filter((n) => (n.input ?? []).includes(input.name ?? ""));
  const t = readers[0];
  if (readers.length !== 1 || t?.opType !== "Transpose") return undefined;
  return (attr(t, "perm")?.ints ?? []).join(",") === "0,3,1,2" ? t : undefined;
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


/** The bytes of an ONNX model given as a path or as bytes (ArgumentError naming `model` for an unreadable file). */
export function modelBytes(source: string | Uint8Array): Uint8Array {
  if (typeof source !== "string") return source;
  try {
    return readFileSync(source);
  } catch (e) {
    throw new ArgumentError("model", `a readable ONNX file (${(e as Error).message})`, source);
  }
}

