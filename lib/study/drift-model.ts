// Monte Carlo drift studies over a model (`hermes-sim drift --model`): N simulated chips,
// each with its own seed (lib/study/montecarlo.ts trialSeed), each mapped and programmed with an
// ONNX classifier (programNetwork), then read at every time on a fixed subset of a test set
// (runNetwork, no float64 reference); per time, the distribution over chips of the top-1
// accuracy. The study machinery (trial seeds, concurrency, JSONL checkpoint, resume,
// signals, statistics) is lib/study/montecarlo.ts's runStudy, as for the characterisation study.
//
// INT8 scales: computed once per study from the float64 activations of the first 16 images
// (run.ts calibrateScales) and used by every chip at every time: they depend on the model
// and those images only, never on the chip.
//
// The study hash (checkpoint header) covers the SHA-256 of the model, images and labels
// files, the image count, the input transform (scale; mean, std and layout when given), the
// scheme, the fidelity and the functional fit: resuming with another model or test set is
// refused, naming what differs.

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { Chip } from "../chip/chip.ts";
import { canonicalJson, sha256Hex, type JsonValue, type Metrics } from "./checkpoint.ts";
import type { Fidelity } from "../chip/config.ts";
import type { FunctionalFit } from "../chip/functional-fit.ts";
import { type Network } from "../network/graph.ts";
import { outputShape } from "../network/graph-shapes.ts";
import { loadTestSet, type InputTransform, type Layout, type TestSet } from "../network/test-set.ts";
import { assertFits } from "../network/needs.ts";
import { MODEL_REPLICAS, mapNetwork, type Mapping } from "../network/mapper.ts";
import { runStudy, type StudyResult } from "./montecarlo.ts";
import { readModel, type LowerOptions } from "../network/onnx.ts";
import { programNetwork } from "../network/run.ts";
import { CALIBRATION_IMAGES, countCorrect, inferImages, modelScales, outputScale } from "./model-run.ts";
import type { Scheme } from "../chip/targets.ts";
import type { StudyRunOptions } from "./drift-study.ts";
import { ArgumentError } from "../runtime/validate.ts";

/** What the `accuracy` metric is (in the JSON next to the series). */
export const ACCURACY_METRIC = "accuracy: fraction in [0, 1] of the test images whose largest output is their label (top-1)";

export { CALIBRATION_IMAGES };

/** A model and its test subset, loaded and checked once per study. */
export interface ModelData {
  /** The network (final activations dropped). */
  net: Network;
  /** Its mapping onto the chip's cores. */
  mapping: Mapping;
  /** The first `limit` images, transformed, each of the network's input shape. */
  images: Float32Array[];
  /** Their labels (class indices). */
  labels: Int32Array;
  /** Where the files were read from (output only: the hash uses their contents). */
  files: { model: string; images: string; labels: string };
  /** SHA-256 (hex) of each file's bytes. */
  sha256: { model: string; images: string; labels: string };
  /** Images used (the first `limit` of the set). */
  limit: number;
  /** The input scale used (given, or the default of the images' dtype). */
  inputScale: number;
  /** Normalisation and layout, when given (lib/network/test-set.ts). */
  mean?: number[];
  /** Per-channel standard deviation, when given. */
  std?: number[];
  /** Layout of the stored images, when given. */
  layout?: Layout;
  /** The transform with its defaults resolved (what queue workers are told). */
  input: Pick<TestSet["info"], "layout" | "inputScale" | "mean" | "std">;
  /** The model was read with LowerOptions.hostActivations (queue workers read it the same way). */
  hostActivations?: boolean;
}

/** What a model drift trial computes besides its seed and times. */
export interface ModelWorkload {
  /** The model and its test subset (`loadModelData`). */
  data: ModelData;
  /** Weight-programming scheme. */
  scheme: Scheme;
  /** Fidelity of the simulated chips. */
  fidelity: Fidelity;
  /** Functional fidelity: the fit (default lib/chip/functional-fit.json). */
  fit?: FunctionalFit;
}

/** `onProgress` counts (chip, time) readings done (including those found in the checkpoint)
 * out of trials × times. */
export interface ModelDriftStudyOptions extends ModelWorkload, StudyRunOptions {}

/** SHA-256 (hex) of a file; an unreadable file is an ArgumentError naming `flag`. */
export function fileSha256(path: string, flag: string): string {
  try {
    return createHash("sha256").update(readFileSync(path)).digest("hex");
  } catch (e) {
    throw new ArgumentError(flag, `a readable file (${(e as Error).message})`, path);
  }
}

/**
 * Load an ONNX model (CNN subset) and the first `limit` images (transformed: lib/network/test-set.ts) and labels of a test set (.npy or IDX).
 * @param limit - images to use, a positive integer
 * @throws {@link ArgumentError} on an unreadable file or a bad limit or transform (named by its CLI flag);
 *   {@link OnnxError} for a model the chip cannot run; {@link ModelTooLargeError} when it does not fit on 64 cores
 */
