// `hermes-sim drift` end to end in real processes: same results for 1 and 2 threads, a run
// stopped by SIGTERM keeps its checkpoint, and the resumed run equals an uninterrupted one.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const BIN = new URL("../../../../bin/hermes-sim.mjs", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "hermes-drift-"));
const ARGS = ["drift", "--trials", "5", "--cores", "1", "--inputs", "256", "--times", "25,1d,1mo", "--json"];

function runSync(extra: string[]): { code: number; doc: Record<string, unknown>; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...ARGS, ...extra], { encoding: "utf8", env: { ...process.env, CI: "1" } });
  return { code: r.status ?? -1, doc: r.status === 0 ? JSON.parse(r.stdout) : {}, stderr: r.stderr };
}

const stable = (d: Record<string, unknown>) => ({ ...d, threads: 0, wallS: 0, checkpoint: "" });

test("same JSON for 1 and 2 threads; statistics over the chips are consistent", () => {
  const a = runSync(["--threads", "1"]);
  const b = runSync(["--threads", "2"]);
  assert.is(a.code, 0, a.stderr);
  assert.is(b.code, 0, b.stderr);
  assert.equal(stable(a.doc), stable(b.doc));
  const series = a.doc["series"] as { t: number; metric: string; n: number; mean: number; min: number; max: number; p05: number; p95: number }[];
  const at = (t: number, m: string) => series.find((p) => p.t === t && p.metric === m)!;
  for (const p of series) assert.ok(p.n === 5 && p.min <= p.p05 && p.p05 <= p.mean + 1e-12 + (p.max - p.min) && p.p95 <= p.max);
  assert.ok(at(2592000, "total").mean > at(25, "total").mean, "errors grow with drift");
  assert.ok(at(2592000, "totalNoCompensation").mean > at(2592000, "total").mean, "compensation helps");
});

test("SIGTERM stops cleanly with the checkpoint kept; --resume completes it to the same result", async () => {
  const full = runSync(["--threads", "1"]);
  const ck = join(dir, "study.jsonl");
  const child = spawn(process.execPath, [BIN, ...ARGS, "--threads", "1", "--checkpoint", ck], { env: { ...process.env, CI: "1" } });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  // Wait for the first finished trial (3 lines: header + 3 times... at least 2 lines), then signal.
  for (let i = 0; i < 600; i++) {
    await new Promise((r) => setTimeout(r, 50));
    if (existsSync(ck) && readFileSync(ck, "utf8").split("\n").filter(Boolean).length >= 4) break;
  }
  child.kill("SIGTERM");
  const code = await new Promise<number>((r) => child.on("exit", (c) => r(c ?? -1)));
  assert.is(code, 130, stderr);
  assert.match(stderr, /SIGTERM: stopping the drift study/);
  assert.match(stderr, /--resume/);
  const kept = readFileSync(ck, "utf8").split("\n").filter(Boolean).length - 1;
  assert.ok(kept >= 3 && kept < 15, `${kept} results kept`);
  const resumed = runSync(["--threads", "2", "--checkpoint", ck, "--resume"]);
  assert.is(resumed.code, 0, resumed.stderr);
  assert.equal(stable(resumed.doc), stable(full.doc));
  // Resuming again has nothing left to do and still gives the same bits.
  assert.equal(stable(runSync(["--threads", "1", "--checkpoint", ck, "--resume"]).doc), stable(full.doc));
});

test("bad usage exits 2 with one clear line", () => {
  const r = spawnSync(process.execPath, [BIN, "drift", "--trials", "0"], { encoding: "utf8" });
  assert.is(r.status, 2);
  assert.match(r.stderr, /--trials must be an integer in 1\.\./);
  const s = spawnSync(process.execPath, [BIN, "drift", "--resume"], { encoding: "utf8" });
  assert.is(s.status, 2);
  assert.match(s.stderr, /--resume must be a checkpoint/);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
