import { readFileSync } from "node:fs";
import { Chip } from "../lib/chip/chip.ts";
import { readModel } from "../lib/network/onnx.ts";
import { runOnChip } from "../lib/network/run.ts";
import { mapNetwork } from "../lib/network/mapper.ts";
import { shutdownPool } from "../lib/runtime/pool.ts";
function npy(path: string) { const b = readFileSync(path); const hl = b.readUInt16LE(8); return b.subarray(10 + hl); }
const [file, fid] = process.argv.slice(2);
const im = npy("test/fixtures/models/fmnist-500-u8.npy");
const xs = Array.from({ length: 32 }, (_, i) => Float32Array.from(im.subarray(i * 784, (i + 1) * 784), (v) => (v / 255 - 0.286) / 0.353));
const { net } = await readModel(file!);
const m = mapNetwork(net);
for (const p of m.layers) {
  const end = net.nodes.findIndex((n) => n.name === p.output);
  const sub = { ...net, nodes: net.nodes.slice(0, end + 1) };
  const chip = Chip.create({ seed: 1, fidelity: (fid ?? "physical") as "physical" });
  const r = await runOnChip(chip, sub, xs, { scheme: "tdp", threads: 2 });
  const l = r.mapping.layers[r.mapping.layers.length - 1]!;
  console.log(p.layer.padEnd(28), "groups", String(l.groups ?? 1).padStart(3), "tiles", l.tiles.length, l.matrix.rows + "x" + l.matrix.cols, "err", r.error.toFixed(3));
  chip.dispose();
}
await shutdownPool();
