import { test } from "uvu";
import * as assert from "uvu/assert";
import { GraphBuilder, resnet9 } from "../../../lib/network/builders.ts";
import type { WeightNode } from "../../../lib/network/graph.ts";
import { hasLink, OFFCHIP } from "../../../lib/chip/links.ts";
import { floorplan } from "../../../lib/network/floorplan-text.ts";
import { mapNetwork, MappingError, SNAKE_ORDER, splitRange, tileMatrix, tiling } from "../../../lib/network/mapper.ts";

const net = resnet9({ seed: 11 });
const m = mapNetwork(net);
const layer = (name: string) => m.layers.find((l) => l.layer === name)!;

test("the Methods' split: the 2016×224 deep layer → 8 sub-matrices of 252×224 (224 rows × 252 cols here)", () => {
  const t = tiling(224, 2016);
  assert.is(t.outputs, 1);
  assert.is(t.inputs, 8);
  assert.equal(t.colBlocks, [[0, 252], [252, 504], [504, 756], [756, 1008], [1008, 1260], [1260, 1512], [1512, 1764], [1764, 2016]]);
  assert.equal(t.rowBlocks, [[0, 224]]);
  const c5 = layer("conv5");
  assert.equal(c5.matrix, { rows: 224, cols: 2016 });
  assert.equal(c5.tileShape, { rows: 224, cols: 252 });
  for (const tile of c5.tiles) {
    assert.is(tile.colRange[1] - tile.colRange[0], 252);
    assert.equal(tile.rowRange, [0, 224]);
  }
  // Fewest tiles with both dims ≤ 256, near-equal blocks.
  assert.equal(tiling(256, 256), { outputs: 1, inputs: 1, rowBlocks: [[0, 256]], colBlocks: [[0, 256]] });
  assert.equal(tiling(257, 10).rowBlocks, [[0, 128], [128, 257]]);
  assert.equal(splitRange(10, 3), [[0, 3], [3, 6], [6, 10]]);
  assert.equal(tiling(600, 513), { outputs: 3, inputs: 3, rowBlocks: [[0, 200], [200, 400], [400, 600]], colBlocks: [[0, 171], [171, 342], [342, 513]] });
});

test("ResNet-9 maps onto 40 cores with 1,866,536 weights and 10 biases; tile counts per layer", () => {
  assert.is(m.cores, 40);
  assert.is(m.weights, 1_866_536);
  assert.is(m.biases, 10);
  assert.equal(
    m.layers.map((l) => [l.layer, l.tiles.length, l.tileShape.rows, l.tileShape.cols]),
    [
      ["conv0", 1, 56, 27],
      ["conv1", 2, 112, 252],
      ["conv2", 4, 112, 252],
      ["conv3", 4, 112, 252],
      ["conv4", 4, 224, 252],
      ["conv5", 8, 224, 252],
      ["conv6", 8, 224, 252],
      ["conv7", 8, 224, 252],
      ["dense", 1, 10, 224],
    ],
  );
  assert.equal(m.host, ["pool1", "pool4", "pool5", "pool8", "flatten"]);
});

test("no core is used twice; the tiles cover every weight exactly once", () => {
  assert.is(new Set(m.coreIds).size, m.coreIds.length);
  for (const l of m.layers) {
    let cells = 0;
    for (const t of l.tiles) cells += (t.rowRange[1] - t.rowRange[0]) * (t.colRange[1] - t.colRange[0]);
    assert.is(cells, l.weights, l.layer);
  }
});

