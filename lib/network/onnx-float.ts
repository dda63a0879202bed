// The float reference of an ONNX classifier: the same file run by onnxruntime (CPU, float32),
// for `hermes-sim run --model` and `hermes-sim drift --model`.

import { readFileSync } from "node:fs";
import { argmax } from "./run.ts";
import { loadOrt } from "./ort.ts";

/** Top-1 accuracy (fraction in [0, 1]) of the ONNX file at `path` on `images` (each of `shape`) against `labels`. */
export async function onnxruntimeAccuracy(path: string, shape: readonly number[], images: Float32Array[], labels: Uint8Array): Promise<number> {
  const { ort } = await loadOrt();
  const session = await ort.InferenceSession.create(new Uint8Array(readFileSync(path)));
  const size = shape.reduce((a, b) => a * b, 1);
  const batch = new Float32Array(images.length * size);
  images.forEach((x, i) => batch.set(x, i * size));
  const res = await session.run({ [session.inputNames[0]!]: new ort.Tensor("float32", batch, [images.length, ...shape]) });
  const y = res[session.outputNames[0]!]!.data as Float32Array;
  const k = y.length / images.length;
  let ok = 0;
  for (let i = 0; i < images.length; i++) if (argmax(y.subarray(i * k, (i + 1) * k)) === labels[i]) ok++;
  return ok / images.length;
}
