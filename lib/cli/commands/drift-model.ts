// `hermes-sim drift --model M.onnx --images X --labels Y`: accuracy against time over N
// simulated chips (lib/study/drift-model.ts), with the float accuracy of the same file on
// onnxruntime as the reference. Arguments are parsed and checked in ./drift.ts. The output
// (JSON, report folder, text) is printModelDrift's, shared with sequence models (./drift-sequence.ts).

import type { Fidelity } from "../../chip/config.ts";
import { loadModelData, modelDriftStudy, ACCURACY_METRIC } from "../../study/drift-model.ts";
import { formatDuration } from "../../runtime/duration.ts";
import type { FunctionalFit } from "../../chip/functional-fit.ts";
import type { SeriesPoint, StudyResult } from "../../study/montecarlo.ts";
import { onnxruntimeAccuracy } from "../../network/onnx-float.ts";
import type { InputTransform } from "../../network/test-set.ts";
import { progressBar } from "../../runtime/progress.ts";
import { writeReport } from "../../report/html.ts";
import { lineChart } from "../../report/svg.ts";
import { withSignalHandling } from "../../runtime/signals.ts";
import { Submission, modelDriftStudyOnQueue, parseQueueUrl } from "../../study/queue/index.ts";
import type { Scheme } from "../../chip/targets.ts";

export interface DriftModelCommandOptions {
  files: { model: string; images: string; labels: string };
  limit: number;
  /** Input scale, mean / std and layout (lib/network/test-set.ts); defaults when absent. */
  transform: InputTransform;
  /** Activations without a unit on the chip run on the host (LowerOptions.hostActivations). */
  hostActivations?: boolean;
  seed: bigint;
  trials: number;
  times: number[];
  scheme: Scheme;
  fidelity: Fidelity;
  fit?: FunctionalFit;
  threads: number;
  checkpoint?: string;
  resume: boolean;
  json?: boolean;
  out?: string;
  /** Run the chips × times on queue workers (lib/study/queue/submit-model.ts). */
  queue?: string;
  tlsCa?: string;
  jobImages?: number;
}

export async function driftModelCommand(o: DriftModelCommandOptions, out: (s: string) => void): Promise<void> {
  // Connect first: a wrong password or an unreachable server fails before any work.
  const submission = o.queue === undefined ? undefined : await Submission.open({ queue: o.queue, ...(o.tlsCa !== undefined ? { tlsCa: o.tlsCa } : {}) });
  try {
    await driftModel(o, submission, out);
  } finally {
    await submission?.close();
  }
}

async function driftModel(o: DriftModelCommandOptions, submission: Submission | undefined, out: (s: string) => void): Promise<void> {
  const t0 = performance.now();
  const data = await loadModelData(o.files, o.limit, o.transform, { hostActivations: o.hostActivations ?? false });
  // Locally, the float reference first (a model onnxruntime cannot run fails before the chips'
  // work); on a queue, once the jobs are queued, while the workers run them (onnxruntime-node
  // runs on this thread: started earlier, it would hold up the queueing).
  const floatFailed = new AbortController(); // a failed reference stops a queued study
  let floatP: Promise<number> | undefined;
  const floatRun = (): Promise<number> => {
    if (!floatP) {
      floatP = onnxruntimeAccuracy(o.files.model, data.net.inputShape, data.images, data.labels);
      floatP.catch((e: unknown) => floatFailed.abort(e));
    }
    return floatP;
  };
  if (!submission) await floatRun();
  const bar = progressBar("drift study: chips × times", o.json ? { json: true } : {});
  const queue = o.queue === undefined ? undefined : parseQueueUrl(o.queue).display;
  const r = await withSignalHandling(
    (signal) => {
      const study = {
        data, scheme: o.scheme, fidelity: o.fidelity, ...(o.fit ? { fit: o.fit } : {}),
        seed: o.seed, trials: o.trials, times: o.times, threads: o.threads, onProgress: bar.update,
        signal: submission ? AbortSignal.any([signal, floatFailed.signal]) : signal,
        ...(o.checkpoint ? { checkpoint: { path: o.checkpoint, resume: o.resume } } : {}),
      };
      return !submission
        ? modelDriftStudy(study)
        : modelDriftStudyOnQueue({
            ...study, queue: o.queue!, submission, ...(o.jobImages ? { jobImages: o.jobImages } : {}), onQueued: () => void floatRun(),
            log: (line) => void process.stderr.write(`hermes-sim: ${line}\n`),
          });
    },
    { what: "drift study" },
  )
    .catch((e: unknown) => {
      throw floatFailed.signal.aborted ? floatFailed.signal.reason : e;
    })
    .finally(() => bar.done());
  const floatAccuracy = await floatRun();
  printModelDrift(
    {
      r, files: o.files, cores: data.mapping.cores, n: data.images.length, what: `first ${data.images.length} images`, unit: "images",
      metric: ACCURACY_METRIC, floatAccuracy, floatReference: "onnxruntime (CPU, float32) on the same images",
      scheme: o.scheme, fidelity: o.fidelity, threads: o.threads, t0, ...(queue ? { queue } : {}),
      ...(o.checkpoint ? { checkpoint: o.checkpoint } : {}), ...(o.json ? { json: true } : {}), ...(o.out ? { out: o.out } : {}),
    },
    out,
  );
}

