// `run --model --queue` (see lib/study/queue/index.ts): the inference runs over a test set cut
// into jobs of images × runs; their outputs are taken in order by the RunTally of a local run
// (lib/study/model-run.ts), so the figures and the digest are a local run's bit for bit.
//
// Checkpoint (lib/study/checkpoint.ts format): unit u = job u in order (run-major, then
// images); after unit u is taken, one record {trial: u, time: t, result: the tally's state}
// is appended, so the file is always an in-order prefix of the run and holds a few numbers
// per job, never outputs. --resume restores the tally from the last record (and the last
// record of every finished run) and queues only the jobs after it. Memory stays bounded: at
// most WINDOW job results are held at once.
//
// Order: the jobs are queued as soon as the model and images are in Redis, and only then is
// the float reference (onnxruntime, on the submitter) computed, so that workers start at
// once; a run that stops removes the jobs no worker has started (Submission.removeWaiting).

import { existsSync } from "node:fs";
import type { Fidelity } from "../../chip/config.ts";
import type { Scheme } from "../../chip/targets.ts";
import type { Network } from "../../network/graph.ts";
import type { Mapping } from "../../network/mapper.ts";
import type { HeadOp } from "../../network/onnx.ts";
import type { TestSet } from "../../network/test-set.ts";
import { openCheckpoint, studyHash, type Checkpoint, type JsonValue, type Study } from "../checkpoint.ts";
import { RunTally, modelScales, outputScale } from "../model-run.ts";
import { Submission } from "./collector.ts";
import { QueueError, type QueueAccess } from "./connection.ts";
import { QUEUE_NAME } from "./jobs.ts";
import { removeLeft } from "./submit.ts";
import { decodeInfer, imageRanges, inferSpec, uploadModelInputs, type InferBase } from "./submit-model.ts";

/** Job results held at most at once (the submitter takes them in order). */
const WINDOW = 64;

/** Options of `modelRunOnQueue` (`run --model --queue`): the model, its test images and float reference, the chip and read point, and the queue's Redis URL and access. */
export interface ModelRunQueueOptions extends QueueAccess {
  /** Paths of the model, images and labels files (uploaded to Redis once). */
  files: { model: string; images: string; labels: string };
  /** SHA-256 (hex) of each file's bytes. */
  sha256: { model: string; images: string; labels: string };
  /** The network. */
  net: Network;
  /** The model's final activations (applied to the chip's outputs before comparing with `float`). */
  head: readonly HeadOp[];
  /** Its mapping onto the chip's cores. */
  mapping: Mapping;
  /** The images, transformed, each of the network's input shape. */
  images: readonly Float32Array[];
  /** Their labels (class indices). */
  labels: ArrayLike<number>;
  /** The float model's outputs (onnxruntime), one per image; or a function computing them,
   * called once the jobs are queued, so that workers start at once (onnxruntime-node runs on
   * the submitter's main thread: started earlier, it would hold up the queueing). If it
   * rejects, the run stops with its error and the jobs not started are removed. */
  float: readonly ArrayLike<number>[] | (() => Promise<readonly ArrayLike<number>[]>);
  /** What was read of the test set and the transform applied (`TestSet.info`). */
  info: TestSet["info"];
  /** The chip's seed. */
  seed: bigint;
  /** Weight-programming scheme. */
  scheme: Scheme;
  /** Fidelity of the simulated chip. */
  fidelity: Fidelity;
  /** The copies of `mapping` (MapOptions.replicas; default MODEL_REPLICAS): workers map the model the same way. */
  replicas?: number | "auto";
  /** The model was read with LowerOptions.hostActivations: workers read it the same way. */
  hostActivations?: boolean;
  /** Read time, s since programming. */
  t: number;
  /** Runs over all images, each with its own read noise. */
  runs: number;
  /** Images per job. */
  jobImages: number;
  /** A JSONL checkpoint of the results taken; `resume` continues an interrupted run. */
  checkpoint?: { path: string; resume?: boolean };
  /** A submission opened by the caller (connecting first fails fast); closed by the caller.
   * @internal */
  submission?: Submission;
  /** Stops the run (an AbortError; the checkpoint is kept). */
  signal?: AbortSignal;
  /** Progress: images done (over all runs) out of images × runs. */
  onProgress?: (done: number, total: number) => void;
  /** Status lines (stderr). */
  log?: (line: string) => void;
}

/** The study a run's checkpoint belongs to (what the header records). */
export function runStudyOf(o: ModelRunQueueOptions, units: number): Study {
  const options: JsonValue = {
    workload: "run --model",
    model: { sha256: o.sha256.model },
    images: { sha256: o.sha256.images, count: o.images.length, layout: o.info.layout, inputScale: o.info.inputScale, mean: o.info.mean, std: o.info.std },
    labels: { sha256: o.sha256.labels },
    scheme: o.scheme, fidelity: o.fidelity, runs: o.runs, jobImages: o.jobImages, ...(o.replicas !== undefined && o.replicas !== "auto" ? { replicas: o.replicas } : {}),
  };
  return { seed: o.seed.toString(), trials: units, times: [o.t], options };
}

function stopped(done: number, total: number, path: string | undefined, reason: unknown): Error {
  const e = new Error(
    `run stopped with ${done} of ${total} jobs taken; ` +
      (path ? `checkpoint ${path} is kept: run again with the same settings and --resume to continue` : "no checkpoint was set (--checkpoint FILE makes a queued run resumable)"),
    { cause: reason },
  );
  e.name = "AbortError";
  return e;
}

