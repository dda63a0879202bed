// The playground page: the form, the URL parameters (model, images, labels, limit, scheme,
// fidelity, time, seed, mean, std, inputScale, threads, autorun=1), dropped and picked files,
// and the run's life: document.body.dataset.state is "loading", "ready", "running", "done" or
// "error"; when a run ends window.hermesResult is the JSON of `run --model --json`, on failure
// the message is on the page (#error).

import { ModelTooLargeError } from "../../lib/network/needs.ts";
import { fileBytes, startPlatform, type Platform } from "./platform.ts";
import { accuracyOverTime, loadModel, parseSettings, runModel, type LoadedModel, type RunSettings } from "./run.ts";
import { showNeeds, showPlacement, showSummary, showSweep } from "./view.ts";
import type { PreparedModelRun } from "../../lib/study/model-run-local.ts";

declare global {
  interface Window {
    hermesResult?: unknown;
    hermesSweep?: unknown;
    /** Images done and performance.now() (ms) after each batch of the last run (bench/playground.bench.ts). */
    hermesTiming?: { done: number; ms: number }[];
  }
}

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const input = (id: string) => $<HTMLInputElement>(id);
const params = new URLSearchParams(location.search);
const FIELDS = ["limit", "scheme", "fidelity", "time", "seed", "inputScale", "mean", "std"] as const;
const DEMO = { model: "data/resnet9-fmnist.onnx", images: "data/t10k-images-idx3-ubyte.gz", labels: "data/t10k-labels-idx1-ubyte.gz" };

type Source = string | File;
const chosen: { model?: Source; images?: Source; labels?: Source } = {};
let platform: Platform | undefined;
let loaded: { source: Source; model: LoadedModel } | undefined;
let lastRun: { prepared: PreparedModelRun; floatAccuracy: number } | undefined;
let abort: AbortController | undefined;

function setState(state: string, status?: string): void {
  document.body.dataset["state"] = state;
  if (status !== undefined) $("status").textContent = status;
  const busy = state === "running" || state === "loading";
  input("run").disabled = busy;
  input("stop").disabled = !busy || !abort;
  input("sweep").disabled = busy || !lastRun;
}

function fail(e: unknown): void {
  const err = e as Error;
  if (err?.name === "AbortError") {
    // Stopped by the user: the figures so far stay on the page.
    $("progress").hidden = true;
    setState("ready", "Stopped.");
    return;
  }
  const box = $("error");
  box.hidden = false;
  box.textContent = err?.message ?? String(e);
  if (e instanceof ModelTooLargeError) showNeeds(e.message, e.needs);
  $("progress").hidden = true;
  setState("error", "");
  console.info(`hermes-sim: ${err?.message ?? String(e)}`); // not console.error: a failed run is an expected outcome
}

function clearMessages(): void {
  $("error").hidden = true;
  $("needs").hidden = true;
}

/** The data folder's files (hermes-sim serve --data DIR), to fill the selects; none on a static host. */
async function listData(): Promise<string[]> {
  try {
    const r = await fetch("api/data");
    if (!r.ok) return [];
    return ((await r.json()) as { files: string[] }).files;
  } catch {
    return [];
  }
}

function fillSelects(files: string[]): void {
  const add = (id: string, pick: (f: string) => boolean) => {
    const sel = $<HTMLSelectElement>(id);
    for (const f of files.filter(pick)) sel.add(new Option(f, `data/${f}`));
  };
  add("modelSel", (f) => f.endsWith(".onnx"));
  add("imagesSel", (f) => /\.(npy|gz|idx|ubyte)$/i.test(f) && !/label/i.test(f));
  add("labelsSel", (f) => /\.(npy|gz|idx|ubyte)$/i.test(f) && /label/i.test(f));
  $("demo").hidden = !Object.values(DEMO).every((p) => files.includes(p.slice(5)));
}

function choose(kind: "model" | "images" | "labels", src: Source | undefined): void {
  if (src === undefined || src === "") delete chosen[kind];
  else chosen[kind] = src;
  const sel = $<HTMLSelectElement>(`${kind}Sel`);
  if (typeof src === "string") {
    if (![...sel.options].some((o) => o.value === src)) sel.add(new Option(src, src));
    sel.value = src;
  } else if (src) {
    sel.add(new Option(`${src.name} (your file)`, `file:${src.name}`));
    sel.value = `file:${src.name}`;
  }
}

async function ensureModel(): Promise<LoadedModel> {
  if (!chosen.model) throw new Error("choose a model first (an .onnx file)");
  if (loaded && loaded.source === chosen.model) return loaded.model;
  setState("loading", "reading the model (onnxruntime-web folds its constants)…");
  // Nothing of the previous model stays on the page.
  for (const id of ["placement", "results"]) $(id).hidden = true;
  loaded = undefined;
  lastRun = undefined;
  const file = await fileBytes(chosen.model);
  const model = await loadModel(file);
  loaded = { source: chosen.model, model };
  showPlacement(model);
  return model;
}

async function showModel(): Promise<void> {
  clearMessages();
  try {
    const m = await ensureModel();
    setState("ready", `${m.model}: ${m.mapping.cores} cores, ${m.mapping.weights.toLocaleString("en-US")} weights.${chosen.images && chosen.labels ? "" : " Add a test set to measure its accuracy."}`);
  } catch (e) {
    fail(e);
  }
}

