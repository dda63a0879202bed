#!/usr/bin/env node
// `npm run build` (and `prepack`): the package's JavaScript in dist/, laid out like the
// repository so that every module-relative file location holds in both:
//   dist/lib/**.js, .d.ts, .js.map   tsc -p tsconfig.build.json (.ts imports → .js)
//   dist/workers/kernels.js          the worker-thread entry Piscina loads (no tsx)
//   dist/lib/**/*.json               data files the modules read (functional-fit.json)
//   dist/build/hermes.wasm, .d.ts    the wasm kernels (built by `npm run asbuild`) and the
//                                    declaration the kernels' type is taken from
//   dist/web/                        the browser playground (web/build.mjs, `hermes-sim serve`)
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = join(root, "dist");
rmSync(dist, { recursive: true, force: true });

const tsc = spawnSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", join(root, "tsconfig.build.json")], { stdio: "inherit" });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

function copy(from, to = join(dist, relative(root, from))) {
  mkdirSync(dirname(to), { recursive: true });
  cpSync(from, to);
}
function walk(dir) {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)]));
}
for (const f of walk(join(root, "lib")).filter((f) => f.endsWith(".json"))) copy(f);
for (const f of ["build/hermes.wasm", "build/hermes.d.ts"]) {
  if (!existsSync(join(root, f))) {
    console.error(`build-dist: ${f} is missing: run \`npm run asbuild\` first`);
    process.exit(1);
  }
  copy(join(root, f));
}
// The browser playground (`hermes-sim serve`), without onnxruntime-web's files: serve takes
// them from the installed dependency.
const { buildWeb } = await import("../web/build.mjs");
await buildWeb({ out: join(dist, "web"), quiet: true, ort: false });
console.log(`build-dist: ${walk(dist).length} files in dist/`);
