// ONNX sequence models in (issue 18): an nn.LSTM as PyTorch exports it — batch_first or not,
// one or more layers, with or without an embedding, a dense head on the last step or on
// every step. Three steps:
//  1. Which axis of the data input is the sequence: followed from the input through Cast /
//     Transpose / Squeeze / Unsqueeze / the embedding's Gather to the first LSTM (its time
//     axis is 0). batch_first exports put a Transpose there.
//  2. The front end's normalisation (lib/network/onnx-normalize.ts) with the input's dims
//     fixed: batch 1, the sequence length given (a test set's) or the model's own. Constant
//     subgraphs — PyTorch's zero initial state built from Shape(x), the weights' Slice /
//     Concat / Unsqueeze — fold into initializers.
//  3. The canonical graph read into a SequenceModel (lib/network/onnx-sequence-graph.ts).

import { attr, decodeOnnx, modelBytes, OnnxError, tensorOf, type ModelProto, type NodeProto } from "./onnx-decode.ts";
import { normalizeOnnx } from "./onnx-normalize.ts";
import { importSequenceGraph, lstmUnsupported } from "./onnx-sequence-graph.ts";
import type { SequenceModel } from "./sequence-model.ts";
import { ArgumentError } from "../runtime/validate.ts";

/** Whether an ONNX model (bytes) has an LSTM node: a sequence model rather than a CNN. */
export function hasLstmNode(bytes: Uint8Array, what = "model"): boolean {
  return (decodeOnnx(bytes, what).graph!.node ?? []).some((n) => n.opType === "LSTM");
}

/** The data input (the one graph input that is not an initializer). */
function dataInput(m: ModelProto, what: string) {
  const g = m.graph!;
  const inits = new Set((g.initializer ?? []).map((t) => t.name ?? ""));
  const data = (g.input ?? []).filter((i) => !inits.has(i.name ?? ""));
  if (data.length !== 1) throw new OnnxError(`${what}: a sequence model has one data input; this one has ${data.length} (${data.map((i) => i.name).join(", ")})`);
  const i = data[0]!;
  const dims = (i.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimValue !== undefined && d.dimValue !== null && Number(d.dimValue) > 0 ? Number(d.dimValue) : undefined));
  return { name: i.name ?? "", elemType: i.type?.tensorType?.elemType ?? 1, dims };
}

/**
 * The input axis that the first LSTM reads as its time axis, followed from the data input
 * (undefined when the way there is not a chain of the ops named in the header).
 */
export function sequenceAxis(m: ModelProto, input: string): number | undefined {
  const g = m.graph!;
  const nodes = (g.node ?? []) as NodeProto[];
  const consts = new Map<string, number[]>();
  for (const t of g.initializer ?? []) if (t.dataType === 7 || t.dataType === 6) consts.set(t.name ?? "", Array.from(tensorOf(t as never, "").data));
  for (const n of nodes) if (n.opType === "Constant" && attr(n, "value")?.t) consts.set(n.output?.[0] ?? "", Array.from(tensorOf(attr(n, "value")!.t!, "").data));
  const rank = dataInput(m, "").dims.length;
  let labels: (number | undefined)[] = Array.from({ length: rank }, (_, k) => k); // input axis, or undefined for a new one
  let cur = input;
  for (let hop = 0; hop < 64; hop++) {
    const readers = nodes.filter((n) => (n.input ?? []).includes(cur) && n.opType !== "Shape" && n.opType !== "Size");
    if (readers.length !== 1) return undefined;
    const n = readers[0]!;
    const axesOf = () => (attr(n, "axes")?.ints?.length ? attr(n, "axes")!.ints! : consts.get(n.input?.[1] ?? ""));
    switch (n.opType) {
      case "LSTM":
        if (n.input?.[0] !== cur) return undefined;
        return labels[0];
      case "Cast":
      case "Identity":
      case "Dropout":
        break;
      case "Transpose": {
        const perm = attr(n, "perm")?.ints?.length ? attr(n, "perm")!.ints! : labels.map((_, k) => labels.length - 1 - k);
        labels = perm.map((p) => labels[p]);
        break;
      }
      case "Gather":
        if (n.input?.[1] !== cur || (attr(n, "axis")?.i ?? 0) !== 0) return undefined;
        labels = [...labels, undefined];
        break;
      case "Squeeze":
      case "Unsqueeze": {
        const axes = axesOf();
        if (!axes) return undefined;
        const r = n.opType === "Squeeze" ? labels.length : labels.length + axes.length;
        const at = axes.map((a) => (a < 0 ? a + r : a)).sort((a, b) => a - b);
        if (n.opType === "Squeeze") labels = labels.filter((_, k) => !at.includes(k));
        else for (const a of at) labels.splice(a, 0, undefined);
        break;
      }
      default:
        return undefined;
    }
    cur = n.output?.[0] ?? "";
  }
  return undefined;
}

