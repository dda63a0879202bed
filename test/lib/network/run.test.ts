// A random-weight ResNet-9 (the paper's widths) on the simulated chip: the execution path
// (patches, partial sums over the links, LDPU epilogues, host pooling) against the float64
// reference — exact up to INT8 quantisation with a noise-free functional chip, and within
// the chip's error at both fidelities.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Chip } from "../../../lib/chip/chip.ts";
import { quietFit } from "../../fixtures/quiet-fit.ts";
import { resnet9 } from "../../../lib/network/builders.ts";
import { mapNetwork } from "../../../lib/network/mapper.ts";
import { shutdownPool } from "../../../lib/runtime/pool.ts";
import { programNetwork, runNetwork, runOnChip } from "../../../lib/network/run.ts";

const net = resnet9({ seed: 3 });
const mapping = mapNetwork(net);
let s = 7;
const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
const images = Array.from({ length: 3 }, () => Float32Array.from({ length: 3 * 32 * 32 }, () => rnd()));

test("noise-free functional chip: only INT8 quantisation separates it from float64", async () => {
  const quiet = quietFit();
  const chip = Chip.create({ seed: 5, fidelity: "functional" });
  await programNetwork(chip, net, mapping, "tdp");
  const r = await runNetwork(chip, net, mapping, images, { fit: quiet });
  chip.dispose();
  assert.is(r.outputs.length, 3);
  assert.is(r.outputs[0]!.length, 10);
  assert.ok(r.error < 0.08, `quantisation-only error ${r.error}`);
  assert.is(r.agreement, 1);
});

test("physical chip: TDP closer to float than ODP, both within the chip's MVM error; drift adds error", async () => {
  const errs: Record<string, number> = {};
  for (const scheme of ["odp", "tdp"] as const) {
    const chip = Chip.create({ seed: 5 });
    const r = await runOnChip(chip, net, images, { scheme, threads: 2, mapping });
    errs[scheme] = r.error;
    if (scheme === "tdp") {
      errs["tdpMonth"] = (await runNetwork(chip, net, mapping, images, { t: 30 * 86400 })).error;
      // Sharding the MVM batches over threads does not change a bit.
      const one = await runNetwork(chip, net, mapping, images, { t: 30 * 86400, reference: false });
      const two = await runNetwork(chip, net, mapping, images, { t: 30 * 86400, reference: false, threads: 2 });
      assert.equal(two.outputs.map((o) => Array.from(o)), one.outputs.map((o) => Array.from(o)));
      // Neither do chunks (two in flight with threads): the noise is keyed by the vector's
      // index in the whole set, so image 2 read in a chunk of its own gets the same bits...
      const chunked = await runNetwork(chip, net, mapping, images, { t: 30 * 86400, reference: false, threads: 2, chunk: 1, scales: one.scales });
      assert.equal(chunked.outputs.map((o) => Array.from(o)), one.outputs.map((o) => Array.from(o)));
      // ...and the same image at another index gets other read noise.
      const again = await runNetwork(chip, net, mapping, [images[0]!, images[0]!], { t: 30 * 86400, reference: false, chunk: 1, scales: one.scales });
      assert.not.equal(Array.from(again.outputs[1]!), Array.from(again.outputs[0]!), "repeated input, independent noise");
      for (const chunk of [0, 1.5]) {
        let message = "";
        try {
          await runNetwork(chip, net, mapping, images, { reference: false, chunk, scales: one.scales });
        } catch (e) {
          message = (e as Error).message;
        }
        assert.match(message, /chunk must be a positive integer/);
      }
      assert.ok(Number.isNaN(one.error));
    }
    chip.dispose();
  }
  assert.ok(errs["tdp"]! < errs["odp"]!, `TDP ${errs["tdp"]} vs ODP ${errs["odp"]}`);
  assert.ok(errs["odp"]! < 0.35 && errs["tdp"]! > 0.05, JSON.stringify(errs));
  assert.ok(errs["tdpMonth"]! > errs["tdp"]!, JSON.stringify(errs));
  await shutdownPool();
});

test("bad inputs are named", async () => {
  const chip = Chip.create({ seed: 5, fidelity: "functional" });
  try {
    await runOnChip(chip, net, [new Float32Array(10)]).then(() => assert.unreachable(), (e: Error) => assert.match(e.message, /inputs\[0\] must be 3072 values/));
  } finally {
    chip.dispose();
  }
});

test.run();
