// `run --model --queue` and `drift --model --queue` (lib/study/queue/) on a real redis-server
// started here on a free loopback port with a password: two workers (one and two threads; the
// local run has one), one killed with SIGKILL in the middle of a job, give the JSON of a local
// run (accuracies, agreement, outputError, digest; series and digest of a drift study);
// --resume from a cut checkpoint gives it too; payloads that do not validate are refused with
// one log line and the worker goes on; a submitter stopped by SIGINT removes its jobs that no
// worker has started; a wrong or missing password fails at once with one line. The model is
// test/fixtures/models' LeNet-5 on Fashion-MNIST images; blobs are cut in 64 KiB chunks so
// that chunking is used. Skipped with a printed reason without redis-server (.ci/run installs it).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { BLOB_PREFIX, PROTOCOL, VERSION } from "../../../lib/study/queue/jobs.ts";
import { getBlob, putBlob, sha256Bytes } from "../../../lib/study/queue/blobs.ts";
import { ENV, REDIS, cli, exitOrHang, killAll, startRedis, waitFor, type Proc, type TestRedis } from "../../fixtures/queue.ts";

const FIX = new URL("../../fixtures/models/", import.meta.url).pathname;
const DATA = ["--model", join(FIX, "lenet-bn.onnx"), "--images", join(FIX, "fmnist-500-u8.npy"), "--labels", join(FIX, "fmnist-500-labels.npy"), "--mean", "0.2860", "--std", "0.3530"];
const RUN = ["run", ...DATA, "--limit", "80", "--runs", "2", "--threads", "1", "--json"];
const DRIFT = ["drift", ...DATA, "--limit", "40", "--chips", "2", "--times", "25,1mo", "--threads", "1", "--json"];
const env: NodeJS.ProcessEnv = { ...ENV, HERMES_QUEUE_BLOB_CHUNK: "65536" };
const SAME = ["accuracy", "accuracyStd", "accuracies", "floatAccuracy", "agreement", "outputError", "agreements", "outputErrors", "digest", "n", "cores", "input", "cost"];

type Doc = Record<string, unknown>;
const pick = (d: Doc, keys: string[]) => JSON.stringify(keys.map((k) => d[k]));

