// `hermes-sim run --model` over test sets in users' formats (.npy, IDX, NHWC, --mean/--std):
// agreement and outputError against a direct computation (the same chip programmed and read
// here, onnxruntime called here), every format of one set giving the same result, each bad
// input one line with exit 2 and nothing written; the trained LeNet fixture when it imports.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ort from "onnxruntime-node";
import { Chip } from "../../../../lib/chip/chip.ts";
import { main } from "../../../../lib/cli/main.ts";
import { MODEL_REPLICAS, mapNetwork } from "../../../../lib/network/mapper.ts";
import { encodeNpy } from "../../../../lib/network/npy.ts";
import { loadOnnx } from "../../../../lib/network/onnx.ts";
import { argmax, programNetwork, runNetwork } from "../../../../lib/network/run.ts";
import { shutdownPool } from "../../../../lib/runtime/pool.ts";
import { idxBytes } from "../../../fixtures/tiny-test-set.ts";
import { rnd, smallCnn } from "../../../fixtures/onnx-models.ts";

const root = new URL("../../../../", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "hermes-run-test-sets-"));
const put = (name: string, bytes: Uint8Array) => (writeFileSync(join(dir, name), bytes), join(dir, name));
const N = 20;
const px = Uint8Array.from({ length: N * 64 }, () => Math.floor(rnd() * 256));
const y = Array.from({ length: N }, () => Math.floor(rnd() * 10));
const model = put("m.onnx", smallCnn());
const idxImages = put("x.idx", idxBytes([N, 8, 8], px));
const idxLabels = put("y.idx", idxBytes([N], Uint8Array.from(y)));
const npyImages = put("x.npy", encodeNpy("uint8", [N, 8, 8], px));
const npyNhwc = put("x-nhwc.npy", encodeNpy("uint8", [N, 8, 8, 1], px));
const npyLabels = put("y.npy", encodeNpy("int64", [N], y));

/** The same bytes with another dtype in the header ('|u1' → descr). */
function withDescr(bytes: Uint8Array, descr: string): Uint8Array {
  const at = new TextDecoder("latin1").decode(bytes.subarray(0, 128)).indexOf("'|u1'");
  const out = bytes.slice();
  out.set(new TextEncoder().encode(`'${descr}'`), at);
  return out;
}

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  try {
    return { code: await main(argv, (s) => (out += s)), out, err };
  } finally {
    process.stderr.write = write;
  }
}
type Doc = { n: number; accuracy: number; floatAccuracy: number; agreement: number; outputError: number; cores: number; input: { format: string; layout: string; inputScale: number; mean: number[]; std: number[] } };
const RUN = ["run", "--model", model, "--fidelity", "functional", "--threads", "1", "--json"];
const MEAN = 0.4;
const STD = 0.25;

test("agreement and outputError equal a direct computation: the same chip here, onnxruntime here", async () => {
  const r = await cli([...RUN, "--images", npyImages, "--labels", npyLabels, "--mean", String(MEAN), "--std", String(STD)]);
  assert.is(r.code, 0, r.err);
  const d = JSON.parse(r.out) as Doc;
  assert.is(d.n, N);
  assert.equal(d.input, { format: "npy", dtype: "uint8", shape: [N, 8, 8], layout: "nchw", inputScale: 1 / 255, mean: [MEAN], std: [STD] } as never);
  const images = Array.from({ length: N }, (_, i) => Float32Array.from(px.subarray(i * 64, (i + 1) * 64), (v) => (v / 255 - MEAN) / STD));
  // Float: onnxruntime on all images at once (the model's batch axis is free).
  const session = await ort.InferenceSession.create(model);
  const x = new Float32Array(N * 64);
  images.forEach((im, i) => x.set(im, i * 64));
  const yf = (await session.run({ x: new ort.Tensor("float32", x, [N, 1, 8, 8]) })).y!.data as Float32Array;
  // Chip: seed 1, functional, TDP, 25 s, scales from the first 16 images, as `run` does.
  const net = loadOnnx(model);
  const mapping = mapNetwork(net, { replicas: MODEL_REPLICAS });
  const chip = Chip.create({ seed: 1n, fidelity: "functional" });
  let yc: Float64Array[];
  try {
    await programNetwork(chip, net, mapping, "tdp", 1);
    yc = (await runNetwork(chip, net, mapping, images, { t: 25, threads: 1, reference: false, calibration: images.slice(0, 16) })).outputs;
  } finally {
    chip.dispose();
  }
  let num = 0;
  let den = 0;
  let agree = 0;
  let okChip = 0;
  let okFloat = 0;
  for (let i = 0; i < N; i++) {
    const f = yf.subarray(i * 10, (i + 1) * 10);
    for (let j = 0; j < 10; j++) {
      num += (yc[i]![j]! - f[j]!) ** 2;
      den += f[j]! ** 2;
    }
    if (argmax(yc[i]!) === argmax(f)) agree++;
    if (argmax(yc[i]!) === y[i]) okChip++;
    if (argmax(f) === y[i]) okFloat++;
  }
  assert.is(d.agreement, agree / N);
  assert.ok(Math.abs(d.outputError - Math.sqrt(num / den)) < 1e-12, `${d.outputError} vs ${Math.sqrt(num / den)}`);
  assert.is(d.accuracy, okChip / N);
  assert.is(d.floatAccuracy, okFloat / N);
  assert.ok(d.outputError > 0 && d.outputError < 0.5 && d.agreement >= 0.5, JSON.stringify(d));
});

