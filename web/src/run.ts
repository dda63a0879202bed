// A playground run: the page's settings parsed as the CLI parses its flags, then the very steps
// of `hermes-sim run --model` (lib/study/model-run-local.ts: loadChipModel, prepareModelRun,
// chipModelRun, modelRunDoc), so that the same seed and options give the same JSON as
// `hermes-sim run --model … --json` (identical `accuracy`, `floatAccuracy` and `digest`).

import { FIDELITIES, type Fidelity } from "../../lib/chip/config.ts";
import { parseScheme, type Scheme } from "../../lib/chip/targets.ts";
import { networkCost, type NetworkCost } from "../../lib/cost/network.ts";
import type { FileBytes, InputTransform } from "../../lib/network/test-set.ts";
import { parseTransformFlags } from "../../lib/network/test-set.ts";
import { parseDuration } from "../../lib/runtime/duration.ts";
import { ArgumentError, oneOf, parseSeedArg } from "../../lib/runtime/validate.ts";
import { chipModelRun, loadChipModel, modelRunDoc, prepareModelRun, type ChipModel, type ModelRunDoc, type PreparedModelRun } from "../../lib/study/model-run-local.ts";
import { countCorrect, inferImages, modelScales, outputScale, readAt } from "../../lib/study/model-run.ts";
import { Chip } from "../../lib/chip/chip.ts";
import { programNetwork } from "../../lib/network/run.ts";

/** The settings of a run as the page (or its URL) gives them: strings, parsed like the CLI's flags. */
export interface RunSettings {
  limit: string;
  scheme: string;
  fidelity: string;
  time: string;
  seed: string;
  inputScale?: string;
  mean?: string;
  std?: string;
}

/** Parsed settings. */
export interface ParsedSettings {
  limit: number;
  scheme: Scheme;
  fidelity: Fidelity;
  t: number;
  seed: bigint;
  transform: InputTransform;
}

const blank = (s: string | undefined): string | undefined => (s === undefined || s.trim() === "" ? undefined : s.trim());

/** Parse the settings; ArgumentError naming the field for a bad one. */
export function parseSettings(s: RunSettings): ParsedSettings {
  const limit = Number(s.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new ArgumentError("limit", "a positive integer (images to run)", s.limit);
  const transform = parseTransformFlags({
    ...(blank(s.inputScale) ? { inputScale: blank(s.inputScale)! } : {}),
    ...(blank(s.mean) ? { mean: blank(s.mean)! } : {}),
    ...(blank(s.std) ? { std: blank(s.std)! } : {}),
  });
  return {
    limit, transform,
    scheme: parseScheme(s.scheme, "scheme"),
    fidelity: oneOf(s.fidelity, FIDELITIES, "fidelity"),
    t: parseDuration(s.time, "time"),
    seed: parseSeedArg(s.seed, "seed"),
  };
}

/** A model loaded, checked and mapped, with its per-layer cost (4-phase reads). */
export interface LoadedModel extends ChipModel {
  cost: NetworkCost;
}

/** Read a model's bytes into the chip's view of it (ModelTooLargeError, OnnxError as loadChipModel). */
export async function loadModel(file: FileBytes): Promise<LoadedModel> {
  const m = await loadChipModel(file);
  return { ...m, cost: networkCost(m.net, m.mapping, "4-phase") };
}

/** What a run reports as it goes. */
export interface RunHooks {
  threads: number;
  signal?: AbortSignal;
  onStage?: (text: string) => void;
  onBatch?: (done: number, total: number, accuracy: number) => void;
}

/** Images per batch between two progress updates (and Stop checks) per Web Worker. */
export const BATCH_PER_THREAD = 32;

/** Run a loaded model over a test set: `run --model --json`'s document (plus wallS) and the prepared run. */
export async function runModel(
  model: LoadedModel, images: FileBytes, labels: FileBytes, p: ParsedSettings, h: RunHooks,
): Promise<{ doc: ModelRunDoc & { wallS: number }; prepared: PreparedModelRun }> {
  const t0 = performance.now();
  h.onStage?.("reading the test set and running the float model (onnxruntime-web)…");
  const prepared = await prepareModelRun(model, { images, labels, limit: p.limit, transform: p.transform });
  h.onStage?.(`programming ${model.mapping.cores} cores (${p.scheme}) and running ${prepared.set.images.length} images…`);
  const tally = await chipModelRun(prepared, {
    seed: p.seed, scheme: p.scheme, fidelity: p.fidelity, t: p.t, threads: h.threads, runs: 1,
    batch: BATCH_PER_THREAD * h.threads,
    ...(h.signal ? { signal: h.signal } : {}),
    ...(h.onBatch ? { onBatch: h.onBatch } : {}),
  });
  const { doc } = modelRunDoc(prepared, tally.result(), { seed: p.seed, scheme: p.scheme, fidelity: p.fidelity, t: p.t, runs: 1 });
  return { doc: { ...doc, wallS: Number(((performance.now() - t0) / 1000).toFixed(2)) }, prepared };
}

/** Read times of the accuracy-against-time sweep: 25 s to one month. */
export const SWEEP_TIMES = ["25", "1h", "1d", "1w", "1mo"] as const;

/** Accuracy of a prepared run's images read at each of `times` after one programming (same seed and scheme). */
export async function accuracyOverTime(
  prepared: PreparedModelRun, p: ParsedSettings, h: RunHooks & { onPoint?: (time: string, accuracy: number) => void },
): Promise<{ time: string; t: number; accuracy: number }[]> {
  const { images, labels } = prepared.set;
  const chip = Chip.create({ seed: p.seed, fidelity: p.fidelity });
  const out: { time: string; t: number; accuracy: number }[] = [];
  try {
    h.onStage?.(`programming ${prepared.mapping.cores} cores for the read-time sweep…`);
    await programNetwork(chip, prepared.net, prepared.mapping, p.scheme, h.threads);
    const model = { net: prepared.net, mapping: prepared.mapping, scales: modelScales(prepared.net, prepared.mapping, images) };
    for (const time of SWEEP_TIMES) {
      h.signal?.throwIfAborted();
      h.onStage?.(`reading at ${time} after programming…`);
      const t = parseDuration(time, "time");
      const at = readAt(chip, { t });
      try {
        const v = await inferImages(chip, model, images, { t, at, threads: h.threads });
        const accuracy = countCorrect(v, labels, 0, outputScale(model)) / images.length;
        out.push({ time, t, accuracy });
        h.onPoint?.(time, accuracy);
      } finally {
        at.dispose();
      }
    }
  } finally {
    chip.dispose();
  }
  return out;
}
