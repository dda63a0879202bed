// Model inference on the queue (see lib/study/queue/index.ts): `drift --model --queue` (jobs of
// chips × read times, results handed to runStudy) and the shared set-up of model jobs; the
// `run --model --queue` submitter is ./submit-run.ts.

import { readFileSync } from "node:fs";
import type { FunctionalFit } from "../../chip/functional-fit.ts";
import type { Scheme } from "../../chip/targets.ts";
import type { Fidelity } from "../../chip/config.ts";
import { canonicalJson, studyHash, type Metrics, type Study } from "../checkpoint.ts";
import { modelDriftOptions, type ModelDriftStudyOptions } from "../drift-model.ts";
import { runStudy, trialSeed, type RunTrial, type StudyResult } from "../montecarlo.ts";
import { countCorrect, modelScales, outputScale } from "../model-run.ts";
import { ArgumentError } from "../../runtime/validate.ts";
import { putBlob, sha256Bytes } from "./blobs.ts";
import { MODEL_REPLICAS } from "../../network/mapper.ts";
import { Submission, jobSpec, type JobSpec } from "./collector.ts";
import { PROTOCOL, QUEUE_NAME, VERSION, inferJobId, type InferJobData, type InferResult } from "./jobs.ts";
import { QueueError, type QueueAccess } from "./connection.ts";
import { queueStudyError, removeLeft, trialsDone } from "./submit.ts";

/** What every infer job of one submission shares, besides the chip seed, time, draw and images. */
export interface InferBase {
  model: string;
  images: InferJobData["images"];
  scheme: Scheme;
  fidelity: Fidelity;
  fitSha256?: string;
  /** The mapping's copies (MapOptions.replicas), when not MODEL_REPLICAS (the workers' default). */
  replicas?: number | "auto";
  /** The model is read with LowerOptions.hostActivations (workers read it the same way). */
  hostActivations?: boolean;
  scales: Record<string, number>;
}

/** Upload the model and images files (and the fit) once, checked against the hashes the study recorded. */
export async function uploadModelInputs(
  sub: Submission,
  files: { model: string; images: string },
  sha256: { model: string; images: string },
  fit: FunctionalFit | undefined,
): Promise<{ model: string; images: string; fitSha256?: string }> {
  const put = async (path: string, flag: string, want: string): Promise<string> => {
    const bytes = readFileSync(path);
    if (sha256Bytes(bytes) !== want) throw new ArgumentError(flag, "a file that does not change during the run", `${path} (its SHA-256 changed)`);
    return putBlob(sub.client, bytes);
  };
  const model = await put(files.model, "--model", sha256.model);
  const images = await put(files.images, "--images", sha256.images);
  const fitSha256 = fit ? await putBlob(sub.client, Buffer.from(JSON.stringify(fit))) : undefined;
  return { model, images, ...(fitSha256 ? { fitSha256 } : {}) };
}

/** An infer job of the submission `base`. */
export function inferSpec(base: InferBase, hash: string, seed: string, t: number, draw: number, first: number, count: number): JobSpec {
  const data: InferJobData = {
    protocol: PROTOCOL, kind: "infer", hermesSim: VERSION, studyHash: hash,
    model: base.model, images: base.images,
    chip: { seed, scheme: base.scheme, fidelity: base.fidelity, ...(base.fitSha256 ? { fitSha256: base.fitSha256 } : {}), ...(base.replicas !== undefined && base.replicas !== MODEL_REPLICAS ? { replicas: base.replicas } : {}),
      ...(base.hostActivations ? { hostActivations: true as const } : {}) },
    t, draw, scales: base.scales, first, count,
  };
  return jobSpec(inferJobId(data), data);
}

/** The INT8 outputs of a completed infer job, checked against what was asked. */
export function decodeInfer(r: unknown, id: string, count: number): Int8Array[] {
  const v = r as InferResult;
  const bytes = typeof v?.outputs === "string" ? Buffer.from(v.outputs, "base64") : undefined;
  if (!bytes || v.count !== count || !Number.isInteger(v.classes) || v.classes < 1 || bytes.length !== count * v.classes) {
    throw new Error(`job ${id} returned a malformed result (${canonicalJson(v?.count ?? null)} images, ${bytes?.length ?? 0} bytes)`);
  }
  const i8 = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  return Array.from({ length: count }, (_, i) => i8.slice(i * v.classes, (i + 1) * v.classes));
}

/** Image ranges [first, first + count) of n images in jobs of at most `size`. */
export function imageRanges(n: number, size: number): { first: number; count: number }[] {
  const out: { first: number; count: number }[] = [];
  for (let first = 0; first < n; first += size) out.push({ first, count: Math.min(size, n - first) });
  return out;
}

