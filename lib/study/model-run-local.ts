// `run --model` on this machine, step by step: the functions that the CLI
// (lib/cli/commands/run-model.ts) and the browser playground (web/) both call, so that the same
// model, test set, seed and options give the same figures (and the same `digest`) in both.
//
// - prepareModelRun: the model read and checked against the chip (ModelTooLargeError before
//   anything else), the test set, the float reference (onnxruntime) and the mapping.
// - chipModelRun: program a chip and run every image (× runs) on it into a RunTally. Images
//   may be taken `batch` at a time, with the tally's figures so far after each batch and an
//   AbortSignal checked between batches: the outputs do not depend on the batch (the read
//   noise is keyed by each image's index in the set).
// - modelRunDoc: the JSON document `run --model --json` prints (without its wall time).

import { Chip } from "../chip/chip.ts";
import type { Fidelity } from "../chip/config.ts";
import type { Scheme } from "../chip/targets.ts";
import { networkCost, type NetworkCost } from "../cost/network.ts";
import { type Network } from "../network/graph.ts";
import { outputShape } from "../network/graph-shapes.ts";
import { MODEL_REPLICAS, mapNetwork, type Mapping } from "../network/mapper.ts";
import type { MapOptions } from "../network/mapping.ts";
import { assertFits } from "../network/needs.ts";
import { readModel, type HeadOp } from "../network/onnx.ts";
import { accuracyOf, onnxruntimeOutputs, type FloatOutputs } from "../network/onnx-float.ts";
import { programNetwork } from "../network/run.ts";
import { loadTestSet, type FileSource, type InputTransform, type TestSet } from "../network/test-set.ts";
import { RunTally, inferImages, modelScales, outputScale, readAt, type InferModel } from "./model-run.ts";

/** An ONNX classifier read, checked against the chip and mapped: what loadChipModel returns. */
export interface ChipModel {
  /** The model's name in messages and in the JSON (`model`): its path or file name. */
  model: string;
  /** The model as given (path or bytes), for the float reference. */
  source: FileSource;
  /** The model in hermes-sim's network IR (lib/network/graph.ts), final host ops removed. */
  net: Network;
  /** The final Sigmoid / Tanh / Softmax the chip graph dropped, applied on the host before comparing with float. */
  head: HeadOp[];
  /** Where the layers land on the cores (mapNetwork's default options). */
  mapping: Mapping;
}

/** A model and test set ready to run: what prepareModelRun read. */
export interface PreparedModelRun extends ChipModel {
  /** The test set: the first `limit` images, transformed, and their labels. */
  set: TestSet;
  /** The float model's outputs on those images (onnxruntime, float32). */
  float: FloatOutputs;
}

/** How a model is read and mapped: its weight copies (MapOptions.replicas), default
 * MODEL_REPLICAS ("auto", as `run --model`; 1 gives the plain mapping), and whether
 * activations without a unit on the chip run on the host (LowerOptions.hostActivations). */
export interface ModelMapOptions {
  /** Copies of each layer's weights on free cores and columns: "auto" or 1..64. */
  replicas?: MapOptions["replicas"];
  /** Run LeakyRelu, PRelu, HardSwish, Sigmoid, ... between layers on the host, off-chip
   * (default false: such a model is refused naming the node). */
  hostActivations?: boolean;
}

const nameOf = (s: FileSource): string => (typeof s === "string" ? s : s.name);

/**
 * Read an ONNX classifier (a path, or bytes with a name), check that it fits the chip and map
 * it. Throws ModelTooLargeError (with the per-layer needs) for a model larger than the chip,
 * OnnxError for a model the chip cannot run or a corrupt file, ArgumentError for an unreadable one.
 */
export async function loadChipModel(model: FileSource, map: ModelMapOptions = {}): Promise<ChipModel> {
  const what = nameOf(model);
  const { net, head } = await readModel(model, undefined, { hostActivations: map.hostActivations ?? false });
  assertFits(net, what);
  return { model: what, source: model, net, head, mapping: mapNetwork(net, { replicas: map.replicas ?? MODEL_REPLICAS }) };
}

