// The playground in a real browser: Debian's Chromium driven by puppeteer-core (no browser
// download) through `hermes-sim serve` (shared wasm memory needs its COOP/COEP headers, so no
// file: URLs). The page loads with no console error; the ResNet-9 Fashion-MNIST demo on 64
// images with 2 Web Workers gives the very JSON of `hermes-sim run --model … --json` for the
// same seed (accuracy, floatAccuracy, n, cores, cost and the digest of every INT8 output), and
// so do files picked on the page with other settings; the read-time sweep starts at the run's
// accuracy; a model too large for the chip shows the cores it needs per layer, and a model
// dropped next replaces it; a corrupt file shows one clear message. Skipped, with the reason printed, when Chromium is not installed.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeDenseChain } from "../fixtures/too-large.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const bin = join(root, "bin/hermes-sim.mjs");
const chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].find((p) => existsSync(p));
const DEMO = ["--model", "data/resnet9-fmnist.onnx", "--images", "data/t10k-images-idx3-ubyte.gz", "--labels", "data/t10k-labels-idx1-ubyte.gz", "--limit", "64", "--seed", "1"];
const dir = mkdtempSync(join(tmpdir(), "hermes-web-"));

if (!chromium) {
  console.log("  skipped: no Chromium on this machine (apt-get install chromium to run the playground's browser test)");
} else {
  type Browser = import("puppeteer-core").Browser;
  type Page = import("puppeteer-core").Page;
  let server: ChildProcess;
  let base = "";
  let browser: Browser;

  test.before(async () => {
    server = spawn(process.execPath, [bin, "serve", "--port", "0", "--data", "data"], { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
    base = await new Promise<string>((ok, fail) => {
      let out = "";
      server.stdout!.on("data", (d) => {
        out += d;
        const m = /playground: (http:\/\/\S+)/.exec(out);
        if (m) ok(m[1]!);
      });
      server.on("exit", (code) => fail(new Error(`hermes-sim serve exited with ${code}: ${out}`)));
    });
    const { default: puppeteer } = await import("puppeteer-core");
    browser = await puppeteer.launch({ executablePath: chromium, headless: true, args: ["--no-sandbox", "--disable-gpu"] });
  });

  test.after(async () => {
    await browser?.close();
    server?.kill("SIGINT");
    rmSync(dir, { recursive: true, force: true });
  });

  /** A page that records console errors and uncaught exceptions. */
  async function open(query: string): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("console", (m) => void (m.type() === "error" && errors.push(m.text())));
    page.on("pageerror", (e) => void errors.push(String(e)));
    await page.goto(`${base}${query}`);
    return { page, errors };
  }

  const settle = (page: Page, states: string[], timeout = 240_000) =>
    page.waitForFunction((s: string[]) => s.includes(document.body.dataset["state"] ?? ""), { timeout }, states).then(() => page.evaluate(() => document.body.dataset["state"]));

  test("the demo on 64 images with 2 Web Workers gives run --model --json's result for the same seed; no console error", async () => {
    const cli = spawnSync(process.execPath, [bin, "run", ...DEMO, "--threads", "2", "--json"], { cwd: root, encoding: "utf8" });
    assert.is(cli.status, 0, cli.stderr);
    const want = JSON.parse(cli.stdout);
    const q = `?model=data/resnet9-fmnist.onnx&images=data/t10k-images-idx3-ubyte.gz&labels=data/t10k-labels-idx1-ubyte.gz&limit=64&seed=1&threads=2&autorun=1`;
    const { page, errors } = await open(q);
    assert.is(await settle(page, ["done", "error"]), "done", await page.$eval("#error", (e) => e.textContent));
    const got = (await page.evaluate(() => window.hermesResult)) as Record<string, unknown>;
    for (const k of ["accuracy", "floatAccuracy", "n", "cores", "cost", "digest", "accuracies", "agreement", "fidelity", "scheme", "t", "seed", "input", "runs"]) assert.equal(got[k], want[k], k);
    // The float outputs come from onnxruntime-web here and onnxruntime-node there (float32, ~1e-5 apart).
    assert.ok(Math.abs((got["outputError"] as number) - want.outputError) < 1e-5, `outputError ${got["outputError"]} vs ${want.outputError}`);
    assert.is(got["model"], "resnet9-fmnist.onnx");
    // What the page shows: the floorplan's 64 cores, the cost table's total, the accuracy.
    assert.is(await page.$$eval("#floorplan rect[data-core]", (r) => r.length), 64);
    assert.is(await page.$eval("#cost tr.total td:nth-child(2)", (e) => e.textContent), String(want.cores));
    assert.ok((await page.$eval("#summary", (e) => e.textContent ?? "")).includes(`${(100 * want.accuracy).toFixed(2)} %`));
    // Accuracy against read time: a second programming with the same seed, read at 25 s first,
    // gives the run's accuracy again.
    await page.click("#sweep");
    await page.waitForFunction(() => document.body.dataset["state"] === "running");
    assert.is(await settle(page, ["done", "error"]), "done");
    const sweep = (await page.evaluate(() => window.hermesSweep)) as { time: string; t: number; accuracy: number }[];
    assert.equal(sweep.map((p) => p.t), [25, 3600, 86400, 604800, 2592000]);
    assert.is(sweep[0]!.accuracy, want.accuracy);
    assert.equal(errors, []);
    await page.close();
  });

  test("files picked on the page (an exporter's graph folded by onnxruntime-web, a .npy test set, mean/std, functional fidelity, odp, 1 d) give the CLI's result", async () => {
    const fx = join(root, "test/fixtures/models");
    const flags = ["--mean", "0.286", "--std", "0.353", "--limit", "100", "--seed", "3", "--fidelity", "functional", "--time", "1d", "--scheme", "odp"];
    const cli = spawnSync(process.execPath, [bin, "run", "--model", join(fx, "lenet-bn.onnx"), "--images", join(fx, "fmnist-500-u8.npy"), "--labels", join(fx, "fmnist-500-labels.npy"), ...flags, "--threads", "2", "--json"], { cwd: root, encoding: "utf8" });
    assert.is(cli.status, 0, cli.stderr);
    const want = JSON.parse(cli.stdout);
    const { page, errors } = await open("?threads=2&mean=0.286&std=0.353&limit=100&seed=3&fidelity=functional&time=1d&scheme=odp");
    assert.is(await settle(page, ["ready", "error"]), "ready");
    for (const [id, file] of [["#modelFile", "lenet-bn.onnx"], ["#imagesFile", "fmnist-500-u8.npy"], ["#labelsFile", "fmnist-500-labels.npy"]] as const) {
      await ((await page.$(id)) as import("puppeteer-core").ElementHandle<HTMLInputElement>).uploadFile(join(fx, file));
    }
    await page.waitForFunction((c: number) => document.getElementById("status")!.textContent!.startsWith(`lenet-bn.onnx: ${c} cores`), { timeout: 60_000 }, want.cores);
    await page.click("#run");
    await page.waitForFunction(() => document.body.dataset["state"] === "running");
    assert.is(await settle(page, ["done", "error"]), "done", await page.$eval("#error", (e) => e.textContent));
    const got = (await page.evaluate(() => window.hermesResult)) as Record<string, unknown>;
    for (const k of ["accuracy", "floatAccuracy", "n", "cores", "cost", "digest", "fidelity", "scheme", "t", "seed", "input"]) assert.equal(got[k], want[k], k);
    assert.equal(errors, []);
    await page.close();
  });

  test("a model too large for the chip: the cores it needs, per layer, and one message", async () => {
    const big = join(dir, "chain70.onnx");
    writeDenseChain(big, 70);
    const { page, errors } = await open("?threads=1");
    assert.is(await settle(page, ["ready", "error"]), "ready");
    // Served from a checkout with --data data: the demo is one click away.
    assert.is(await page.$eval("#demo", (e) => (e as HTMLElement).hidden), false);
    const picker = await page.$("#modelFile");
    await (picker as import("puppeteer-core").ElementHandle<HTMLInputElement>).uploadFile(big);
    assert.is(await settle(page, ["error"], 60_000), "error");
    assert.is(await page.$eval("#error", (e) => e.textContent), "chain70.onnx needs 70 cores (17,920 weights); the chip has 64");
    const needs = await page.$eval("#needs", (e) => ((e as HTMLElement).hidden ? "" : (e.textContent ?? "")));
    assert.match(needs, /Too large for the chip/);
    assert.match(needs, /fc69\s*16×16\s*1\s*256/);
    assert.match(needs, /total\s*70\s*17,920/);
    // Then a model dropped on the page replaces it: its placement, no needs table.
    await page.evaluate(async () => {
      const dt = new DataTransfer();
      dt.items.add(new File([await (await fetch("data/resnet9-fmnist.onnx")).blob()], "dropped.onnx"));
      document.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    // ResNet-9 with the default weight copies (replicas auto, as run --model) fills the chip.
    await page.waitForFunction(() => document.getElementById("status")!.textContent!.startsWith("dropped.onnx: 64 cores"), { timeout: 60_000 });
    assert.is(await page.evaluate(() => document.body.dataset["state"]), "ready");
    assert.is(await page.$eval("#needs", (e) => (e as HTMLElement).hidden), true);
    assert.is(await page.$$eval("#floorplan rect[data-core]", (r) => r.length), 64);
    assert.equal(errors, []);
    await page.close();
  });

  test("a corrupt model file: one clear message, no stack trace, no console error", async () => {
    const bad = join(dir, "broken.onnx");
    writeFileSync(bad, Uint8Array.from({ length: 300 }, (_, i) => (i * 37 + 11) & 255));
    const { page, errors } = await open("?threads=1");
    assert.is(await settle(page, ["ready", "error"]), "ready");
    const picker = await page.$("#modelFile");
    await (picker as import("puppeteer-core").ElementHandle<HTMLInputElement>).uploadFile(bad);
    assert.is(await settle(page, ["error"], 60_000), "error");
    const msg = (await page.$eval("#error", (e) => e.textContent)) ?? "";
    assert.match(msg, /^broken\.onnx is not a valid ONNX model \(/);
    assert.not.match(msg, /\n|at .*\.js/);
    assert.equal(errors, []);
    await page.close();
  });
}

test.run();
