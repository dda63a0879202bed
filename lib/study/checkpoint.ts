// A JSONL checkpoint for Monte Carlo studies (lib/study/montecarlo.ts).
//
// Line 1, the header: {"kind":"hermes-sim-checkpoint","study":{...},"studyHash":"<hex>","version":1}
//   where study = { seed (decimal string), trials, times, options } and studyHash is the
//   SHA-256 of canonicalJson(study).
// Then one line per finished unit: {"result":{metric: number, ...},"time":t,"trial":i}.
//
// Every line is written in canonical JSON (keys sorted) followed by "\n". A record is
// appended with one write(2) of the whole line on an O_APPEND descriptor, then fsync, so a
// kill leaves at most one torn last line (no "\n"): on resume it is dropped and the file is
// truncated back to the last complete line, never parsed as data. Any other bad line is
// corruption and an error naming the file and line. Duplicate records of one (trial, time)
// are ignored after the first.

import { createHash } from "node:crypto";
import { closeSync, existsSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { ArgumentError, describe } from "../runtime/validate.ts";

export const CHECKPOINT_KIND = "hermes-sim-checkpoint";
export const CHECKPOINT_VERSION = 1;

/** A JSON value (what a study's `options` may be). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** What a study is: a checkpoint only resumes the very same study. */
export interface Study {
  /** The master seed as a decimal string (JSON has no 64-bit integers). */
  seed: string;
  /** Trials (\>= 1). */
  trials: number;
  /** Read times: distinct finite numbers. */
  times: number[];
  /** Everything else that changes results (workload, chip options, ...). */
  options: JsonValue;
}

/** Per (trial, time): metric name → value (finite numbers). */
export type Metrics = Record<string, number>;

/**
 * JSON with object keys sorted (by UTF-16 code units, recursively), no whitespace, numbers
 * as JSON.stringify writes them (shortest round-trip form; −0 is written 0). Object
 * properties that are undefined are left out, as JSON.stringify does. Non-finite numbers,
 * bigints, functions and symbols are errors: they have no faithful JSON form.
 */
export function canonicalJson(value: unknown, path = "value"): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "string":
      return JSON.stringify(value);
    case "number":
      if (!Number.isFinite(value)) throw new ArgumentError(path, "a finite number (JSON has no NaN or Infinity)", value);
      return JSON.stringify(value);
    case "object": {
      if (Array.isArray(value)) return `[${value.map((v, i) => canonicalJson(v, `${path}[${i}]`)).join(",")}]`;
      const obj = value as Record<string, unknown>;
      const parts: string[] = [];
      for (const k of Object.keys(obj).sort()) {
        if (obj[k] === undefined) continue;
        parts.push(`${JSON.stringify(k)}:${canonicalJson(obj[k], `${path}.${k}`)}`);
      }
      return `{${parts.join(",")}}`;
    }
    default:
      throw new ArgumentError(path, "a JSON value (null, boolean, finite number, string, array or object)", value);
  }
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** SHA-256 (hex) of the canonical JSON of a study: independent of key order. */
export function studyHash(study: Study): string {
  return sha256Hex(canonicalJson(study, "study"));
}

/** Paths where two JSON values differ (at most `max`), e.g. ["trials", "options.scheme"]. */
function diffPaths(a: unknown, b: unknown, path: string, out: string[], max = 5): void {
  if (out.length >= max) return;
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  if (isObj(a) && isObj(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      diffPaths(a[k], b[k], path ? `${path}.${k}` : k, out, max);
    }
  } else if (canonicalJsonOrNull(a) !== canonicalJsonOrNull(b)) {
    out.push(path || "(study)");
  }
}

function canonicalJsonOrNull(v: unknown): string | null {
  try {
    return v === undefined ? null : canonicalJson(v);
  } catch {
    return null;
  }
}

