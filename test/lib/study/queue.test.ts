// Drift studies through a BullMQ queue on a real Redis (lib/study/queue/index.ts): two worker processes,
// one killed with SIGKILL in the middle of a trial, must give the very series and digest of a
// local run; a missing server, an unknown host or a malformed URL fail fast with one line and
// no credentials; losing Redis mid-run stops submitter and worker with a clear error.
// The Redis tests need `redis-server` on PATH (.ci/run installs it); without it they are
// skipped with a printed reason. Each run starts its own server on a free port and stops it.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { jobId, parseQueueUrl, redactUrl } from "../../../lib/study/queue/index.ts";

const BIN = new URL("../../../bin/hermes-sim.mjs", import.meta.url).pathname;
const STUDY = ["drift", "--trials", "4", "--cores", "1", "--inputs", "256", "--times", "25,1mo", "--threads", "1", "--json"];
const ENV = {
  ...process.env,
  CI: "1",
  // Short lock and stalled-check intervals so that a killed worker's job is retried within seconds.
  HERMES_QUEUE_LOCK_MS: "2000",
  HERMES_QUEUE_STALLED_MS: "500",
  HERMES_QUEUE_RECONNECT_MS: "1000",
  HERMES_QUEUE_POLL_MS: "100",
};

test("queue URLs: parsed, validated, and printed without credentials", () => {
  const t = parseQueueUrl("redis://alice:s3cr%40t@db.example:6390/2");
  assert.equal([t.host, t.port, t.db, t.username, t.password, t.tls], ["db.example", 6390, 2, "alice", "s3cr@t", false]);
  assert.is(t.display, "redis://***@db.example:6390/2");
  assert.is(parseQueueUrl("redis://127.0.0.1").port, 6379);
  assert.is(parseQueueUrl("rediss://h:1").tls, true);
  assert.is(redactUrl("redis://u:pw@h:1/0"), "redis://***@h:1/0");
  assert.is(redactUrl("redis://h:1"), "redis://h:1");
  for (const bad of ["http://u:pw@h:1", "localhost:6379", "redis://", "redis://h:1/x", "redis://u:pw@h:99999"]) {
    try {
      parseQueueUrl(bad);
      assert.unreachable(bad);
    } catch (e) {
      assert.is((e as Error).name, "ArgumentError", bad);
      assert.match((e as Error).message, /--queue must be a Redis URL/);
      assert.not.match((e as Error).message, /pw/);
    }
  }
  assert.is(jobId("abc", 7), "drift-abc-7");
});

