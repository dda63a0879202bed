// The float reference of an ONNX model: the same file run by onnxruntime (float32; `loadOrt`:
// onnxruntime-node if installed, else onnxruntime-web), for `hermes-sim run --model` and
// `hermes-sim drift --model`. Returns every image's outputs (logits), so that the chip's can
// be compared with them (`compareOutputs`), and the top-1 accuracy.
//
// Batches follow the model's data input: a free batch axis takes up to FLOAT_BATCH images per
// call; a fixed one (e.g. 1, as the ONNX model zoo's mnist-8 has) takes exactly that many,
// the last call padded with zero images whose outputs are dropped. The input tensor has the
// model's own dims where they are fixed (so [1, 1, 28, 28] stays 4-D), else [batch, ...shape].

import { readFileSync } from "node:fs";
import onnxProto from "onnx-proto";
import { channelsLastInput } from "./onnx-decode.ts";
import { loadOrt } from "./ort.ts";
import { argmax } from "./run.ts";

const { onnx } = onnxProto;

/** Images per onnxruntime call when the batch axis is free (bounds memory). */
export const FLOAT_BATCH = 256;

/** The data input of an ONNX model: its name, dims (undefined where free) and whether it is
 * channels-last (N × H × W × C read by a Transpose to NCHW: `channelsLastInput`). */
export function onnxDataInput(bytes: Uint8Array): { name: string; dims: (number | undefined)[]; channelsLast?: boolean } | undefined {
  let m: InstanceType<typeof onnx.ModelProto>;
  try {
    m = onnx.ModelProto.decode(bytes);
  } catch {
    return undefined;
  }
  const g = m.graph;
  const inits = new Set((g?.initializer ?? []).map((t) => t.name ?? ""));
  const input = (g?.input ?? []).find((i) => !inits.has(i.name ?? ""));
  if (!input) return undefined;
  const dims = (input.type?.tensorType?.shape?.dim ?? []).map((d) => {
    const v = d.dimValue === undefined || d.dimValue === null ? NaN : Number(d.dimValue);
    return v > 0 ? v : undefined;
  });
  return { name: input.name ?? "", dims, ...(channelsLastInput(m) ? { channelsLast: true } : {}) };
}

/** What `onnxruntimeOutputs` returns: the float model's outputs and how they were computed. */
export interface FloatOutputs {
  /** The model's first output per image (float32, as onnxruntime gives it). */
  outputs: Float32Array[];
  /** Images per onnxruntime call. */
  batch: number;
  /** Whether the model's batch axis is fixed (then `batch` is its size). */
  fixedBatch: boolean;
  /** "onnxruntime-node" or "onnxruntime-web". */
  backend: string;
}

/** Run `images` (each of `shape`, the model's input without the batch axis) through an ONNX
 * model with onnxruntime: the file at a path, or a file's bytes with a name for messages (as in
 * the browser playground, web/). */
