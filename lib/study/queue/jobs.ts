// Jobs on the queue: names, protocol version, the two kinds of job data, ids, and the checks a
// worker makes before running anything (see lib/study/queue/index.ts).

import { readFileSync } from "node:fs";
import { UnrecoverableError } from "bullmq";
import { canonicalJson, sha256Hex } from "../checkpoint.ts";
import { FIDELITIES, type Fidelity } from "../../chip/config.ts";
import { packageFile } from "../../runtime/files.ts";
import { SCHEMES, type Scheme } from "../../chip/targets.ts";
import { LAYOUTS, type Layout } from "../../network/test-set.ts";

export { BLOB_PREFIX, KEEP_S } from "./blobs.ts";

export const QUEUE_NAME = "hermes-sim";
/** Version of the job format; a worker refuses jobs of another version. */
export const PROTOCOL = 2;
export const JOB_KINDS = ["drift-trial", "infer"] as const;
export type JobKind = (typeof JOB_KINDS)[number];

export const VERSION = (JSON.parse(readFileSync(packageFile("package.json"), "utf8")) as { version: string }).version;

interface JobBase {
  protocol: number;
  kind: JobKind;
  /** hermes-sim version of the submitter: a worker refuses another (results could differ). */
  hermesSim: string;
  /** For logs only (the study of the submitter). */
  studyHash: string;
}

/** One simulated chip of a characterisation drift study (`drift --queue`). */
export interface DriftJobData extends JobBase {
  kind: "drift-trial";
  seed: string;
  trial: number;
  times: number[];
  workload: { scheme: string; cores: number; inputs: number; phases: number; fidelity: string; fitHash?: string };
}

/** Images first..first + count − 1 of a test set through a model on one programmed chip at one
 * read point (`run --model --queue`, `drift --model --queue`); returns their INT8 outputs. */
export interface InferJobData extends JobBase {
  kind: "infer";
  /** SHA-256 of the ONNX file (a blob). */
  model: string;
  /** SHA-256 of the images file (a blob) and the transform (lib/network/test-set.ts), defaults resolved. */
  images: { sha256: string; layout: Layout; inputScale: number; mean: number[]; std: number[] };
  /** The chip: seed (decimal), programming scheme, fidelity, functional fit (a blob) if any. */
  chip: { seed: string; scheme: Scheme; fidelity: Fidelity; fitSha256?: string; replicas?: number | "auto"; hostActivations?: true };
  t: number;
  draw: number;
  /** INT8 scales per tensor (lib/study/model-run.ts modelScales, computed by the submitter). */
  scales: Record<string, number>;
  first: number;
  count: number;
}

export type JobData = DriftJobData | InferJobData;

/** What an infer job returns: the INT8 outputs of its images, concatenated, in base64. */
export interface InferResult {
  count: number;
  classes: number;
  outputs: string;
}

/** The part of every drift job id that names what the trial computes (everything except the trial index). */
export function jobKey(d: Omit<DriftJobData, "trial" | "studyHash" | "kind">): string {
  return sha256Hex(canonicalJson({ protocol: d.protocol, hermesSim: d.hermesSim, seed: d.seed, times: d.times, workload: d.workload })).slice(0, 40);
}

export const jobId = (key: string, trial: number): string => `drift-${key}-${trial}`;

/** The id of an infer job: a hash of what it computes, then its run and images. */
export function inferJobId(d: InferJobData): string {
  const { first, count, draw, studyHash: _, ...rest } = d;
  const key = sha256Hex(canonicalJson(rest)).slice(0, 40);
  return `infer-${key}-${draw}-${first}-${count}`;
}

/** A job a worker will not run (malformed, another version, a blob that does not match its
 * hash): failed at once, not retried; the worker logs one line and goes on. */
export class RefusedJob extends UnrecoverableError {
  constructor(message: string) {
    super(message);
    this.name = "RefusedJob";
  }
}

