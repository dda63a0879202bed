// The browser's platform layer under lib/: what Node gives the CLI (fs, worker_threads through
// Piscina, onnxruntime-node), given here by the page, so that lib/'s own modules run unchanged
// (web/build.mjs maps node:fs, node:os, node:url, node:crypto, node:zlib and piscina to
// ./shims/). startPlatform: the wasm kernels fetched and compiled (provideWasmModule), the one
// shared WebAssembly.Memory (WasmRuntime.get()), N Web Workers over it as lib/'s task runner
// (setTaskRunner), onnxruntime-web's wasm build (provideOrt) and the functional fit's JSON.

import { DEFAULT_FIT_PATH } from "../../lib/chip/functional-fit.ts";
import { provideOrt, type Ort } from "../../lib/network/ort.ts";
import { setTaskRunner } from "../../lib/runtime/pool.ts";
import { provideWasmModule, WasmRuntime } from "../../lib/runtime/wasm.ts";
import { WebWorkerPool } from "./pool.ts";
import { provideFile } from "./shims/fs.ts";

/** The running platform: the worker pool and the onnxruntime build in use. */
export interface Platform {
  pool: WebWorkerPool;
  /** Web Workers (the `threads` of lib/'s calls). */
  threads: number;
  ortVersion: string;
}

const here = (path: string): string => new URL(path, import.meta.url).href;

async function fetchOk(url: string, what: string): Promise<Response> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`could not load ${what} (${url}: HTTP ${r.status})`);
  return r;
}

let started: Promise<Platform> | undefined;

/** Start the platform once per page with `threads` Web Workers (1..64). Throws when the page is
 * not cross-origin isolated (no shared memory) or a file of the playground cannot be loaded. */
export function startPlatform(threads: number): Promise<Platform> {
  started ??= (async () => {
    if (!globalThis.crossOriginIsolated) {
      throw new Error("this page is not cross-origin isolated, so WebAssembly cannot share memory with Web Workers: serve it with `hermes-sim serve`, or have the host send Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp (docs/playground.md)");
    }
    const [module, fit, ort] = await Promise.all([
      fetchOk(here("hermes.wasm"), "the simulator's wasm kernels").then((r) => WebAssembly.compileStreaming(r)),
      fetchOk(DEFAULT_FIT_PATH.href, "the functional fit").then((r) => r.arrayBuffer()),
      import(/* @vite-ignore */ here("ort/ort.wasm.bundle.min.mjs")) as Promise<Ort & { env: { versions?: { common?: string }; wasm: { wasmPaths?: string | { wasm?: string }; numThreads?: number; proxy?: boolean } } }>,
    ]);
    provideFile(DEFAULT_FIT_PATH.href, new Uint8Array(fit));
    provideWasmModule(module);
    // onnxruntime-web: its wasm from the playground's own folder, one thread (the float
    // reference is small next to the chip's work, and its threads would compete with ours).
    // (Only the .wasm's URL: its JavaScript glue is in the bundle already.)
    ort.env.wasm.wasmPaths = { wasm: here("ort/ort-wasm-simd-threaded.wasm") };
    ort.env.wasm.numThreads = 1;
    provideOrt(ort, "onnxruntime-web");
    const rt = WasmRuntime.get();
    const pool = await WebWorkerPool.create(threads, here("worker.js"), rt.module, rt.memory);
    setTaskRunner((task) => pool.run(task));
    return { pool, threads, ortVersion: ort.env.versions?.common ?? "?" };
  })();
  return started;
}

/** A file's bytes from a URL or a File the user picked, gunzipped when it is gzip (by its magic). */
export async function fileBytes(src: string | File): Promise<{ name: string; bytes: Uint8Array }> {
  let name: string;
  let buf: ArrayBuffer;
  if (typeof src === "string") {
    name = decodeURIComponent(src.split("/").pop() || src);
    let r: Response;
    try {
      r = await fetch(src);
    } catch (e) {
      throw new Error(`could not fetch ${src}: ${(e as Error).message}`);
    }
    if (!r.ok) throw new Error(`could not fetch ${src}: HTTP ${r.status}`);
    buf = await r.arrayBuffer();
  } else {
    name = src.name;
    buf = await src.arrayBuffer();
  }
  let bytes = new Uint8Array(buf);
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
      bytes = new Uint8Array(await new Response(stream).arrayBuffer());
    } catch (e) {
      throw new Error(`${name} is not a readable gzip file (${(e as Error).message})`);
    }
  }
  return { name, bytes };
}
