// ONNX character/word LSTMs in: an LSTM op (forward, default activations), an optional
// Gather embedding (host side, as on the chip) and a MatMul/Gemm output layer, converted to
// lib/network/lstm-run.ts weights. ONNX orders the gates i, o, f, c in W [1, 4H, I], R [1, 4H, H]
// and B [1, 8H] (Wb then Rb); the GDPU reads them interleaved per unit as I, A (= c), F, O,
// row 4u + g — this loader reorders them.

import type { LstmWeights } from "./lstm-run.ts";
import { attr, OnnxError, readOnnx, tensorOf } from "./onnx.ts";

/** A single-layer LSTM read from ONNX (`loadOnnxLstm`). */
export interface OnnxLstm {
  /** Its weights, in the GDPU's gate order. */
  weights: LstmWeights;
  /** The Gather table (vocabulary × embedding), applied on the host; undefined when the
   * model takes input vectors directly. */
  embedding?: { table: Float32Array; vocabulary: number; dim: number };
}

/** ONNX gate block of our gate g (I, A, F, O) in the i, o, f, c order. */
const ONNX_BLOCK = [0, 3, 2, 1];

/**
 * One forward ONNX LSTM's W [1, 4H, I], R [1, 4H, H] and B [1, 8H] (Wb then Rb; absent: 0) in
 * the GDPU's order: rows 4u + g (g = I, A, F, O), the two biases summed.
 */
export function gdpuGateOrder(W: Float32Array, R: Float32Array, B: Float32Array | undefined, H: number, I: number): { wih: Float32Array; whh: Float32Array; bias: Float32Array } {
  const reorder = (src: Float32Array, cols: number) => {
    const out = new Float32Array(4 * H * cols);
    for (let u = 0; u < H; u++) {
      for (let g = 0; g < 4; g++) out.set(src.subarray((ONNX_BLOCK[g]! * H + u) * cols, (ONNX_BLOCK[g]! * H + u + 1) * cols), (4 * u + g) * cols);
    }
    return out;
  };
  const bias = new Float32Array(4 * H);
  if (B) {
    for (let u = 0; u < H; u++) for (let g = 0; g < 4; g++) bias[4 * u + g] = B[ONNX_BLOCK[g]! * H + u]! + B[4 * H + ONNX_BLOCK[g]! * H + u]!;
  }
  return { wih: reorder(W, I), whh: reorder(R, H), bias };
}

/**
 * Read an ONNX model with one forward LSTM node and an output dense layer (MatMul/Gemm,
 * optionally after a Gather embedding) as LSTM weights for `mapLstm` / `runLstm`.
 * @param source - a path or the file's bytes
 * @param name - the network's name (default "onnx-lstm")
 * @throws {@link OnnxError} naming the file and node for anything else
 */
export function loadOnnxLstm(source: string | Uint8Array, name = "onnx-lstm"): OnnxLstm {
  const { model, what } = readOnnx(source);
  const g = model.graph!;
  const inits = new Map((g.initializer ?? []).map((t) => [t.name ?? "", tensorOf(t as never, `initializer ${t.name}`)]));
  for (const n of g.node ?? []) if (n.opType === "Constant" && attr(n as never, "value")?.t) inits.set(n.output?.[0] ?? "", tensorOf(attr(n as never, "value")!.t!, `Constant ${n.name}`));
  const nodes = g.node ?? [];
  const lstm = nodes.filter((n) => n.opType === "LSTM");
  if (lstm.length !== 1) throw new OnnxError(`${what}: expected exactly one LSTM node, found ${lstm.length}`);
  const L = lstm[0]!;
  const dir = attr(L as never, "direction")?.s ?? "forward";
  if (dir !== "forward") throw new OnnxError(`${what}: LSTM "${L.name}" direction ${dir}: only forward LSTMs map onto the GDPU`);
  if (attr(L as never, "activations") || attr(L as never, "clip") || (L.input?.[7] ?? "") !== "") {
    throw new OnnxError(`${what}: LSTM "${L.name}" with custom activations, clipping or peepholes is not supported (the GDPU computes sigmoid/tanh)`);
  }
  const W = inits.get(L.input?.[1] ?? "");
  const R = inits.get(L.input?.[2] ?? "");
  const B = L.input?.[3] ? inits.get(L.input[3]) : undefined;
  if (!W || !R) throw new OnnxError(`${what}: LSTM "${L.name}" needs W and R as initializers`);
  const H = Number(attr(L as never, "hidden_size")?.i ?? R.dims[2]);
  const I = W.dims[2]!;
  if (W.dims[1] !== 4 * H || R.dims[1] !== 4 * H || R.dims[2] !== H) throw new OnnxError(`${what}: LSTM "${L.name}" W/R shapes [${W.dims}] / [${R.dims}] do not fit hidden_size ${H}`);
  const { wih, whh, bias } = gdpuGateOrder(W.data, R.data, B?.data, H, I);
  // The output layer: the first MatMul/Gemm with an initializer weight after the LSTM.
  const after = nodes.slice(nodes.indexOf(L) + 1);
  const dense = after.find((n) => (n.opType === "MatMul" || n.opType === "Gemm") && inits.has(n.input?.[1] ?? ""));
  if (!dense) throw new OnnxError(`${what}: no MatMul/Gemm output layer after the LSTM`);
  const D = inits.get(dense.input![1]!)!;
  const transB = dense.opType === "Gemm" && (attr(dense as never, "transB")?.i ?? 0) === 1;
  const [a, b] = D.dims as [number, number];
  const inF = transB ? b : a;
  const outF = transB ? a : b;
  if (inF !== H) throw new OnnxError(`${what}: output layer "${dense.name}" takes ${inF} inputs, the LSTM gives ${H}`);
  const wout = new Float32Array(outF * H);
  for (let o = 0; o < outF; o++) for (let i = 0; i < H; i++) wout[o * H + i] = transB ? D.data[o * H + i]! : D.data[i * outF + o]!;
  let bout = new Float32Array(outF);
  if (dense.opType === "Gemm" && dense.input?.[2] && inits.has(dense.input[2])) bout = Float32Array.from(inits.get(dense.input[2])!.data);
  else {
    const add = after.find((n) => n.opType === "Add" && n.input?.includes(dense.output?.[0] ?? ""));
    const other = add?.input?.find((t) => t !== dense.output?.[0]);
    if (other && inits.has(other)) bout = Float32Array.from(inits.get(other)!.data);
  }
  const gather = nodes.find((n) => n.opType === "Gather" && inits.has(n.input?.[0] ?? ""));
  let embedding: OnnxLstm["embedding"];
  if (gather) {
    const T = inits.get(gather.input![0]!)!;
    if (T.dims.length !== 2 || T.dims[1] !== I) throw new OnnxError(`${what}: embedding "${gather.name}" of shape [${T.dims}] does not feed an LSTM of ${I} inputs`);
    embedding = { table: T.data, vocabulary: T.dims[0]!, dim: I };
  }
  return {
    weights: { spec: { name, inputs: I, hidden: H, outputs: outF }, wih, whh, bias, wout, bout },
    ...(embedding ? { embedding } : {}),
  };
}
