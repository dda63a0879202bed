#!/usr/bin/env node
// `npm run build:web`: the playground as static files in web/dist/ (or `--out DIR`), for
// `hermes-sim serve` or any static host that sends the cross-origin isolation headers
// (docs/playground.md):
//   index.html, style.css           the page
//   app.js, worker.js               lib/ and web/src/ bundled by esbuild (ES modules), with
//                                   node:fs, node:os, node:url, node:crypto, node:zlib and piscina
//                                   mapped to web/src/shims/ (the browser's platform layer)
//   hermes.wasm                     the simulator's kernels (build/, `npm run asbuild`)
//   functional-fit.json             lib/chip/functional-fit.json (the functional fidelity's fit)
//   ort/                            onnxruntime-web's wasm-only build (the float reference and
//                                   the ONNX front end's constant folding)
import { cpSync, existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const web = dirname(fileURLToPath(import.meta.url));
const root = join(web, "..");
const SHIMS = { "node:fs": "fs.ts", "node:os": "os.ts", "node:url": "url.ts", "node:crypto": "crypto.ts", "node:zlib": "zlib.ts", piscina: "piscina.ts" };
export const ORT_FILES = ["ort.wasm.bundle.min.mjs", "ort-wasm-simd-threaded.wasm"];

/** esbuild plugin: the shims for Node-only modules; any other node: import is an error. */
const shims = {
  name: "hermes-browser-shims",
  setup(build) {
    build.onResolve({ filter: /^(node:|piscina$)/ }, (a) => {
      const shim = SHIMS[a.path];
      if (!shim) return { errors: [{ text: `${a.path} (imported by ${a.importer}) has no browser shim in web/src/shims/` }] };
      return { path: join(web, "src/shims", shim) };
    });
  },
};

/**
 * Build the playground into `out` (default web/dist/), replaced atomically (built next to it,
 * then renamed); `ort: false` leaves out onnxruntime-web's files. Returns the folder. Throws when build/hermes.wasm is missing or esbuild fails.
 */
export async function buildWeb({ out = join(web, "dist"), minify = true, quiet = false, ort = true } = {}) {
  const esbuild = await import("esbuild");
  const wasm = join(root, "build/hermes.wasm");
  if (!existsSync(wasm)) throw new Error(`${wasm} is missing: run \`npm run asbuild\` first`);
  const dest = resolve(out);
  const tmp = `${dest}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  await esbuild.build({
    entryPoints: { app: join(web, "src/app.ts"), worker: join(web, "src/worker.ts") },
    outdir: tmp,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify,
    sourcemap: true,
    logLevel: quiet ? "error" : "warning",
    plugins: [shims],
    // lib/network/ort.ts imports onnxruntime by a computed name under Node; the page provides it.
    external: ["onnxruntime-node", "onnxruntime-web"],
  });
  for (const f of ["index.html", "style.css"]) cpSync(join(web, f), join(tmp, f));
  cpSync(wasm, join(tmp, "hermes.wasm"));
  cpSync(join(root, "lib/chip/functional-fit.json"), join(tmp, "functional-fit.json"));
  const ortDist = dirname(fileURLToPath(import.meta.resolve("onnxruntime-web")));
  // Without `ort` (the npm package: 15 MB of wasm it need not carry twice) `hermes-sim serve`
  // serves these files from the installed onnxruntime-web.
  if (ort) for (const f of ORT_FILES) cpSync(join(ortDist, f), join(tmp, "ort", f), { recursive: true });
  // Swap the folders (two builds at once, e.g. two `serve`s in one checkout: the last one wins,
  // and a server never sees a half-written folder).
  const old = `${dest}.old-${process.pid}`;
  try {
    renameSync(dest, old);
  } catch {
    // no previous build
  }
  try {
    renameSync(tmp, dest);
  } catch (e) {
    if (!existsSync(join(dest, "index.html"))) throw e;
    rmSync(tmp, { recursive: true, force: true }); // another build put its folder there first
  }
  rmSync(old, { recursive: true, force: true });
  return dest;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf("--out");
  const dest = await buildWeb(i > 0 ? { out: process.argv[i + 1] } : {});
  console.log(`build:web: the playground in ${dest} (serve it with the headers in docs/playground.md)`);
}