test("one test set as .npy N×H×W, .npy N×H×W×1 with --layout nhwc, IDX images with .npy labels: the same result", async () => {
  const docs: Doc[] = [];
  for (const extra of [["--images", npyImages, "--labels", npyLabels], ["--images", npyNhwc, "--layout", "nhwc", "--labels", npyLabels], ["--images", idxImages, "--labels", npyLabels], ["--images", npyImages, "--labels", idxLabels]]) {
    const r = await cli([...RUN, ...extra, "--limit", "12"]);
    assert.is(r.code, 0, r.err);
    docs.push(JSON.parse(r.out) as Doc);
  }
  const key = (d: Doc) => [d.n, d.accuracy, d.floatAccuracy, d.agreement, d.outputError];
  for (const d of docs.slice(1)) assert.equal(key(d), key(docs[0]!));
  assert.is(docs[0]!.n, 12);
  assert.is(docs[2]!.input.format, "idx");
});

test("bad input: exit 2, one line naming the flag and file, nothing written", async () => {
  const out = join(dir, "report");
  const cases: [string[], RegExp][] = [
    [["--images", put("x28.npy", encodeNpy("uint8", [3, 28, 28], new Uint8Array(3 * 784))), "--labels", npyLabels], /--images must be N × 1 × 8 × 8 or N × 8 × 8, .* for the model's input \[1, 8, 8\], got ".*x28\.npy of shape \[3, 28, 28\] \(uint8\)"/],
    [["--images", npyImages, "--labels", put("y5.npy", encodeNpy("int64", [5], [1, 2, 3, 4, 5]))], /--labels must be at least 20 labels .*, got ".*y5\.npy with 5"/],
    [["--images", npyImages, "--labels", npyLabels, "--mean", "0.5,0.5,0.5"], /--mean must be 1 value \(one per channel of the model's input \[1, 8, 8\]\), got "3 values/],
    [["--images", npyImages, "--labels", put("yf.npy", encodeNpy("float64", [N], y.map((v, i) => (i === 7 ? v + 0.5 : v))))], /--labels must be integer class labels .* with [\d.]+5 at index 7/],
    [["--images", put("xc.npy", withDescr(encodeNpy("uint8", [N, 8, 8], px), "|u2")), "--labels", npyLabels], /--images .*xc\.npy must be an array of uint8 .* got "dtype '\|u2'"/],
    [["--images", npyImages, "--labels", put("y10.npy", encodeNpy("int64", [N], y.map((v, i) => (i === 3 ? 10 : v))))], /--labels must be class labels 0\.\.9 \(the model has 10 outputs\), got ".*y10\.npy with 10 at index 3"/],
    [["--images", npyImages, "--labels", npyLabels, "--layout", "hwc"], /--layout must be one of nchw, nhwc/],
    [["--images", npyImages, "--labels", npyLabels, "--std", "0"], /--std must be numbers > 0/],
    [["--images", npyImages], /--labels must be given with --model/],
  ];
  for (const [args, re] of cases) {
    const r = await cli([...RUN, ...args, "--out", out]);
    assert.is(r.code, 2, `${args.join(" ")}: ${r.err}`);
    assert.match(r.err, re);
    assert.is(r.err.trim().split("\n").length, 1, r.err);
    assert.is(r.out, "");
    assert.not.ok(existsSync(out), "nothing written");
  }
});

test("drift --model over a .npy test set with --mean/--std: recorded in the study options", async () => {
  const r = await cli(["drift", "--model", model, "--images", npyNhwc, "--layout", "nhwc", "--labels", npyLabels, "--mean", String(MEAN), "--std", String(STD), "--limit", "8", "--chips", "1", "--times", "25", "--fidelity", "functional", "--threads", "1", "--json"]);
  assert.is(r.code, 0, r.err);
  const d = JSON.parse(r.out) as { n: number; options: { images: { mean: number[]; std: number[]; layout: string; inputScale: number } } };
  assert.is(d.n, 8);
  assert.equal(d.options.images.mean, [MEAN]);
  assert.equal(d.options.images.std, [STD]);
  assert.is(d.options.images.layout, "nhwc");
  assert.is(d.options.images.inputScale, 1 / 255);
  const bad = await cli(["drift", "--mean", "0.5"]);
  assert.is(bad.code, 2);
  assert.match(bad.err, /--mean must be given only with --model/);
});

// Fixtures made by tools/fixtures (a LeNet-5 with BatchNorm exported from PyTorch and the first
// 500 Fashion-MNIST test images); it needs the ONNX front end (Shape / Gather / Concat folded).
const FIX = join(root, "test/fixtures/models");
test("lenet-bn.onnx over fmnist-500-u8.npy with --mean/--std (when the fixture exists and imports)", async () => {
  const lenet = join(FIX, "lenet-bn.onnx");
  if (!existsSync(lenet) || !existsSync(join(FIX, "fmnist-500-u8.npy"))) {
    console.log(`  skipped: ${lenet} and its test set are not there`);
    return;
  }
  const r = await cli([
    "run", "--model", lenet, "--images", join(FIX, "fmnist-500-u8.npy"), "--labels", join(FIX, "fmnist-500-labels.npy"),
    "--mean", "0.2860", "--std", "0.3530", "--limit", "50", "--threads", "2", "--json",
  ]);
  if (r.code !== 0 && /is not supported|must be \[N, C, H, W\]/.test(r.err)) {
    console.log(`  skipped: the model does not import yet (${r.err.trim()})`);
    return;
  }
  assert.is(r.code, 0, r.err);
  const d = JSON.parse(r.out) as Doc;
  assert.is(d.n, 50);
  assert.ok(d.floatAccuracy >= 0.6 && Math.abs(d.accuracy - d.floatAccuracy) <= 0.1, JSON.stringify(d));
  assert.ok(d.agreement >= 0.8 && d.outputError > 0 && d.outputError < 0.5, JSON.stringify(d));
});

test.after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await shutdownPool();
});
test.run();
