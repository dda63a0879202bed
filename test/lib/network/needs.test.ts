// What a network needs of the chip without placing it (lib/network/needs.ts): per layer the
// cores of the Methods' tiling, computed here independently, and in total exactly what the
// mapper counts (its placement when the network fits, its MappingError's needs otherwise).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { GraphBuilder } from "../../../lib/network/builders.ts";
import { mapNetwork, MappingError } from "../../../lib/network/mapper.ts";
import { assertFits, mappingNeeds, ModelTooLargeError, needsLines, tooLargeMessage } from "../../../lib/network/needs.ts";
import { rand } from "../../fixtures/onnx-models.ts";
import { denseChain } from "../../fixtures/too-large.ts";

test("per layer: ceil(rows / 256) · ceil(cols / 256) cores; the totals are the mapper's", () => {
  const b = new GraphBuilder("mixed", [3, 8, 8]);
  b.conv2d("c1", { inChannels: 3, outChannels: 300, kernel: 3, padding: 1, weights: rand(300 * 27, 0.2) });
  b.relu("r1");
  b.conv2d("c2", { inChannels: 300, outChannels: 40, kernel: 3, padding: 1, weights: rand(40 * 2700, 0.05) });
  b.flatten("f");
  b.dense("d", { inFeatures: 2560, outFeatures: 300, weights: rand(300 * 2560, 0.05) });
  const net = b.build();
  const needs = mappingNeeds(net);
  // By hand: c1 300 × 27 → 2 × 1; c2 40 × 2,700 → 1 × 11; d 300 × 2,560 → 2 × 10.
  assert.equal(needs.layers.map((l) => [l.layer, l.matrix.rows, l.matrix.cols, l.cores, l.weights]), [
    ["c1", 300, 27, 2, 8100], ["c2", 40, 2700, 11, 108000], ["d", 300, 2560, 20, 768000],
  ]);
  assert.is(needs.cores, 33);
  assert.is(needs.weights, 8100 + 108000 + 768000);
  assert.ok(needs.fits);
  const m = mapNetwork(net);
  assert.is(m.cores, needs.cores);
  assert.is(m.weights, needs.weights);
  assert.equal(m.layers.map((l) => l.tiles.length), needs.layers.map((l) => l.cores));
  assert.is(assertFits(net, "mixed.onnx").cores, 33);
});

test("too large by cores, not by weights: 70 one-core layers of 256 weights; the mapper's MappingError says the same", () => {
  const net = denseChain(70);
  const needs = mappingNeeds(net);
  assert.is(needs.cores, 70);
  assert.is(needs.weights, 70 * 256);
  assert.ok(!needs.fits, "weights / 65,536 would say 1 core");
  let mapperNeeds: { cores: number; weights: number } | undefined;
  try {
    mapNetwork(net);
  } catch (e) {
    assert.instance(e, MappingError);
    mapperNeeds = (e as MappingError).needs;
  }
  assert.equal(mapperNeeds, { cores: needs.cores, weights: needs.weights });
  assert.is(tooLargeMessage("chain.onnx", needs), "chain.onnx needs 70 cores (17,920 weights); the chip has 64");
  try {
    assertFits(net, "chain.onnx");
    assert.unreachable("should throw");
  } catch (e) {
    assert.instance(e, ModelTooLargeError);
    assert.not.instance(e, RangeError, "a model error (exit 1), not a usage error");
    assert.is((e as Error).message, "chain.onnx needs 70 cores (17,920 weights); the chip has 64");
    assert.is((e as ModelTooLargeError).needs.layers.length, 70);
  }
  const lines = needsLines(needs);
  assert.is(lines.length, 72, "header, 70 layers, total");
  assert.match(lines[71]!, /total\s+70\s+17,920/);
  assert.ok(mappingNeeds(denseChain(64)).fits);
});

test.run();