if (!REDIS) {
  console.log("skipped: redis-server not installed (apt-get install redis-server)");
} else {
  const dir = mkdtempSync(join(tmpdir(), "hermes-queue-model-"));
  let redis: TestRedis;
  const procs: Proc[] = [];
  let b: Proc;
  let localRun: Doc;
  const noSecret = (text: string, what: string) => assert.not.ok(text.includes(redis.password), `${what} shows the password`);

  test.before(async () => {
    redis = await startRedis();
  });

  test("run --model: two workers, one killed (SIGKILL) mid-job: the JSON of a local run; resubmitting recomputes nothing", async () => {
    const local = cli(RUN, env);
    const a = cli(["worker", "--queue", redis.url, "--threads", "1"], env);
    b = cli(["worker", "--queue", redis.url, "--threads", "2"], env); // other thread counts, same bits
    procs.push(a, b);
    assert.is((await local.exit).code, 0, local.stderr());
    localRun = JSON.parse(local.stdout()) as Doc;
    assert.match(String(localRun["digest"]), /^[0-9a-f]{64}$/);
    await waitFor("both workers", () => /waiting for jobs/.test(a.stderr()) && /waiting for jobs/.test(b.stderr()));
    const ck = join(dir, "run.jsonl");
    const t0 = performance.now();
    const sub = cli([...RUN, "--queue", redis.url, "--job-images", "20", "--checkpoint", ck], env);
    await waitFor("worker A to start a job", () => / started \(job /.test(a.stderr()));
    const job = /\(job (infer-[\w-]+),/.exec(a.stderr())![1]!;
    a.child.kill("SIGKILL");
    assert.is((await a.exit).signal, "SIGKILL");
    assert.not.match(a.stderr(), / done in /, "A was killed mid-job");
    const s = await sub.exit;
    assert.is(s.code, 0, sub.stderr());
    const got = JSON.parse(sub.stdout()) as Doc;
    assert.is(pick(got, SAME), pick(localRun, SAME), "same figures and digest as the local run");
    assert.is(got["queue"], `redis://***@127.0.0.1:${redis.port}`);
    // The killed worker's job was stalled and taken over by B.
    const startedB = b.stderr().split("\n").find((l) => l.includes(`(job ${job},`));
    assert.ok(startedB, `B started ${job}:\n${b.stderr()}`);
    assert.ok(b.stderr().includes(`${/worker: (.*) started/.exec(startedB!)![1]} done in`), `B finished ${job}`);
    console.log(`queued run: ${((performance.now() - t0) / 1000).toFixed(1)} s wall, A's job taken over by B after the SIGKILL`);
    const lines = readFileSync(ck, "utf8").trim().split("\n").slice(1).map((l) => JSON.parse(l) as { trial: number });
    assert.equal(lines.map((l) => l.trial), [...Array(8).keys()], "one record per job, in order");
    for (const p of [sub, a, b]) noSecret(p.stdout() + p.stderr(), "output");
    noSecret(readFileSync(ck, "utf8"), "the checkpoint");

    // The same run again: every job is found completed, nothing runs.
    const before = (b.stderr().match(/ started /g) ?? []).length;
    const again = cli([...RUN, "--queue", redis.url, "--job-images", "20"], env);
    assert.is((await again.exit).code, 0, again.stderr());
    assert.is(pick(JSON.parse(again.stdout()) as Doc, SAME), pick(localRun, SAME));
    assert.is((b.stderr().match(/ started /g) ?? []).length, before, "no job run twice");
  });

  test("run --model --resume from a checkpoint cut inside the second run (torn last line): the same JSON", async () => {
    const ck = join(dir, "run.jsonl");
    const lines = readFileSync(ck, "utf8").split("\n");
    writeFileSync(ck, lines.slice(0, 1 + 6).join("\n") + "\n" + lines[7]!.slice(0, 20));
    const r = cli([...RUN, "--queue", redis.url, "--job-images", "20", "--checkpoint", ck, "--resume"], env);
    assert.is((await r.exit).code, 0, r.stderr());
    assert.is(pick(JSON.parse(r.stdout()) as Doc, SAME), pick(localRun, SAME));
    assert.match(r.stderr(), /2 jobs .*6 already in the checkpoint/);
    const refused = cli([...RUN, "--queue", redis.url, "--job-images", "10", "--checkpoint", ck, "--resume"], env);
    assert.is((await refused.exit).code, 1, refused.stderr());
    assert.match(refused.stderr(), /different study .*jobImages is 20 there, 10 here/);
  });

  test("payloads that do not validate are refused with one log line each; the worker goes on", async () => {
    const conn = new Redis({ host: "127.0.0.1", port: redis.port, password: redis.password, maxRetriesPerRequest: null });
    const q = new Queue("hermes-sim", { connection: conn });
    const fake = "ab".repeat(32);
    await conn.set(`${BLOB_PREFIX}${fake}`, JSON.stringify({ bytes: 5, chunks: 1, chunk: 65536 }));
    await conn.set(`${BLOB_PREFIX}${fake}:0`, "hello");
    const infer = {
      protocol: PROTOCOL, kind: "infer", hermesSim: VERSION, studyHash: "00", model: fake,
      images: { sha256: fake, layout: "nchw", inputScale: 1, mean: [0], std: [1] },
      chip: { seed: "1", scheme: "tdp", fidelity: "physical" }, t: 25, draw: 0, scales: { x: 1 }, first: 0, count: 1,
    };
    const bad: [string, object, RegExp][] = [
      ["bad-kind", { ...infer, kind: "rm-rf" }, /unknown job kind "rm-rf"/],
      ["bad-version", { ...infer, protocol: 1 }, /job format 1 is not this worker's/],
      ["bad-hash", infer, /model abababababab: the 5 bytes fetched from Redis do not have that SHA-256/],
      ["bad-data", { ...infer, count: -3 }, /malformed infer job: count/],
    ];
    const seen = b.stderr().length;
    for (const [id, data] of bad) await q.add("x", data, { jobId: id });
    await waitFor("four refusals", () => (b.stderr().slice(seen).match(/refused job/g) ?? []).length === 4, 30_000);
    const log = b.stderr().slice(seen).trim().split("\n");
    for (const [id, , re] of bad) {
      const lines = log.filter((l) => l.includes(id));
      assert.is(lines.length, 1, lines.join("\n"));
      assert.match(lines[0]!, new RegExp(`refused job ${id}: `));
      assert.match(lines[0]!, re);
      assert.is(await (await q.getJob(id))!.getState(), "failed");
    }
    assert.is(b.child.exitCode, null, "the worker is still running");
    await q.close();
    conn.disconnect();
  });

  test("blobs: stored in chunks under their SHA-256, read back checked; a changed or missing chunk is an error", async () => {
    const conn = new Redis({ host: "127.0.0.1", port: redis.port, password: redis.password });
    const old = process.env["HERMES_QUEUE_BLOB_CHUNK"];
    process.env["HERMES_QUEUE_BLOB_CHUNK"] = "4096";
    try {
      const bytes = Uint8Array.from({ length: 10_000 }, (_, i) => (i * 7919) % 251);
      const sha = await putBlob(conn, bytes);
      assert.is(sha, sha256Bytes(bytes));
      assert.is(JSON.parse((await conn.get(BLOB_PREFIX + sha))!).chunks, 3);
      assert.ok((await getBlob(conn, sha, "test")).equals(bytes));
      assert.is(await putBlob(conn, bytes), sha, "storing again renews it");
      assert.ok((await conn.ttl(`${BLOB_PREFIX}${sha}:2`)) > 86_400);
      await conn.set(`${BLOB_PREFIX}${sha}:1`, Buffer.alloc(4096));
      await getBlob(conn, sha, "test").then(() => assert.unreachable(), (e: Error) => assert.match(e.message, /test [0-9a-f]{12}: the 10000 bytes fetched from Redis do not have that SHA-256/));
      await conn.del(`${BLOB_PREFIX}${sha}:1`);
      await getBlob(conn, sha, "test").then(() => assert.unreachable(), (e: Error) => assert.match(e.message, /chunk 1 of 3 is not in Redis/));
      await getBlob(conn, "0".repeat(64), "model").then(() => assert.unreachable(), (e: Error) => assert.match(e.message, /model 000000000000 is not in Redis \(expired or removed\)/));
    } finally {
      if (old === undefined) delete process.env["HERMES_QUEUE_BLOB_CHUNK"];
      else process.env["HERMES_QUEUE_BLOB_CHUNK"] = old;
      conn.disconnect();
    }
  });

  /** The same command run locally and on the queue, at once: both JSON documents (both must exit 0). */
  async function localAndQueued(args: string[]): Promise<{ want: Doc; got: Doc; sub: Proc }> {
    const local = cli(args, env);
    const sub = cli([...args, "--queue", redis.url], env);
    const [l, q] = await Promise.all([local.exit, sub.exit]);
    assert.is(l.code, 0, local.stderr());
    assert.is(q.code, 0, sub.stderr());
    return { want: JSON.parse(local.stdout()) as Doc, got: JSON.parse(sub.stdout()) as Doc, sub };
  }

  test("drift --model: the series and digest of a local run, on the same worker", async () => {
    const { want, got, sub } = await localAndQueued(DRIFT);
    for (const k of ["series", "digest", "studyHash", "floatAccuracy", "options", "n"]) assert.is(JSON.stringify(got[k]), JSON.stringify(want[k]), k);
    assert.match(sub.stderr(), /2 chips × 2 read times in 4 jobs/);
    noSecret(sub.stdout() + sub.stderr() + b.stderr(), "output");
  });

  test("--host-activations (act-mix: HardSwish, Sigmoid, PRelu on the host): run and drift on the queue give the local digests", async () => {
    const act = ["--model", join(FIX, "act-mix.onnx"), "--images", join(FIX, "fmnist-500-u8.npy"), "--labels", join(FIX, "fmnist-500-labels.npy"), "--host-activations", "--threads", "1", "--json"];
    for (const args of [["run", ...act, "--limit", "24"], ["drift", ...act, "--limit", "16", "--chips", "1", "--times", "25"]]) {
      const { want, got } = await localAndQueued(args);
      assert.match(String(want["digest"]), /^[0-9a-f]{64}$/);
      assert.is(got["digest"], want["digest"], `${args[0]}: same digest as the local run`);
    }
  });

  test("a submitter stopped by SIGINT removes the jobs no worker has started (run --model and drift --model)", async () => {
    const url1 = `${redis.url}/1`; // no worker listens on database 1
    const conn = new Redis({ host: "127.0.0.1", port: redis.port, password: redis.password, db: 1, maxRetriesPerRequest: null });
    const q = new Queue("hermes-sim", { connection: conn });
    try {
      for (const [args, queued, jobs] of [
        [[...RUN, "--seed", "9", "--job-images", "10"], /16 jobs of up to 10 images/, 16],
        [[...DRIFT, "--seed", "9"], /2 chips × 2 read times in 4 jobs/, 4],
      ] as const) {
        const sub = cli([...args, "--queue", url1], env);
        await waitFor("the jobs to be queued", () => queued.test(sub.stderr()) || sub.child.exitCode !== null);
        assert.is(await q.getWaitingCount(), jobs, sub.stderr());
        sub.child.kill("SIGINT");
        const r = await exitOrHang(sub, "the interrupted submitter");
        assert.is(r.code, 130, sub.stderr());
        assert.match(sub.stderr(), new RegExp(`removed ${jobs} jobs no worker had started from the queue`));
        assert.is(await q.getWaitingCount(), 0, "nothing left waiting");
        noSecret(sub.stdout() + sub.stderr(), "output");
      }
    } finally {
      await q.close();
      conn.disconnect();
    }
  });

  test("a wrong or missing password, an unreachable server: one line, exit 1, at once (no hang)", async () => {
    const wrong = redis.url.replace(redis.password, "not-the-password");
    const none = `redis://127.0.0.1:${redis.port}`;
    const runs = [
      cli([...RUN, "--queue", wrong], env),
      cli(["worker", "--queue", wrong], env),
      cli([...DRIFT, "--queue", none], env),
      cli([...RUN, "--queue", "redis://:secret-word@127.0.0.1:1"], env),
    ];
    const exits = await Promise.all(runs.map((p, i) => exitOrHang(p, `command ${i}`)));
    const expect = [/refused the credentials \(WRONGPASS\)/, /refused the credentials \(WRONGPASS\)/, /requires a password/, /no Redis server at redis:\/\/\*\*\*@127\.0\.0\.1:1 \(connection refused\)/];
    runs.forEach((p, i) => {
      const err = p.stderr();
      assert.is(exits[i]!.code, 1, err);
      assert.is(err.trim().split("\n").length, 1, err);
      assert.match(err, expect[i]!);
      assert.not.match(err, /not-the-password|secret-word/);
    });
  });

  test.after(async () => {
    killAll(procs);
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
}

test.run();