function short(v: unknown): string {
  const s = canonicalJsonOrNull(v) ?? "nothing";
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** A checkpoint file that cannot be used: of another study, corrupt, or existing without resume/overwrite. */
export class CheckpointError extends Error {
  constructor(
    /** The checkpoint file. */
    readonly path: string,
    message: string,
  ) {
    super(`checkpoint ${path}: ${message}`);
    this.name = "CheckpointError";
  }
}

/** Options of `openCheckpoint`. */
export interface OpenOptions {
  /** Continue the study recorded in an existing file (which must be the same study). */
  resume?: boolean;
  /** Without resume: replace an existing file instead of refusing. */
  overwrite?: boolean;
}

/** An open checkpoint (`openCheckpoint`): the records found in the file, and appending new ones. */
export interface Checkpoint {
  /** The file. */
  readonly path: string;
  /** The study it belongs to. */
  readonly study: Study;
  /** SHA-256 (hex) of the study's canonical JSON. */
  readonly studyHash: string;
  /** Number of distinct (trial, time) records. */
  readonly size: number;
  /** Records dropped on load: duplicates, and the torn last line (0 or 1). */
  readonly duplicates: number;
  /** Whether a torn last line (a write cut by a kill) was dropped on load. */
  readonly tornLineDropped: boolean;
  /** Whether the record of (trial, time) is present. */
  has(trial: number, time: number): boolean;
  /** The metrics recorded for (trial, time), or undefined. */
  get(trial: number, time: number): Metrics | undefined;
  /** Append one record (one write + fsync); a key already present is not written again. */
  append(trial: number, time: number, result: Metrics): void;
  /** Close the file (records already appended are on disk). */
  close(): void;
}

const key = (trial: number, time: number): string => `${trial}/${time}`;

/** A metrics object with sorted keys and finite values (−0 stored as 0), or an error. */
export function normalizeMetrics(result: unknown, argument: string): Metrics {
  if (typeof result !== "object" || result === null || Array.isArray(result)) {
    throw new ArgumentError(argument, "an object of metric name -> finite number", result);
  }
  const out: Metrics = {};
  for (const k of Object.keys(result).sort()) {
    const v = (result as Record<string, unknown>)[k];
    if (typeof v !== "number" || !Number.isFinite(v)) throw new ArgumentError(`${argument}.${k}`, "a finite number", v);
    out[k] = v === 0 ? 0 : v;
  }
  return out;
}

/** A study must be JSON and its trials/times usable as record keys. */
export function checkStudy(study: Study): void {
  if (typeof study !== "object" || study === null) throw new ArgumentError("study", "an object { seed, trials, times, options }", study);
  if (typeof study.seed !== "string" || !/^\d{1,20}$/.test(study.seed)) throw new ArgumentError("study.seed", "a decimal string", study.seed);
  if (!Number.isInteger(study.trials) || study.trials < 1) throw new ArgumentError("study.trials", "an integer >= 1", study.trials);
  if (!Array.isArray(study.times) || study.times.length === 0) throw new ArgumentError("study.times", "a non-empty array of numbers", study.times);
  study.times.forEach((t, i) => {
    if (typeof t !== "number" || !Number.isFinite(t)) throw new ArgumentError(`study.times[${i}]`, "a finite number", t);
  });
  if (new Set(study.times).size !== study.times.length) throw new ArgumentError("study.times", "distinct numbers", study.times);
  canonicalJson(study, "study");
}

function headerLine(study: Study, hash: string): string {
  return `${canonicalJson({ kind: CHECKPOINT_KIND, version: CHECKPOINT_VERSION, study, studyHash: hash })}\n`;
}

function writeAll(fd: number, line: string): void {
  const buf = Buffer.from(line, "utf8");
  let off = 0;
  // A regular file takes the whole buffer in one write; loop only as a safety net.
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
}

/**
 * Open (create, or with `resume` load) the checkpoint of `study` at `path`.
 * @throws {@link ArgumentError} on a bad path or study; {@link CheckpointError} when the file is
 *   of another study (naming what differs), corrupt, or exists without resume or overwrite
 */
export function openCheckpoint(path: string, study: Study, opts: OpenOptions = {}): Checkpoint {
  if (typeof path !== "string" || path === "") throw new ArgumentError("checkpoint path", "a non-empty string", path);
  checkStudy(study);
  const hash = studyHash(study);
  const records = new Map<string, Metrics>();
  let duplicates = 0;
  let torn = false;
  const timeSet = new Set(study.times);

  if (opts.resume && existsSync(path)) {
    const bytes = readFileSync(path);
    const end = bytes.lastIndexOf(0x0a) + 1; // bytes after the last "\n" are a torn line
    torn = end < bytes.length;
    const lines = bytes.subarray(0, end).toString("utf8").split("\n");
    lines.pop(); // "" after the final "\n"
    if (lines.length === 0) throw new CheckpointError(path, "has no complete header line (killed while being created?); delete it or run without resume");
    let header: { kind?: unknown; version?: unknown; study?: unknown; studyHash?: unknown };
    try {
      header = JSON.parse(lines[0]!);
    } catch {
      throw new CheckpointError(path, "line 1 is not JSON; this is not a hermes-sim checkpoint");
    }
    if (header?.kind !== CHECKPOINT_KIND) throw new CheckpointError(path, `line 1 has kind ${short(header?.kind)}, not "${CHECKPOINT_KIND}"`);
    if (header.version !== CHECKPOINT_VERSION) throw new CheckpointError(path, `has version ${short(header.version)}; this build reads version ${CHECKPOINT_VERSION}`);
    if (header.studyHash !== hash) {
      const diffs: string[] = [];
      diffPaths(header.study, study, "", diffs);
      const what = diffs.map((p) => {
        const get = (o: unknown): unknown => p.split(".").reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], o);
        return `${p} is ${short(get(header.study))} there, ${short(get(study))} here`;
      });
      throw new CheckpointError(
        path,
        `was written for a different study (${what.length ? what.join("; ") : "study hash differs"}); ` +
          `use the same settings to resume, or another path (or overwrite) to start afresh`,
      );
    }
    for (let i = 1; i < lines.length; i++) {
      const where = `line ${i + 1}`;
      let rec: { trial?: unknown; time?: unknown; result?: unknown };
      try {
        rec = JSON.parse(lines[i]!);
      } catch {
        throw new CheckpointError(path, `${where} is not JSON (a complete line, so the file is corrupt, not just torn)`);
      }
      const { trial, time } = rec ?? {};
      if (typeof trial !== "number" || !Number.isInteger(trial) || trial < 0 || trial >= study.trials) {
        throw new CheckpointError(path, `${where}: trial must be an integer in 0..${study.trials - 1}, got ${describe(trial)}`);
      }
      if (typeof time !== "number" || !timeSet.has(time)) throw new CheckpointError(path, `${where}: time ${describe(time)} is not one of the study's times`);
      let result: Metrics;
      try {
        result = normalizeMetrics(rec.result, "result");
      } catch (e) {
        throw new CheckpointError(path, `${where}: ${(e as Error).message}`);
      }
      const k = key(trial, time);
      if (records.has(k)) duplicates++;
      else records.set(k, result);
    }
  } else if (existsSync(path) && !opts.overwrite) {
    throw new CheckpointError(path, "already exists; resume it, choose another path, or allow overwrite");
  }

  let fd: number;
  if (opts.resume && existsSync(path)) {
    fd = openSync(path, "r+");
    if (torn) {
      const size = readFileSync(path).lastIndexOf(0x0a) + 1;
      ftruncateSync(fd, size); // appends must start on a fresh line
      fsyncSync(fd);
    }
    closeSync(fd);
  } else {
    // Header to a temporary file, fsync, rename: the file appears complete or not at all.
    mkdirSync(dirname(path), { recursive: true });
    const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
    const t = openSync(tmp, "w");
    try {
      writeAll(t, headerLine(study, hash));
      fsyncSync(t);
    } finally {
      closeSync(t);
    }
    renameSync(tmp, path);
  }
  fd = openSync(path, "a");
  let open = true;

  return {
    path,
    study,
    studyHash: hash,
    get size() {
      return records.size;
    },
    duplicates,
    tornLineDropped: torn,
    has: (trial, time) => records.has(key(trial, time)),
    get: (trial, time) => records.get(key(trial, time)),
    append(trial, time, result) {
      if (!open) throw new CheckpointError(path, "is closed");
      if (!Number.isInteger(trial) || trial < 0 || trial >= study.trials) throw new ArgumentError("trial", `an integer in 0..${study.trials - 1}`, trial);
      if (!timeSet.has(time)) throw new ArgumentError("time", "one of the study's times", time);
      const k = key(trial, time);
      if (records.has(k)) return;
      const metrics = normalizeMetrics(result, `result of trial ${trial} at t = ${time}`);
      writeAll(fd, `${canonicalJson({ trial, time, result: metrics })}\n`);
      fsyncSync(fd);
      records.set(k, metrics);
    },
    close() {
      if (open) closeSync(fd);
      open = false;
    },
  };
}
