// Networks on the simulated chip: ResNet-9 images/s (physical and functional, 1 and 2
// threads; the chip alone, without the float64 reference) and LSTM timesteps/s, against the
// project's own float64 reference measured in the same run (onnxruntime's float inference
// joins when ONNX models do, issue 10); plus the outputs' error against float64, which is
// deterministic for the seeds and guarded by the baseline.
// Usage: node --import tsx bench/networks.bench.ts [--quick]
import ort from "onnxruntime-node";
import { Chip } from "../lib/chip/chip.ts";
import { exportOnnx } from "../lib/network/onnx-export.ts";
import { evaluate } from "../lib/network/graph-eval.ts";
import { resnet9 } from "../lib/network/builders.ts";
import { LSTM_PTB, mapLstm } from "../lib/network/lstm-map.ts";
import { lstmReference, programLstm, randomLstm, runLstm } from "../lib/network/lstm-run.ts";
import { mapNetwork } from "../lib/network/mapper.ts";
import { shutdownPool } from "../lib/runtime/pool.ts";
import { argmax, programNetwork, runNetwork } from "../lib/network/run.ts";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { idxImages, readIdx } from "../lib/network/idx.ts";
import { loadOnnx } from "../lib/network/onnx.ts";
import { writeResult } from "./results.ts";

const quick = process.argv.includes("--quick");
const IMAGES = quick ? 4 : 16;
const STEPS = quick ? 50 : 200;
let s = 7;
const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
const net = resnet9({ seed: 3 });
const mapping = mapNetwork(net);
const images = Array.from({ length: IMAGES }, () => Float32Array.from({ length: 3 * 32 * 32 }, () => rnd()));

async function seconds(fn: () => Promise<unknown> | unknown): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

const resnet: Record<string, number> = {};
let resnetError = NaN;
for (const fidelity of ["physical", "functional"] as const) {
  const chip = Chip.create({ seed: 5, fidelity });
  await programNetwork(chip, net, mapping, "tdp", 2);
  const first = await runNetwork(chip, net, mapping, images.slice(0, 4)); // also calibrates the scales
  if (fidelity === "physical") resnetError = first.error;
  const at = chip.at(25);
  for (const threads of [1, 2]) {
    const o = { reference: false, threads, scales: first.scales, at };
    await runNetwork(chip, net, mapping, images.slice(0, 1), o); // warm
    resnet[`${fidelity}Threads${threads}`] = IMAGES / (await seconds(() => runNetwork(chip, net, mapping, images, o)));
  }
  at.dispose();
  chip.dispose();
}
const floatImagesPerS = IMAGES / (await seconds(() => evaluate(net, images)));
// onnxruntime (CPU, its default threads) on the same network exported to ONNX, same images.
const session = await ort.InferenceSession.create(exportOnnx(net));
const batch = new Float32Array(IMAGES * 3072);
images.forEach((x, i) => batch.set(x, i * 3072));
const feed = { input: new ort.Tensor("float32", batch, [IMAGES, 3, 32, 32]) };
await session.run(feed);
let ortBest = Infinity;
for (let i = 0; i < 5; i++) ortBest = Math.min(ortBest, await seconds(() => session.run(feed)));
const onnxruntimeImagesPerS = IMAGES / ortBest;

const w = randomLstm(LSTM_PTB, 3);
const lm = mapLstm(LSTM_PTB);
const xs = Array.from({ length: STEPS }, () => Float32Array.from({ length: 128 }, () => rnd() * 2 - 1));
const lstm: Record<string, number> = {};
let lstmError = NaN;
for (const fidelity of ["physical", "functional"] as const) {
  const chip = Chip.create({ seed: 5, fidelity });
  await programLstm(chip, lm, w, "tdp", 2);
  let r: ReturnType<typeof runLstm> | undefined;
  lstm[fidelity] = STEPS / (await seconds(() => (r = runLstm(chip, lm, w, xs))));
  if (fidelity === "physical") lstmError = r!.error;
  chip.dispose();
}
const floatStepsPerS = STEPS / (await seconds(() => lstmReference(w, xs)));
// The trained Fashion-MNIST ResNet-9 (data/, issue 10) on a fixed subset: accuracy is
// deterministic for the seed (functional chip, TDP, first images of the test set).
const modelPath = fileURLToPath(new URL("../data/resnet9-fmnist.onnx", import.meta.url));
let fmnist: { n: number; accuracy: number; floatAccuracy: number } | undefined;
if (existsSync(modelPath)) {
  const n = quick ? 50 : 200;
  const fnet = loadOnnx(modelPath, "resnet9-fmnist");
  const imgs = idxImages(readIdx(fileURLToPath(new URL("../data/t10k-images-idx3-ubyte.gz", import.meta.url))), 1 / 255, n);
  const labels = readIdx(fileURLToPath(new URL("../data/t10k-labels-idx1-ubyte.gz", import.meta.url))).data;
  const fm = mapNetwork(fnet);
  const chip = Chip.create({ seed: 1, fidelity: "functional" });
  await programNetwork(chip, fnet, fm, "tdp", 2);
  const r = await runNetwork(chip, fnet, fm, imgs, { threads: 2, calibration: imgs.slice(0, 16) });
  chip.dispose();
  fmnist = {
    n,
    accuracy: r.outputs.filter((y, i) => argmax(y) === labels[i]).length / n,
    floatAccuracy: r.reference.filter((y, i) => argmax(y) === labels[i]).length / n,
  };
}
await shutdownPool();

const result = {
  resnet9: {
    imagesPerS: resnet,
    floatReferenceImagesPerS: floatImagesPerS,
    onnxruntimeImagesPerS,
    ratioToFloat: resnet["physicalThreads1"]! / floatImagesPerS,
    ratioToOnnxruntime: resnet["physicalThreads2"]! / onnxruntimeImagesPerS,
    threads2Speedup: resnet["physicalThreads2"]! / resnet["physicalThreads1"]!,
  },
  lstm: { timestepsPerS: lstm, floatReferenceTimestepsPerS: floatStepsPerS, ratioToFloat: lstm["physical"]! / floatStepsPerS },
  accuracy: { resnet9Error: resnetError, lstmError, ...(fmnist ? { fmnistResnet9Accuracy: fmnist.accuracy, fmnistResnet9FloatAccuracy: fmnist.floatAccuracy } : {}) },
};
console.log(`ResNet-9 images/s: ${Object.entries(resnet).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(", ")}; float64 reference ${floatImagesPerS.toFixed(2)}; onnxruntime ${onnxruntimeImagesPerS.toFixed(1)}`);
console.log(`LSTM (PTB size) timesteps/s: physical ${lstm["physical"]!.toFixed(0)}, functional ${lstm["functional"]!.toFixed(0)}; float64 reference ${floatStepsPerS.toFixed(0)}`);
console.log(`errors vs float64: ResNet-9 ${resnetError.toFixed(4)}, LSTM ${lstmError.toFixed(4)}`);
if (fmnist) console.log(`trained ResNet-9, Fashion-MNIST first ${fmnist.n}: ${(100 * fmnist.accuracy).toFixed(1)} % on a functional TDP chip, ${(100 * fmnist.floatAccuracy).toFixed(1)} % float64`);
console.log(`wrote ${writeResult("networks", result)}`);