/** Options of `modelDriftStudyOnQueue`: a model drift study plus the queue's Redis URL and access. */
export interface ModelDriftQueueOptions extends ModelDriftStudyOptions, QueueAccess {
  /** Images per job (default: all, i.e. one job per chip and read time). */
  jobImages?: number;
  /** A submission opened by the caller (connecting first fails fast); closed by the caller.
   * @internal */
  submission?: Submission;
  /** Status lines (stderr). */
  log?: (line: string) => void;
  /** Called once every job is queued (the caller may then start its own work, e.g. the float reference). */
  onQueued?: () => void;
}

/** `drift --model` on the workers of the queue: the same StudyResult as modelDriftStudy.
 * @throws {@link QueueError} on a connection failure; otherwise as `modelDriftStudy` */
export async function modelDriftStudyOnQueue(o: ModelDriftQueueOptions): Promise<StudyResult> {
  const log = o.log ?? (() => {});
  const d = o.data;
  const n = d.images.length;
  const study: Study = { seed: o.seed.toString(), trials: o.trials, times: [...o.times], options: modelDriftOptions(o) };
  const hash = studyHash(study);
  const done = trialsDone(study, o.checkpoint);
  const scales = modelScales(d.net, d.mapping, d.images);
  const scale = outputScale({ net: d.net, mapping: d.mapping, scales });
  const ranges = imageRanges(n, o.jobImages ?? n);

  const sub = o.submission ?? (await Submission.open(o));
  try {
    const up = await uploadModelInputs(sub, d.files, d.sha256, o.fit);
    const base: InferBase = {
      model: up.model, images: { sha256: up.images, ...d.input },
      scheme: o.scheme, fidelity: o.fidelity, scales, ...(up.fitSha256 ? { fitSha256: up.fitSha256 } : {}), ...(d.hostActivations ? { hostActivations: true } : {}),
    };
    const specs = (trial: number): JobSpec[] =>
      o.times.flatMap((t) => ranges.map((r) => inferSpec(base, hash, trialSeed(o.seed, trial).toString(), t, 0, r.first, r.count)));
    const pending: number[] = [];
    for (let i = 0; i < o.trials; i++) if (!done.has(i)) pending.push(i);
    for (let i = 0; i < pending.length; i += 100) await sub.add(pending.slice(i, i + 100).flatMap(specs));
    log(
      `drift study ${hash.slice(0, 12)}: ${pending.length} chip${pending.length === 1 ? "" : "s"} × ${o.times.length} read time${o.times.length === 1 ? "" : "s"}` +
        ` in ${pending.length * o.times.length * ranges.length} jobs on ${sub.target.display} (queue ${QUEUE_NAME})` +
        (done.size ? `, ${done.size} chips already in the checkpoint` : "") + (await sub.workersNote()),
    );
    o.onQueued?.();

    // Progress in (chip, time) readings, as for a local run.
    const per = o.times.length;
    let chipsDone = 0;
    const partial = new Map<number, number>();
    const report = (): void => {
      let p = 0;
      for (const v of partial.values()) p += v;
      o.onProgress?.(chipsDone * per + p, o.trials * per);
    };
    const runTrial: RunTrial = async (trial, _seed, times, signal) => {
      const all = specs(trial);
      const out: Metrics[] = [];
      try {
        for (let j = 0; j < times.length; j++) {
          const waits = ranges.map((r, k) => {
            const spec = all[j * ranges.length + k]!;
            const id = spec.opts.jobId!;
            return sub.wait(id, () => spec, signal).then((res) => countCorrect(decodeInfer(res, id, r.count), d.labels, r.first, scale));
          });
          waits.forEach((p) => p.catch(() => {}));
          let correct = 0;
          for (const p of waits) correct += await p;
          out.push({ accuracy: correct / n });
          if (j + 1 < times.length) partial.set(trial, j + 1);
          report();
        }
        return out;
      } finally {
        partial.delete(trial);
      }
    };
    try {
      return await runStudy({
        seed: o.seed, trials: o.trials, times: o.times, options: study.options,
        concurrency: Math.min(256, o.trials), runTrial,
        onProgress: (k) => {
          chipsDone = k;
          report();
        },
        ...(o.checkpoint ? { checkpoint: o.checkpoint } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
      });
    } catch (e) {
      const err = queueStudyError(e, o.checkpoint);
      if (!(err instanceof QueueError)) await removeLeft(sub, pending.flatMap(specs), `drift study ${hash.slice(0, 12)}`, log);
      throw err;
    }
  } finally {
    if (!o.submission) await sub.close();
  }
}
