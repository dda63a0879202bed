// ONNX models in (opset 7 and later), decoded with onnx-proto (protobufjs). Exporters' graphs
// are first normalised (lib/network/onnx-normalize.ts: batch fixed to 1, constant subgraphs
// folded by onnxruntime, Identity/Dropout removed: `readModel` does both), then lowered to
// the network IR (lib/network/onnx-lower.ts, which lists the ops and where each runs).
// `importOnnx` / `loadOnnx` lower an already canonical graph synchronously. Anything
// unsupported is one clear OnnxError naming the file, the node and the reason; a corrupt or
// truncated file is one clear error too.

import { decodeOnnx, modelBytes, type HeadOp, type ModelProto } from "./onnx-decode.ts";
import type { Network } from "./graph.ts";
import { lowerOnnx, type LowerOptions } from "./onnx-lower.ts";
import { normalizeOnnx, type NormalizeReport } from "./onnx-normalize.ts";

export type { LowerOptions } from "./onnx-lower.ts";
export { OnnxError, tensorOf, attr, decodeOnnx, modelBytes, type HeadOp, type Tensor } from "./onnx-decode.ts";

/** An ONNX model given as a path or as bytes, decoded; `what` names it in errors. */
export function readOnnx(source: string | Uint8Array): { model: ModelProto; what: string } {
  const what = typeof source === "string" ? source : "model";
  return { model: decodeOnnx(modelBytes(source), what), what };
}

/** Load an ONNX model (path or bytes) as a network of lib/network/graph.ts (final activations dropped). */
export function loadOnnx(source: string | Uint8Array, name?: string, options: LowerOptions = {}): Network {
  return importOnnx(source, name, options).net;
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
      v = h === "softmax" ? e.map((x) => x / sum) : v.map((x) => x - m - Math.log(sum));
    }
  }
  return v;
}

/** Lower an ONNX model (path or bytes, already canonical: see `readModel`) to a network of
 * lib/network/graph.ts plus the dropped final activations. */
export function importOnnx(source: string | Uint8Array, name?: string, options: LowerOptions = {}): { net: Network; head: HeadOp[] } {
  const { model, what } = readOnnx(source);
  return lowerOnnx(model, what, name, options);
}

/**
 * Read an ONNX CNN as exporters write it (a path, bytes, or bytes with a name for messages): normalise it with onnxruntime
 * (batch 1, constant subgraphs folded, Identity / Dropout removed; lib/network/onnx-normalize.ts)
 * and lower it to the IR. Throws OnnxError naming the file and the node for anything the
 * chip cannot run, ArgumentError for an unreadable file, OrtMissingError without onnxruntime.
 * `options.hostActivations` runs activations without a unit on the chip on the host (LowerOptions).
 */
export async function readModel(
  source: string | Uint8Array | { name: string; bytes: Uint8Array }, name?: string, options: LowerOptions = {},
): Promise<{ net: Network; head: HeadOp[]; report: NormalizeReport }> {
  const what = typeof source === "string" ? source : source instanceof Uint8Array ? "model" : source.name;
  const bytes = typeof source === "string" || source instanceof Uint8Array ? modelBytes(source) : source.bytes;
  const { bytes: canonical, report } = await normalizeOnnx(bytes, what);
  const { model } = readOnnx(canonical);
  return { ...lowerOnnx(model, what, name, options), report };
}