async function run(): Promise<void> {
  clearMessages();
  window.hermesResult = undefined;
  lastRun = undefined;
  abort = new AbortController();
  const bar = $<HTMLProgressElement>("progress");
  try {
    const settings = Object.fromEntries(FIELDS.map((f) => [f, input(f).value])) as unknown as RunSettings;
    const p = parseSettings(settings);
    setState("running", "starting…");
    platform ??= await startPlatform(threadsWanted());
    const model = await ensureModel();
    setState("running");
    if (!chosen.images || !chosen.labels) throw new Error("choose test images and labels to measure the accuracy (IDX or .npy)");
    const [images, labels] = await Promise.all([fileBytes(chosen.images), fileBytes(chosen.labels)]);
    bar.hidden = false;
    bar.value = 0;
    const timing: { done: number; ms: number }[] = [];
    window.hermesTiming = timing;
    const { doc, prepared } = await runModel(model, images, labels, p, {
      threads: platform.threads, signal: abort.signal,
      onStage: (t) => ($("status").textContent = t),
      onBatch: (done, total, accuracy) => {
        timing.push({ done, ms: performance.now() });
        bar.value = done / total;
        showSummary({ done, total, accuracy, cores: model.mapping.cores });
      },
    });
    lastRun = { prepared, floatAccuracy: doc.floatAccuracy };
    showSummary({ done: doc.n, total: doc.n, accuracy: doc.accuracy, floatAccuracy: doc.floatAccuracy, agreement: doc.agreement, cores: doc.cores, wallS: doc.wallS, digest: doc.digest });
    bar.hidden = true;
    abort = undefined;
    window.hermesResult = doc;
    setState("done", `${doc.n} images in ${doc.wallS} s on ${platform.threads} Web Worker${platform.threads > 1 ? "s" : ""}.`);
  } catch (e) {
    abort = undefined;
    fail(e);
  }
}

async function sweep(): Promise<void> {
  if (!lastRun || !platform) return;
  clearMessages();
  abort = new AbortController();
  try {
    const p = parseSettings(Object.fromEntries(FIELDS.map((f) => [f, input(f).value])) as unknown as RunSettings);
    setState("running");
    const pts: { time: string; accuracy: number }[] = [];
    const { floatAccuracy } = lastRun;
    window.hermesSweep = await accuracyOverTime(lastRun.prepared, p, {
      threads: platform.threads, signal: abort.signal,
      onStage: (t) => ($("status").textContent = t),
      onPoint: (time, accuracy) => {
        pts.push({ time, accuracy });
        showSweep(pts, floatAccuracy);
      },
    });
    abort = undefined;
    setState("done", "read-time sweep done.");
  } catch (e) {
    abort = undefined;
    fail(e);
  }
}

function threadsWanted(): number {
  const t = Number(params.get("threads") ?? Math.min(8, navigator.hardwareConcurrency || 2));
  if (!Number.isInteger(t) || t < 1 || t > 64) throw new Error(`threads: expected an integer in 1..64, got ${params.get("threads")}`);
  return t;
}

function wire(): void {
  for (const kind of ["model", "images", "labels"] as const) {
    $<HTMLSelectElement>(`${kind}Sel`).addEventListener("change", (e) => {
      const v = (e.target as HTMLSelectElement).value;
      if (!v.startsWith("file:")) choose(kind, v || undefined);
      if (kind === "model") void showModel();
    });
    input(`${kind}File`).addEventListener("change", (e) => {
      const f = (e.target as HTMLInputElement).files?.[0];
      if (f) choose(kind, f);
      if (kind === "model") void showModel();
    });
  }
  $("demo").addEventListener("click", () => {
    choose("model", DEMO.model);
    choose("images", DEMO.images);
    choose("labels", DEMO.labels);
    void run();
  });
  $("run").addEventListener("click", () => void run());
  $("stop").addEventListener("click", () => abort?.abort());
  $("sweep").addEventListener("click", () => void sweep());
  const drop = $("drop");
  document.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  document.addEventListener("dragleave", () => drop.classList.remove("over"));
  document.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    let model = false;
    for (const f of e.dataTransfer?.files ?? []) {
      if (/\.onnx$/i.test(f.name)) {
        choose("model", f);
        model = true;
      } else choose(/label/i.test(f.name) ? "labels" : "images", f);
    }
    if (model) void showModel();
  });
}

async function start(): Promise<void> {
  wire();
  for (const f of FIELDS) if (params.has(f)) input(f).value = params.get(f)!;
  for (const kind of ["model", "images", "labels"] as const) if (params.get(kind)) choose(kind, params.get(kind)!);
  fillSelects(await listData());
  try {
    platform = await startPlatform(threadsWanted());
    $("env").textContent = `${platform.threads} Web Workers, onnxruntime-web ${platform.ortVersion}.`;
  } catch (e) {
    fail(e);
    return;
  }
  setState("ready", chosen.model ? "" : "Choose a model, or try the demo.");
  if (params.get("autorun") === "1") await run();
  else if (chosen.model) await showModel();
}

void start();
