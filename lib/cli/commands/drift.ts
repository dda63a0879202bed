// `hermes-sim drift`: a Monte Carlo drift study over simulated chips: the characterisation
// workload (lib/study/drift-study.ts), or with --model an ONNX classifier on a test set
// (lib/study/drift-model.ts, the command's output in ./drift-model.ts), or an ONNX sequence
// (LSTM) model on a sequence test set (lib/study/drift-sequence.ts, ./drift-sequence.ts).

import { join } from "node:path";
import { FIDELITIES, type Fidelity } from "../../chip/config.ts";
import { DEFAULT_TIMES } from "../../study/characterize.ts";
import { driftStudy } from "../../study/drift-study.ts";
import { driftModelCommand } from "./drift-model.ts";
import { driftSequenceCommand } from "./drift-sequence.ts";
import { isSequenceModelFile } from "./run-sequence.ts";
import { formatDuration, parseDurations } from "../../runtime/duration.ts";
import { loadFit } from "../../chip/functional-fit.ts";
import type { SeriesPoint, StudyResult } from "../../study/montecarlo.ts";
import { defaultThreads } from "../../runtime/pool.ts";
import { progressBar } from "../../runtime/progress.ts";
import { driftStudyOnQueue, queueTarget } from "../../study/queue/index.ts";
import { parsePhases } from "../../chip/readout.ts";
import { writeReport } from "../../report/html.ts";
import { lineChart, type Series } from "../../report/svg.ts";
import { withSignalHandling } from "../../runtime/signals.ts";
import { parseScheme } from "../../chip/targets.ts";
import { parseTransformFlags } from "../../network/test-set.ts";
import { ArgumentError, oneOf, parseIntArg, parseSeedArg, parseThreadsArg } from "../../runtime/validate.ts";
import { hostActivationsFlag, type ModelTestSetFlags } from "./model-flags.ts";

/** `drift` flags; with --model (ModelTestSetFlags) a model study (lib/study/drift-model.ts) instead of the characterisation workload. */
export interface DriftCommandOptions extends ModelTestSetFlags {
  /** Simulated chips (default 8); --chips is the same option. */
  trials?: string;
  chips?: string;
  times?: string;
  scheme: string;
  /** Characterisation workload only (defaults 8, 1024, 4). */
  cores?: string;
  inputs?: string;
  phases?: string;
  fidelity: string;
  fit?: string;
  seed: string;
  threads?: string;
  checkpoint?: string;
  resume?: boolean;
  json?: boolean;
  out?: string;
  /** redis://HOST:PORT: run the trials on `hermes-sim worker`s (lib/study/queue/index.ts). */
  queue?: string;
  tlsCa?: string;
  /** With --model and --queue: images per job (default all). */
  jobImages?: string;
}

/** Options of one workload only: given with the other, they are usage errors. */
const CHARACTERISATION_ONLY = [["cores", "--cores"], ["inputs", "--inputs"], ["phases", "--phases"]] as const;
const MODEL_ONLY = [
  ["images", "--images"], ["labels", "--labels"], ["limit", "--limit"], ["inputScale", "--input-scale"], ["mean", "--mean"], ["std", "--std"], ["layout", "--layout"],
] as const;