const SHA = /^[0-9a-f]{64}$/;
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isInt = (v: unknown, lo: number, hi: number): boolean => typeof v === "number" && Number.isInteger(v) && v >= lo && v <= hi;
const finite = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/** The job's data, checked: anything else is a RefusedJob naming what is wrong. */
export function checkJobData(d: unknown): JobData {
  if (!isObj(d)) throw new RefusedJob("job data is not an object");
  if (d["protocol"] !== PROTOCOL) {
    throw new RefusedJob(`job format ${canonicalJson(d["protocol"] ?? null).slice(0, 20)} is not this worker's (${PROTOCOL}): run the same hermes-sim version on every machine`);
  }
  if (d["hermesSim"] !== VERSION) {
    throw new RefusedJob(`the job was submitted by hermes-sim ${String(d["hermesSim"]).slice(0, 20)}, this worker runs ${VERSION}: run the same version on every machine`);
  }
  if (typeof d["studyHash"] !== "string" || !/^[0-9a-f]{1,64}$/.test(d["studyHash"])) throw new RefusedJob("malformed job: studyHash");
  const kind = d["kind"];
  if (kind === "drift-trial") return checkDrift(d);
  if (kind === "infer") return checkInfer(d);
  throw new RefusedJob(`unknown job kind ${JSON.stringify(String(kind)).slice(0, 40)} (this worker runs ${JOB_KINDS.join(", ")})`);
}

function checkDrift(d: Record<string, unknown>): DriftJobData {
  const w = d["workload"];
  const ok =
    typeof d["seed"] === "string" && /^\d{1,20}$/.test(d["seed"]) && isInt(d["trial"], 0, 0xffffff) &&
    Array.isArray(d["times"]) && d["times"].length > 0 && d["times"].every((t) => finite(t) && t >= 0) &&
    isObj(w) && (SCHEMES as readonly unknown[]).includes(w["scheme"]) && FIDELITIES.includes(w["fidelity"] as Fidelity) &&
    isInt(w["cores"], 1, 64) && isInt(w["inputs"], 1, 1 << 20) && (w["phases"] === 1 || w["phases"] === 4) &&
    (w["fitHash"] === undefined || (typeof w["fitHash"] === "string" && SHA.test(w["fitHash"])));
  if (!ok) throw new RefusedJob("malformed drift-trial job");
  return d as unknown as DriftJobData;
}

function checkInfer(d: Record<string, unknown>): InferJobData {
  const bad = (what: string): never => {
    throw new RefusedJob(`malformed infer job: ${what}`);
  };
  if (typeof d["model"] !== "string" || !SHA.test(d["model"])) bad("model must be a SHA-256");
  const im = d["images"];
  if (!isObj(im) || typeof im["sha256"] !== "string" || !SHA.test(im["sha256"])) bad("images.sha256 must be a SHA-256");
  const i = im as Record<string, unknown>;
  if (!(LAYOUTS as readonly unknown[]).includes(i["layout"])) bad("images.layout");
  if (!finite(i["inputScale"]) || !((i["inputScale"] as number) > 0)) bad("images.inputScale");
  for (const k of ["mean", "std"]) {
    const v = i[k];
    if (!Array.isArray(v) || v.length < 1 || v.length > 4096 || !v.every((x) => finite(x) && (k === "mean" || x > 0))) bad(`images.${k}`);
  }
  const c = d["chip"];
  if (!isObj(c) || typeof c["seed"] !== "string" || !/^\d{1,20}$/.test(c["seed"])) bad("chip.seed");
  const ch = c as Record<string, unknown>;
  if (!(SCHEMES as readonly unknown[]).includes(ch["scheme"])) bad("chip.scheme");
  if (!FIDELITIES.includes(ch["fidelity"] as Fidelity)) bad("chip.fidelity");
  if (ch["fitSha256"] !== undefined && (typeof ch["fitSha256"] !== "string" || !SHA.test(ch["fitSha256"]))) bad("chip.fitSha256");
  if (ch["replicas"] !== undefined && ch["replicas"] !== "auto" && !isInt(ch["replicas"], 1, 64)) bad("chip.replicas");
  if (ch["hostActivations"] !== undefined && ch["hostActivations"] !== true) bad("chip.hostActivations");
  if (!finite(d["t"]) || (d["t"] as number) < 0) bad("t");
  if (!isInt(d["draw"], 0, 0xffff)) bad("draw");
  if (!isInt(d["first"], 0, 0x7fffffff)) bad("first");
  if (!isInt(d["count"], 1, 1_000_000)) bad("count");
  const s = d["scales"];
  if (!isObj(s) || Object.keys(s).length > 100_000 || !Object.values(s).every((v) => finite(v) && v > 0)) bad("scales");
  return d as unknown as InferJobData;
}
