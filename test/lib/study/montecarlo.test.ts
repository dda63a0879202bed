import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { canonicalJson, openCheckpoint } from "../../../lib/study/checkpoint.ts";
import { quantileSorted, runStudy, trialSeed, type RunTrial, type StudyResult } from "../../../lib/study/montecarlo.ts";
import { withSignalHandling } from "../../../lib/runtime/signals.ts";
import { OPTIONS, SEED, TIMES, TRIALS, syntheticMetrics, syntheticTrial } from "../../fixtures/montecarlo-child.ts";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const FIXTURE = join(root, "test/fixtures/montecarlo-child.ts");
const dir = mkdtempSync(join(tmpdir(), "hermes-mc-"));
let n = 0;
const fresh = (): string => join(dir, `c${n++}.jsonl`);
const close = (a: number | null | undefined, b: number, eps = 1e-12): boolean => a != null && Math.abs(a - b) <= eps * Math.max(1, Math.abs(b));

/** The error a promise rejects with (fails the test if it resolves). */
async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a rejection");
}

const base = { seed: SEED, trials: TRIALS, times: TIMES, options: OPTIONS };
let reference: string | undefined;
async function referenceJson(): Promise<string> {
  reference ??= JSON.stringify(await runStudy({ ...base, runTrial: syntheticTrial(0) }));
  return reference;
}

test("trial seeds: SplitMix64 outputs 1, 2, ... from state = seed", () => {
  assert.is(trialSeed(0n, 0), 0xe220a8397b1dcdafn);
  assert.is(trialSeed(1234567, 0), 6457827717110365317n);
  assert.is(trialSeed(1234567n, 1), 3203168211198807973n);
  assert.is(trialSeed(1234567n, 2), 9817491932198370423n);
  assert.is(trialSeed((1n << 64n) - 1n, 0), 16490336266968443936n);
  assert.throws(() => trialSeed(1n << 64n, 0), /seed must be a non-negative safe integer or a bigint below 2\^64/);
  assert.throws(() => trialSeed(1n, -1), /trial must be an integer in 0\.\.16777215, got -1/);
});

test("percentiles: linear interpolation as numpy's default", () => {
  const s = [1, 1, 2, 3, 4, 5, 6, 9];
  assert.is(quantileSorted(s, 0.05), 1); // numpy.percentile([3,1,4,1,5,9,2,6], [5, 50, 95]) = [1, 3.5, 7.95]
  assert.is(quantileSorted(s, 0.5), 3.5);
  assert.ok(close(quantileSorted(s, 0.95), 7.95));
  assert.is(quantileSorted([7], 0.95), 7);
  assert.is(quantileSorted(s, 1), 9);
});

test("runStudy statistics against a hand computation", async () => {
  const pi = [3, 1, 4, 1, 5, 9, 2, 6];
  const seen: bigint[] = [];
  const runTrial: RunTrial = async (trial, seed, times) => {
    seen[trial] = seed;
    return times.map((t) => ({ c: pi[trial]!, b: trial * t }));
  };
  const r = await runStudy({ seed: 7n, trials: 8, times: [1, 10], runTrial, concurrency: 2 });
  assert.equal(seen, Array.from({ length: 8 }, (_, i) => trialSeed(7n, i)));
  assert.equal(r.series.map((s) => `${s.t}:${s.metric}`), ["1:b", "1:c", "10:b", "10:c"]);
  const c = r.series[1]!; // 3 1 4 1 5 9 2 6: mean 31/8, squared deviations sum to 52.875
  assert.is(c.n, 8);
  assert.is(c.mean, 3.875);
  assert.ok(close(c.std, Math.sqrt(52.875 / 7)));
  assert.equal([c.min, c.p05, c.p50, c.max], [1, 1, 3.5, 9]);
  assert.ok(close(c.p95, 7.95));
  const b = r.series[2]!; // 0, 10, ..., 70: mean 35, sample variance 100 · 42/7 = 600
  assert.equal([b.t, b.n, b.mean, b.min, b.p50, b.max], [10, 8, 35, 0, 35, 70]);
  assert.ok(close(b.std, Math.sqrt(600)));
  assert.ok(close(b.p05, 3.5));
  assert.ok(close(b.p95, 66.5));
  assert.equal(r.series[3], { ...c, t: 10 });
  const digest = createHash("sha256").update(canonicalJson(r.results)).digest("hex");
  assert.is(r.digest, digest);
  assert.equal(r.results[2], [{ b: 2, c: 4 }, { b: 20, c: 4 }]);
  const one = await runStudy({ seed: 7n, trials: 1, times: [1], runTrial });
  assert.is(one.series[0]!.std, null);
});

