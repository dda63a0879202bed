// A generic sequence model as the chip runs it (issue 18): an optional embedding (token ids →
// vectors, on the host), a stack of forward LSTM layers (gates on the cores, cell state and
// nonlinearities in the GDPU slices), and a head of dense layers (optional ReLU in the LDPU)
// on the last step's hidden state or on every step's, then host-side final activations.
// lib/network/onnx-sequence.ts reads one from ONNX; this file holds the types and the float64
// reference (the same arithmetic as onnxruntime's LSTM, in float64).

import type { HeadOp } from "./onnx-decode.ts";

/** One LSTM layer in the GDPU's gate order: rows 4u + g (g = I, A, F, O). */
export interface SequenceLstmLayer {
  inputs: number;
  hidden: number;
  /** 4H × inputs, 4H × H, 4H (both ONNX biases summed). */
  wih: Float32Array;
  whh: Float32Array;
  bias: Float32Array;
}

/** One dense layer of the head: y = W·x + b (W outputs × inputs, row-major), then ReLU if set. */
export interface SequenceDense {
  inputs: number;
  outputs: number;
  w: Float32Array;
  b: Float32Array;
  relu: boolean;
  /** The ONNX node (MatMul or Gemm) it came from. */
  node: string;
}

export interface SequenceModel {
  /** The file (or "model"), for messages. */
  name: string;
  /** The data input: name, ONNX element type (1 float, 6 int32, 7 int64), the dims it was read
   * with (batch 1, sequence length fixed), and which axis is the sequence. */
  input: { name: string; elemType: number; dims: number[]; seqAxis: number; batchFirst: boolean };
  /** Timesteps per sequence (the model's, or the one it was read for). */
  steps: number;
  /** Values per timestep of a sequence as given to the model: F floats, or 1 token id. */
  features: number;
  /** Token ids → vectors (vocabulary × dim), on the host; absent for float inputs. */
  embedding?: { table: Float32Array; vocabulary: number; dim: number };
  layers: SequenceLstmLayer[];
  dense: SequenceDense[];
  /** Host-side final activations (softmax, …) on each output vector. */
  head: HeadOp[];
  /** The head reads the last step's hidden state ("last": one output per sequence) or every
   * step's ("all": one output per timestep). */
  outputs: "last" | "all";
  /** The ONNX output read, and the original bytes (for onnxruntime's float reference). */
  output: string;
  bytes: Uint8Array;
}

/** Output vectors per sequence: one ("last") or one per timestep ("all"). */
export type SequenceOutputs = Float64Array[][];

/** A sequence's input vectors (T × inputs of layer 0): embedding rows, or F floats per step. */
export function sequenceVectors(m: SequenceModel, seq: ArrayLike<number>): Float64Array[] {
  const T = m.steps;
  if (m.embedding) {
    const { table, vocabulary, dim } = m.embedding;
    return Array.from({ length: T }, (_, t) => {
      const id = seq[t]!;
      if (!Number.isInteger(id) || id < 0 || id >= vocabulary) throw new RangeError(`${m.name}: token id ${id} at step ${t} is outside the embedding's 0..${vocabulary - 1}`);
      return Float64Array.from(table.subarray(id * dim, (id + 1) * dim));
    });
  }
  const F = m.features;
  return Array.from({ length: T }, (_, t) => {
    const v = new Float64Array(F);
    for (let j = 0; j < F; j++) v[j] = seq[t * F + j]!;
    return v;
  });
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** What the float64 pass saw, for the chip's INT8 scales: max |input|, per LSTM layer the max
 * |gate pre-activation| of each gate row, per dense layer the max |output|. */
export interface SequenceRanges {
  input: number;
  gates: Float64Array[];
  dense: number[];
}

export function emptyRanges(m: SequenceModel): SequenceRanges {
  return { input: 0, gates: m.layers.map((l) => new Float64Array(4 * l.hidden)), dense: m.dense.map(() => 0) };
}

/** Dense head on one hidden vector (float64), recording ranges. */
export function denseForward(m: SequenceModel, h: Float64Array, ranges?: SequenceRanges): Float64Array {
  let v = h;
  m.dense.forEach((d, k) => {
    const y = new Float64Array(d.outputs);
    for (let r = 0; r < d.outputs; r++) {
      let s = d.b[r]!;
      for (let j = 0; j < d.inputs; j++) s += d.w[r * d.inputs + j]! * v[j]!;
      y[r] = d.relu ? Math.max(0, s) : s;
      if (ranges) ranges.dense[k] = Math.max(ranges.dense[k]!, Math.abs(y[r]!));
    }
    v = y;
  });
  return v;
}

/** The float64 reference of one sequence: the head's outputs (before the final activations). */
export function sequenceForward(m: SequenceModel, seq: ArrayLike<number>, ranges?: SequenceRanges): Float64Array[] {
  const xs = sequenceVectors(m, seq);
  if (ranges) for (const x of xs) for (const v of x) ranges.input = Math.max(ranges.input, Math.abs(v));
  const h = m.layers.map((l) => new Float64Array(l.hidden));
  const c = m.layers.map((l) => new Float64Array(l.hidden));
  const out: Float64Array[] = [];
  xs.forEach((x, t) => {
    let v = x;
    m.layers.forEach((l, k) => {
      const H = l.hidden;
      const hp = h[k]!;
      const g = new Float64Array(4 * H);
      for (let r = 0; r < 4 * H; r++) {
        let s = l.bias[r]!;
        for (let j = 0; j < l.inputs; j++) s += l.wih[r * l.inputs + j]! * v[j]!;
        for (let j = 0; j < H; j++) s += l.whh[r * H + j]! * hp[j]!;
        g[r] = s;
        if (ranges) ranges.gates[k]![r] = Math.max(ranges.gates[k]![r]!, Math.abs(s));
      }
      const hn = new Float64Array(H);
      const ck = c[k]!;
      for (let u = 0; u < H; u++) {
        const i = sigmoid(g[4 * u]!), a = Math.tanh(g[4 * u + 1]!), f = sigmoid(g[4 * u + 2]!), o = sigmoid(g[4 * u + 3]!);
        ck[u] = f * ck[u]! + i * a;
        hn[u] = o * Math.tanh(ck[u]!);
      }
      h[k] = hn;
      v = hn;
    });
    if (m.outputs === "all" || t === xs.length - 1) out.push(denseForward(m, v, ranges));
  });
  return out;
}