export async function onnxruntimeOutputs(source: string | { name: string; bytes: Uint8Array }, shape: readonly number[], images: readonly Float32Array[]): Promise<FloatOutputs> {
  const path = typeof source === "string" ? source : source.name;
  const bytes = typeof source === "string" ? readFileSync(source) : source.bytes;
  const { ort, backend } = await loadOrt();
  const info = onnxDataInput(bytes);
  const size = shape.reduce((a, b) => a * b, 1);
  const d0 = info?.dims[0];
  const fixedBatch = d0 !== undefined;
  const batch = fixedBatch ? d0 : Math.max(1, Math.min(FLOAT_BATCH, images.length));
  // The model's own per-image dims when they are all fixed and hold `size` values.
  const rest = info?.dims.slice(1);
  const own = rest && rest.every((d) => d !== undefined) && rest.reduce((a: number, b) => a * b!, 1) === size ? (rest as number[]) : [...shape];
  // A channels-last model reads H × W × C; the images are C × H × W (the IR's input after its Transpose).
  const [c, h, w] = shape;
  const toHwc = !!info?.channelsLast && shape.length === 3 && own.join(",") === [h, w, c].join(",") && shape.join(",") !== own.join(",");
  const put = (x: Float32Array, img: Float32Array, at: number) => {
    if (!toHwc) return x.set(img, at);
    for (let ci = 0; ci < c!; ci++) for (let p = 0; p < h! * w!; p++) x[at + p * c! + ci] = img[ci * h! * w! + p]!;
  };
  // onnxruntime's default graph optimisations can break a valid model (a Pad fused into the
  // pool after it with pads not smaller than the kernel, which the pool then refuses): the
  // model as written, without them, is the reference then.
  const session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 4 })
    .catch(() => ort.InferenceSession.create(bytes, { logSeverityLevel: 4, graphOptimizationLevel: "disabled" }))
    .catch((e: Error) => {
      throw new Error(`${path}: onnxruntime (${backend}) could not load the model for the float reference: ${e.message}`);
    });
  const inputName = info && session.inputNames.includes(info.name) ? info.name : session.inputNames[0]!;
  const outputs: Float32Array[] = [];
  const runBatch = async (first: number, n: number): Promise<Float32Array[]> => {
    const b = fixedBatch ? batch : n;
    const x = new Float32Array(b * size);
    for (let i = 0; i < n; i++) put(x, images[first + i]!, i * size);
    const res = await session.run({ [inputName]: new ort.Tensor("float32", x, [b, ...own]) }).catch((e: Error) => {
      throw new Error(`${path}: the float reference (${backend}) failed on input ${inputName} [${[b, ...own].join(", ")}]: ${e.message}`);
    });
    const y = Float32Array.from(res[session.outputNames[0]!]!.data as ArrayLike<number>);
    const k = y.length / b;
    return Array.from({ length: n }, (_, i) => y.slice(i * k, (i + 1) * k));
  };
  const runAll = async (per: number) => {
    for (let i0 = 0; i0 < images.length; i0 += per) outputs.push(...(await runBatch(i0, Math.min(per, images.length - i0))));
  };
  let per = batch;
  try {
    try {
      await runAll(per);
    } catch (e) {
      // A free batch axis that the graph does not honour (PyTorch's x.view(1, -1), a Reshape
      // to a constant shape): one image per call, as the front end reads the model (batch 1).
      if (fixedBatch || per === 1) throw e;
      outputs.length = 0;
      per = 1;
      await runAll(per);
    }
  } finally {
    await session.release?.();
  }
  return { outputs, batch: per, fixedBatch, backend };
}

/** Top-1 accuracy (fraction in [0, 1]) of `outputs` against `labels`. */
export function accuracyOf(outputs: readonly ArrayLike<number>[], labels: ArrayLike<number>): number {
  let ok = 0;
  outputs.forEach((y, i) => {
    if (argmax(y) === labels[i]) ok++;
  });
  return ok / outputs.length;
}

/** Top-1 accuracy (fraction in [0, 1]) of the ONNX file at `path` on `images` (each of `shape`) against `labels`. */
export async function onnxruntimeAccuracy(path: string, shape: readonly number[], images: Float32Array[], labels: ArrayLike<number>): Promise<number> {
  return accuracyOf((await onnxruntimeOutputs(path, shape, images)).outputs, labels);
}

/**
 * The chip's outputs against the float model's over a whole set: `agreement`, the fraction
 * of inputs whose largest output (top-1 class) is the same, and `outputError`,
 * ‖y_chip − y_float‖₂ / ‖y_float‖₂ with the norms over all outputs of all inputs.
 */
export function compareOutputs(chip: readonly ArrayLike<number>[], float: readonly ArrayLike<number>[]): { agreement: number; outputError: number } {
  if (chip.length !== float.length || chip.length === 0) throw new RangeError(`compareOutputs: ${chip.length} chip outputs for ${float.length} float outputs`);
  let num = 0;
  let den = 0;
  let agree = 0;
  chip.forEach((y, i) => {
    const r = float[i]!;
    if (y.length !== r.length) throw new RangeError(`compareOutputs: input ${i} has ${y.length} chip outputs and ${r.length} float outputs`);
    for (let j = 0; j < y.length; j++) {
      num += (y[j]! - r[j]!) ** 2;
      den += r[j]! ** 2;
    }
    if (argmax(y) === argmax(r)) agree++;
  });
  return { agreement: agree / chip.length, outputError: Math.sqrt(num / den) };
}
