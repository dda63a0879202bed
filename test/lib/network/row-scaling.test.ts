// Row scaling: each output row programmed at full conductance range (W[r] / max|W[r]|), the
// factor restored in the receiver's LDPU affine. Same function as without it (exact on a
// noise-free chip up to INT8), and closer to float64 on the physical chip when rows differ
// in magnitude (a batch norm folded into the weights by an exporter).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Chip } from "../../../lib/chip/chip.ts";
import { GraphBuilder } from "../../../lib/network/builders.ts";
import { mapNetwork } from "../../../lib/network/mapper.ts";
import { tileMatrix } from "../../../lib/network/tiling.ts";
import { programNetwork, runNetwork } from "../../../lib/network/run.ts";
import { shutdownPool } from "../../../lib/runtime/pool.ts";

let s = 17;
const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
// A conv whose 8 output channels differ in magnitude by up to 64× (as after folding a batch norm).
const gain = [1, 1 / 64, 1 / 2, 1 / 16, 1, 1 / 8, 1 / 32, 1 / 4];
const b = new GraphBuilder("rows", [4, 6, 6]);
b.conv2d("c", { inChannels: 4, outChannels: 8, kernel: 3, padding: 1, weights: Float32Array.from({ length: 8 * 36 }, (_, i) => rnd() * gain[Math.floor(i / 36)]!) });
b.flatten("f");
const net = b.build();
const xs = Array.from({ length: 6 }, () => Float32Array.from({ length: 144 }, () => Math.abs(rnd())));

test("the mapping's row scales are each row's largest |weight|; programmed rows reach ±1", () => {
  const m = mapNetwork(net);
  const p = m.layers[0]!;
  const w = net.nodes[0]!.op === "conv2d" ? net.nodes[0]!.weights : new Float32Array();
  for (let r = 0; r < 8; r++) assert.is(p.rowScale![r], Math.max(...Array.from(w.subarray(r * 36, r * 36 + 36), Math.abs)));
  const t = tileMatrix(net.nodes[0] as never, p.tiles[0]!, p.rowScale);
  for (let r = 0; r < 8; r++) assert.ok(Math.abs(Math.max(...Array.from(t.subarray(r * 256, r * 256 + 36), Math.abs)) - 1) < 1e-6, `row ${r}`);
  assert.is(mapNetwork(net, { rowScaling: false }).layers[0]!.rowScale, undefined);
  assert.throws(() => mapNetwork(net, { rowScaling: "yes" as never }), /rowScaling must be true or false/);
});

test("physical TDP chip: row scaling brings the small rows closer to float64 than per-core Wmax alone", async () => {
  const err: Record<string, number> = {};
  for (const rowScaling of [true, false]) {
    const m = mapNetwork(net, { rowScaling });
    const chip = Chip.create({ seed: 21 });
    try {
      await programNetwork(chip, net, m, "tdp", 2);
      const r = await runNetwork(chip, net, m, xs, { threads: 2 });
      // Error of the weakest rows (channels 1 and 6: gain 1/64 and 1/32), relative to their own size.
      let num = 0;
      let den = 0;
      r.outputs.forEach((y, i) => {
        for (const c of [1, 6]) for (let k = 0; k < 36; k++) {
          num += (y[c * 36 + k]! - r.reference[i]![c * 36 + k]!) ** 2;
          den += r.reference[i]![c * 36 + k]! ** 2;
        }
      });
      err[String(rowScaling)] = Math.sqrt(num / den);
    } finally {
      chip.dispose();
    }
  }
  assert.ok(err["true"]! < err["false"]! / 2, `weak rows' error with row scaling ${err["true"]}, without ${err["false"]}`);
});

test.after(() => shutdownPool());
test.run();