test("Fig. 3b layout: Conv0–4 and dense on the first two rows, Conv5, Conv6, Conv7 each one whole row", () => {
  const rowsOf = (name: string) => [...new Set(layer(name).tiles.map((t) => Math.floor(t.core / 8)))];
  for (const n of ["conv0", "conv1", "conv2", "conv3", "conv4", "dense"]) assert.ok(rowsOf(n).every((r) => r <= 1), n);
  assert.equal(rowsOf("conv5"), [2]);
  assert.equal(rowsOf("conv6"), [3]);
  assert.equal(rowsOf("conv7"), [4]);
  assert.equal(layer("conv5").tiles.map((t) => t.core), [16, 17, 18, 19, 20, 21, 22, 23]);
  assert.is(layer("conv5").receiver, 19);
  assert.equal(layer("conv5").routeHops, [3, 2, 1, 0, 1, 2, 3, 4]);
  assert.equal(layer("conv0").tiles.map((t) => t.core), [0]);
  assert.equal(layer("dense").tiles.map((t) => t.core), [7]);
  const plan = floorplan(m).split("\n");
  assert.is(plan.length, 8);
  assert.ok(plan[2]!.startsWith("conv5 "));
  assert.ok(plan[5]!.startsWith(". "));
  // Long (ONNX-style) layer names become L0, L1, … with a legend.
  const renamed = { ...m, layers: m.layers.map((l) => ({ ...l, layer: `/model/${l.layer}/Conv` })) };
  const long = floorplan(renamed).split("\n");
  assert.is(long.length, 8 + m.layers.length);
  assert.ok(long[2]!.startsWith(`L${m.layers.findIndex((l) => l.layer === "conv5")} `), long[2]);
  assert.is(long[8], "  L0 = /model/conv0/Conv");
});

test("every aggregation and residual route runs over existing links, receivers are tiles of their layer", () => {
  let routes = 0;
  for (const l of m.layers) {
    assert.ok(l.tiles.some((t) => t.core === l.receiver), l.layer);
    for (const t of l.tiles) {
      const p = t.route.path;
      assert.is(p[0], t.core);
      assert.is(p[p.length - 1], l.receivers[t.outputBlock]);
      assert.is(p.length - 1, t.route.hops);
      for (let i = 0; i + 1 < p.length; i++) assert.ok(hasLink(p[i]!, p[i + 1]!), `${l.layer}: ${p[i]} -> ${p[i + 1]}`);
      // Partial sums stay inside the layer's own cores.
      assert.ok(p.every((c) => l.tiles.some((x) => x.core === c)), `${l.layer} route ${p}`);
      assert.is(t.cycles, t.route.hops === 0 ? 0 : t.route.hops * (1 + t.rowRange[1] - t.rowRange[0]));
      routes++;
    }
  }
  assert.is(routes, 40);
  // Residuals come from host-side max-pools, so they enter the receiver over its chip-I/O link.
  const add3 = layer("conv3").ldpu.find((o) => o.op === "add");
  assert.ok(add3 !== undefined && add3.op === "add");
  assert.is(add3.residual, "pool1");
  assert.equal(add3.routes.map((r) => [...r.path]), [[OFFCHIP, layer("conv3").receiver]]);
  assert.ok(hasLink(OFFCHIP, layer("conv7").receiver));
});

test("LDPU epilogue: batch norm folded into the affine, ReLU, residual add, dense bias", () => {
  assert.equal(layer("conv1").ldpu.map((o) => o.op), ["affine", "relu"]);
  assert.equal(layer("conv3").ldpu.map((o) => o.op), ["affine", "relu", "add"]);
  assert.equal(layer("conv7").ldpu.map((o) => o.op), ["affine", "relu", "add"]);
  assert.equal(layer("dense").ldpu, [{ op: "affine", folds: ["dense.bias"] }]);
  const bn = net.nodes.find((n) => n.name === "bn2");
  assert.ok(bn !== undefined && bn.op === "batchNorm");
  assert.equal(Array.from(layer("conv2").affine.scale), Array.from(bn.scale));
  assert.equal(Array.from(layer("conv2").affine.shift), Array.from(bn.shift));
  const dense = net.nodes.find((n) => n.name === "dense") as WeightNode;
  assert.equal(Array.from(layer("dense").affine.shift), Array.from(dense.bias!));
  // Bias then batch norm: shift = s·b + t.
  const b = new GraphBuilder("bb", [4]);
  b.dense("d", { inFeatures: 4, outFeatures: 2, weights: new Float32Array(8), bias: new Float32Array([1, 2]) });
  b.batchNorm("n", new Float32Array([2, 3]), new Float32Array([0.5, -1]));
  const mm = mapNetwork(b.build());
  assert.equal(Array.from(mm.layers[0]!.affine.scale), [2, 3]);
  assert.equal(Array.from(mm.layers[0]!.affine.shift), [2.5, 5]);
  assert.equal(mm.layers[0]!.ldpu, [{ op: "affine", folds: ["d.bias", "n"] }]);
});

