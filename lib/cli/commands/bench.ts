// `hermes-sim bench`: run the benchmark suites (bench/*.bench.ts, each in its own process
// so one suite's garbage and JIT state do not skew the next), collect their JSON, print a
// summary, and with --check compare against a committed baseline (the regression guard).
// Speeds are judged as ratios against references measured in the same run, never as absolute
// times. The guard's ratios are to the project's own references (its f32 SIMD kernel, a
// plain-JS loop, one thread vs two): wasm and V8 scale together from machine to machine. The
// ratio to numpy's float32 product is reported with the core OpenBLAS chose, not guarded: it
// moved from 0.89 to 0.30–0.56 between two 2-core CI machines with the same code (our
// kernel 57 → 15–17 GMAC/s, numpy 52–64 → 30–51; docs/performance.md).

import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { writeFileAtomic } from "../../runtime/atomic.ts";
import { ArgumentError } from "../../runtime/validate.ts";
import { packageFile } from "../../runtime/files.ts";

export const SUITES = ["mvm", "pipeline", "program", "characterize", "networks"] as const;
const BENCH_DIR = fileURLToPath(packageFile("bench/"));

export interface BenchCommandOptions {
  quick?: boolean;
  json?: boolean;
  suites?: string;
  check?: string;
  writeBaseline?: string;
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function runSuite(name: string, quick: boolean): Json {
  const r = spawnSync(process.execPath, ["--import", "tsx", `${BENCH_DIR}${name}.bench.ts`, ...(quick ? ["--quick"] : [])], {
    encoding: "utf8",
    cwd: fileURLToPath(packageFile("./")),
  });
  if (r.status !== 0) throw new Error(`bench suite ${name} failed (exit ${r.status}): ${(r.stderr || r.stdout).trim().split("\n").slice(-3).join(" | ")}`);
  return JSON.parse(readFileSync(`${BENCH_DIR}results/${name}.json`, "utf8")) as Json;
}

/** The summary document: the issue's fields plus accuracy figures deterministic for a seed. */
export function summarise(r: Record<string, Json>): Json {
  const m = r["mvm"];
  const p = r["pipeline"];
  const g = r["program"];
  const c = r["characterize"];
  return {
    ...(m && {
      mvm: {
        gmacs: m["gmacs"]["i16Batch1024"],
        gmacsPacked: m["gmacs"]["i16PackedBatch1024"],
        ratioToNumpy: m["ratios"]["i16ToNumpy"],
        ratioToF32: m["ratios"]["i16ToF32"],
        ratioToPlainJs: m["ratios"]["i16ToPlainJsBatch1"],
        numpyBlasCore: m["numpyBlasCore"] ?? null,
      },
    }),
    ...(p && { pipelinePhysical: p["pipelinePhysical"], pipelineFunctional: p["pipelineFunctional"] }),
    ...(g && { programTdp64: { seconds: g["programTdp64"]["seconds"], ratioToOneUniformPerDevice: g["ratioTdpToOneUniformPerDevice"] } }),
    threads2Speedup: {
      ...(p && { batchMvm: p["threads2Speedup"]["speedup"] }),
      ...(g && { programTdp64: g["programTdp64Threads2"]["speedup"] }),
      ...(c && { characterize: c["characterize"]["speedup"], monteCarlo: c["monteCarlo"]["speedup"] }),
      ...(r["networks"] && { resnet9: r["networks"]["resnet9"]["threads2Speedup"] }),
    },
    ...(c && { monteCarlo: { trialsPerS: c["monteCarlo"]["trialsPerS2"] } }),
    ...(r["networks"] && {
      resnet9: {
        imagesPerS: r["networks"]["resnet9"]["imagesPerS"]["physicalThreads2"],
        imagesPerSFunctional: r["networks"]["resnet9"]["imagesPerS"]["functionalThreads2"],
        ratioToFloat: r["networks"]["resnet9"]["ratioToFloat"],
        ratioToOnnxruntime: r["networks"]["resnet9"]["ratioToOnnxruntime"],
      },
      lstm: { timestepsPerS: r["networks"]["lstm"]["timestepsPerS"]["physical"], ratioToFloat: r["networks"]["lstm"]["ratioToFloat"] },
    }),
    ...((c || r["networks"]) && { accuracy: { ...(c?.["accuracy"] ?? {}), ...(r["networks"]?.["accuracy"] ?? {}) } }),
    machine: (m ?? p ?? g ?? c)?.["machine"],
    date: new Date().toISOString(),
  };
}

export interface BaselineEntry {
  /** Dotted path into the summary, e.g. "mvm.ratioToNumpy". */
  path: string;
  value: number;
  /** Fails when the measured value is below value × (1 − tolerance) ("higher is better"),
   * or differs by more than `absolute` for exact figures. */
  tolerance?: number;
  absolute?: number;
}

function at(doc: Json, path: string): unknown {
  return path.split(".").reduce<unknown>((o, k) => (o && typeof o === "object" ? (o as Json)[k] : undefined), doc);
}

/** The failed checks, each one line. A figure that is null (its reference, e.g. numpy, is
 * absent on this machine) is skipped with a note in `skipped`. */
export function checkBaseline(summary: Json, entries: BaselineEntry[], skipped: string[] = []): string[] {
  const fails: string[] = [];
  for (const e of entries) {
    const v = at(summary, e.path);
    if (v === null) {
      skipped.push(`${e.path}: not measured here (its reference is absent)`);
      continue;
    }
    if (typeof v !== "number") {
      fails.push(`${e.path}: not measured (baseline ${e.value})`);
      continue;
    }
    if (e.absolute !== undefined && Math.abs(v - e.value) > e.absolute) {
      fails.push(`${e.path}: ${v} differs from the baseline ${e.value} by more than ${e.absolute}`);
    }
    if (e.tolerance !== undefined && v < e.value * (1 - e.tolerance)) {
      fails.push(`${e.path}: ${v.toFixed(3)} is more than ${(100 * e.tolerance).toFixed(0)} % below the baseline ${e.value}`);
    }
  }
  return fails;
}

export function benchCommand(opts: BenchCommandOptions, out: (s: string) => void): number {
  const names = opts.suites ? opts.suites.split(",").map((s) => s.trim()) : [...SUITES];
  for (const n of names) {
    if (!(SUITES as readonly string[]).includes(n)) throw new ArgumentError("--suites", `a comma-separated list of ${SUITES.join(", ")}`, opts.suites);
  }
  if (!existsSync(BENCH_DIR)) throw new Error("hermes-sim bench runs the suites of a checkout of the repository (bench/, tsx): they are not part of the installed package");
  const results: Record<string, Json> = {};
  for (const n of names) {
    if (!opts.json) process.stderr.write(`bench: ${n}${opts.quick ? " (quick)" : ""} …\n`);
    results[n] = runSuite(n, !!opts.quick);
  }
  let summary = summarise(results);
  let fails: string[] = [];
  const skipped: string[] = [];
  const notes: string[] = [];
  if (opts.check) {
    const base = JSON.parse(readFileSync(opts.check, "utf8")) as { entries: BaselineEntry[] };
    const entries = base.entries.filter((e) => names.some((n) => suiteOf(e.path) === n));
    fails = checkBaseline(summary, entries, skipped);
    if (fails.length) {
      // A shared machine can be busy for a moment: measure the failing suites once more and
      // fail only on what fails twice.
      const again = [...new Set(entries.filter((e) => fails.some((f) => f.startsWith(`${e.path}:`))).map((e) => suiteOf(e.path)))];
      if (!opts.json) process.stderr.write(`bench: ${fails.length} check(s) failed; measuring ${again.join(", ")} again\n`);
      for (const n of again) results[n] = runSuite(n, !!opts.quick);
      summary = summarise(results);
      skipped.length = 0;
      const second = checkBaseline(summary, entries, skipped);
      notes.push(`first measurement failed ${fails.length} check(s); re-measured ${again.join(", ")}`);
      fails = second;
    }
  }
  writeFileAtomic(`${BENCH_DIR}results/summary.json`, JSON.stringify(summary, null, 2) + "\n");
  if (opts.writeBaseline) writeFileAtomic(opts.writeBaseline, JSON.stringify(baselineFrom(summary), null, 2) + "\n");
  if (opts.json) out(JSON.stringify({ ...summary, ...(opts.check ? { check: { failed: fails, skipped, notes } } : {}) }) + "\n");
  else {
    const f = (v: unknown, d = 2) => (typeof v === "number" ? v.toFixed(d) : "n/a");
    out(
      [
        `MVM kernel (int16, 256×256, batch 1,024, 1 thread): ${f(summary["mvm"]?.["gmacs"], 1)} GMAC/s, ${f(summary["mvm"]?.["ratioToNumpy"])}× numpy (OpenBLAS ${summary["mvm"]?.["numpyBlasCore"] ?? "n/a"}), ${f(summary["mvm"]?.["ratioToF32"])}× f32 kernel`,
        `physical pipeline: ${f(summary["pipelinePhysical"]?.["gmacs"])} GMAC/s (${f(summary["pipelinePhysical"]?.["ratioToNumpy"])}× numpy); functional: ${f(summary["pipelineFunctional"]?.["gmacs"])} GMAC/s (${f(summary["pipelineFunctional"]?.["ratioToNumpy"])}× numpy)`,
        `TDP programming, 64 cores, 1 thread: ${f(summary["programTdp64"]?.["seconds"])} s`,
        `2 threads vs 1: ${Object.entries(summary["threads2Speedup"] as Json).map(([k, v]) => `${k} ${f(v)}×`).join(", ")}`,
        ...(summary["accuracy"] ? [`equivalent bits (8 cores, seed 1): ODP ${f(summary["accuracy"]["equivalentBitsOdp"], 3)}, TDP ${f(summary["accuracy"]["equivalentBitsTdp"], 3)}`] : []),
        ...(summary["resnet9"] ? [`ResNet-9: ${f(summary["resnet9"]["imagesPerS"])} images/s physical, ${f(summary["resnet9"]["imagesPerSFunctional"])} functional (2 threads), ${f(summary["resnet9"]["ratioToOnnxruntime"], 3)}× onnxruntime float, ${f(summary["resnet9"]["ratioToFloat"])}× our float64 (1 thread); output error ${f(summary["accuracy"]?.["resnet9Error"], 4)}`] : []),
        ...(summary["lstm"] ? [`LSTM (PTB size): ${f(summary["lstm"]["timestepsPerS"], 0)} timesteps/s physical, ${f(summary["lstm"]["ratioToFloat"])}× float64; output error ${f(summary["accuracy"]?.["lstmError"], 4)}`] : []),
        ...skipped.map((s) => `skipped ${s}`),
        ...notes,
        ...(opts.check ? [fails.length ? `regression check FAILED:\n  ${fails.join("\n  ")}` : `regression check against ${opts.check}: ok`] : []),
      ].join("\n") + "\n",
    );
  }
  return fails.length ? 1 : 0;
}

function suiteOf(path: string): string {
  const head = path.split(".")[0]!;
  if (head === "resnet9" || head === "lstm" || /accuracy\.(resnet9|lstm|fmnist)/.test(path)) return "networks";
  if (head === "mvm") return "mvm";
  if (head.startsWith("pipeline")) return "pipeline";
  if (head.startsWith("program")) return "program";
  if (head === "threads2Speedup") {
    const k = path.split(".")[1]!;
    return k === "batchMvm" ? "pipeline" : k === "programTdp64" ? "program" : k === "resnet9" ? "networks" : "characterize";
  }
  return "characterize";
}

/** A baseline from a summary: speed ratios with a tolerance, accuracy figures exact. */
export function baselineFrom(s: Json): { note: string; entries: BaselineEntry[] } {
  const ratio = (path: string, tolerance: number): BaselineEntry[] => {
    const v = at(s, path);
    return typeof v === "number" ? [{ path, value: Number(v.toFixed(4)), tolerance }] : [];
  };
  const exact = (path: string, absolute: number): BaselineEntry[] => {
    const v = at(s, path);
    return typeof v === "number" ? [{ path, value: Number(v.toFixed(6)), absolute }] : [];
  };
  return {
    note: "Ratios to the project's own same-run references (f32 SIMD kernel, plain-JS loop, one thread vs two, float64 evaluator, onnxruntime), measured on a shared 2-core machine; `tolerance` is the allowed fractional drop. The ratio to numpy is reported but not guarded (it depends on the machine: docs/performance.md). Accuracy figures are deterministic for the seed and must match within `absolute`.",
    entries: [
      ...ratio("mvm.ratioToPlainJs", 0.5),
      ...ratio("mvm.ratioToF32", 0.3),
      ...ratio("pipelinePhysical.ratioToF32", 0.3),
      ...ratio("pipelineFunctional.ratioToF32", 0.3),
      ...ratio("threads2Speedup.batchMvm", 0.25),
      ...ratio("threads2Speedup.characterize", 0.25),
      ...ratio("resnet9.ratioToFloat", 0.35),
      ...ratio("resnet9.ratioToOnnxruntime", 0.5),
      ...ratio("lstm.ratioToFloat", 0.35),
      ...exact("accuracy.equivalentBitsOdp", 1e-6),
      ...exact("accuracy.equivalentBitsTdp", 1e-6),
      ...exact("accuracy.resnet9Error", 1e-6),
      ...exact("accuracy.lstmError", 1e-6),
      ...exact("accuracy.fmnistResnet9Accuracy", 1e-9),
    ],
  };
}
