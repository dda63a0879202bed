// The queue's speed (issue 21): `hermes-sim run --model` on queue workers against the same run
// on this machine, and the queue's own overhead per job. Starts its own password-protected
// redis-server on a free loopback port (redis-server must be on PATH) and its own workers.
//
// 1. Overhead per job: one warm worker (--threads 1) runs the same N images of LeNet-5 (test
//    fixtures) once as 1 job of N images and once as N jobs of 1 image; the difference of the
//    submitter's wall times over N − 1 is what a job costs beyond its images (queueing,
//    fetching, locking, the result's round trip, a runNetwork call). Redis is emptied before
//    each run (no job is reused) and the worker keeps its programmed chip (as for a real run).
// 2. The speed contract: a run of `--limit` images of data/resnet9-fmnist.onnx, locally with
//    --threads 2 and queued to `--workers` fresh workers of --threads 1 each, in pairs (the
//    order alternates from pair to pair), each checked to give the same accuracies and digest.
//    Wall times are whole commands (process start to exit; for the queue the submitter's,
//    with its workers started and idle beforehand). The target: queued ≤ 1.15 × local.
//    Also CPU seconds (Linux /proc, sampled every 100 ms): the local process's against the
//    submitter's + the workers' during the run + redis-server's: the extra work of the queue,
//    which, unlike wall time, hardly depends on what else the machine is doing.
//
// Usage: node --import tsx bench/queue.bench.ts [--pairs 3] [--limit 2000] [--job-images 64]
//          [--workers 2] [--overhead-images 500] [--overhead-reps 3] [--skip-overhead] [--skip-pairs]
// Writes bench/results/queue.json (all raw times, loads, worker job logs); prints a summary.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { BIN, startRedis, waitFor, type TestRedis } from "../test/fixtures/queue.ts";
import { writeResult } from "./results.ts";

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer, got ${process.argv[i + 1]}`);
  return v;
};
const flag = (name: string): boolean => process.argv.includes(`--${name}`);
const PAIRS = arg("pairs", 3);
const LIMIT = arg("limit", 2000);
const JOB_IMAGES = arg("job-images", 64);
const WORKERS = arg("workers", 2);
const OVERHEAD_IMAGES = arg("overhead-images", 500);
const OVERHEAD_REPS = arg("overhead-reps", 3);

const ROOT = new URL("../", import.meta.url).pathname;
const FIX = join(ROOT, "test/fixtures/models/");
const LENET = ["--model", join(FIX, "lenet-bn.onnx"), "--images", join(FIX, "fmnist-500-u8.npy"), "--labels", join(FIX, "fmnist-500-labels.npy"), "--mean", "0.2860", "--std", "0.3530"];
const RESNET = ["--model", join(ROOT, "data/resnet9-fmnist.onnx"), "--images", join(ROOT, "data/t10k-images-idx3-ubyte.gz"), "--labels", join(ROOT, "data/t10k-labels-idx1-ubyte.gz")];
// Quiet (no progress bars), default queue timings.
const ENV: NodeJS.ProcessEnv = { ...process.env, CI: "1" };

/** CPU seconds (user + system, all threads) of process `pid` so far; undefined once it is gone
 * or off Linux. */
function cpuSeconds(pid: number | undefined): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // fields from 3 (state) on
    return (Number(f[11]) + Number(f[12])) / TICKS;
  } catch {
    return undefined;
  }
}
const TICKS = 100; // USER_HZ: clock ticks per second in /proc (100 on Linux)

interface Run {
  /** CPU seconds of the process (sampled every 100 ms up to its exit; undefined off Linux). */
  cpuS: number | undefined;
  wallS: number;
  stdout: string;
  stderr: string;
  /** Seconds from start to each stderr line. */
  lines: { s: number; line: string }[];
}

interface Proc {
  kill(): void;
  /** CPU seconds so far (see cpuSeconds). */
  cpuNow(): number | undefined;
  lines: { s: number; line: string }[];
  done: Promise<Run>;
}

function hermes(args: string[]): Proc {
  const t0 = performance.now();
  const child = spawn(process.execPath, [BIN, ...args], { env: ENV, cwd: ROOT });
  let out = "";
  let err = "";
  let partial = "";
  const lines: { s: number; line: string }[] = [];
  let cpuS: number | undefined;
  const sampler = setInterval(() => (cpuS = cpuSeconds(child.pid) ?? cpuS), 100);
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d: Buffer) => {
    err += d;
    partial += d;
    const parts = partial.split("\n");
    partial = parts.pop()!;
    for (const line of parts) lines.push({ s: (performance.now() - t0) / 1000, line });
  });
  const done = new Promise<Run>((resolve, reject) =>
    child.on("close", (code, signal) => {
      clearInterval(sampler);
      const r = { cpuS, wallS: (performance.now() - t0) / 1000, stdout: out, stderr: err, lines };
      if (code === 0 || signal === "SIGTERM" || signal === "SIGINT") resolve(r);
      else reject(new Error(`hermes-sim ${args[0]} exited with ${code ?? signal}: ${err.slice(-2000)}`));
    }),
  );
  return { kill: () => child.kill("SIGINT"), cpuNow: () => cpuSeconds(child.pid), lines, done };
}

const load = (): number[] => loadavg().map((v) => Number(v.toFixed(2)));
const secret = (redis: TestRedis, text: string): string => text.split(redis.password).join("***");

async function startWorkers(redis: TestRedis, n: number): Promise<Proc[]> {
  const ws = Array.from({ length: n }, () => hermes(["worker", "--queue", redis.url, "--threads", "1"]));
  await waitFor("the workers to start", () => ws.every((w) => w.lines.some((l) => /waiting for jobs/.test(l.line))), 120_000);
  return ws;
}

async function stopWorkers(ws: Proc[]): Promise<{ jobs: number; jobS: number[]; cpuS: number | undefined }[]> {
  for (const w of ws) w.kill();
  const runs = await Promise.all(ws.map((w) => w.done));
  return runs.map((r) => {
    const jobS = [...r.stderr.matchAll(/ done in ([\d.]+) s/g)].map((m) => Number(m[1]));
    return { jobs: jobS.length, jobS, cpuS: r.cpuS };
  });
}

async function flush(redis: TestRedis): Promise<void> {
  const c = new Redis({ host: "127.0.0.1", port: redis.port, password: redis.password });
  await c.flushall();
  c.disconnect();
}

const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);
const mean = (v: number[]) => sum(v) / v.length;

const redis = await startRedis();
const result: Record<string, unknown> = { uptimeLoadAtStart: load() };
try {
  // 1. Overhead per job.
  if (!flag("skip-overhead")) {
    const n = OVERHEAD_IMAGES;
    const base = ["run", ...LENET, "--limit", String(n), "--threads", "1", "--json", "--queue", redis.url];
    const [w] = await startWorkers(redis, 1);
    await flush(redis);
    await hermes([...base, "--job-images", String(n)]).done; // warm: the worker reads the model and programs its chip
    const reps: { oneJobS: number; manyJobsS: number; perJobMs: number; load: number[] }[] = [];
    for (let r = 0; r < OVERHEAD_REPS; r++) {
      await flush(redis);
      const one = await hermes([...base, "--job-images", String(n)]).done;
      await flush(redis);
      const many = await hermes([...base, "--job-images", "1"]).done;
      const same = JSON.parse(one.stdout).digest === JSON.parse(many.stdout).digest;
      if (!same) throw new Error("overhead runs: 1 job and N jobs gave different digests");
      const perJobMs = (1000 * (many.wallS - one.wallS)) / (n - 1);
      reps.push({ oneJobS: one.wallS, manyJobsS: many.wallS, perJobMs, load: load() });
      console.log(`overhead: ${n} LeNet images as 1 job ${one.wallS.toFixed(2)} s, as ${n} jobs ${many.wallS.toFixed(2)} s: ${perJobMs.toFixed(1)} ms per job (load ${load().join(" ")})`);
    }
    const [wk] = await stopWorkers([w!]);
    result["overhead"] = { images: n, model: "test/fixtures/models/lenet-bn.onnx", workerThreads: 1, reps, perJobMs: mean(reps.map((r) => r.perJobMs)), workerJobS: wk };
  }

  // 2. Local against queued, in pairs.
  if (!flag("skip-pairs")) {
    const run = ["run", ...RESNET, "--limit", String(LIMIT), "--json"];
    const pairs: Record<string, unknown>[] = [];
    for (let p = 0; p < PAIRS; p++) {
      const pair: Record<string, unknown> = {};
      const local = async () => {
        const l0 = load();
        const r = await hermes([...run, "--threads", "2"]).done;
        pair["local"] = { wallS: r.wallS, cpuS: r.cpuS, reportedWallS: JSON.parse(r.stdout).wallS, loadBefore: l0, loadAfter: load() };
        return JSON.parse(r.stdout) as Record<string, unknown>;
      };
      const queued = async () => {
        await flush(redis);
        const ws = await startWorkers(redis, WORKERS);
        const l0 = load();
        const w0 = ws.map((w) => w.cpuNow());
        const redis0 = cpuSeconds(redis.proc.child.pid);
        const r = await hermes([...run, "--queue", redis.url, "--job-images", String(JOB_IMAGES)]).done;
        const w1 = ws.map((w) => w.cpuNow());
        const redis1 = cpuSeconds(redis.proc.child.pid);
        const workers = await stopWorkers(ws);
        const queuedAt = r.lines.find((l) => / jobs? of up to /.test(l.line))?.s;
        // CPU of the run: the submitter's, the workers' while it ran, redis-server's.
        const parts = [r.cpuS, ...w0.map((c, i) => (c === undefined || w1[i] === undefined ? undefined : w1[i]! - c)), redis0 === undefined || redis1 === undefined ? undefined : redis1 - redis0];
        pair["queued"] = {
          wallS: r.wallS, reportedWallS: JSON.parse(r.stdout).wallS, loadBefore: l0, loadAfter: load(), jobsQueuedAtS: queuedAt,
          cpuS: parts.every((v) => v !== undefined) ? sum(parts as number[]) : undefined,
          cpu: { submitterS: parts[0], workersS: parts.slice(1, -1), redisS: parts[parts.length - 1] },
          workers: workers.map((w) => ({ jobs: w.jobs, busyS: Number(sum(w.jobS).toFixed(2)), firstJobS: w.jobS[0] })),
        };
        return JSON.parse(r.stdout) as Record<string, unknown>;
      };
      let l: Record<string, unknown>, q: Record<string, unknown>;
      if (p % 2 === 0) {
        l = await local();
        q = await queued();
      } else {
        q = await queued();
        l = await local();
      }
      const same = ["accuracies", "agreements", "outputErrors", "digest", "floatAccuracy"].every((k) => JSON.stringify(l[k]) === JSON.stringify(q[k]));
      if (!same) throw new Error(`pair ${p}: the queued run's figures differ from the local run's`);
      const lw = (pair["local"] as { wallS: number }).wallS;
      const qw = (pair["queued"] as { wallS: number }).wallS;
      pair["ratio"] = Number((qw / lw).toFixed(3));
      const lc = (pair["local"] as { cpuS?: number }).cpuS;
      const qc = (pair["queued"] as { cpuS?: number }).cpuS;
      if (lc !== undefined && qc !== undefined) pair["cpuRatio"] = Number((qc / lc).toFixed(3));
      pair["order"] = p % 2 === 0 ? "local first" : "queued first";
      pairs.push(pair);
      const cpu = pair["cpuRatio"] === undefined ? "" : `; CPU ${lc!.toFixed(1)} s local, ${qc!.toFixed(1)} s queued (ratio ${pair["cpuRatio"]})`;
      console.log(`pair ${p + 1}: local ${lw.toFixed(1)} s, queued ${qw.toFixed(1)} s (${WORKERS} workers × 1 thread): ratio ${(qw / lw).toFixed(3)}${cpu}; same accuracies and digest; load ${load().join(" ")}`);
    }
    const ratios = pairs.map((p) => p["ratio"] as number);
    const cpuRatios = pairs.map((p) => p["cpuRatio"] as number | undefined).filter((v): v is number => v !== undefined);
    result["contract"] = {
      model: "data/resnet9-fmnist.onnx", images: LIMIT, jobImages: JOB_IMAGES, workers: WORKERS, workerThreads: 1, localThreads: 2, pairs,
      ratioMean: Number(mean(ratios).toFixed(3)), ratioMax: Math.max(...ratios), target: 1.15,
      ...(cpuRatios.length ? { cpuRatioMean: Number(mean(cpuRatios).toFixed(3)) } : {}),
    };
    console.log(`queued / local wall: mean ${mean(ratios).toFixed(3)}, max ${Math.max(...ratios).toFixed(3)} (target ≤ 1.15)` + (cpuRatios.length ? `; CPU time: mean ${mean(cpuRatios).toFixed(3)}` : ""));
  }
  result["uptimeLoadAtEnd"] = load();
  console.log(`wrote ${writeResult("queue", result)}`);
} catch (e) {
  console.error(secret(redis, (e as Error).message));
  process.exitCode = 1;
} finally {
  await redis.stop();
}