/** What `printModelDrift` prints: a finished model drift study (CNN or sequence model) and its context. */
export interface ModelDriftPrint {
  /** The finished study. */
  r: StudyResult;
  /** The files as given on the command line. */
  files: { model: string; images: string; labels: string };
  /** Cores of the mapping. */
  cores: number;
  /** Test items run on every chip at every time. */
  n: number;
  /** They, in words ("first 200 images", "first 200 sequences of 28 steps"). */
  what: string;
  /** "images" or "sequences" (the report's row). */
  unit: string;
  /** What the accuracy metric is (the JSON's `metrics.accuracy`). */
  metric: string;
  /** onnxruntime's accuracy on the same items, and how it was computed. */
  floatAccuracy: number;
  floatReference: string;
  /** Fields of the JSON document after `cores` (a sequence model's steps, predictions, copies). */
  extra?: Record<string, unknown>;
  /** Programming scheme, fidelity and threads of the study. */
  scheme: Scheme;
  fidelity: Fidelity;
  threads: number;
  /** performance.now() at the start (wall time). */
  t0: number;
  /** The queue's display URL when the chips ran on workers. */
  queue?: string;
  /** The checkpoint path, --json, and the report folder (--out). */
  checkpoint?: string;
  json?: boolean;
  out?: string;
}

