// Test sets and the onnxruntime float reference for sequence models (lib/network/sequence-run.ts):
// sequences N × T × F (float vectors) or N × T (token ids) in a NumPy .npy file (gzip or
// plain), labels N (one class per sequence: the head reads the last step) or N × T (one per
// step) in an integer .npy. The .npy reader is the small one this file needs (C order,
// little-endian u1 i1 i4 i8 f4 f8); anything else is one ArgumentError naming the flag.

import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { ArgumentError } from "../runtime/validate.ts";
import { loadOrt } from "./ort.ts";
import type { SequenceModel, SequenceOutputs } from "./sequence-model.ts";

const DTYPES: Record<string, [bytes: number, get: (v: DataView, o: number) => number]> = {
  u1: [1, (v, o) => v.getUint8(o)],
  i1: [1, (v, o) => v.getInt8(o)],
  i4: [4, (v, o) => v.getInt32(o, true)],
  i8: [8, (v, o) => Number(v.getBigInt64(o, true))],
  f4: [4, (v, o) => v.getFloat32(o, true)],
  f8: [8, (v, o) => v.getFloat64(o, true)],
};

/** A .npy array (values as float64) with its shape and dtype ("u1", "f4", …). */
export function readNpyArray(path: string, flag: string): { shape: number[]; dtype: string; data: Float64Array } {
  let b: Uint8Array;
  try {
    b = readFileSync(path);
    if (b[0] === 0x1f && b[1] === 0x8b) b = gunzipSync(b);
  } catch (e) {
    throw new ArgumentError(flag, `a readable .npy file (${(e as Error).message})`, path);
  }
  const bad = (why: string): never => {
    throw new ArgumentError(flag, `a NumPy .npy file (C order, little-endian u1 i1 i4 i8 f4 f8): ${why}`, path);
  };
  if (!(b[0] === 0x93 && String.fromCharCode(...b.subarray(1, 6)) === "NUMPY")) bad("no .npy magic");
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const long = b[6]! >= 2;
  const hlen = long ? v.getUint32(8, true) : v.getUint16(8, true);
  const start = (long ? 12 : 10) + hlen;
  const header = new TextDecoder().decode(b.subarray(long ? 12 : 10, start));
  const descr = /'descr':\s*'([<>|=])([a-z]\d+)'/.exec(header);
  if (!descr || (descr[1] === ">" && descr[2] !== "u1" && descr[2] !== "i1") || !DTYPES[descr[2]!]) bad(`dtype ${descr?.[1]}${descr?.[2]}`);
  if (/'fortran_order':\s*True/.test(header)) bad("Fortran order");
  const shape = (/'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? bad("no shape")).split(",").map((s) => s.trim()).filter((s) => s).map(Number);
  const [size, get] = DTYPES[descr![2]!]!;
  const n = shape.reduce((p, q) => p * q, 1);
  if (b.length < start + n * size) bad(`${b.length - start} data bytes for shape (${shape.join(", ")})`);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = get(v, start + i * size);
  return { shape, dtype: descr![2]!, data };
}

export interface SequenceSet {
  /** One flat array per sequence: T × F floats, or T token ids. */
  sequences: Float32Array[];
  /** Per sequence one label ("last") or T labels ("all"). */
  labels: Int32Array[];
  steps: number;
}

/** Read sequences (N × T × F, or N × T token ids) and labels; `limit` first ones;
 * x · inputScale (default 1/255 for uint8 vectors, else 1; never for token ids). */
export function readSequenceSet(o: { images: string; labels: string; limit?: number; inputScale?: number; ids: boolean }): SequenceSet {
  const x = readNpyArray(o.images, "--images");
  const want = o.ids ? "N × T token ids" : "N × T × F sequences";
  if (x.shape.length !== (o.ids ? 2 : 3) && !(o.ids && x.shape.length === 3 && x.shape[2] === 1)) {
    throw new ArgumentError("--images", `${want} for this model`, `${o.images} of shape [${x.shape.join(", ")}]`);
  }
  const [N, T] = x.shape as [number, number];
  const count = Math.min(N, o.limit ?? N);
  if (count < 1) throw new ArgumentError("--images", "at least one sequence", o.images);
  const per = x.data.length / N;
  const scale = o.ids ? 1 : (o.inputScale ?? (x.dtype === "u1" ? 1 / 255 : 1));
  if (o.ids && x.data.some((v) => !Number.isInteger(v) || v < 0)) throw new ArgumentError("--images", "token ids: integers ≥ 0", o.images);
  const sequences = Array.from({ length: count }, (_, i) => Float32Array.from(x.data.subarray(i * per, (i + 1) * per), (v) => v * scale));
  const y = readNpyArray(o.labels, "--labels");
  const perLabel = y.shape.length === 1 || (y.shape.length === 2 && y.shape[1] === 1) ? 1 : y.shape.length === 2 && y.shape[1] === T ? T : 0;
  if (!perLabel) throw new ArgumentError("--labels", `one label per sequence [N] or one per step [N, ${T}]`, `${o.labels} of shape [${y.shape.join(", ")}]`);
  if (y.shape[0]! < count) throw new ArgumentError("--labels", `at least ${count} labels (one per sequence used)`, `${o.labels} with ${y.shape[0]}`);
  if (y.data.some((v) => !Number.isInteger(v) || v < 0)) throw new ArgumentError("--labels", "integer class labels ≥ 0", o.labels);
  const labels = Array.from({ length: count }, (_, i) => Int32Array.from(y.data.subarray(i * perLabel, (i + 1) * perLabel)));
  return { sequences, labels, steps: T };
}

/** onnxruntime's outputs of the model's own file, one sequence per call (batch 1), split per step. */
export async function sequenceFloatOutputs(m: SequenceModel, seqs: readonly ArrayLike<number>[]): Promise<SequenceOutputs> {
  const { ort } = await loadOrt();
  const session = await ort.InferenceSession.create(m.bytes, { logSeverityLevel: 3 });
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
