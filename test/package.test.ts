// The package as a user gets it: `npm run build` (dist/, as `prepack` does after building the
// wasm), `npm pack`, the tarball installed into an empty project (npm registry only, from
// the npm cache when it can), then in that project: the three examples, `import("hermes-sim")`,
// `npx hermes-sim info`, and a consumer .ts type-checked against the shipped declarations
// with --strict --module nodenext (tsc of this repository's devDependencies).
// The wasm is not rebuilt here (the other test files read build/hermes.wasm meanwhile):
// `npm install` built it, and the pack runs with --ignore-scripts after the dist build.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "hermes-sim-package-"));
const project = join(work, "consumer");
const MIB = 1024 * 1024;

// A user's shell: none of the npm_* variables `npm test` sets for its scripts.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith("npm_")));

function sh(cmd: string, args: string[], cwd: string): SpawnSyncReturns<string> & { seconds: number } {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd, env, encoding: "utf8", maxBuffer: 64 * MIB });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) assert.unreachable(`${cmd} ${args.join(" ")} (in ${cwd}) exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return { ...r, seconds };
}
const npm = (args: string[], cwd: string) => sh(process.platform === "win32" ? "npm.cmd" : "npm", args, cwd);
const node = (args: string[]) => sh(process.execPath, args, project);

let tarball = "";

test("npm pack: compiled JavaScript, declarations and the wasm; no data/, tools/ or sources; ≤ 10 MiB", () => {
  sh(process.execPath, ["scripts/build-dist.mjs"], root);
  const [pack] = JSON.parse(npm(["pack", "--ignore-scripts", "--json", "--pack-destination", work], root).stdout) as {
    filename: string; size: number; unpackedSize: number; entryCount: number; files: { path: string }[];
  }[];
  tarball = join(work, pack!.filename);
  const paths = pack!.files.map((f) => f.path);
  console.log(`  ${pack!.filename}: ${(pack!.size / MIB).toFixed(2)} MiB packed, ${(pack!.unpackedSize / MIB).toFixed(2)} MiB unpacked, ${pack!.entryCount} files`);
  assert.ok(pack!.size <= 10 * MIB, `tarball ${pack!.size} bytes`);
  for (const p of ["package.json", "README.md", "bin/hermes-sim.mjs", "dist/lib/index.js", "dist/lib/index.d.ts", "dist/workers/kernels.js",
    "dist/build/hermes.wasm", "dist/build/hermes.d.ts", "dist/lib/chip/functional-fit.json", "examples/program-core.mjs"]) {
    assert.ok(paths.includes(p), `${p} is in the tarball`);
  }
  const stray = paths.filter((p) => /^(data|tools|lib|test|assembly|bench|scripts|build|workers)\//.test(p) || p.endsWith(".ts") && !p.endsWith(".d.ts") && !p.startsWith("examples/"));
  assert.equal(stray, [], "only what runs");
});

test("npm install <tarball> into an empty project: no onnxruntime-node, no tsx, no config warnings", () => {
  rmSync(project, { recursive: true, force: true });
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", private: true, type: "module" }, null, 2));
  const r = npm(["install", "--prefer-offline", "--no-audit", "--no-fund", tarball], project);
  console.log(`  npm install: ${r.seconds.toFixed(1)} s`);
  assert.not.match(r.stderr, /npm (error|ERR)|Unknown (project|env|user) config/);
  const installed = readdirSync(join(project, "node_modules"));
  for (const dev of ["onnxruntime-node", "tsx", "typescript", "assemblyscript", "uvu"]) assert.not.ok(installed.includes(dev), `${dev} is not installed`);
  assert.ok(installed.includes("onnxruntime-web"));
});

test('import("hermes-sim") and npx hermes-sim info', () => {
  const r = node(["-e", 'import("hermes-sim").then((m) => console.log(typeof m.Chip.create, typeof m.driftStudy))']);
  assert.is(r.stdout.trim(), "function function");
  const info = npm(["exec", "--offline", "--", "hermes-sim", "info"], project);
  assert.match(info.stdout, /cores\s+64 cores/);
});

test("the examples run from the installed package", () => {
  for (const f of ["program-core.mjs", "onnx-accuracy.mjs", "drift-checkpoint.mjs"]) copyFileSync(join(root, "examples", f), join(project, f));
  const one = node(["program-core.mjs"]);
  assert.match(one.stdout, /t = 25 s: .* error ‖ŷ − W·x‖\/‖W·x‖ = \d+\.\d+ %/);
  // No data/ beside the copy: the tiny built-in network, its float accuracy 100 % by construction.
  const two = node(["onnx-accuracy.mjs", "--limit", "16"]);
  assert.match(two.stdout, /tiny\.onnx: \d+ cores, 16 images\naccuracy on the chip .* \d+\.\d+ %, in float \(onnxruntime\) 100\.00 %/);
  const three = node(["drift-checkpoint.mjs", "3", join(work, "drift.jsonl")]);
  assert.match(three.stdout, /first run: study stopped with \d of 3 trials done/);
  assert.match(three.stdout, /resumed: \d of 3 chips read from/);
  assert.match(three.stdout, /t = 2592000 s: MVM error \d+\.\d+ % .* with drift compensation/);
  console.log(`  examples: ${one.seconds.toFixed(1)} s, ${two.seconds.toFixed(1)} s, ${three.seconds.toFixed(1)} s`);
});

test("a consumer .ts type-checks against the shipped declarations (tsc --strict --module nodenext)", () => {
  copyFileSync(join(root, "examples/consumer.ts"), join(project, "consumer.ts"));
  // The check, as a user types it: no tsconfig, no skipLibCheck.
  const tsc = join(root, "node_modules/typescript/bin/tsc");
  const r = spawnSync(process.execPath, [tsc, "--strict", "--module", "nodenext", "--target", "es2022", "--noEmit", "consumer.ts"], { cwd: project, env, encoding: "utf8" });
  assert.is(r.status, 0, r.stdout + r.stderr);
  assert.ok(existsSync(join(project, "node_modules/hermes-sim/dist/lib/index.d.ts")));
});

test("clean up", () => {
  rmSync(work, { recursive: true, force: true });
});

test.run();
