import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { main } from "../../../lib/cli/main.ts";
import { ARCH } from "../../../lib/chip/config.ts";

async function run(argv: string[]): Promise<{ code: number; out: string }> {
  let out = "";
  const code = await main(argv, (s) => (out += s));
  return { code, out };
}

test("info --json prints one JSON document with every constant and its source", async () => {
  const { code, out } = await run(["info", "--json"]);
  assert.is(code, 0);
  const info = JSON.parse(out);
  assert.is(info.architecture.cores.value, 64);
  assert.is(info.architecture.links.value, ARCH.links.value);
  assert.match(info.programming.marginCounts.source, /Methods/);
  assert.ok(info.runtime.wasmBytes > 0);
});

test("info prints a table a person can read", async () => {
  const { code, out } = await run(["info"]);
  assert.is(code, 0);
  assert.match(out, /cores\s+64 cores\s+EDT I/);
  assert.match(out, /weightsPerChip\s+4,194,304 weights/);
});

test("bad usage exits 2; --version exits 0 (real process)", () => {
  const bin = new URL("../../../bin/hermes-sim.mjs", import.meta.url).pathname;
  const bad = spawnSync(process.execPath, [bin, "no-such-command"], { encoding: "utf8" });
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /unknown command/);
  assert.is(bad.stdout, "");
  const ver = spawnSync(process.execPath, [bin, "--version"], { encoding: "utf8" });
  assert.is(ver.status, 0);
  assert.match(ver.stdout, /^\d+\.\d+\.\d+\n$/);
});

test("a reader that closes the pipe early (| head, | true) ends the command quietly", () => {
  const bin = fileURLToPath(new URL("../../../bin/hermes-sim.mjs", import.meta.url));
  // pipefail: the pipeline's status is the command's, not head's.
  const r = spawnSync("bash", ["-c", `set -o pipefail; "${process.execPath}" "${bin}" info | true`], { encoding: "utf8" }); // `true` reads nothing: every write meets a closed pipe
  assert.not.match(r.stderr, /EPIPE|Unhandled/, r.stderr);
  assert.is(r.status, 0);
});

test.run();