export async function driftCommand(opts: DriftCommandOptions, out: (s: string) => void): Promise<void> {
  if (opts.model !== undefined) {
    for (const [k, flag] of CHARACTERISATION_ONLY) {
      if (opts[k] !== undefined) throw new ArgumentError(flag, "left out with --model (it sets the characterisation workload, which a model study does not run)", opts[k]);
    }
    if (opts.images === undefined || opts.labels === undefined) {
      throw new ArgumentError(opts.images === undefined ? "--images" : "--labels", "given with --model (test images and labels: .npy or IDX, gzip or plain)", undefined);
    }
  } else {
    for (const [k, flag] of MODEL_ONLY) {
      if (opts[k] !== undefined) throw new ArgumentError(flag, "given only with --model (an ONNX model to study)", opts[k]);
    }
    if (opts.jobImages !== undefined) throw new ArgumentError("--job-images", "given only with --model and --queue", opts.jobImages);
  }
  if (opts.queue === undefined) {
    if (opts.tlsCa !== undefined) throw new ArgumentError("--tls-ca", "given only with --queue (a rediss:// URL)", opts.tlsCa);
    if (opts.jobImages !== undefined) throw new ArgumentError("--job-images", "given only with --queue", opts.jobImages);
  }
  // A sequence (LSTM) model's study runs locally only: refused before connecting to a queue.
  const sequence = opts.model !== undefined && isSequenceModelFile(opts.model);
  if (sequence && opts.queue !== undefined) throw new RangeError(`--queue is not supported for sequence models yet: ${opts.model} has an LSTM node; leave --queue out to run its drift study locally`);
  const hostActivations = hostActivationsFlag(opts, sequence);
  // Checked before any file is read: the URL, a --tls-ca file.
  const queue = opts.queue === undefined ? undefined : queueTarget({ queue: opts.queue, ...(opts.tlsCa !== undefined ? { tlsCa: opts.tlsCa } : {}) }).display;
  if (opts.trials !== undefined && opts.chips !== undefined) throw new ArgumentError("--chips", "left out when --trials is given (they are the same option)", opts.chips);
  const seed = parseSeedArg(opts.seed, "--seed");
  const trials = parseIntArg(opts.chips ?? opts.trials ?? "8", 1, 1 << 20, opts.chips !== undefined ? "--chips" : "--trials");
  const times = opts.times ? parseDurations(opts.times, "--times") : DEFAULT_TIMES;
  const scheme = parseScheme(opts.scheme, "--scheme");
  const fidelity: Fidelity = oneOf(opts.fidelity, FIDELITIES, "--fidelity");
  const fit = opts.fit ? loadFit(opts.fit) : undefined;
  const threads = opts.threads === undefined ? defaultThreads() : parseThreadsArg(opts.threads);
  const path = opts.checkpoint ?? (opts.out ? join(opts.out, "checkpoint.jsonl") : undefined);
  if (opts.resume && !path) throw new ArgumentError("--resume", "a checkpoint (--checkpoint FILE or --out DIR)", true);
  if (opts.model !== undefined) {
    const limit = opts.limit === undefined ? 100 : parseIntArg(opts.limit, 1, 1_000_000, "--limit");
    const transform = parseTransformFlags(opts);
    const jobImages = opts.jobImages === undefined ? undefined : parseIntArg(opts.jobImages, 1, 1_000_000, "--job-images");
    return (sequence ? driftSequenceCommand : driftModelCommand)(
      {
        files: { model: opts.model, images: opts.images!, labels: opts.labels! }, limit, transform, ...(hostActivations ? { hostActivations } : {}),
        seed, trials, times, scheme, fidelity, threads, ...(fit ? { fit } : {}),
        ...(path ? { checkpoint: path } : {}), resume: opts.resume ?? false,
        ...(opts.json ? { json: true } : {}), ...(opts.out ? { out: opts.out } : {}),
        ...(opts.queue !== undefined ? { queue: opts.queue, ...(opts.tlsCa !== undefined ? { tlsCa: opts.tlsCa } : {}), ...(jobImages ? { jobImages } : {}) } : {}),
      },
      out,
    );
  }
  const cores = parseIntArg(opts.cores ?? "8", 1, 64, "--cores");
  const inputs = parseIntArg(opts.inputs ?? "1024", 256, 65536, "--inputs");
  const phases = parsePhases(opts.phases ?? "4", "--phases");
  const t0 = performance.now();
  const bar = progressBar("drift study: chips", { json: opts.json });
  const r = await withSignalHandling(
    (signal) => {
      const study = {
        seed, trials, times, scheme, cores, inputs, phases, fidelity, threads, signal, onProgress: bar.update,
        ...(fit ? { fit } : {}),
        ...(path ? { checkpoint: { path, resume: opts.resume ?? false } } : {}),
      };
      return opts.queue === undefined
        ? driftStudy(study)
        : driftStudyOnQueue({ ...study, queue: opts.queue, ...(opts.tlsCa !== undefined ? { tlsCa: opts.tlsCa } : {}), log: (line) => void process.stderr.write(`hermes-sim: ${line}\n`) });
    },
    { what: "drift study" },
  ).finally(() => bar.done());
  const where = queue ? `on the workers of ${queue}` : `on ${threads} thread${threads === 1 ? "" : "s"}`;
  const wallS = (performance.now() - t0) / 1000;
  const doc = {
    seed: r.seed, threads, trials: r.trials, times: r.times, options: r.options, studyHash: r.studyHash,
    series: r.series, digest: r.digest, ...(path ? { checkpoint: path } : {}), ...(queue ? { queue } : {}), wallS: Number(wallS.toFixed(2)),
  };
  let report: string | undefined;
  if (opts.out) {
    report = writeReport(
      opts.out,
      `hermes-sim: drift study over ${r.trials} simulated chips (${scheme}, seed ${r.seed})`,
      [
        ["chips × read times", `${r.trials} × ${r.times.length}`],
        ["workload", `${cores} cores × ${inputs} inputs, ${phases}-phase, ${fidelity}`],
        ["ε_total at the last time (mean ± std)", meanStd(r, r.times[r.times.length - 1]!, "total")],
        ["the same without drift compensation", meanStd(r, r.times[r.times.length - 1]!, "totalNoCompensation")],
        ["simulation wall time", `${wallS.toFixed(1)} s ${where}`],
      ],
      [{ file: "drift-bands", caption: "Mean (solid) and 5th–95th percentile band (dashed) over simulated chips", svg: bandsFigure(r) }],
      doc,
    );
  }
  if (opts.json) {
    out(JSON.stringify(doc) + "\n");
    return;
  }
  out(
    [
      `drift study: ${r.trials} chips, scheme ${scheme}, ${cores} cores × ${inputs} inputs, ${fidelity}, ${wallS.toFixed(1)} s ${where}`,
      `  time    ε_total (mean ± std, p5–p95)          without compensation`,
      ...r.times.map((t) => {
        const a = point(r, t, "total");
        const b = point(r, t, "totalNoCompensation");
        return `  ${formatDuration(t).padEnd(6)}  ${a.mean.toFixed(4)} ± ${(a.std ?? 0).toFixed(4)} (${a.p05.toFixed(4)}–${a.p95.toFixed(4)})   ${b.mean.toFixed(4)} ± ${(b.std ?? 0).toFixed(4)}`;
      }),
      `  digest ${r.digest.slice(0, 16)}…${path ? `; checkpoint ${path}` : ""}`,
      ...(report ? [`report: ${report}`] : []),
    ].join("\n") + "\n",
  );
}