test("synthetic study: statistics from the seeded generator, same for concurrency 1 and 3", async () => {
  const ref = JSON.parse(await referenceJson()) as StudyResult;
  const order: number[] = [];
  const timed = syntheticTrial(2);
  const r3 = await runStudy({ ...base, concurrency: 3, runTrial: async (i, s, t, sig) => { const m = await timed(i, s, t, sig); order.push(i); return m; } });
  assert.not.equal(order, [...order].sort((a, b) => a - b)); // completion order differed
  assert.is(JSON.stringify(r3), JSON.stringify(ref));
  assert.is(r3.digest, ref.digest);
  const relErr = Array.from({ length: TRIALS }, (_, i) => syntheticMetrics(trialSeed(SEED, i), TIMES)[2]!["relErr"]!);
  const mean = relErr.reduce((a, v) => a + v, 0) / TRIALS;
  const point = r3.series.find((s) => s.t === 3600 && s.metric === "relErr")!;
  assert.ok(close(point.mean, mean));
  assert.ok(close(point.std, Math.sqrt(relErr.reduce((a, v) => a + (v - mean) ** 2, 0) / (TRIALS - 1))));
  assert.is(point.min, Math.min(...relErr));
  assert.is(point.max, Math.max(...relErr));
  assert.is(r3.series.length, TIMES.length * 3);
});

test("abort after k trials, then resume: byte-identical to an uninterrupted run", async () => {
  const path = fresh();
  const ac = new AbortController();
  let calls = 0;
  const trial = syntheticTrial(1);
  const counted: RunTrial = (...a) => (calls++, trial(...a));
  const err = await rejection(runStudy({ ...base, concurrency: 3, runTrial: counted, checkpoint: { path }, signal: ac.signal, onProgress: (d) => d >= 10 && ac.abort() }));
  assert.instance(err, Error);
  assert.is(err.name, "AbortError");
  assert.match(err.message, `study stopped with 12 of ${TRIALS} trials done; checkpoint ${path} is kept`);
  assert.match(err.message, "resume (--resume) to continue");
  const c = openCheckpoint(path, { seed: SEED.toString(), trials: TRIALS, times: TIMES, options: OPTIONS }, { resume: true });
  assert.is(c.size, 12 * TIMES.length); // the two trials in flight finished and were kept
  c.close();
  const progress: number[] = [];
  const r = await runStudy({ ...base, concurrency: 2, runTrial: counted, checkpoint: { path, resume: true }, onProgress: (d) => progress.push(d) });
  assert.is(calls, TRIALS); // no trial ran twice
  assert.is(progress[0], 12);
  assert.is(JSON.stringify(r), await referenceJson());
});

test("a trial recorded at only some times is run again; only the missing times are appended", async () => {
  const path = fresh();
  const study = { seed: SEED.toString(), trials: TRIALS, times: TIMES, options: OPTIONS };
  const c = openCheckpoint(path, study);
  c.append(0, 60, syntheticMetrics(trialSeed(SEED, 0), TIMES)[1]!);
  c.close();
  const r = await runStudy({ ...base, runTrial: syntheticTrial(0), checkpoint: { path, resume: true } });
  assert.is(JSON.stringify(r), await referenceJson());
  const lines = readFileSync(path, "utf8").split("\n");
  assert.is(lines.length, 2 + TRIALS * TIMES.length);
  assert.is(lines.filter((l) => l.endsWith(',"time":60,"trial":0}')).length, 1);
});

