// Monte Carlo drift studies over a sequence model (`hermes-sim drift --model` with an ONNX model
// that has an LSTM node, lib/network/onnx-sequence.ts): N simulated chips, each with its own
// seed (lib/study/montecarlo.ts trialSeed), each programmed with the model's mapping
// (lib/network/sequence-run.ts programSequenceModel), then read at every time on a fixed subset
// of a sequence test set (runSequences, no float64 reference); per time, the distribution over
// chips of the top-1 accuracy over every prediction (one per sequence, or one per step). The
// study machinery (trial seeds, concurrency, JSONL checkpoint, resume, signals, statistics,
// digest) is runStudy, through drift-model.ts's perTimeStudy as for CNNs.
//
// INT8 scales: computed once per study from the float64 reference of the first 16 sequences
// (the rule of runSequences' own calibration: sequenceScales of the ranges seen by
// sequenceForwardBatch) and used by every chip at every time.
//
// The study hash covers the SHA-256 of the model, sequences and labels files, the sequence
// count, the input transform when given, the mapping's cores and copies, the scheme, the
// fidelity and the functional fit.

import { readFileSync } from "node:fs";
import { Chip } from "../chip/chip.ts";
import type { Fidelity } from "../chip/config.ts";
import type { FunctionalFit } from "../chip/functional-fit.ts";
import type { Scheme } from "../chip/targets.ts";
import type { LstmMapping } from "../network/lstm-map.ts";
import { loadSequenceTestSet, sequenceAccuracy } from "../network/sequence-data.ts";
import { emptyRanges, sequenceForwardBatch, type SequenceModel } from "../network/sequence-model.ts";
import { mapSequenceModel, programSequenceModel, runSequences, sequenceScales, type SequenceScales } from "../network/sequence-run.ts";
import type { InputTransform } from "../network/test-set.ts";
import { ArgumentError } from "../runtime/validate.ts";
import { canonicalJson, sha256Hex, type JsonValue, type Metrics } from "./checkpoint.ts";
import { fileSha256, perTimeStudy } from "./drift-model.ts";
import type { StudyRunOptions } from "./drift-study.ts";
import type { StudyResult } from "./montecarlo.ts";

/** What the `accuracy` metric of a sequence model study is (in the JSON next to the series). */
export const SEQUENCE_ACCURACY_METRIC = "accuracy: fraction in [0, 1] of the predictions (one per sequence, or one per step when the model predicts at every step) whose largest output is their label (top-1)";

/** Sequences whose float64 reference sets the study's INT8 scales (runSequences' default). */
export const SEQUENCE_CALIBRATION = 16;

/** A sequence model and its test subset, loaded and checked once per study (`loadSequenceData`). */
export interface SequenceData {
  /** The model as the chip runs it. */
  model: SequenceModel;
  /** Its mapping onto the chip's cores (copies of the weights included). */
  mapping: LstmMapping;
  /** The first `limit` sequences, transformed: T × F floats or T token ids each. */
  sequences: Float32Array[];
  /** Their labels: one per sequence, or one per step. */
  labels: Int32Array[];
  /** Where the files were read from (output only: the hash uses their contents). */
  files: { model: string; images: string; labels: string };
  /** SHA-256 (hex) of each file's bytes. */
  sha256: { model: string; images: string; labels: string };
  /** Sequences asked for (the set may hold fewer). */
  limit: number;
  /** The input transform as given (defaults are the dtype's, fixed by the file's hash). */
  transform: InputTransform;
}

/** What a sequence model drift trial computes besides its seed and times. */
export interface SequenceWorkload {
  /** The model and its test subset (`loadSequenceData`). */
  data: SequenceData;
  /** Weight-programming scheme. */
  scheme: Scheme;
  /** Fidelity of the simulated chips. */
  fidelity: Fidelity;
  /** Functional fidelity: the fit (default lib/chip/functional-fit.json). */
  fit?: FunctionalFit;
}

/** Options of `sequenceDriftStudy`; `onProgress` counts (chip, time) readings out of trials × times. */
export interface SequenceDriftStudyOptions extends SequenceWorkload, StudyRunOptions {}

/**
 * Load a sequence model (ONNX with an LSTM node) and the first `limit` sequences and labels of its test set (.npy or IDX).
 * @param limit - sequences to use, a positive integer
 * @param map - its mapping (default: mapSequenceModel with copies "auto")
 * @throws {@link ArgumentError} on an unreadable file, a bad limit or a set that does not fit the model (named by its CLI flag);
 *   {@link OnnxError} for a model the chip cannot run; {@link MappingError} when it does not fit
 */