function point(r: StudyResult, t: number, metric: string): SeriesPoint {
  return r.series.find((p) => p.t === t && p.metric === metric)!;
}

function meanStd(r: StudyResult, t: number, metric: string): string {
  const p = point(r, t, metric);
  return `${p.mean.toFixed(4)} ± ${(p.std ?? 0).toFixed(4)}`;
}

function bandsFigure(r: StudyResult): string {
  const series: Series[] = [];
  const colors: Record<string, string> = { total: "#3a7bd5", linear: "#5cb85c", residual: "#f0ad4e", totalNoCompensation: "#999" };
  for (const m of ["total", "linear", "residual", "totalNoCompensation"]) {
    const pts = r.times.map((t) => point(r, t, m));
    const c = colors[m]!;
    series.push({ name: `ε_${m}`, x: r.times, y: pts.map((p) => p.mean), color: c, markers: true });
    series.push({ name: `ε_${m} p5`, x: r.times, y: pts.map((p) => p.p05), color: c, dashed: true, opacity: 0.6 });
    series.push({ name: `ε_${m} p95`, x: r.times, y: pts.map((p) => p.p95), color: c, dashed: true, opacity: 0.6 });
  }
  return lineChart(series, {
    title: `Normalised MVM errors over ${r.trials} simulated chips against time`,
    xLabel: "time since programming (s)",
    yLabel: "‖ε‖₂ / ‖y_fp‖₂",
    logX: true,
    yMin: 0,
    yMax: 1.6 * Math.max(...r.series.filter((p) => p.metric === "totalNoCompensation").map((p) => p.p95)),
    legend: [
      { name: "ε_total (compensated)", color: colors["total"]! },
      { name: "ε_linear", color: colors["linear"]! },
      { name: "ε_residual", color: colors["residual"]! },
      { name: "ε_total without compensation", color: colors["totalNoCompensation"]! },
      { name: "5th / 95th percentile over chips", color: "#555", dashed: true },
    ],
  });
}