/**
 * A model (as loadChipModel, which is called when given a path or bytes) and its test set (the
 * first `limit` images, `transform` applied), with the float reference's outputs (onnxruntime).
 * Throws as loadChipModel, and ArgumentError for a bad test set.
 */
export async function prepareModelRun(model: FileSource | ChipModel, test: ModelTestSet, map: ModelMapOptions = {}): Promise<PreparedModelRun> {
  const m = await prepareModelInputs(model, test, map);
  // The float reference first: a model onnxruntime cannot run fails before the chip's work.
  return { ...m, float: await onnxruntimeOutputs(m.source, m.net.inputShape, m.set.images) };
}

/** Which test set a model runs on: images and labels (paths or bytes), how many, and the transform. */
export interface ModelTestSet {
  /** Images (or sequences): .npy or IDX, gzip or plain. */
  images: FileSource;
  /** Integer labels: .npy or IDX. */
  labels: FileSource;
  /** The first `limit` images (a positive integer). */
  limit: number;
  /** Input scale, mean, std and layout (lib/network/test-set.ts). */
  transform: InputTransform;
}

/**
 * prepareModelRun without the float reference: the model read, checked and mapped, and its
 * test set. A queued run (lib/cli/commands/run-model.ts) computes the float reference while
 * the workers run the jobs. Throws as prepareModelRun.
 */
export async function prepareModelInputs(model: FileSource | ChipModel, test: ModelTestSet, map: ModelMapOptions = {}): Promise<ChipModel & { set: TestSet }> {
  const m = typeof model === "object" && "net" in model ? model : await loadChipModel(model, map);
  const classes = outputShape(m.net).reduce((a, b) => a * b, 1);
  const set = loadTestSet({ images: test.images, labels: test.labels, limit: test.limit, classes, ...test.transform }, m.net.inputShape);
  return { ...m, set };
}

/** How the chip runs: its seed and fidelity, the programming scheme, the read time and the repetitions. */
export interface ChipRunOptions {
  /** The simulated chip's seed (`Chip.create({ seed })`). */
  seed: bigint;
  /** Weight-programming scheme: "odp", "tdp" or "tdp-maxfill". */
  scheme: Scheme;
  /** "physical" (device level) or "functional" (the paper's Methods model). */
  fidelity: Fidelity;
  /** Read time, seconds since programming. */
  t: number;
  /** Worker threads (or the browser's Web Workers): the same bits for any count. */
  threads: number;
  /** Repeated inference runs (other read noise, or weight noise at functional fidelity), ≥ 1. */
  runs: number;
  /** Images per inferImages call (default: all); the results do not depend on it. */
  batch?: number;
  /** After each chunk of images: images done of all (images × runs). */
  onProgress?: (done: number, total: number) => void;
  /** After each batch: images done and the accuracy of the current run so far (correct / done). */
  onBatch?: (done: number, total: number, accuracy: number) => void;
  /** Checked between batches: an abort stops the run with the signal's reason (an AbortError). */
  signal?: AbortSignal;
}

/** Program a chip (the mapping of `p`) and run the test set on it: the tally of every output. */
export async function chipModelRun(p: PreparedModelRun, o: ChipRunOptions): Promise<RunTally> {
  const { images, labels } = p.set;
  const chip = Chip.create({ seed: o.seed, fidelity: o.fidelity });
  try {
    await programNetwork(chip, p.net, p.mapping, o.scheme, o.threads);
    const model: InferModel = { net: p.net, mapping: p.mapping, scales: modelScales(p.net, p.mapping, images) };
    const tally = new RunTally(images.length, o.runs, labels, p.float.outputs, p.head, outputScale(model));
    const total = o.runs * images.length;
    const batch = o.batch ?? images.length;
    for (let draw = 0; draw < o.runs; draw++) {
      const at = readAt(chip, { t: o.t, draw });
      try {
        let correct = 0;
        for (let first = 0; first < images.length; first += batch) {
          o.signal?.throwIfAborted();
          const part = images.slice(first, first + batch);
          // The function of a queue worker's infer job (lib/study/queue/worker-infer.ts).
          const v = await inferImages(chip, model, part, {
            t: o.t, draw, at, first, threads: o.threads,
            ...(o.onProgress ? { onProgress: (done: number) => o.onProgress!(draw * images.length + first + done, total) } : {}),
          });
          v.forEach((y, i) => tally.add(draw, first + i, y));
          correct = tally.state(draw)["correct"]!;
          o.onBatch?.(draw * images.length + first + part.length, total, correct / (first + part.length));
        }
      } finally {
        at.dispose();
      }
    }
    return tally;
  } finally {
    chip.dispose();
  }
}