test("tileMatrix: 256 × 256, outputs on rows, unrolled inputs on columns, zero-filled", () => {
  const c5 = net.nodes.find((n) => n.name === "conv5") as WeightNode;
  const t = layer("conv5").tiles[2]!;
  const x = tileMatrix(c5, t);
  assert.is(x.length, 65536);
  assert.is(x[0], c5.weights[0 * 2016 + 504]);
  assert.is(x[3 * 256 + 7], c5.weights[3 * 2016 + 504 + 7]);
  assert.is(x[223 * 256 + 251], c5.weights[223 * 2016 + 755]);
  assert.is(x[223 * 256 + 252], 0);
  assert.is(x[224 * 256], 0);
});

test("a network that does not fit gets one clear error with what it needs", () => {
  const b = new GraphBuilder("big", [4096]);
  b.dense("fc", { inFeatures: 4096, outFeatures: 4096, weights: new Float32Array(4096 * 4096) });
  const big = b.build();
  assert.throws(
    () => mapNetwork(big),
    (e: Error) =>
      e instanceof MappingError &&
      e.needs.cores === 256 &&
      e.needs.weights === 16_777_216 &&
      e.message ===
        'network "big" does not fit on the chip: it needs 256 cores and 16,777,216 weights (fc 4096×4096 → 256 cores); the chip has 64 cores of 256×256 = 4,194,304 weights',
  );
  // Fits in weights but not in cores (tile waste): 65 layers of 1 core each.
  const many = new GraphBuilder("many", [8]);
  for (let i = 0; i < 65; i++) many.dense(`d${i}`, { inFeatures: 8, outFeatures: 8, weights: new Float32Array(64) });
  assert.throws(() => mapNetwork(many.build()), /needs 65 cores and 4,160 weights .* the chip has 64 cores/);
  // Excluded cores shrink what is available.
  assert.throws(() => mapNetwork(net, { exclude: SNAKE_ORDER.slice(0, 30) }), /needs 40 cores and 1,866,536 weights .*; the chip has 34 usable cores/);
});

test("no link route within maxHops is a clear error; excluded cores are avoided", () => {
  assert.throws(
    () => mapNetwork(net, { maxHops: 2 }),
    /cannot be mapped: the partial sums of layer conv5 \(output block 0\) on cores 16, 17, 18, 19, 20, 21, 22, 23 need link routes to one receiving core within 2 hops, and lib\/chip\/links\.ts has none \(the best receiver needs 4 hops\)/,
  );
  assert.is(mapNetwork(net, { maxHops: 4 }).cores, 40);
  const ex = mapNetwork(net, { exclude: [0, 19, 33] });
  assert.is(ex.cores, 40);
  assert.ok(!ex.coreIds.some((c) => c === 0 || c === 19 || c === 33));
  assert.is(new Set(ex.coreIds).size, 40);
  for (const l of ex.layers) for (const t of l.tiles) for (let i = 0; i + 1 < t.route.path.length; i++) assert.ok(hasLink(t.route.path[i]!, t.route.path[i + 1]!));
  assert.throws(() => mapNetwork(net, { maxHops: -1 }), /maxHops must be a non-negative integer/);
  assert.throws(() => mapNetwork(net, { hops: 3 } as never), /unknown option options\.hops/);
});

test("LDPU ops that cannot run on a receiver are rejected; a batch norm that follows no weight layer runs on the host", () => {
  const b = new GraphBuilder("reluFirst", [3, 4, 4]);
  b.relu("r");
  b.conv2d("c", { inChannels: 3, outChannels: 2, kernel: 1, weights: new Float32Array(6) });
  assert.throws(() => mapNetwork(b.build()), /r must be a relu in the epilogue of a conv2d \/ dense/);
  const b2 = new GraphBuilder("bnAfterRelu", [3, 4, 4]);
  b2.conv2d("c", { inChannels: 3, outChannels: 2, kernel: 1, weights: new Float32Array(6) });
  b2.relu("r");
  b2.batchNorm("n", new Float32Array(2), new Float32Array(2));
  const m2 = mapNetwork(b2.build());
  assert.equal(m2.host, ["n"]);
  assert.equal(m2.layers[0]!.ldpu.map((l) => l.op), ["relu"]);
});

test.run();
