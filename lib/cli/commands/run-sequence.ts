// `hermes-sim run --model M.onnx --images X.npy --labels Y.npy` for a sequence model (an ONNX
// model with an LSTM: lib/network/onnx-sequence.ts): sequences N × T × F (float; --input-scale,
// --mean, --std per feature as for images) or N × T (token ids), labels N (the head reads
// the last step) or N × T (every step), .npy or IDX (lib/network/sequence-data.ts); accuracy on
// the chip and in float (onnxruntime on the same file), top-1 agreement and output error of
// the chip against onnxruntime, cores, cost per sequence.

import { readFileSync } from "node:fs";
import { Chip } from "../../chip/chip.ts";
import { FIDELITIES, type Fidelity } from "../../chip/config.ts";
import { parseScheme } from "../../chip/targets.ts";
import { sequenceCost } from "../../cost/network.ts";
import { floorplanSvg } from "../../report/floorplan.ts";
import { writeReport } from "../../report/html.ts";
import { formatDuration, parseDuration } from "../../runtime/duration.ts";
import { defaultThreads } from "../../runtime/pool.ts";
import { ArgumentError, oneOf, parseThreadsArg } from "../../runtime/validate.ts";
import { hasLstmNode } from "../../network/onnx-sequence.ts";
import { loadSequenceTestSet, sequenceAccuracy, sequenceFloatOutputs } from "../../network/sequence-data.ts";
import { parseTransformFlags } from "../../network/test-set.ts";
import type { SequenceOutputs } from "../../network/sequence-model.ts";
import { mapSequenceOrFail, sequenceReplicas } from "./map-sequence.ts";
import { compareSequenceOutputs, programSequenceModel, runSequences, type SequenceScales } from "../../network/sequence-run.ts";
import { parseReplicas } from "../../network/replicas.ts";
import { MODEL_REPLICAS } from "../../network/mapper.ts";
import type { ModelTestSetFlags } from "./model-flags.ts";

export interface SequenceCommandOptions extends ModelTestSetFlags {
  runs?: string;
  scheme: string;
  fidelity: string;
  time: string;
  threads?: string;
  json?: boolean;
  out?: string;
  /** Copies of each matrix's weights (SequenceMapOptions.replicas; default "auto"). */
  replicas?: string;
}

/** Whether `path` is an ONNX model with an LSTM node (false when it cannot be read: the CNN path reports that). */
export function isSequenceModelFile(path: string): boolean {
  try {
    return hasLstmNode(readFileSync(path), path);
  } catch {
    return false;
  }
}