/** Options of `loadSequenceModel`. */
export interface ReadSequenceOptions {
  /** The sequence length to read the model for (a test set's); needed when the model's
   * sequence axis is free, checked against it when not. */
  steps?: number;
  /** The model's name in messages (default: the path, or "model"). */
  name?: string;
}

/** The data input of an ONNX model's bytes: name, ONNX element type and dims (undefined: free). */
export function sequenceModelInput(bytes: Uint8Array, what = "model"): { name: string; elemType: number; dims: (number | undefined)[] } {
  return dataInput(decodeOnnx(bytes, what), what);
}

/** Read an ONNX sequence model (path or bytes): see the header.
 * @throws {@link OnnxError} for what the chip cannot run (naming the node); {@link ArgumentError} for an unreadable file or a bad `steps` */
export async function loadSequenceModel(source: string | Uint8Array, options: ReadSequenceOptions = {}): Promise<SequenceModel> {
  const what = options.name ?? (typeof source === "string" ? source : "model");
  const bytes = modelBytes(source);
  const m = decodeOnnx(bytes, what);
  if (!(m.graph!.node ?? []).some((n) => n.opType === "LSTM")) throw new OnnxError(`${what}: no LSTM node (not a sequence model)`);
  for (const n of (m.graph!.node ?? []) as NodeProto[]) {
    const why = n.opType === "LSTM" ? lstmUnsupported(n) : undefined;
    if (why) throw new OnnxError(`${what}: LSTM node "${n.name || n.output?.[0]}" ${why}`);
  }
  const input = dataInput(m, what);
  const ids = input.elemType === 6 || input.elemType === 7;
  if (!ids && input.elemType !== 1) throw new OnnxError(`${what}: input ${input.name} has element type ${input.elemType}; a sequence model takes float32 vectors or int64 / int32 token ids`);
  const seqAxis = sequenceAxis(m, input.name);
  if (seqAxis === undefined) throw new OnnxError(`${what}: cannot follow input ${input.name} to the first LSTM (through Cast, Transpose, Squeeze, Unsqueeze or an embedding Gather) to tell its sequence axis`);
  const { steps } = options;
  if (steps !== undefined && (!Number.isInteger(steps) || steps < 1)) throw new ArgumentError("steps", "a positive integer (timesteps per sequence)", steps);
  const own = input.dims[seqAxis];
  if (own !== undefined && steps !== undefined && own !== steps) throw new OnnxError(`${what}: input ${input.name} takes sequences of ${own} steps, not ${steps}`);
  const T = own ?? steps;
  if (T === undefined) throw new ArgumentError("steps", `the sequence length: input ${input.name}'s sequence axis ${seqAxis} is free`, steps);
  const last = input.dims.length - 1;
  const dims = input.dims.map((d, k) => {
    if (k === seqAxis) return T;
    if (d !== undefined) return d;
    if (!ids && k === last) throw new OnnxError(`${what}: input ${input.name}'s feature axis ${k} is free`);
    return 1;
  });
  dims.forEach((d, k) => {
    if (k !== seqAxis && (ids || k !== last) && d !== 1) throw new OnnxError(`${what}: input ${input.name} has a batch of ${d} (axis ${k}); sequences run one at a time (export with a free or size-1 batch)`);
  });
  const { bytes: canonical } = await normalizeOnnx(bytes, what, { fixed: { [input.name]: dims } });
  return importSequenceGraph(decodeOnnx(canonical, what), { name: input.name, elemType: input.elemType, dims, seqAxis }, what, bytes);
}
