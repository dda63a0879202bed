// Test sets and the onnxruntime float reference for sequence models (lib/network/sequence-run.ts):
// sequences N × T × F (float vectors) or N × T (token ids) and labels N (one class per
// sequence: the head reads the last step) or N × T (one per step), each a NumPy .npy or an
// IDX file (gzip or plain), read by lib/network/test-set.ts's readArray. Float vectors take
// the torchvision-order transform of test-set.ts: x · inputScale (default 1/255 for uint8,
// else 1), then (v − mean) / std per feature; token ids are taken as they are.

import { ArgumentError } from "../runtime/validate.ts";
import { loadSequenceModel, sequenceModelInput } from "./onnx-sequence.ts";
import { loadOrt } from "./ort.ts";
import type { SequenceModel, SequenceOutputs } from "./sequence-model.ts";
import { readArray, type InputTransform } from "./test-set.ts";

/** A sequence test set (`readSequenceSet`). */
export interface SequenceSet {
  /** One flat array per sequence: T × F floats, or T token ids. */
  sequences: Float32Array[];
  /** Per sequence one label ("last") or T labels ("all"). */
  labels: Int32Array[];
  /** Timesteps T per sequence. */
  steps: number;
}

const fmt = (s: readonly number[]) => `[${s.join(", ")}]`;

/** Read sequences and labels (see the header); the first `limit`; `classes`: labels must be below it.
 * @throws {@link ArgumentError} naming the flag and file for an unreadable file, a shape or label that does not fit the model */
export function readSequenceSet(o: InputTransform & { images: string; labels: string; limit?: number; ids: boolean; classes?: number }): SequenceSet {
  const x = readArray(o.images, "--images");
  const want = o.ids ? "N × T token ids" : "N × T × F sequences";
  if (x.shape.length !== (o.ids ? 2 : 3) && !(o.ids && x.shape.length === 3 && x.shape[2] === 1)) {
    throw new ArgumentError("--images", `${want} for this model`, `${o.images} of shape ${fmt(x.shape)}`);
  }
  if (o.layout !== undefined && o.layout !== "nchw") throw new ArgumentError("--layout", "nchw (the default) for a sequence model: sequences are N × T × F", o.layout);
  const [N, T] = x.shape as [number, number];
  const count = Math.min(N, o.limit ?? N);
  if (count < 1) throw new ArgumentError("--images", "at least one sequence", `${o.images} of shape ${fmt(x.shape)}`);
  const per = x.shape.slice(1).reduce((a, b) => a * b, 1);
  const F = o.ids ? 1 : x.shape[2]!;
  if (o.ids && (o.inputScale !== undefined || o.mean !== undefined || o.std !== undefined)) throw new ArgumentError("--input-scale, --mean and --std", "absent for token ids", o.images);
  const scale = o.ids ? 1 : (o.inputScale ?? (x.dtype === "uint8" ? 1 / 255 : 1));
  const perFeature = (v: readonly number[] | undefined, d: number, flag: string) => {
    if (v === undefined) return new Array<number>(F).fill(d);
    if (v.length !== 1 && v.length !== F) throw new ArgumentError(flag, `1 or ${F} values (one per feature)`, v.join(","));
    return v.length === 1 ? new Array<number>(F).fill(v[0]!) : [...v];
  };
  const mean = perFeature(o.mean, 0, "--mean");
  const std = perFeature(o.std, 1, "--std");
  const sequences = Array.from({ length: count }, (_, i) => {
    const q = new Float32Array(per);
    for (let k = 0; k < per; k++) {
      const raw = Number(x.data[i * per + k]!);
      if (o.ids && (!Number.isInteger(raw) || raw < 0)) throw new ArgumentError("--images", "token ids: integers ≥ 0", `${o.images}: ${raw} in sequence ${i}`);
      q[k] = o.ids ? raw : (raw * scale - mean[k % F]!) / std[k % F]!;
    }
    return q;
  });
  const y = readArray(o.labels, "--labels");
  const perLabel = y.shape.length === 1 || (y.shape.length === 2 && y.shape[1] === 1) ? 1 : y.shape.length === 2 && y.shape[1] === T ? T : 0;
  if (!perLabel) throw new ArgumentError("--labels", `one label per sequence [N] or one per step [N, ${T}]`, `${o.labels} of shape ${fmt(y.shape)}`);
  if (y.shape[0]! < count) throw new ArgumentError("--labels", `at least ${count} labels (one per sequence used)`, `${o.labels} with ${y.shape[0]}`);
  const labels = Array.from({ length: count }, (_, i) => Int32Array.from({ length: perLabel }, (_, k) => {
    const v = Number(y.data[i * perLabel + k]!);
    if (!Number.isInteger(v) || v < 0 || (o.classes !== undefined && o.classes > 1 && v >= o.classes)) {
      throw new ArgumentError("--labels", `integer class labels 0..${o.classes !== undefined ? o.classes - 1 : "N"}${o.classes ? ` (the model has ${o.classes} outputs)` : ""}`, `${o.labels} with ${v} at sequence ${i}`);
    }
    return v;
  }));
  return { sequences, labels, steps: T };
}