/** The JSON document of `run --model --json` (without `wallS` and the queue's fields). */
export interface ModelRunDoc {
  /** The model's path or name. */
  model: string;
  /** "physical" or "functional". */
  fidelity: Fidelity;
  /** Weight-programming scheme. */
  scheme: Scheme;
  /** Read time, s. */
  t: number;
  /** Images. */
  n: number;
  /** Cores the mapping uses (of 64). */
  cores: number;
  /** Copies of each weight layer, in mapping order (1: none; MapOptions.replicas). */
  replicas: number[];
  /** The chip's seed, as a decimal string (a bigint in the options). */
  seed: string;
  /** Mean top-1 accuracy over the runs, in [0, 1]; accuracyStd its sample std (0 for one run). */
  accuracy: number;
  /** Sample standard deviation of the runs' accuracies (0 for one run). */
  accuracyStd: number;
  /** Inference runs on the one programmed chip (independent read noise), ≥ 1. */
  runs: number;
  /** Top-1 accuracy of each run, in [0, 1]. */
  accuracies: number[];
  /** The float model's top-1 accuracy (onnxruntime). */
  floatAccuracy: number;
  /** Fraction of images whose top-1 class on the chip is the float model's, in [0, 1] (mean over runs). */
  agreement: number;
  /** ‖y_chip − y_float‖₂ / ‖y_float‖₂ over all outputs of all images (mean over runs). */
  outputError: number;
  /** `agreement` of each run (present when `runs` is above 1). */
  agreements?: number[];
  /** `outputError` of each run (present when `runs` is above 1). */
  outputErrors?: number[];
  /** SHA-256 chain over every INT8 output (RunTally). */
  digest: string;
  /** What was read and the transform applied: file format, dtype, shape, layout, input scale, mean, std. */
  input: Pick<TestSet["info"], "format" | "dtype" | "shape" | "layout" | "inputScale" | "mean" | "std">;
  /** The cost model's latency (µs) and energy (µJ) per image, 4-phase reads. */
  cost: { latencyUs: number; energyUj: number };
}

/** The figures of a finished run (`r`: RunTally.result()) as `run --model --json` prints them, and the per-layer cost. */
export function modelRunDoc(
  p: PreparedModelRun, r: ReturnType<RunTally["result"]>, o: { seed: bigint; scheme: Scheme; fidelity: Fidelity; t: number; runs: number },
): { doc: ModelRunDoc; cost: NetworkCost } {
  const { accuracies, agreements, outputErrors, digest } = r;
  const runs = o.runs;
  const floatAccuracy = accuracyOf(p.float.outputs, p.set.labels);
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const accuracy = mean(accuracies);
  const accuracyStd = runs > 1 ? Math.sqrt(accuracies.reduce((a, b) => a + (b - accuracy) ** 2, 0) / (runs - 1)) : 0;
  const cost = networkCost(p.net, p.mapping, "4-phase");
  const { format, dtype, shape, layout, inputScale, mean: m, std } = p.set.info;
  const doc: ModelRunDoc = {
    model: p.model, fidelity: o.fidelity, scheme: o.scheme, t: o.t, n: p.set.images.length, cores: p.mapping.cores, replicas: p.mapping.layers.map((l) => l.replicas), seed: o.seed.toString(),
    accuracy, accuracyStd, runs, accuracies, floatAccuracy,
    agreement: mean(agreements), outputError: mean(outputErrors),
    ...(runs > 1 ? { agreements, outputErrors } : {}),
    digest,
    input: { format, dtype, shape, layout, inputScale, mean: m, std },
    cost: { latencyUs: cost.latencyUs, energyUj: cost.energyUj },
  };
  return { doc, cost };
}
