// The browser playground's speed against the CLI's: ResNet-9 (data/resnet9-fmnist.onnx) on
// Fashion-MNIST images, images per second of the chip's inference (programming, the float
// reference and onnxruntime's start left out) with 2 Web Workers in Chromium (puppeteer-core,
// through `hermes-sim serve`) and with 2 worker threads in Node, both through the same
// chipModelRun in batches of 32 per thread; throughput over every batch after the first. The
// Node run is measured before and after the browser's (their mean is the reference), on the
// same machine in the same run. Target: browser ≥ 0.7 × Node.
// Usage: node --import tsx bench/playground.bench.ts [--images N] (default 512)
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chipModelRun, prepareModelRun } from "../lib/study/model-run-local.ts";
import { shutdownPool } from "../lib/runtime/pool.ts";
import { writeResult } from "./results.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const i = process.argv.indexOf("--images");
const N = i > 0 ? Number(process.argv[i + 1]) : 512;
const THREADS = 2;
const BATCH = 32 * THREADS; // web/src/run.ts BATCH_PER_THREAD × workers
const files = { model: "data/resnet9-fmnist.onnx", images: "data/t10k-images-idx3-ubyte.gz", labels: "data/t10k-labels-idx1-ubyte.gz" };

/** Images/s over the batches after the first, from (images done, ms) after each batch. */
function rate(t: readonly { done: number; ms: number }[]): number {
  const a = t[0]!;
  const b = t[t.length - 1]!;
  return ((b.done - a.done) / (b.ms - a.ms)) * 1000;
}

async function node(): Promise<{ imagesPerS: number; accuracy: number }> {
  const p = await prepareModelRun(join(root, files.model), { images: join(root, files.images), labels: join(root, files.labels), limit: N, transform: {} });
  const timing: { done: number; ms: number }[] = [];
  const tally = await chipModelRun(p, {
    seed: 1n, scheme: "tdp", fidelity: "physical", t: 25, threads: THREADS, runs: 1, batch: BATCH,
    onBatch: (done) => void timing.push({ done, ms: performance.now() }),
  });
  return { imagesPerS: rate(timing), accuracy: tally.result().accuracies[0]! };
}

async function browser(): Promise<{ imagesPerS: number; accuracy: number }> {
  const chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].find((p) => existsSync(p));
  if (!chromium) throw new Error("no Chromium (apt-get install chromium)");
  const server = spawn(process.execPath, [join(root, "bin/hermes-sim.mjs"), "serve", "--port", "0", "--data", "data"], { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
  try {
    const base = await new Promise<string>((ok, fail) => {
      let out = "";
      server.stdout!.on("data", (d) => {
        out += d;
        const m = /playground: (http:\/\/\S+)/.exec(out);
        if (m) ok(m[1]!);
      });
      server.on("exit", (c) => fail(new Error(`serve exited with ${c}`)));
    });
    const { default: puppeteer } = await import("puppeteer-core");
    const b = await puppeteer.launch({ executablePath: chromium, headless: true, args: ["--no-sandbox", "--disable-gpu"] });
    try {
      const page = await b.newPage();
      const q = new URLSearchParams({ ...files, limit: String(N), seed: "1", threads: String(THREADS), autorun: "1" });
      await page.goto(`${base}?${q}`);
      await page.waitForFunction(() => ["done", "error"].includes(document.body.dataset["state"] ?? ""), { timeout: 900_000 });
      const r = await page.evaluate(() => ({ state: document.body.dataset["state"], error: document.getElementById("error")!.textContent, result: window.hermesResult as { accuracy: number }, timing: window.hermesTiming! }));
      if (r.state !== "done") throw new Error(`the page failed: ${r.error}`);
      return { imagesPerS: rate(r.timing), accuracy: r.result.accuracy };
    } finally {
      await b.close();
    }
  } finally {
    server.kill("SIGINT");
  }
}

const before = await node();
const web = await browser();
const after = await node();
await shutdownPool();
const nodeRate = (before.imagesPerS + after.imagesPerS) / 2;
const ratio = web.imagesPerS / nodeRate;
if (web.accuracy !== before.accuracy) throw new Error(`accuracy differs: browser ${web.accuracy}, Node ${before.accuracy}`);
const doc = {
  model: files.model, images: N, threads: THREADS, batch: BATCH,
  node: { imagesPerS: [before.imagesPerS, after.imagesPerS].map((x) => Number(x.toFixed(1))) },
  chromium: { imagesPerS: Number(web.imagesPerS.toFixed(1)), workers: THREADS },
  ratio: Number(ratio.toFixed(3)), target: 0.7, accuracy: web.accuracy,
};
const path = writeResult("playground", doc);
console.log(`playground: ${N} images of ResNet-9, Chromium with ${THREADS} Web Workers ${doc.chromium.imagesPerS} images/s; Node with ${THREADS} threads ${doc.node.imagesPerS.join(" / ")} images/s (before / after); ratio ${doc.ratio} (target ≥ 0.7); ${path}`);