export async function loadModelData(
  files: { model: string; images: string; labels: string }, limit: number, transform: InputTransform = {}, lower: LowerOptions = {},
): Promise<ModelData> {
  if (!Number.isInteger(limit) || limit < 1) throw new ArgumentError("--limit", "a positive integer (test images per chip and time)", limit);
  if (transform.inputScale !== undefined && (!(transform.inputScale > 0) || !Number.isFinite(transform.inputScale))) {
    throw new ArgumentError("--input-scale", "a number > 0 (input = stored value × scale)", transform.inputScale);
  }
  const sha256 = { model: fileSha256(files.model, "--model"), images: fileSha256(files.images, "--images"), labels: fileSha256(files.labels, "--labels") };
  const net = (await readModel(files.model, undefined, lower)).net;
  assertFits(net, files.model);
  const classes = outputShape(net).reduce((a, b) => a * b, 1);
  const set = loadTestSet({ images: files.images, labels: files.labels, limit, classes, ...transform }, net.inputShape);
  return {
    net, mapping: mapNetwork(net, { replicas: MODEL_REPLICAS }), images: set.images, labels: set.labels, files, sha256, limit, inputScale: set.info.inputScale,
    input: { layout: set.info.layout, inputScale: set.info.inputScale, mean: set.info.mean, std: set.info.std },
    ...(lower.hostActivations ? { hostActivations: true } : {}),
    ...(transform.mean ? { mean: set.info.mean } : {}), ...(transform.std ? { std: set.info.std } : {}), ...(transform.layout ? { layout: set.info.layout } : {}),
  };
}

/** The study options recorded in the checkpoint header and the output (they feed the study hash). */
export function modelDriftOptions(w: ModelWorkload): JsonValue {
  const d = w.data;
  return {
    workload: "model",
    metric: ACCURACY_METRIC,
    model: { sha256: d.sha256.model, cores: d.mapping.cores },
    images: {
      sha256: d.sha256.images, count: d.images.length, limit: d.limit, inputScale: d.inputScale,
      ...(d.mean ? { mean: d.mean } : {}), ...(d.std ? { std: d.std } : {}), ...(d.layout ? { layout: d.layout } : {}),
    },
    labels: { sha256: d.sha256.labels },
    scales: `once per study, from the float64 activations of the first ${Math.min(CALIBRATION_IMAGES, d.images.length)} images`,
    scheme: w.scheme,
    fidelity: w.fidelity,
    ...(w.fit ? { fitSha256: sha256Hex(canonicalJson(w.fit, "fit")) } : {}),
  };
}

const SCALES = new WeakMap<object, Record<string, number>>();

/** The INT8 scales of a study (they depend on the model and the images only): computed
 * once from the float64 activations of the first CALIBRATION_IMAGES images. */
function scalesOf(d: ModelWorkload["data"]): Record<string, number> {
  let s = SCALES.get(d);
  if (!s) {
    s = modelScales(d.net, d.mapping, d.images);
    SCALES.set(d, s);
  }
  return s;
}

/** One simulated chip: map and program the model, then the accuracy on the subset at each of `times`. */
export async function modelDriftTrial(
  w: ModelWorkload, seed: bigint, times: number[], threads: number, signal?: AbortSignal, onTime?: (done: number) => void,
): Promise<Metrics[]> {
  // Let the event loop run between chips (signals, progress), even when all work is inline.
  await new Promise((r) => setImmediate(r));
  const { net, mapping, images, labels } = w.data;
  const chip = Chip.create({ seed, fidelity: w.fidelity });
  try {
    await programNetwork(chip, net, mapping, w.scheme, threads);
    const out: Metrics[] = [];
    const model = { net, mapping, scales: scalesOf(w.data) };
    for (const t of times) {
      signal?.throwIfAborted(); // a stop request: this chip is dropped, its times are not recorded
      // The function of a queue worker's infer job (lib/study/queue/worker-infer.ts), on all images.
      const v = await inferImages(chip, model, images, { t, threads, ...(w.fit ? { fit: w.fit } : {}) });
      out.push({ accuracy: countCorrect(v, labels, 0, outputScale(model)) / images.length });
      onTime?.(out.length);
      await new Promise((r) => setImmediate(r));
    }
    return out;
  } finally {
    chip.dispose();
  }
}

/**
 * A drift study of a model over a test set (`hermes-sim drift --model`): accuracy per chip and read time; as `driftStudy` for checkpoints and errors.
 * @throws {@link StudyAbortedError} on `signal`; {@link TrialError} when a chip fails; {@link CheckpointError}; {@link ArgumentError} on a bad option
 */
export async function modelDriftStudy(o: ModelDriftStudyOptions): Promise<StudyResult> {
  return perTimeStudy(o, modelDriftOptions(o), (seed, times, signal, onTime) => modelDriftTrial(o, seed, times, o.threads, signal, onTime));
}

/** A trial that reports each read time as it is done (`onTime(times done)`). */
export type PerTimeTrial = (seed: bigint, times: number[], signal: AbortSignal, onTime: (done: number) => void) => Promise<Metrics[]>;

/** runStudy for a workload whose chips read several times each: `threads` trials in flight
 * (as for the characterisation study, lib/study/drift-study.ts), progress in (chip, time)
 * readings: whole chips from runStudy plus the times done by chips in flight.
 * @param options - the workload's description (checkpoint header, study hash) */
export async function perTimeStudy(o: StudyRunOptions, options: JsonValue, trial: PerTimeTrial): Promise<StudyResult> {
  const perTrial = o.times.length;
  let chipsDone = 0;
  const inFlight = new Map<number, number>();
  const report = (): void => {
    let partial = 0;
    for (const v of inFlight.values()) partial += v;
    o.onProgress?.(chipsDone * perTrial + partial, o.trials * perTrial);
  };
  return runStudy({
    seed: o.seed,
    trials: o.trials,
    times: o.times,
    options,
    concurrency: o.threads,
    ...(o.checkpoint ? { checkpoint: o.checkpoint } : {}),
    onProgress: (done) => {
      chipsDone = done;
      report();
    },
    ...(o.signal ? { signal: o.signal } : {}),
    runTrial: async (index, seed, times, signal) => {
      try {
        return await trial(seed, times, signal, (k) => {
          if (k < times.length) inFlight.set(index, k); // the last time counts when runStudy reports the chip
          report();
        });
      } finally {
        inFlight.delete(index);
      }
    },
  });
}