function onPath(name: string): string | undefined {
  for (const dir of (process.env["PATH"] ?? "").split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

const REDIS = onPath("redis-server");

interface Proc {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

function start(cmd: string, args: string[], env: NodeJS.ProcessEnv = ENV): Proc {
  const t0 = performance.now();
  const child = spawn(cmd, args, { env });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (err += d));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>((r) =>
    child.on("close", (code, signal) => r({ code, signal, ms: performance.now() - t0 })),
  );
  return { child, stdout: () => out, stderr: () => err, exit };
}

const cli = (args: string[], env?: NodeJS.ProcessEnv): Proc => start(process.execPath, [BIN, ...args], env);

async function waitFor(what: string, cond: () => boolean, ms = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

if (!REDIS) {
  console.log("skipped: redis-server not installed (apt-get install redis-server)");
} else {
  const dir = mkdtempSync(join(tmpdir(), "hermes-queue-"));
  let redis: Proc | undefined;
  let url = "";
  const workers: Proc[] = [];

  test.before(async () => {
    const port = await freePort();
    redis = start(REDIS, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
    await waitFor("redis-server to start", () => /Ready to accept connections/i.test(redis!.stdout()), 10_000);
    url = `redis://127.0.0.1:${port}`;
  });

  test("two workers, one killed (SIGKILL) mid-trial: same series and digest as a local run, each trial counted once", async () => {
    // The local reference run, while the workers start (they wait idle for jobs).
    const local = cli(STUDY);
    const a = cli(["worker", "--queue", url, "--threads", "1"]);
    const b = cli(["worker", "--queue", url, "--threads", "1"]);
    workers.push(a, b);
    assert.is((await local.exit).code, 0, local.stderr());
    const want = JSON.parse(local.stdout()) as { series: unknown; digest: string; studyHash: string };
    await waitFor("both workers", () => /waiting for drift trials/.test(a.stderr()) && /waiting for drift trials/.test(b.stderr()));
    const ck = join(dir, "queue.jsonl");
    const t0 = performance.now();
    const sub = cli([...STUDY, "--queue", url, "--checkpoint", ck]);
    await waitFor("worker A to start a trial", () => /trial \d+ of study \w+ started/.test(a.stderr()));
    const killed = Number(/trial (\d+) of study \w+ started/.exec(a.stderr())![1]);
    const tKill = performance.now();
    a.child.kill("SIGKILL");
    const aExit = await a.exit;
    assert.is(aExit.signal, "SIGKILL");
    assert.not.match(a.stderr(), new RegExp(`trial ${killed} of study \\w+ done`), "A was killed mid-trial");

    const s = await sub.exit;
    const wallS = (performance.now() - t0) / 1000;
    assert.is(s.code, 0, sub.stderr());
    const got = JSON.parse(sub.stdout()) as { series: unknown; digest: string; studyHash: string; queue: string };
    assert.is(JSON.stringify(got.series), JSON.stringify(want.series), "series byte-identical to the local run");
    assert.is(got.digest, want.digest);
    assert.is(got.studyHash, want.studyHash);
    assert.is(got.queue, url);
    // The killed worker's job was stalled and taken over by B.
    const retried = new RegExp(`trial ${killed} of study \\w+ done in ([\\d.]+) s`).exec(b.stderr());
    assert.ok(retried, `B finished trial ${killed}:\n${b.stderr()}`);
    console.log(`queue study: ${wallS.toFixed(1)} s wall; trial ${killed} recovered by the second worker after A's SIGKILL (lock expiry + stalled check + ${retried![1]} s of work) within ${((performance.now() - tKill) / 1000).toFixed(1)} s`);
    // Checkpoint: one record per (trial, time), no duplicates.
    const lines = readFileSync(ck, "utf8").trim().split("\n").slice(1).map((l) => JSON.parse(l) as { trial: number; time: number });
    assert.is(lines.length, 4 * 2);
    assert.is(new Set(lines.map((l) => `${l.trial}/${l.time}`)).size, 8);

    // Submitting the same study again is idempotent: the completed jobs are found, nothing is recomputed.
    const before = (b.stderr().match(/ started /g) ?? []).length;
    const again = cli([...STUDY, "--queue", url]);
    const e2 = await again.exit;
    assert.is(e2.code, 0, again.stderr());
    assert.is((JSON.parse(again.stdout()) as { digest: string }).digest, want.digest);
    assert.is((b.stderr().match(/ started /g) ?? []).length, before, "no trial run twice");
  });

  test("no server, unknown host, malformed URL: one clear line, fast, no credentials", async () => {
    const closed = `redis://carol:hunter2@127.0.0.1:${await freePort()}`;
    const runs = [
      cli([...STUDY, "--queue", closed]),
      cli(["worker", "--queue", closed]),
      cli([...STUDY, "--queue", "redis://carol:hunter2@no-such-host.invalid:6379"]),
      cli([...STUDY, "--queue", "http://carol:hunter2@127.0.0.1:6379"]),
    ];
    const [d, w, h, m] = await Promise.all(runs.map((p) => p.exit));
    for (const [p, r, code] of [[runs[0]!, d!, 1], [runs[1]!, w!, 1], [runs[2]!, h!, 1], [runs[3]!, m!, 2]] as const) {
      const err = p.stderr();
      assert.is(r.code, code, err);
      assert.ok(r.ms < 10_000, `${r.ms} ms`);
      assert.is(err.trim().split("\n").length, 1, err);
      assert.not.match(err, /hunter2|carol/);
      assert.not.match(err, /\n\s+at /);
    }
    assert.match(runs[0]!.stderr(), /no Redis server at redis:\/\/\*\*\*@127\.0\.0\.1:\d+ \(connection refused\)/);
    assert.match(runs[1]!.stderr(), /connection refused/);
    assert.match(runs[2]!.stderr(), /no-such-host\.invalid/);
    assert.match(runs[3]!.stderr(), /--queue must be a Redis URL/);
  });

  test("Redis lost mid-run: the submitter (checkpoint kept) and the worker stop with a clear error", async () => {
    const b = workers[1]!;
    const ck = join(dir, "lost.jsonl");
    const seen = b.stderr().length;
    const sub = cli([...STUDY, "--seed", "2", "--trials", "6", "--queue", url, "--checkpoint", ck]);
    await waitFor("a trial in flight", () => /trial \d+ of study \w+ started/.test(b.stderr().slice(seen)));
    redis!.child.kill("SIGTERM");
    await redis!.exit;
    const [s, w] = await Promise.all([sub.exit, b.exit]);
    for (const [p, r] of [[sub, s], [b, w]] as const) {
      assert.is(r.code, 1, p.stderr());
      assert.match(p.stderr(), /lost the connection to Redis/);
      assert.not.match(p.stderr(), /\n\s+at /);
    }
    assert.match(sub.stderr(), /checkpoint .*lost\.jsonl.*--resume/);
  });

  test.after(async () => {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill("SIGKILL");
    if (redis && redis.child.exitCode === null && redis.child.signalCode === null) {
      redis.child.kill("SIGTERM");
      await redis.exit;
    }
    rmSync(dir, { recursive: true, force: true });
  });
}

test.run();
