// An ONNX classifier on the simulated chip over a test set: top-1 accuracy on the chip beside
// the same model in float (onnxruntime).
//   node examples/onnx-accuracy.mjs [model.onnx images.idx[.gz] labels.idx[.gz]] [--limit N]
// Without files: in a checkout of the repository, its data/resnet9-fmnist.onnx on the
// Fashion-MNIST test set (data/ is not in the npm package); elsewhere a tiny built-in network
// on random 8 × 8 images, labelled by its own float output (so float scores 100 %).
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  argmax, Chip, evaluate, exportOnnx, GraphBuilder, idxImages, loadOnnx, mapNetwork, onnxruntimeAccuracy, programNetwork,
  readIdx, runNetwork, shutdownPool,
} from "hermes-sim";

const args = process.argv.slice(2);
const at = args.indexOf("--limit");
const limit = at >= 0 ? Number(args.splice(at, 2)[1]) : 100;
const data = (f) => fileURLToPath(new URL(`../data/${f}`, import.meta.url));
let [model, imagesFile, labelsFile] = args.length ? args : [data("resnet9-fmnist.onnx"), data("t10k-images-idx3-ubyte.gz"), data("t10k-labels-idx1-ubyte.gz")];

let images, labels, tmp;
if (existsSync(model)) {
  images = idxImages(readIdx(imagesFile), 1 / 255, limit); // bytes → [0, 1]
  labels = readIdx(labelsFile).data.subarray(0, images.length);
} else {
  tmp = mkdtempSync(join(tmpdir(), "hermes-sim-"));
  model = join(tmp, "tiny.onnx");
  let state = 7; // mulberry32: a small seeded generator, uniform in [0, 1)
  const u = () => {
    state = (state + 0x6d2b79f5) | 0;
    let z = Math.imul(state ^ (state >>> 15), 1 | state);
    z ^= z + Math.imul(z ^ (z >>> 7), 61 | z);
    return ((z ^ (z >>> 14)) >>> 0) / 2 ** 32;
  };
  const rnd = (n, scale) => Float32Array.from({ length: n }, () => scale * (2 * u() - 1));
  const g = new GraphBuilder("tiny", [1, 8, 8]); // input: 1 channel of 8 × 8
  g.conv2d("conv", { inChannels: 1, outChannels: 8, kernel: 3, padding: 1, weights: rnd(72, 0.5) });
  g.relu("relu");
  g.flatten("flat");
  g.dense("fc", { inFeatures: 512, outFeatures: 10, weights: rnd(5120, 0.1), bias: rnd(10, 0.1) });
  const net = g.build();
  writeFileSync(model, exportOnnx(net));
  images = Array.from({ length: Math.min(limit, 64) }, () => Float32Array.from({ length: 64 }, u));
  labels = Uint8Array.from(evaluate(net, images).get("fc"), argmax);
}

const net = await loadOnnx(model); // the ONNX graph in hermes-sim's IR (final softmax dropped)
const mapping = mapNetwork(net); // layers tiled onto cores
const chip = Chip.create({ seed: 1n, fidelity: "functional" }); // "physical" for the device-level model
try {
  await programNetwork(chip, net, mapping, "tdp", 2);
  const r = await runNetwork(chip, net, mapping, images, { t: 86400, threads: 2, reference: false }); // read one day after programming
  const chipAccuracy = r.outputs.filter((y, i) => argmax(y) === labels[i]).length / images.length;
  const floatAccuracy = await onnxruntimeAccuracy(model, net.inputShape, images, labels);
  console.log(`${model}: ${mapping.cores} cores, ${images.length} images`);
  console.log(`accuracy on the chip (1 day after programming) ${(100 * chipAccuracy).toFixed(2)} %, in float (onnxruntime) ${(100 * floatAccuracy).toFixed(2)} %`);
} finally {
  chip.dispose();
  await shutdownPool();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}
