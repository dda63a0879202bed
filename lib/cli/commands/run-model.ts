// `hermes-sim run --model M.onnx --images X --labels Y`: an ONNX classifier over a test set
// (.npy or IDX, see lib/network/test-set.ts): accuracy on the chip and in float (onnxruntime),
// how closely the chip's outputs follow the float model's (agreement, outputError) and a
// digest of every output, on this machine or (--queue) on the workers of a BullMQ queue
// (lib/study/queue/submit-run.ts), with the same figures: both take the chip's outputs into
// one RunTally (lib/study/model-run.ts).

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { FIDELITIES, type Fidelity } from "../../chip/config.ts";
import { parseScheme, type Scheme } from "../../chip/targets.ts";
import { parseTransformFlags } from "../../network/test-set.ts";
import { MODEL_REPLICAS } from "../../network/mapper.ts";
import { parseReplicas } from "../../network/replicas.ts";
import { modelRunReport } from "../../report/model-run.ts";
import { formatDuration, parseDuration } from "../../runtime/duration.ts";
import { defaultThreads } from "../../runtime/pool.ts";
import { progressBar } from "../../runtime/progress.ts";
import { withSignalHandling } from "../../runtime/signals.ts";
import { ArgumentError, oneOf, parseIntArg, parseThreadsArg } from "../../runtime/validate.ts";
import type { RunTally } from "../../study/model-run.ts";
import { chipModelRun, modelRunDoc, prepareModelInputs } from "../../study/model-run-local.ts";
import { onnxruntimeOutputs } from "../../network/onnx-float.ts";
import { Submission, modelRunOnQueue, queueTarget } from "../../study/queue/index.ts";
import { hostActivationsFlag, type ModelTestSetFlags } from "./model-flags.ts";

export interface RunModelOptions extends ModelTestSetFlags {
  replicas?: string;
  runs?: string;
  scheme: string;
  fidelity: string;
  time: string;
  threads?: string;
  json?: boolean;
  out?: string;
  queue?: string;
  tlsCa?: string;
  jobImages?: string;
  checkpoint?: string;
  resume?: boolean;
}

/** Images per queue job by default: a chunk of runNetwork's, about 2 s of ResNet-9 on one thread. */
export const JOB_IMAGES = 64;

const fileSha256 = (path: string): string => createHash("sha256").update(readFileSync(path)).digest("hex");