test("trials that give up on the abort are not recorded; a failing trial is named", async () => {
  const path = fresh();
  const ac = new AbortController();
  const cooperative: RunTrial = async (i, s, times, signal) => {
    if (i >= 4) await new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
    if (i === 3) ac.abort();
    return syntheticMetrics(s, times);
  };
  const err = await rejection(runStudy({ ...base, concurrency: 3, runTrial: cooperative, checkpoint: { path }, signal: ac.signal }));
  assert.is(err.name, "AbortError");
  assert.match(err.message, "with 4 of 48 trials done");
  const c = openCheckpoint(path, { seed: SEED.toString(), trials: TRIALS, times: TIMES, options: OPTIONS }, { resume: true });
  assert.is(c.size, 4 * TIMES.length);
  assert.ok(c.has(3, 86400) && !c.has(4, 1) && !c.has(5, 1));
  c.close();
  const bad: RunTrial = async (i, s, times) => {
    if (i === 5) throw new Error("conductance plane exploded");
    return syntheticMetrics(s, times);
  };
  await runStudy({ ...base, runTrial: bad, checkpoint: { path: fresh() } }).then(
    () => assert.unreachable(),
    (e: Error) => {
      assert.is(e.name, "TrialError");
      assert.match(e.message, /^trial 5 failed: conductance plane exploded \(finished trials are kept in checkpoint/);
    },
  );
  await runStudy({ ...base, runTrial: async () => [{ a: 1 }] }).then(
    () => assert.unreachable(),
    (e: Error) => assert.match(e.message, "runTrial result of trial 0 must be an array of 4 metrics objects (one per time), got an array of length 1"),
  );
  await runStudy({ ...base, runTrial: async (_i, _s, t) => t.map(() => ({ a: NaN })) }).then(
    () => assert.unreachable(),
    (e: Error) => assert.match(e.message, "result of trial 0 at t = 1.a must be a finite number, got NaN"),
  );
});

/** Start the fixture; kill it with `sig` once it reports `after` finished trials (or never). */
function child(args: string[], kill?: { after: number; sig: NodeJS.Signals; twice?: boolean }): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ["--import", "tsx", FIXTURE, ...args], { cwd: root });
    let stdout = "";
    let stderr = "";
    let sent = false;
    p.stdout.on("data", (d) => {
      stdout += d;
      const m = [...stdout.matchAll(/progress (\d+)/g)].pop();
      if (kill && !sent && m && Number(m[1]) >= kill.after) {
        sent = true;
        p.kill(kill.sig);
      }
    });
    p.stderr.on("data", (d) => {
      stderr += d;
      if (kill?.twice && stderr.includes("stopping")) p.kill(kill.sig);
    });
    p.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

test("a child process killed with SIGTERM or SIGKILL mid-run, then resumed, gives the same JSON", async () => {
  const ref = await referenceJson();
  for (const sig of ["SIGTERM", "SIGKILL"] as const) {
    const path = fresh();
    const out = join(dir, `out-${sig}.json`);
    const killed = await child([path, out, "fresh", "10", "3"], { after: 6, sig });
    if (sig === "SIGTERM") {
      assert.is(killed.code, 3, killed.stderr);
      assert.match(killed.stderr, "SIGTERM: stopping the run after the work in flight; checkpoint kept");
      assert.match(killed.stderr, `AbortError: study stopped with`);
      assert.match(killed.stderr, `checkpoint ${path} is kept`);
    } else {
      assert.is(killed.signal, "SIGKILL");
    }
    const records = readFileSync(path, "utf8").split("\n").length - 2;
    assert.ok(records >= 6 * TIMES.length && records < TRIALS * TIMES.length, `${sig}: ${records} records`);
    const resumed = await child([path, out, "resume", "0", "2"]);
    assert.is(resumed.code, 0, resumed.stderr);
    assert.ok(Number(/progress (\d+)/.exec(resumed.stdout)![1]) >= 6);
    assert.is(readFileSync(out, "utf8"), ref);
  }
});

test("signals: a second SIGINT exits at once with 130; handlers are removed afterwards", async () => {
  const r = await child([fresh(), join(dir, "never.json"), "fresh", "3000", "2"], { after: 0, sig: "SIGINT", twice: true });
  assert.is(r.code, 130);
  assert.is(r.stderr.split("\n").filter((l) => l.includes("stopping")).length, 1);
  const before = process.listenerCount("SIGINT") + process.listenerCount("SIGTERM");
  let inside = 0;
  const v = await withSignalHandling(async (signal) => {
    inside = process.listenerCount("SIGINT") + process.listenerCount("SIGTERM");
    assert.is(signal.aborted, false);
    return 42;
  });
  assert.is(v, 42);
  assert.is(inside, before + 2);
  assert.is(process.listenerCount("SIGINT") + process.listenerCount("SIGTERM"), before);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
