import { readFileSync } from "node:fs";
import { Chip } from "../lib/chip/chip.ts";
import { readModel } from "../lib/network/onnx.ts";
import { argmax, runOnChip } from "../lib/network/run.ts";
import { shutdownPool } from "../lib/runtime/pool.ts";
import ort from "onnxruntime-node";
function npy(path: string) {
  const b = readFileSync(path); const hl = b.readUInt16LE(8); const h = b.subarray(10, 10 + hl).toString();
  const shape = h.match(/shape': \(([^)]*)\)/)![1]!.split(",").filter((s) => s.trim()).map(Number);
  const descr = h.match(/descr': '([^']*)'/)![1]!; const data = b.subarray(10 + hl);
  return { shape, descr, data };
}
const [file, meanS, stdS, nS, scheme, fid] = process.argv.slice(2);
const n = Number(nS ?? 200); const mean = Number(meanS), std = Number(stdS);
const im = npy("test/fixtures/models/fmnist-500-u8.npy"); const lb = npy("test/fixtures/models/fmnist-500-labels.npy");
const labels = Array.from({ length: n }, (_, i) => Number(lb.data.readBigInt64LE(8 * i)));
const xs = Array.from({ length: n }, (_, i) => Float32Array.from(im.data.subarray(i * 784, (i + 1) * 784), (v) => (v / 255 - mean) / std));
const { net } = await readModel(file!);
const s = await ort.InferenceSession.create(file!);
let fok = 0; const fl: number[] = [];
for (let i = 0; i < n; i++) { const y = (await s.run({ [s.inputNames[0]!]: new ort.Tensor("float32", xs[i]!, [1, ...net.inputShape]) }))[s.outputNames[0]!]!.data as Float32Array; fl.push(argmax(y)); if (argmax(y) === labels[i]) fok++; }
const chip = Chip.create({ seed: 1, fidelity: (fid ?? "physical") as "physical" });
const t0 = performance.now();
const { loadFit } = await import("../lib/chip/functional-fit.ts");
const fit0 = loadFit();
const quiet = { ...fit0, schemes: Object.fromEntries(Object.entries(fit0.schemes).map(([k, f]) => [k, { ...f, cores: f!.cores.map((c) => ({ poly: c.poly.map(() => [0, 0, 0]), alpha: c.alpha })) }])) };
const { mapNetwork } = await import("../lib/network/mapper.ts");
const { programNetwork, runNetwork } = await import("../lib/network/run.ts");
const mapping = mapNetwork(net);
await programNetwork(chip, net, mapping, (scheme ?? "tdp") as "tdp", 2);
const at = chip.at(25, { noise: !process.env.NONOISE, compensation: !process.env.NOCOMP, ...(process.env.QUIET ? { fit: quiet } : {}) });
const r0 = await runNetwork(chip, net, mapping, xs, { at, threads: 2 });
const r = { ...r0, mapping };
if (process.env.SCALES) console.log(JSON.stringify(r.scales));
let ok = 0, agree = 0; r.outputs.forEach((y, i) => { if (argmax(y) === labels[i]) ok++; if (argmax(y) === fl[i]) agree++; });
console.log(file, "float", (fok / n * 100).toFixed(2), "chip", (ok / n * 100).toFixed(2), "agree", (agree / n).toFixed(3), "err64", r.error.toFixed(4), "cores", r.mapping.cores, ((performance.now() - t0) / 1000).toFixed(1) + "s");
chip.dispose(); await shutdownPool();
