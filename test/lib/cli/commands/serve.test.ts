// `hermes-sim serve`: every response carries the cross-origin isolation headers; the
// playground and DIR (under /data/) are served and nothing else: no `..` (plain or encoded),
// no symbolic link out of DIR, no directory listing; `GET /api/data` lists DIR's files; a bad
// --data or --port is a usage error (exit 2) naming the flag. The page itself is tested in a
// real browser in test/web/playground.test.ts.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { createServer, request } from "node:http";
import { spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { main } from "../../../../lib/cli/main.ts";
import { ISOLATION_HEADERS, playgroundHandler, startServer } from "../../../../lib/cli/commands/serve.ts";

const dir = mkdtempSync(join(tmpdir(), "hermes-serve-"));
const data = join(dir, "data");
mkdirSync(join(data, "sets"), { recursive: true });
writeFileSync(join(data, "model.onnx"), "MODEL");
writeFileSync(join(data, "sets", "x.npy"), "NPY");
writeFileSync(join(data, ".hidden"), "no");
writeFileSync(join(dir, "secret.txt"), "SECRET");
symlinkSync(join(dir, "secret.txt"), join(data, "link.txt"));

let server: Server;
let base: string;

test.before(async () => {
  ({ server, url: base } = await startServer({ port: "0", data }));
});
test.after(() => {
  server.close();
  server.closeAllConnections();
  rmSync(dir, { recursive: true, force: true });
});

/** A raw GET (node:http, so that the path is sent exactly as written, `..` included). */
function get(path: string, method = "GET"): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const u = new URL(base);
  return new Promise((ok, fail) => {
    const req = request({ host: u.hostname, port: u.port, path, method }, (res) => {
      let body = "";
      res.setEncoding("latin1");
      res.on("data", (d) => (body += d));
      res.on("end", () => ok({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on("error", fail);
    req.end();
  });
}

test("binds to 127.0.0.1 by default and prints that URL", () => {
  assert.match(base, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  const addr = server.address();
  assert.is(typeof addr === "object" && addr?.address, "127.0.0.1");
});

test("the page, its bundles and the wasm files, each with the isolation headers and its type", async () => {
  for (const [path, type] of [["/", "text/html"], ["/app.js", "text/javascript"], ["/worker.js", "text/javascript"], ["/hermes.wasm", "application/wasm"], ["/ort/ort-wasm-simd-threaded.wasm", "application/wasm"], ["/data/model.onnx", "application/octet-stream"]] as const) {
    const r = await get(path, "HEAD");
    assert.is(r.status, 200, path);
    assert.ok(String(r.headers["content-type"]).startsWith(type), `${path}: ${r.headers["content-type"]}`);
    for (const [k, v] of Object.entries(ISOLATION_HEADERS)) assert.is(r.headers[k.toLowerCase()], v, `${path} ${k}`);
  }
  assert.ok(ISOLATION_HEADERS["Cross-Origin-Opener-Policy"] === "same-origin" && ISOLATION_HEADERS["Cross-Origin-Embedder-Policy"] === "require-corp");
  const page = await get("/");
  assert.match(page.body, /<script type="module" src="app.js">/);
  assert.is((await get("/data/sets/x.npy")).body, "NPY");
});

test("nothing outside the playground and DIR: traversal, encoded traversal, symbolic links, listings → 404", async () => {
  const secret = readFileSync(join(dir, "secret.txt"), "latin1");
  for (const path of [
    "/data/../secret.txt", "/data/%2e%2e/secret.txt", "/data/..%2fsecret.txt", "/data/%2e%2e%2fsecret.txt", "/..%2f..%2f..%2fetc%2fpasswd",
    "/%2e%2e/package.json", "/data/link.txt", "/data/", "/data/sets/", "/data/sets", "/ort/", "/data/%00model.onnx", "/data/.hidden/../../secret.txt",
  ]) {
    const r = await get(path);
    assert.is(r.status, 404, path);
    assert.not.ok(r.body.includes(secret), path);
    assert.is(r.headers["cross-origin-embedder-policy"], "require-corp", path);
  }
  assert.is((await get("/%zz")).status, 400);
  assert.is((await get("/", "POST")).status, 405);
});

test("/api/data lists DIR's files (not dot files, not links out of DIR)", async () => {
  const r = await get("/api/data");
  assert.is(r.status, 200);
  const files = (JSON.parse(r.body) as { files: string[] }).files;
  assert.ok(files.includes("model.onnx") && files.includes("sets/x.npy"), files.join(","));
  assert.not.ok(files.includes(".hidden"));
  assert.not.ok(files.includes("link.txt"));
});

test("a playground built without onnxruntime-web's files (the npm package) gets those two from the installed dependency, nothing else", async () => {
  const bare = join(dir, "bare");
  mkdirSync(bare);
  writeFileSync(join(bare, "index.html"), "<p>bare</p>");
  const s = createServer(playgroundHandler(bare, undefined));
  await new Promise<void>((ok) => s.listen(0, "127.0.0.1", ok));
  const saved = base;
  base = `http://127.0.0.1:${(s.address() as { port: number }).port}/`;
  try {
    const wasm = await get("/ort/ort-wasm-simd-threaded.wasm", "HEAD");
    assert.is(wasm.status, 200);
    assert.is(wasm.headers["content-type"], "application/wasm");
    assert.is((await get("/ort/ort.wasm.bundle.min.mjs", "HEAD")).status, 200);
    for (const p of ["/ort/ort.node.min.mjs", "/ort/../package.json", "/ort/%2e%2e/package.json", "/data/x"]) assert.is((await get(p)).status, 404, p);
  } finally {
    base = saved;
    s.close();
  }
});

test("the command prints its URL, serves, and stops cleanly on SIGINT (exit 0)", async () => {
  const bin = fileURLToPath(new URL("../../../../bin/hermes-sim.mjs", import.meta.url));
  const child = spawn(process.execPath, [bin, "serve", "--port", "0", "--data", data], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const url = await new Promise<string>((ok, fail) => {
    child.stdout.on("data", (d) => {
      out += d;
      const m = /playground: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) ok(m[1]!);
    });
    child.on("exit", (code) => fail(new Error(`serve exited with ${code}: ${out}`)));
  });
  const saved = base;
  base = url;
  try {
    assert.is((await get("/data/model.onnx")).body, "MODEL");
  } finally {
    base = saved;
  }
  const code = await new Promise<number | null>((ok) => {
    child.on("exit", (c) => ok(c));
    child.kill("SIGINT");
  });
  assert.is(code, 0);
  assert.match(out, /Ctrl-C to stop\n[\s\S]*playground: stopped\n$/);
});

test("bad --data / --port: usage errors naming the flag (exit 2)", async () => {
  const errs: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((s: string) => (errs.push(s), true)) as typeof process.stderr.write;
  try {
    assert.is(await main(["serve", "--data", join(dir, "nope")], () => {}), 2);
    assert.is(await main(["serve", "--port", "70000"], () => {}), 2);
    assert.is(await main(["serve", "--port", String(new URL(base).port)], () => {}), 2);
  } finally {
    process.stderr.write = write;
  }
  assert.match(errs[0]!, /--data/);
  assert.match(errs[1]!, /--port/);
  assert.match(errs[2]!, /--port.*a free port/);
});

test.run();