/** The JSON document, report folder or text of a model drift study. */
export function printModelDrift(p: ModelDriftPrint, out: (s: string) => void): void {
  const { r, files } = p;
  const wallS = (performance.now() - p.t0) / 1000;
  const where = p.queue ? `on the workers of ${p.queue}` : `on ${p.threads} thread${p.threads === 1 ? "" : "s"}`;
  const doc = {
    seed: r.seed, threads: p.threads, trials: r.trials, times: r.times, options: r.options, studyHash: r.studyHash,
    model: files.model, images: files.images, labels: files.labels, n: p.n, cores: p.cores, ...p.extra,
    metrics: { accuracy: p.metric },
    floatAccuracy: p.floatAccuracy, floatReference: p.floatReference,
    series: r.series, digest: r.digest, ...(p.checkpoint ? { checkpoint: p.checkpoint } : {}), ...(p.queue ? { queue: p.queue } : {}), wallS: Number(wallS.toFixed(2)),
  };
  const last = r.times[r.times.length - 1]!;
  let report: string | undefined;
  if (p.out) {
    report = writeReport(
      p.out,
      `hermes-sim: accuracy against time over ${r.trials} simulated chips (${files.model}, ${p.scheme}, seed ${r.seed})`,
      [
        ["chips × read times", `${r.trials} × ${r.times.length}`],
        ["model", `${files.model} on ${p.cores} cores, ${p.fidelity}, ${p.scheme}`],
        [`test ${p.unit}`, `the ${p.what} of ${files.images}`],
        ["float accuracy (onnxruntime)", pct(p.floatAccuracy)],
        [`accuracy at ${formatDuration(r.times[0]!)} (mean ± std over chips)`, meanStd(point(r, r.times[0]!))],
        [`accuracy at ${formatDuration(last)} (mean ± std over chips)`, meanStd(point(r, last))],
        ["simulation wall time", `${wallS.toFixed(1)} s ${where}`],
      ],
      [{ file: "accuracy-bands", caption: "Accuracy over simulated chips: mean (solid), 5th–95th percentile (dashed), min and max (dashed grey), float reference (onnxruntime)", svg: accuracyFigure(r, p.floatAccuracy) }],
      doc,
    );
  }
  if (p.json) {
    out(JSON.stringify(doc) + "\n");
    return;
  }
  out(
    [
      `drift study: ${files.model} on ${r.trials} chips (${p.cores} cores each, ${p.scheme}, ${p.fidelity}), ${p.what}, ${wallS.toFixed(1)} s ${where}`,
      `  float accuracy (onnxruntime): ${pct(p.floatAccuracy)}`,
      `  time    accuracy (mean ± std)   p5–p95            min–max`,
      ...r.times.map((t) => {
        const q = point(r, t);
        return `  ${formatDuration(t).padEnd(6)}  ${meanStd(q).padEnd(22)}  ${`${pct(q.p05)}–${pct(q.p95)}`.padEnd(16)}  ${pct(q.min)}–${pct(q.max)}`;
      }),
      `  digest ${r.digest.slice(0, 16)}…${p.checkpoint ? `; checkpoint ${p.checkpoint}` : ""}`,
      ...(report ? [`report: ${report}`] : []),
    ].join("\n") + "\n",
  );
}

const pct = (v: number): string => `${(100 * v).toFixed(1)} %`;

function point(r: StudyResult, t: number): SeriesPoint {
  return r.series.find((p) => p.t === t && p.metric === "accuracy")!;
}

function meanStd(p: SeriesPoint): string {
  return `${(100 * p.mean).toFixed(1)} ± ${(100 * (p.std ?? 0)).toFixed(1)} %`;
}

function accuracyFigure(r: StudyResult, floatAccuracy: number): string {
  const pts = r.times.map((t) => point(r, t));
  const x = r.times;
  const blue = "#3a7bd5";
  const lo = Math.min(floatAccuracy, ...pts.map((p) => p.min));
  return lineChart(
    [
      { name: "float", x: [x[0]! / 2, x[x.length - 1]! * 2], y: [floatAccuracy, floatAccuracy], color: "#d9534f", dashed: true },
      { name: "min", x, y: pts.map((p) => p.min), color: "#999", dashed: true, opacity: 0.6 },
      { name: "max", x, y: pts.map((p) => p.max), color: "#999", dashed: true, opacity: 0.6 },
      { name: "p5", x, y: pts.map((p) => p.p05), color: blue, dashed: true, opacity: 0.7 },
      { name: "p95", x, y: pts.map((p) => p.p95), color: blue, dashed: true, opacity: 0.7 },
      { name: "mean", x, y: pts.map((p) => p.mean), color: blue, markers: true },
    ],
    {
      title: `Top-1 accuracy over ${r.trials} simulated chips against time`,
      xLabel: "time since programming (s)",
      yLabel: "accuracy",
      logX: true,
      yMin: Math.max(0, Math.floor((lo - 0.05) * 10) / 10),
      yMax: 1,
      legend: [
        { name: "mean over chips", color: blue },
        { name: "5th / 95th percentile", color: blue, dashed: true },
        { name: "min / max", color: "#999", dashed: true },
        { name: `float (onnxruntime) ${pct(floatAccuracy)}`, color: "#d9534f", dashed: true },
      ],
    },
  );
}