/** Read a sequence model's bytes (`path` for messages) and its test set (`readSequenceSet`), and
 * check that they fit each other: features per step, token ids below the embedding's
 * vocabulary, labels below the class count, one label per sequence ("last") or per step ("all").
 * @throws {@link ArgumentError} naming the flag and file; {@link OnnxError} for a model the chip cannot run */
export async function loadSequenceTestSet(
  bytes: Uint8Array, path: string, o: InputTransform & { images: string; labels: string; limit?: number },
): Promise<{ model: SequenceModel; set: SequenceSet }> {
  const input = sequenceModelInput(bytes, path);
  const ids = input.elemType === 6 || input.elemType === 7;
  const set = readSequenceSet({ ...o, ids });
  const model = await loadSequenceModel(bytes, { steps: set.steps, name: path });
  if (!ids && set.sequences[0]!.length !== model.steps * model.features) {
    throw new ArgumentError("--images", `sequences of ${model.steps} × ${model.features} (the model's input [${model.input.dims.join(", ")}])`, `${o.images}: ${set.sequences[0]!.length / set.steps} features per step`);
  }
  if (model.embedding) {
    const V = model.embedding.vocabulary;
    set.sequences.forEach((s, i) => s.forEach((id) => {
      if (id >= V) throw new ArgumentError("--images", `token ids below the embedding's vocabulary of ${V}`, `${o.images}: ${id} in sequence ${i}`);
    }));
  }
  const classes = model.dense[model.dense.length - 1]!.outputs;
  set.labels.forEach((l, i) => l.forEach((v) => {
    if (classes > 1 && v >= classes) throw new ArgumentError("--labels", `class labels 0..${classes - 1} (the model has ${classes} outputs)`, `${o.labels} with ${v} at sequence ${i}`);
  }));
  const perLabel = model.outputs === "all" ? model.steps : 1;
  if (set.labels[0]!.length !== perLabel) {
    throw new ArgumentError("--labels", model.outputs === "all" ? `one label per step [N, ${model.steps}] (the model predicts at every step)` : "one label per sequence [N] (the model predicts at the last step)", `${o.labels} with ${set.labels[0]!.length} per sequence`);
  }
  return { model, set };
}

/** onnxruntime's outputs of the model's own file, one sequence per call (batch 1), split per step. */
export async function sequenceFloatOutputs(m: SequenceModel, seqs: readonly ArrayLike<number>[]): Promise<SequenceOutputs> {
  const { ort } = await loadOrt();
  const session = await ort.InferenceSession.create(m.bytes, { logSeverityLevel: 4 });
  const out: SequenceOutputs = [];
  try {
    for (const s of seqs) {
      const t = m.input.elemType === 7
        ? new ort.Tensor("int64", BigInt64Array.from(Array.from(s, (v) => BigInt(v))), m.input.dims)
        : m.input.elemType === 6 ? new ort.Tensor("int32", Int32Array.from(s), m.input.dims) : new ort.Tensor("float32", Float32Array.from(s), m.input.dims);
      const y = (await session.run({ [m.input.name]: t }, [m.output]))[m.output]!.data as Float32Array;
      const per = m.outputs === "all" ? m.steps : 1;
      const k = y.length / per;
      out.push(Array.from({ length: per }, (_, j) => Float64Array.from(y.subarray(j * k, (j + 1) * k))));
    }
  } finally {
    await session.release?.();
  }
  return out;
}

/** Top-1 accuracy of outputs (one vector or one per step per sequence) against labels. */
export function sequenceAccuracy(outputs: SequenceOutputs, labels: readonly Int32Array[]): number {
  let ok = 0;
  let n = 0;
  outputs.forEach((ys, s) => ys.forEach((y, t) => {
    let b = 0;
    for (let j = 1; j < y.length; j++) if (y[j]! > y[b]!) b = j;
    if (b === labels[s]![t]) ok++;
    n++;
  }));
  return ok / n;
}