export async function loadSequenceData(
  files: { model: string; images: string; labels: string }, limit: number, transform: InputTransform = {},
  map: (m: SequenceModel) => LstmMapping = (m) => mapSequenceModel(m),
): Promise<SequenceData> {
  if (!Number.isInteger(limit) || limit < 1) throw new ArgumentError("--limit", "a positive integer (test sequences per chip and time)", limit);
  const sha256 = { model: fileSha256(files.model, "--model"), images: fileSha256(files.images, "--images"), labels: fileSha256(files.labels, "--labels") };
  const { model, set } = await loadSequenceTestSet(readFileSync(files.model), files.model, { images: files.images, labels: files.labels, limit, ...transform });
  return { model, mapping: map(model), sequences: set.sequences, labels: set.labels, files, sha256, limit, transform };
}

/** The study options recorded in the checkpoint header and the output (they feed the study hash). */
export function sequenceDriftOptions(w: SequenceWorkload): JsonValue {
  const d = w.data;
  const t = d.transform;
  return {
    workload: "sequence-model",
    metric: SEQUENCE_ACCURACY_METRIC,
    model: { sha256: d.sha256.model, cores: d.mapping.cores, replicas: d.mapping.layers.map((l) => l.replicas), columnCopies: d.mapping.layers.map((l) => l.columnCopies), rowScaled: d.mapping.layers.map((l) => l.rowScale !== undefined), steps: d.model.steps, outputs: d.model.outputs },
    sequences: {
      sha256: d.sha256.images, count: d.sequences.length, limit: d.limit,
      ...(t.inputScale !== undefined ? { inputScale: t.inputScale } : {}), ...(t.mean ? { mean: [...t.mean] } : {}), ...(t.std ? { std: [...t.std] } : {}),
    },
    labels: { sha256: d.sha256.labels },
    scales: `once per study, from the float64 reference of the first ${Math.min(SEQUENCE_CALIBRATION, d.sequences.length)} sequences`,
    scheme: w.scheme,
    fidelity: w.fidelity,
    ...(w.fit ? { fitSha256: sha256Hex(canonicalJson(w.fit, "fit")) } : {}),
  };
}

const SCALES = new WeakMap<SequenceData, SequenceScales>();

/**
 * The INT8 scales of a study (they depend on the model and the sequences only): from the
 * float64 reference of the first SEQUENCE_CALIBRATION sequences, as runSequences calibrates.
 */
export function sequenceStudyScales(d: SequenceData): SequenceScales {
  let s = SCALES.get(d);
  if (!s) {
    const ranges = emptyRanges(d.model);
    sequenceForwardBatch(d.model, d.sequences.slice(0, SEQUENCE_CALIBRATION), ranges);
    s = sequenceScales(ranges);
    SCALES.set(d, s);
  }
  return s;
}

/** One simulated chip: program the model, then the accuracy on the subset at each of `times`. */
export async function sequenceDriftTrial(
  w: SequenceWorkload, seed: bigint, times: number[], threads: number, signal?: AbortSignal, onTime?: (done: number) => void,
): Promise<Metrics[]> {
  // Let the event loop run between chips (signals, progress), even when all work is inline.
  await new Promise((r) => setImmediate(r));
  const { model, mapping, sequences, labels } = w.data;
  const scales = sequenceStudyScales(w.data);
  const chip = Chip.create({ seed, fidelity: w.fidelity });
  try {
    await programSequenceModel(chip, mapping, model, w.scheme, threads);
    const out: Metrics[] = [];
    for (const t of times) {
      signal?.throwIfAborted(); // a stop request: this chip is dropped, its times are not recorded
      const r = await runSequences(chip, model, mapping, sequences, { t, threads, reference: false, scales, ...(w.fit ? { fit: w.fit } : {}) });
      out.push({ accuracy: sequenceAccuracy(r.outputs, labels) });
      onTime?.(out.length);
      await new Promise((r) => setImmediate(r));
    }
    return out;
  } finally {
    chip.dispose();
  }
}

/**
 * A drift study of a sequence model over a test set: accuracy per chip and read time; as `modelDriftStudy` for checkpoints and errors.
 * @throws {@link StudyAbortedError} on `signal`; {@link TrialError} when a chip fails; {@link CheckpointError}; {@link ArgumentError} on a bad option
 */
export async function sequenceDriftStudy(o: SequenceDriftStudyOptions): Promise<StudyResult> {
  return perTimeStudy(o, sequenceDriftOptions(o), (seed, times, signal, onTime) => sequenceDriftTrial(o, seed, times, o.threads, signal, onTime));
}
