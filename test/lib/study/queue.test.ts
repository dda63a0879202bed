// Drift studies through a BullMQ queue on a real Redis (lib/study/queue/index.ts): two worker processes,
// one killed with SIGKILL in the middle of a trial, must give the very series and digest of a
// local run; a missing server, an unknown host or a malformed URL fail fast with one line and
// no credentials; losing Redis mid-run stops submitter and worker with a clear error.
// The Redis tests need `redis-server` on PATH (.ci/run installs it); without it they are
// skipped with a printed reason. Each run starts its own server on a free port and stops it.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import { PROTOCOL, VERSION, checkJobData, explain, inferJobId, jobId, parseQueueUrl, queueTarget, redactUrl, type InferJobData } from "../../../lib/study/queue/index.ts";
import { ENV, REDIS, cli, exitOrHang, freePort, killAll, startRedis, waitFor, type Proc, type TestRedis } from "../../fixtures/queue.ts";

const STUDY = ["drift", "--trials", "4", "--cores", "1", "--inputs", "256", "--times", "25,1mo", "--threads", "1", "--json"];

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

test("queue targets: the password from HERMES_QUEUE_PASSWORD, a --tls-ca only with rediss:// and only a PEM file", () => {
  const dir = mkdtempSync(join(tmpdir(), "hermes-queue-target-"));
  const old = process.env["HERMES_QUEUE_PASSWORD"];
  try {
    process.env["HERMES_QUEUE_PASSWORD"] = "from-env";
    const t = queueTarget({ queue: "redis://10.0.0.5:6380" });
    assert.equal([t.password, t.display], ["from-env", "redis://***@10.0.0.5:6380"]);
    assert.is(queueTarget({ queue: "redis://:in-url@h:1" }).password, "in-url", "the URL's password wins");
    delete process.env["HERMES_QUEUE_PASSWORD"];
    assert.is(queueTarget({ queue: "redis://h:1" }).password, undefined);
    const pem = join(dir, "ca.pem");
    writeFileSync(pem, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    assert.ok(queueTarget({ queue: "rediss://h:1", tlsCa: pem }).ca);
    writeFileSync(join(dir, "x.txt"), "not a certificate");
    const e = (f: () => unknown, re: RegExp) => {
      try {
        f();
        assert.unreachable();
      } catch (err) {
        assert.is((err as Error).name, "ArgumentError");
        assert.match((err as Error).message, re);
      }
    };
    e(() => queueTarget({ queue: "redis://h:1", tlsCa: pem }), /--tls-ca must be given only with a rediss:\/\/ \(TLS\) --queue URL/);
    e(() => queueTarget({ queue: "rediss://h:1", tlsCa: join(dir, "x.txt") }), /--tls-ca must be a PEM file/);
    e(() => queueTarget({ queue: "rediss://h:1", tlsCa: join(dir, "none.pem") }), /--tls-ca must be a readable PEM file .*ENOENT/);
    const target = parseQueueUrl("rediss://:sesame-42@h:1");
    assert.match(explain(Object.assign(new Error("self-signed certificate in certificate chain"), { code: "SELF_SIGNED_CERT_IN_CHAIN" }), target), /TLS certificate of rediss:\/\/\*\*\*@h:1 is not trusted .*--tls-ca/);
    assert.not.match(explain(new Error("ERR something about sesame-42"), target), /sesame-42/);
  } finally {
    if (old === undefined) delete process.env["HERMES_QUEUE_PASSWORD"];
    else process.env["HERMES_QUEUE_PASSWORD"] = old;
    rmSync(dir, { recursive: true, force: true });
  }
});

test("job data: what a worker refuses, and what it accepts", () => {
  const infer = {
    protocol: PROTOCOL, kind: "infer", hermesSim: VERSION, studyHash: "ab", model: "a".repeat(64),
    images: { sha256: "b".repeat(64), layout: "nchw", inputScale: 1 / 255, mean: [0.5], std: [0.25] },
    chip: { seed: "7", scheme: "odp", fidelity: "functional", fitSha256: "c".repeat(64) }, t: 86400, draw: 3, scales: { input: 127, y: 2.5 }, first: 64, count: 64,
  };
  assert.is(checkJobData(infer).kind, "infer");
  const refused: [unknown, RegExp][] = [
    [null, /not an object/],
    [{ ...infer, kind: "shell" }, /unknown job kind "shell"/],
    [{ ...infer, protocol: 1 }, /job format 1 is not this worker's \(2\)/],
    [{ ...infer, hermesSim: "0.0.1" }, /submitted by hermes-sim 0\.0\.1/],
    [{ ...infer, model: "../../etc/passwd" }, /model must be a SHA-256/],
    [{ ...infer, chip: { ...infer.chip, seed: "-1" } }, /chip\.seed/],
    [{ ...infer, scales: { y: -1 } }, /scales/],
    [{ ...infer, count: 0 }, /count/],
    [{ ...infer, images: { ...infer.images, layout: "chw" } }, /images\.layout/],
    [{ ...infer, kind: "drift-trial" }, /malformed drift-trial job/],
  ];
  for (const [d, re] of refused) {
    try {
      checkJobData(d);
      assert.unreachable(JSON.stringify(d));
    } catch (e) {
      assert.is((e as Error).name, "RefusedJob");
      assert.match((e as Error).message, re);
    }
  }
  const job = infer as unknown as InferJobData;
  assert.match(inferJobId(job), /^infer-[0-9a-f]{40}-3-64-64$/);
  assert.is(inferJobId({ ...job, studyHash: "cd" }), inferJobId(job), "the study hash (for logs) is not in the id");
  assert.is.not(inferJobId({ ...job, t: 25 }), inferJobId(job));
  assert.is.not(inferJobId({ ...job, scales: { input: 127, y: 2.4 } }), inferJobId(job));
});

test("a server that accepts connections and never answers: one line after the connect timeout, exit 1", async () => {
  const sockets = new Set<Socket>();
  const srv = createServer((sock) => void sockets.add(sock)); // holds each connection open, says nothing
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const url = `redis://:silent-pw@127.0.0.1:${(srv.address() as { port: number }).port}`;
  const env = { ...ENV, HERMES_QUEUE_CONNECT_MS: "1000" };
  try {
    const runs = [cli([...STUDY, "--queue", url], env), cli(["worker", "--queue", url], env)];
    const exits = await Promise.all(runs.map((p, i) => exitOrHang(p, `command ${i}`)));
    runs.forEach((p, i) => {
      const err = p.stderr();
      assert.is(exits[i]!.code, 1, err);
      assert.is(err.trim().split("\n").length, 1, err);
      assert.match(err, /no answer from redis:\/\/\*\*\*@127\.0\.0\.1:\d+ within the connect timeout/);
      assert.not.match(err, /silent-pw/);
    });
    assert.ok(sockets.size >= 2, "both connected");
  } finally {
    for (const sock of sockets) sock.destroy();
    await new Promise((r) => srv.close(r));
  }
});

if (!REDIS) {
  console.log("skipped: redis-server not installed (apt-get install redis-server)");
} else {
  const dir = mkdtempSync(join(tmpdir(), "hermes-queue-"));
  let redis: TestRedis;
  let url = "";
  const workers: Proc[] = [];

  test.before(async () => {
    redis = await startRedis();
    url = redis.url;
  });

  test("two workers, one killed (SIGKILL) mid-trial: same series and digest as a local run, each trial counted once", async () => {
    // The local reference run, while the workers start (they wait idle for jobs).
    const local = cli(STUDY);
    const a = cli(["worker", "--queue", url, "--threads", "1"]);
    const b = cli(["worker", "--queue", url, "--threads", "1"]);
    workers.push(a, b);
    assert.is((await local.exit).code, 0, local.stderr());
    const want = JSON.parse(local.stdout()) as { series: unknown; digest: string; studyHash: string };
    await waitFor("both workers", () => /waiting for jobs/.test(a.stderr()) && /waiting for jobs/.test(b.stderr()));
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
    assert.is(got.queue, `redis://***@127.0.0.1:${redis.port}`);
    for (const p of [sub, a, b]) assert.not.ok((p.stdout() + p.stderr()).includes(redis.password), "no password in the output");
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

  test("no server, unknown host, malformed URL: one clear line, no hang, no credentials", async () => {
    const closed = `redis://carol:hunter2@127.0.0.1:${await freePort()}`;
    const runs = [
      cli([...STUDY, "--queue", closed]),
      cli(["worker", "--queue", closed]),
      cli([...STUDY, "--queue", "redis://carol:hunter2@no-such-host.invalid:6379"]),
      cli([...STUDY, "--queue", "http://carol:hunter2@127.0.0.1:6379"]),
    ];
    const [d, w, h, m] = await Promise.all(runs.map((p, i) => exitOrHang(p, `command ${i}`)));
    for (const [p, r, code] of [[runs[0]!, d!, 1], [runs[1]!, w!, 1], [runs[2]!, h!, 1], [runs[3]!, m!, 2]] as const) {
      const err = p.stderr();
      assert.is(r.code, code, err);
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
    await redis.stop();
    const [s, w] = await Promise.all([sub.exit, b.exit]);
    for (const [p, r] of [[sub, s], [b, w]] as const) {
      assert.is(r.code, 1, p.stderr());
      assert.match(p.stderr(), /lost the connection to Redis/);
      assert.not.match(p.stderr(), /\n\s+at /);
    }
    assert.match(sub.stderr(), /checkpoint .*lost\.jsonl.*--resume/);
  });

  test.after(async () => {
    killAll(workers);
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
}

test.run();