/** `v`, or a rejection with the signal's reason as soon as it aborts. */
function untilAborted<T>(v: T | Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return Promise.resolve(v);
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    Promise.resolve(v).then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** The figures of `run --model` over the queue's workers; those of a local run (see the header).
 * Jobs are queued first, then the float reference is awaited, then results are taken in
 * order. If the run stops (abort, a failed job, a failed reference), the jobs no worker has
 * started are removed from the queue. Throws a QueueError (connection), an AbortError
 * (interrupted; the checkpoint is kept) or an Error naming the failed job. */
export async function modelRunOnQueue(o: ModelRunQueueOptions): Promise<ReturnType<RunTally["result"]>> {
  const n = o.images.length;
  const ranges = imageRanges(n, o.jobImages);
  const units = o.runs * ranges.length;
  const study = runStudyOf(o, units);
  const hash = studyHash(study);
  const scales = modelScales(o.net, o.mapping, o.images);
  const ckPath = o.checkpoint?.path;
  let ck: Checkpoint | undefined;
  let start = 0;
  if (o.checkpoint) {
    const resume = !!o.checkpoint.resume && existsSync(o.checkpoint.path);
    ck = openCheckpoint(o.checkpoint.path, study, { resume });
    while (ck.has(start, o.t)) start++;
  }
  const sub = o.submission ?? (await Submission.open(o).catch((e) => {
    ck?.close();
    throw e;
  }));
  const seed = o.seed.toString();
  let base: InferBase | undefined;
  const spec = (u: number) => {
    const r = ranges[u % ranges.length]!;
    return inferSpec(base!, hash, seed, o.t, Math.floor(u / ranges.length), r.first, r.count);
  };
  let taken = start;
  let queued = false;
  try {
    const up = await uploadModelInputs(sub, o.files, o.sha256, undefined);
    base = {
      model: up.model, images: { sha256: up.images, layout: o.info.layout, inputScale: o.info.inputScale, mean: o.info.mean, std: o.info.std },
      scheme: o.scheme, fidelity: o.fidelity, scales, ...(o.replicas !== undefined ? { replicas: o.replicas } : {}), ...(o.hostActivations ? { hostActivations: true } : {}),
    };
    queued = true;
    for (let u = start; u < units; u += 1000) await sub.add(Array.from({ length: Math.min(1000, units - u) }, (_, k) => spec(u + k)));
    o.log?.(
      `run ${hash.slice(0, 12)}: ${units - start} job${units - start === 1 ? "" : "s"} of up to ${o.jobImages} images on ${sub.target.display} (queue ${QUEUE_NAME})` +
        (start ? `, ${start} already in the checkpoint` : "") + (await sub.workersNote()),
    );
    const float = await untilAborted(typeof o.float === "function" ? o.float() : o.float, o.signal).catch((e: unknown) => {
      throw o.signal?.aborted ? stopped(start, units, ckPath, o.signal.reason) : e;
    });
    const tally = new RunTally(n, o.runs, o.labels, float, o.head, outputScale({ net: o.net, mapping: o.mapping, scales }));
    if (start > 0) {
      const perRun = ranges.length;
      const last = ck!.get(start - 1, o.t)!;
      const finished = Array.from({ length: last["draw"]! }, (_, d) => ck!.get((d + 1) * perRun - 1, o.t)!);
      tally.restore(last, finished);
    }
    o.onProgress?.(tally.done, n * o.runs);
    const waiting = new Map<number, Promise<unknown>>();
    const ask = (u: number): void => {
      if (u >= units || waiting.has(u)) return;
      const s = spec(u);
      const p = sub.wait(s.opts.jobId!, () => s, o.signal);
      p.catch(() => {}); // awaited in order below
      waiting.set(u, p);
    };
    for (let u = start; u < units; u++) {
      for (let k = u; k < u + WINDOW; k++) ask(k);
      const s = spec(u);
      let res: unknown;
      try {
        res = await waiting.get(u)!;
      } catch (e) {
        if (o.signal?.aborted) throw stopped(u, units, ckPath, o.signal.reason);
        const keep = ckPath ? `; results taken so far are kept in checkpoint ${ckPath} (run again with --resume to continue)` : "";
        if (e instanceof QueueError) throw new QueueError(`${e.message}${keep}`);
        const d = s.data as { first: number; count: number; draw: number };
        throw new Error(`job ${s.opts.jobId} (images ${d.first}..${d.first + d.count - 1} of run ${d.draw}) failed: ${(e as Error).message}${keep}`);
      }
      waiting.delete(u);
      const r = ranges[u % ranges.length]!;
      const draw = Math.floor(u / ranges.length);
      decodeInfer(res, s.opts.jobId!, r.count).forEach((v, i) => tally.add(draw, r.first + i, v));
      ck?.append(u, o.t, tally.state(draw));
      taken = u + 1;
      o.onProgress?.(tally.done, n * o.runs);
    }
    return tally.result();
  } catch (e) {
    // Stopped: jobs no worker has started would only keep workers busy for nobody.
    if (queued && taken < units && !(e instanceof QueueError)) {
      await removeLeft(sub, Array.from({ length: units - taken }, (_, k) => spec(taken + k)), `run ${hash.slice(0, 12)}`, o.log ?? (() => {}));
    }
    throw e;
  } finally {
    ck?.close();
    if (!o.submission) await sub.close();
  }
}