export async function runSequenceCommand(seed: bigint, opts: SequenceCommandOptions, out: (s: string) => void): Promise<void> {
  const path = opts.model!;
  if (!opts.images || !opts.labels) throw new ArgumentError("--images and --labels", ".npy files with a sequence --model (N × T × F or N × T token ids; labels N or N × T)", opts.images ?? opts.labels);
  const limit = opts.limit === undefined ? 100 : Number(opts.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new ArgumentError("--limit", "a positive integer (sequences to run)", opts.limit);
  const transform = parseTransformFlags(opts);
  const runs = opts.runs === undefined ? 1 : Number(opts.runs);
  if (!Number.isInteger(runs) || runs < 1 || runs > 100) throw new ArgumentError("--runs", "an integer in 1..100 (repeated inference runs)", opts.runs);
  const scheme = parseScheme(opts.scheme, "--scheme");
  const fidelity: Fidelity = oneOf(opts.fidelity, FIDELITIES, "--fidelity");
  const t = parseDuration(opts.time, "--time");
  const threads = opts.threads === undefined ? defaultThreads() : parseThreadsArg(opts.threads);
  parseReplicas(opts.replicas ?? MODEL_REPLICAS, "--replicas"); // a bad value before any work
  const t0 = performance.now();

  const { model, set } = await loadSequenceTestSet(readFileSync(path), path, { images: opts.images, labels: opts.labels, limit, ...transform });
  const perLabel = model.outputs === "all" ? model.steps : 1;
  const mapping = mapSequenceOrFail(model, opts.replicas);

  const chip = Chip.create({ seed, fidelity });
  try {
    await programSequenceModel(chip, mapping, model, scheme, threads);
    const accuracies: number[] = [];
    let scales: SequenceScales | undefined;
    let first: SequenceOutputs | undefined;
    for (let draw = 0; draw < runs; draw++) {
      const r = await runSequences(chip, model, mapping, set.sequences, { t, threads, draw, reference: false, ...(scales ? { scales } : {}) });
      scales = r.scales;
      first ??= r.outputs;
      accuracies.push(sequenceAccuracy(r.outputs, set.labels));
    }
    const float = await sequenceFloatOutputs(model, set.sequences);
    const { error: outputError, agreement } = compareSequenceOutputs(first!, float);
    const accuracy = accuracies.reduce((a, b) => a + b, 0) / runs;
    const accuracyStd = runs > 1 ? Math.sqrt(accuracies.reduce((a, b) => a + (b - accuracy) ** 2, 0) / (runs - 1)) : 0;
    const cost = sequenceCost(mapping, "4-phase", model.steps, model.outputs);
    const doc = {
      model: path, fidelity, scheme, t, n: set.sequences.length, steps: model.steps, outputs: model.outputs,
      predictions: set.sequences.length * perLabel, layers: model.layers.map((l) => l.hidden), cores: mapping.cores, gdpuSlices: mapping.gdpuSlices.length,
      replicas: sequenceReplicas(mapping),
      seed: seed.toString(), accuracy, accuracyStd, runs, accuracies, floatAccuracy: sequenceAccuracy(float, set.labels), agreement, outputError,
      cost: { latencyUs: cost.latencyUs, energyUj: cost.energyUj, latencyUsPerTimestep: cost.perTimestep.latencyUs, energyUjPerTimestep: cost.perTimestep.energyUj },
      wallS: Number(((performance.now() - t0) / 1000).toFixed(2)),
    };
    const pct = (v: number) => `${(100 * v).toFixed(2)} %`;
    const what = `${doc.n} sequence${doc.n > 1 ? "s" : ""} of ${model.steps} steps${model.outputs === "all" ? ` (${doc.predictions} predictions, one per step)` : ""}`;
    const report = opts.out
      ? writeReport(
          opts.out,
          `hermes-sim run: ${path} on the simulated chip (${fidelity}, ${scheme})`,
          [
            ["test set", `${what}, read ${formatDuration(t)} after programming`],
            ["accuracy on the chip / in float (onnxruntime)", `${pct(accuracy)}${runs > 1 ? ` ± ${pct(accuracyStd)} over ${runs} runs` : ""} / ${pct(doc.floatAccuracy)}`],
            ["top-1 agreement with onnxruntime; ‖chip − float‖ / ‖float‖", `${pct(agreement)}; ${outputError.toFixed(4)}`],
            ["LSTM layers (hidden sizes), cores, GDPU slices", `${doc.layers.join(", ")}; ${doc.cores} of 64; ${doc.gdpuSlices} of 8`],
            ["latency / energy per sequence (4-phase)", `${cost.latencyUs.toFixed(1)} µs / ${cost.energyUj.toFixed(2)} µJ`],
          ],
          [{ file: "floorplan", caption: "Each LSTM layer's gate tiles stacked per column, summed down into row 4's LDPUs (★), which feed the GDPU slices; the dense head below", svg: floorplanSvg(mapping) }],
          { ...doc, costLayers: cost.perTimestep.layers },
        )
      : undefined;
    if (opts.json) {
      out(JSON.stringify(doc) + "\n");
      return;
    }
    out(
      [
        ...(report ? [`report: ${report}`] : []),
        `${path}: ${model.layers.length} LSTM layer${model.layers.length > 1 ? "s" : ""} (${doc.layers.join(", ")}) on ${doc.cores} cores and ${doc.gdpuSlices} GDPU slice${doc.gdpuSlices > 1 ? "s" : ""} (${fidelity}, ${scheme}, read ${formatDuration(t)} after programming), ${what}:`,
        `  accuracy ${pct(accuracy)}${runs > 1 ? ` ± ${pct(accuracyStd)} (std over ${runs} runs)` : ""} on the chip, ${pct(doc.floatAccuracy)} in float (onnxruntime); agreement ${pct(agreement)}, output error ${outputError.toFixed(4)}`,
        `  cost model: ${cost.latencyUs.toFixed(1)} µs, ${cost.energyUj.toFixed(2)} µJ per sequence (4-phase); ${doc.wallS} s of simulation`,
      ].join("\n") + "\n",
    );
  } finally {
    chip.dispose();
  }
}