export async function runModelCommand(seed: bigint, opts: RunModelOptions, out: (s: string) => void): Promise<void> {
  if (!opts.images || !opts.labels) throw new ArgumentError(opts.images ? "--labels" : "--images", "given with --model (test images and labels: .npy or IDX, gzip or plain)", undefined);
  // Every flag is checked before any file is read or anything is written.
  const limit = opts.limit === undefined ? 100 : Number(opts.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new ArgumentError("--limit", "a positive integer (images to run)", opts.limit);
  const transform = parseTransformFlags(opts);
  const scheme = parseScheme(opts.scheme, "--scheme");
  const fidelity: Fidelity = oneOf(opts.fidelity, FIDELITIES, "--fidelity");
  const t = parseDuration(opts.time, "--time");
  const threads = opts.threads === undefined ? defaultThreads() : parseThreadsArg(opts.threads);
  const runs = opts.runs === undefined ? 1 : Number(opts.runs);
  if (!Number.isInteger(runs) || runs < 1 || runs > 100) throw new ArgumentError("--runs", "an integer in 1..100 (repeated inference runs)", opts.runs);
  if (opts.queue === undefined) {
    for (const [v, flag] of [[opts.tlsCa, "--tls-ca"], [opts.jobImages, "--job-images"], [opts.checkpoint, "--checkpoint"], [opts.resume, "--resume"]] as const) {
      if (v !== undefined) throw new ArgumentError(flag, "given only with --queue (a run on queue workers)", v);
    }
  }
  // Checked before any file is read: the URL, a --tls-ca file.
  const queue = opts.queue === undefined ? undefined : queueTarget({ queue: opts.queue, ...(opts.tlsCa !== undefined ? { tlsCa: opts.tlsCa } : {}) }).display;
  const jobImages = opts.jobImages === undefined ? JOB_IMAGES : parseIntArg(opts.jobImages, 1, 1_000_000, "--job-images");
  if (opts.resume && !opts.checkpoint) throw new ArgumentError("--resume", "given with --checkpoint FILE", true);
  const replicas = parseReplicas(opts.replicas ?? MODEL_REPLICAS, "--replicas");
  const hostActivations = hostActivationsFlag(opts, false);

  // Connect first: a wrong password or an unreachable server fails before any work.
  const submission = opts.queue === undefined ? undefined : await Submission.open({ queue: opts.queue, ...(opts.tlsCa !== undefined ? { tlsCa: opts.tlsCa } : {}) });
  try {
    await runModel(seed, opts, { limit, transform, scheme, fidelity, t, threads, runs, queue, jobImages, submission, replicas, hostActivations }, out);
  } finally {
    await submission?.close();
  }
}

interface Parsed {
  limit: number;
  transform: ReturnType<typeof parseTransformFlags>;
  scheme: Scheme;
  fidelity: Fidelity;
  t: number;
  threads: number;
  runs: number;
  queue: string | undefined;
  jobImages: number;
  submission: Submission | undefined;
  replicas: number | "auto";
  hostActivations: boolean;
}

async function runModel(seed: bigint, opts: RunModelOptions, p: Parsed, out: (s: string) => void): Promise<void> {
  const { limit, transform, scheme, fidelity, t, threads, runs, queue, jobImages, submission, replicas, hostActivations } = p;
  const t0 = performance.now();
  // The model (ModelTooLargeError first), the test set and the mapping: the steps the browser
  // playground (web/) takes too (lib/study/model-run-local.ts). Locally, the float reference
  // first: a model onnxruntime cannot run fails before the chip's work. On a queue, once the
  // jobs are queued, while the workers run them (onnxruntime-node runs on this thread: started
  // earlier, it would hold up the queueing); a failure stops the run and removes the jobs no
  // worker has started.
  const inputs = await prepareModelInputs(opts.model!, { images: opts.images!, labels: opts.labels!, limit, transform }, { replicas, hostActivations });
  const { net, head, set, mapping } = inputs;
  const { images, labels } = set;
  let floatP: ReturnType<typeof onnxruntimeOutputs> | undefined;
  const floatRun = () => (floatP ??= onnxruntimeOutputs(inputs.source, net.inputShape, images));
  if (!submission) await floatRun();
  const bar = progressBar(`run: images${runs > 1 ? ` × ${runs} runs` : ""}`, { json: opts.json });
  let r: ReturnType<RunTally["result"]>;
  if (submission) {
    const files = { model: opts.model!, images: opts.images!, labels: opts.labels! };
    r = await withSignalHandling(
      (signal) =>
        modelRunOnQueue({
          queue: opts.queue!, submission,
          files, sha256: { model: fileSha256(files.model), images: fileSha256(files.images), labels: fileSha256(files.labels) },
          net, head, mapping, images, labels, float: async () => (await floatRun()).outputs, info: set.info,
          seed, scheme, fidelity, replicas, hostActivations, t, runs, jobImages, signal, onProgress: bar.update,
          ...(opts.checkpoint ? { checkpoint: { path: opts.checkpoint, resume: opts.resume ?? false } } : {}),
          log: (line) => void process.stderr.write(`hermes-sim: ${line}\n`),
        }),
      { what: "run" },
    ).finally(() => bar.done());
  } else {
    try {
      r = (await chipModelRun({ ...inputs, float: await floatRun() }, { seed, scheme, fidelity, t, threads, runs, onProgress: bar.update })).result();
    } finally {
      bar.done();
    }
  }
  const { doc: figures, cost } = modelRunDoc({ ...inputs, float: await floatRun() }, r, { seed, scheme, fidelity, t, runs });
  const { accuracy, accuracyStd, floatAccuracy, digest } = figures;
  const doc = {
    ...figures,
    ...(queue ? { queue, jobImages, ...(opts.checkpoint ? { checkpoint: opts.checkpoint } : {}) } : {}),
    wallS: Number(((performance.now() - t0) / 1000).toFixed(2)),
  };
  const report = opts.out ? modelRunReport(opts.out, { ...doc, model: opts.model! }, formatDuration(t), mapping, cost) : undefined;
  if (opts.json) {
    out(JSON.stringify(doc) + "\n");
    return;
  }
  out(
    [
      ...(report ? [`report: ${report}`] : []),
      `${opts.model} on ${mapping.cores} cores (${fidelity}, ${scheme}, read ${formatDuration(t)} after programming), ${images.length} images${queue ? `, on the workers of ${queue}` : ""}:`,
      `  accuracy ${(100 * accuracy).toFixed(2)} %${runs > 1 ? ` ± ${(100 * accuracyStd).toFixed(2)} (std over ${runs} runs)` : ""} on the chip, ${(100 * floatAccuracy).toFixed(2)} % in float (onnxruntime)`,
      `  top-1 agreement with float ${(100 * doc.agreement).toFixed(2)} %; ‖chip − float‖ / ‖float‖ of the outputs ${doc.outputError.toFixed(4)}`,
      `  cost model: ${cost.latencyUs.toFixed(1)} µs, ${cost.energyUj.toFixed(1)} µJ per image (4-phase); ${doc.wallS} s of simulation; digest ${digest.slice(0, 16)}…`,
    ].join("\n") + "\n",
  );
}
