// `hermes-sim drift --model M.onnx --images X --labels Y` for a sequence model (an ONNX model
// with an LSTM node): accuracy against time over N simulated chips (lib/study/drift-sequence.ts),
// with onnxruntime's float accuracy on the same sequences as the reference; the same JSON,
// report and text as a CNN's study (./drift-model.ts printModelDrift). Arguments are parsed
// and checked in ./drift.ts; the mapping is run --model's (./map-sequence.ts: copies of the
// weights by default).

import { sequenceAccuracy, sequenceFloatOutputs } from "../../network/sequence-data.ts";
import { progressBar } from "../../runtime/progress.ts";
import { withSignalHandling } from "../../runtime/signals.ts";
import { loadSequenceData, sequenceDriftStudy, SEQUENCE_ACCURACY_METRIC } from "../../study/drift-sequence.ts";
import { printModelDrift, type DriftModelCommandOptions } from "./drift-model.ts";
import { mapSequenceOrFail, sequenceReplicas } from "./map-sequence.ts";

export async function driftSequenceCommand(o: DriftModelCommandOptions, out: (s: string) => void): Promise<void> {
  const t0 = performance.now();
  const data = await loadSequenceData(o.files, o.limit, o.transform, (m) => mapSequenceOrFail(m, undefined));
  const { model, sequences, labels } = data;
  // The float reference first: a model onnxruntime cannot run fails before the chips' work.
  const floatAccuracy = sequenceAccuracy(await sequenceFloatOutputs(model, sequences), labels);
  const bar = progressBar("drift study: chips × times", o.json ? { json: true } : {});
  const r = await withSignalHandling(
    (signal) => sequenceDriftStudy({
      data, scheme: o.scheme, fidelity: o.fidelity, ...(o.fit ? { fit: o.fit } : {}),
      seed: o.seed, trials: o.trials, times: o.times, threads: o.threads, onProgress: bar.update, signal,
      ...(o.checkpoint ? { checkpoint: { path: o.checkpoint, resume: o.resume } } : {}),
    }),
    { what: "drift study" },
  ).finally(() => bar.done());
  const n = sequences.length;
  const predictions = n * (model.outputs === "all" ? model.steps : 1);
  printModelDrift(
    {
      r, files: o.files, cores: data.mapping.cores, n,
      what: `first ${n} sequence${n > 1 ? "s" : ""} of ${model.steps} steps${model.outputs === "all" ? ` (${predictions} predictions, one per step)` : ""}`,
      unit: "sequences", metric: SEQUENCE_ACCURACY_METRIC, floatAccuracy, floatReference: "onnxruntime (CPU, float32) on the same sequences",
      extra: { steps: model.steps, outputs: model.outputs, predictions, layers: model.layers.map((l) => l.hidden), replicas: sequenceReplicas(data.mapping) },
      scheme: o.scheme, fidelity: o.fidelity, threads: o.threads, t0,
      ...(o.checkpoint ? { checkpoint: o.checkpoint } : {}), ...(o.json ? { json: true } : {}), ...(o.out ? { out: o.out } : {}),
    },
    out,
  );
}
