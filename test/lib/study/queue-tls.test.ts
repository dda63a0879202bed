// The queue over TLS with a password (rediss://, --tls-ca; lib/study/queue/connection.ts), as the
// README sets it up between machines: a redis-server started here with a TLS port only, a
// certificate for 127.0.0.1 signed by a CA made here with openssl. A worker and a submitter
// given the CA (flag or HERMES_QUEUE_TLS_CA) give the JSON of a local run; without the CA, or
// with redis:// against the TLS port, one line and exit 1, no hang. Skipped with a
// printed reason without redis-server, openssl, or TLS support in redis-server.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ENV, REDIS, cli, exitOrHang, killAll, onPath, startRedis, waitFor, type Proc, type TestRedis } from "../../fixtures/queue.ts";

const FIX = new URL("../../fixtures/models/", import.meta.url).pathname;
const RUN = [
  "run", "--model", join(FIX, "lenet-bn.onnx"), "--images", join(FIX, "fmnist-500-u8.npy"), "--labels", join(FIX, "fmnist-500-labels.npy"),
  "--mean", "0.2860", "--std", "0.3530", "--limit", "30", "--threads", "1", "--json",
];
const SAME = ["accuracies", "floatAccuracy", "agreement", "outputError", "digest"];
const OPENSSL = onPath("openssl");
const dir = mkdtempSync(join(tmpdir(), "hermes-queue-tls-"));

/** A CA and a server certificate for 127.0.0.1 signed by it (EC P-256, valid 2 days). */
function makeCertificates(): { ca: string; cert: string; key: string } | string {
  const f = (n: string) => join(dir, n);
  writeFileSync(f("san.ext"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n");
  const steps = [
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", f("ca.key"), "-out", f("ca.crt"), "-days", "2",
      "-subj", "/CN=hermes-sim test CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
    ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", f("server.key"), "-out", f("server.csr"), "-subj", "/CN=127.0.0.1"],
    ["x509", "-req", "-in", f("server.csr"), "-CA", f("ca.crt"), "-CAkey", f("ca.key"), "-CAcreateserial", "-out", f("server.crt"), "-days", "2", "-extfile", f("san.ext")],
  ];
  for (const args of steps) {
    const r = spawnSync(OPENSSL!, args, { encoding: "utf8" });
    if (r.status !== 0) return `openssl ${args[0]} failed: ${r.stderr.trim().split("\n")[0]}`;
  }
  return { ca: f("ca.crt"), cert: f("server.crt"), key: f("server.key") };
}

const certs = REDIS && OPENSSL ? makeCertificates() : "redis-server or openssl not installed";
let redis: TestRedis | string = typeof certs === "string" ? certs : "";
if (typeof certs !== "string") {
  try {
    redis = await startRedis(["--tls-cert-file", certs.cert, "--tls-key-file", certs.key, "--tls-ca-cert-file", certs.ca, "--tls-auth-clients", "no"], true);
  } catch (e) {
    redis = `redis-server without TLS (${(e as Error).message.split("\n")[0]})`;
  }
}

if (typeof redis === "string") {
  console.log(`skipped: ${redis}`);
} else {
  const r = redis;
  const ca = (certs as { ca: string }).ca;
  const procs: Proc[] = [];

  test("rediss:// with a password and the CA: the JSON of a local run; the CA from the flag or HERMES_QUEUE_TLS_CA", async () => {
    const local = cli(RUN);
    const w = cli(["worker", "--queue", r.url, "--tls-ca", ca, "--threads", "1"]);
    procs.push(w);
    assert.is((await local.exit).code, 0, local.stderr());
    await waitFor("the worker", () => /waiting for jobs on rediss:\/\/\*\*\*@127\.0\.0\.1/.test(w.stderr()) || w.child.exitCode !== null);
    assert.is(w.child.exitCode, null, w.stderr());
    const sub = cli([...RUN, "--queue", r.url, "--job-images", "10"], { ...ENV, HERMES_QUEUE_TLS_CA: ca });
    assert.is((await sub.exit).code, 0, sub.stderr() + w.stderr());
    const [a, b] = [JSON.parse(local.stdout()), JSON.parse(sub.stdout())] as Record<string, unknown>[];
    assert.is(JSON.stringify(SAME.map((k) => b![k])), JSON.stringify(SAME.map((k) => a![k])));
    for (const p of [sub, w]) assert.not.ok((p.stdout() + p.stderr()).includes(r.password), "no password in the output");
  });

  test("without the CA, or redis:// against the TLS port: one line, exit 1, at once (no hang)", async () => {
    const runs = [cli([...RUN, "--queue", r.url]), cli(["worker", "--queue", r.url.replace("rediss:", "redis:")])];
    const exits = await Promise.all(runs.map((p, i) => exitOrHang(p, `command ${i}`)));
    const expect = [/the TLS certificate of rediss:\/\/\*\*\*@127\.0\.0\.1:\d+ is not trusted .*--tls-ca/, /redis:\/\/\*\*\*@127\.0\.0\.1:\d+/];
    runs.forEach((p, i) => {
      const err = p.stderr();
      assert.is(exits[i]!.code, 1, err);
      assert.is(err.trim().split("\n").length, 1, err);
      assert.match(err, expect[i]!);
      assert.not.ok(err.includes(r.password));
    });
  });

  test.after(async () => {
    killAll(procs);
    await r.stop();
  });
}

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
