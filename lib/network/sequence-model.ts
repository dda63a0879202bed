// A generic sequence model as the chip runs it (issue 18): an optional embedding (token ids →
// vectors, on the host), a stack of forward LSTM layers (gates on the cores, cell state and
// nonlinearities in the GDPU slices), and a head of dense layers (optional ReLU in the LDPU)
// on the last step's hidden state or on every step's, then host-side final activations.
// lib/network/onnx-sequence.ts reads one from ONNX; this file holds the types and the float64
// reference (the same arithmetic as onnxruntime's LSTM, in float64).

import type { HeadOp } from "./onnx-decode.ts";
import { conv2dTs, conv2dWasm } from "./graph-eval.ts";
import type { Conv2dNode } from "./graph.ts";

/** One LSTM layer in the GDPU's gate order: rows 4u + g (g = I, A, F, O). */
export interface SequenceLstmLayer {
  /** Input vector size. */
  inputs: number;
  /** Hidden size H. */
  hidden: number;
  /** Input-to-gate weights, 4H × inputs. */
  wih: Float32Array;
  /** Hidden-to-gate weights, 4H × H. */
  whh: Float32Array;
  /** Gate biases, 4H (both ONNX biases summed). */
  bias: Float32Array;
}

/** One dense layer of the head: y = W·x + b (W outputs × inputs, row-major), then ReLU if set. */
export interface SequenceDense {
  /** Input size. */
  inputs: number;
  /** Output size. */
  outputs: number;
  /** Weights, outputs × inputs row-major. */
  w: Float32Array;
  /** Biases, outputs. */
  b: Float32Array;
  /** Whether a ReLU follows (in the LDPU). */
  relu: boolean;
  /** The ONNX node (MatMul or Gemm) it came from. */
  node: string;
}

/** A sequence model as the chip runs it (`loadSequenceModel`): embedding, stacked LSTM layers, dense head, final activations. */
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
  /** The LSTM layers, bottom first. */
  layers: SequenceLstmLayer[];
  /** The dense layers of the head, in order. */
  dense: SequenceDense[];
  /** Host-side final activations (softmax, …) on each output vector. */
  head: HeadOp[];
  /** The head reads the last step's hidden state ("last": one output per sequence) or every
   * step's ("all": one output per timestep). */
  outputs: "last" | "all";
  /** The ONNX output read, and the original bytes (for onnxruntime's float reference). */
  output: string;
  /** The model file's bytes. */
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
  /** Largest |input value|. */
  input: number;
  /** Per LSTM layer, per gate row (4H): largest |pre-activation|. */
  gates: Float64Array[];
  /** Per dense layer: largest |output|. */
  dense: number[];
}

export function emptyRanges(m: SequenceModel): SequenceRanges {
  return { input: 0, gates: m.layers.map((l) => new Float64Array(4 * l.hidden)), dense: m.dense.map(() => 0) };
}

/** y (O × S) = b + W·x for S column vectors x (K × S, column s = one sequence): a 1×1
 * convolution over S positions on the wasm kernel (assembly/conv-f64.ts; the TypeScript
 * twin where wasm memory cannot be allocated): bias, then the terms in input order, the
 * same bits either way. */
function matmul(w: Float32Array, b: Float32Array, O: number, K: number, x: Float64Array, S: number): Float64Array {
  const n: Conv2dNode = { op: "conv2d", name: "lstm", input: "x", inChannels: K, outChannels: O, kernel: 1, stride: 1, padding: 0, weights: w, bias: b };
  return conv2dWasm(n, x, [K, 1, S], [1, S]) ?? conv2dTs(n, x, [K, 1, S], [1, S]);
}

/** Per layer [W_ih | W_hh] as one matrix (4H × (I + H)), cached per model. */
const joined = new WeakMap<SequenceModel, Float32Array[]>();
function joinedWeights(m: SequenceModel): Float32Array[] {
  let w = joined.get(m);
  if (!w) {
    w = m.layers.map((l) => {
      const K = l.inputs + l.hidden;
      const out = new Float32Array(4 * l.hidden * K);
      for (let r = 0; r < 4 * l.hidden; r++) {
        out.set(l.wih.subarray(r * l.inputs, (r + 1) * l.inputs), r * K);
        out.set(l.whh.subarray(r * l.hidden, (r + 1) * l.hidden), r * K + l.inputs);
      }
      return out;
    });
    joined.set(m, w);
  }
  return w;
}

/** The float64 reference of sequences in lockstep: per sequence the head's outputs (before
 * the final activations), one or one per step; `ranges` records what it saw. */
export function sequenceForwardBatch(m: SequenceModel, seqs: readonly ArrayLike<number>[], ranges?: SequenceRanges): Float64Array[][] {
  const S = seqs.length;
  if (S === 0) return [];
  const xs = seqs.map((q) => sequenceVectors(m, q));
  const W = joinedWeights(m);
  const h = m.layers.map((l) => new Float64Array(l.hidden * S)); // [H][S]
  const c = m.layers.map((l) => new Float64Array(l.hidden * S));
  const out: Float64Array[][] = seqs.map(() => []);
  for (let t = 0; t < m.steps; t++) {
    const I0 = m.layers[0]!.inputs;
    let v: Float64Array = new Float64Array(I0 * S);
    for (let s = 0; s < S; s++) {
      const x = xs[s]![t]!;
      for (let j = 0; j < I0; j++) {
        v[j * S + s] = x[j]!;
        if (ranges) ranges.input = Math.max(ranges.input, Math.abs(x[j]!));
      }
    }
    for (let k = 0; k < m.layers.length; k++) {
      const l = m.layers[k]!;
      const H = l.hidden;
      const z = new Float64Array((l.inputs + H) * S);
      z.set(v);
      z.set(h[k]!, l.inputs * S);
      const g = matmul(W[k]!, l.bias, 4 * H, l.inputs + H, z, S);
      if (ranges) {
        const gr = ranges.gates[k]!;
        for (let r = 0; r < 4 * H; r++) for (let s = 0; s < S; s++) gr[r] = Math.max(gr[r]!, Math.abs(g[r * S + s]!));
      }
      const ck = c[k]!;
      const hk = h[k]!;
      for (let u = 0; u < H; u++) {
        for (let s = 0; s < S; s++) {
          const at = (g0: number) => g[(4 * u + g0) * S + s]!;
          const i = sigmoid(at(0)), a = Math.tanh(at(1)), f = sigmoid(at(2)), o = sigmoid(at(3));
          const q = u * S + s;
          ck[q] = f * ck[q]! + i * a;
          hk[q] = o * Math.tanh(ck[q]!);
        }
      }
      v = hk.slice();
    }
    if (m.outputs === "all" || t === m.steps - 1) {
      m.dense.forEach((d, k) => {
        v = matmul(d.w, d.b, d.outputs, d.inputs, v, S);
        if (d.relu) for (let q = 0; q < v.length; q++) v[q] = Math.max(0, v[q]!);
        if (ranges) for (const y of v) ranges.dense[k] = Math.max(ranges.dense[k]!, Math.abs(y));
      });
      const O = m.dense[m.dense.length - 1]!.outputs;
      for (let s = 0; s < S; s++) out[s]!.push(Float64Array.from({ length: O }, (_, r) => v[r * S + s]!));
    }
  }
  return out;
}

/** The float64 reference of one sequence (sequenceForwardBatch of one). */
export function sequenceForward(m: SequenceModel, seq: ArrayLike<number>, ranges?: SequenceRanges): Float64Array[] {
  return sequenceForwardBatch(m, [seq], ranges)[0]!;
}
