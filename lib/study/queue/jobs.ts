// Drift-study jobs on the queue: names, protocol version, job data, ids (see lib/study/queue/index.ts).

import { readFileSync } from "node:fs";
import { UnrecoverableError } from "bullmq";
import { canonicalJson, sha256Hex, studyHash } from "../checkpoint.ts";
import { FIDELITIES, type Fidelity } from "../../chip/config.ts";
import { packageFile } from "../../runtime/files.ts";

export const QUEUE_NAME = "hermes-sim-drift";
export const JOB_NAME = "drift-trial";
/** Version of the job format; a worker refuses jobs of another version. */
export const PROTOCOL = 1;

export const VERSION = (JSON.parse(readFileSync(packageFile("package.json"), "utf8")) as { version: string }).version;

// ---------------------------------------------------------------------------------------
// Jobs

export interface DriftJobData {
  protocol: number;
  /** hermes-sim version of the submitter: a worker refuses another (results could differ). */
  hermesSim: string;
  /** For logs only (the study of the submitter). */
  studyHash: string;
  seed: string;
  trial: number;
  times: number[];
  workload: { scheme: string; cores: number; inputs: number; phases: number; fidelity: string; fitHash?: string };
}

export const BLOB_PREFIX = "hermes-sim:blob:";
export const KEEP_S = 7 * 86_400;

/** The part of every job id that names what the trial computes (everything except the trial index). */
export function jobKey(d: Omit<DriftJobData, "trial" | "studyHash">): string {
  return sha256Hex(canonicalJson({ protocol: d.protocol, hermesSim: d.hermesSim, seed: d.seed, times: d.times, workload: d.workload })).slice(0, 40);
}

export const jobId = (key: string, trial: number): string => `drift-${key}-${trial}`;

export function checkJobData(d: unknown): DriftJobData {
  const j = d as DriftJobData;
  if (typeof j !== "object" || j === null || j.protocol !== PROTOCOL) {
    throw new UnrecoverableError(`job format ${String((j as { protocol?: unknown })?.protocol)} is not this worker's (${PROTOCOL}): run the same hermes-sim version on every machine`);
  }
  if (j.hermesSim !== VERSION) {
    throw new UnrecoverableError(`the study was submitted by hermes-sim ${j.hermesSim}, this worker runs ${VERSION}: run the same version on every machine`);
  }
  const w = j.workload;
  if (!/^\d{1,20}$/.test(String(j.seed)) || !Number.isInteger(j.trial) || j.trial < 0 || !Array.isArray(j.times) || typeof w !== "object" || !FIDELITIES.includes(w.fidelity as Fidelity)) {
    throw new UnrecoverableError("malformed drift-trial job");
  }
  return j;
}
