// A layer's input sources and their link routes (lib/network/input-routes.ts): a Concat of
// two convs read by a third over the links, a Concat behind a host pool (chip I/O), a
// Concat flattened into a dense layer, maxHops, and ResNet-9's single-producer inputs.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { GraphBuilder, resnet9 } from "../../../lib/network/builders.ts";
import { hasLink, OFFCHIP, route, transferCycles } from "../../../lib/chip/links.ts";
import { mapNetwork, MappingError, type Mapping } from "../../../lib/network/mapper.ts";

const w = (n: number, v = 0.1) => new Float32Array(n).fill(v);

/** input [2, 4, 4] → convA, convB (1×1, 2 → 4 channels each, ReLU) → concat [8, 4, 4] → `tail`. */
function twoBranches(tail: (b: GraphBuilder, cat: string) => void) {
  const b = new GraphBuilder("cat", [2, 4, 4]);
  const a = b.conv2d("convA", { inChannels: 2, outChannels: 4, kernel: 1, weights: w(8) }, "input");
  const ra = b.relu("reluA", a);
  const c = b.conv2d("convB", { inChannels: 2, outChannels: 4, kernel: 1, weights: w(8, -0.1) }, "input");
  const rb = b.relu("reluB", c);
  tail(b, b.concat("cat", [ra, rb]));
  return b.build();
}

const direct = twoBranches((b, cat) => b.conv2d("convC", { inChannels: 8, outChannels: 4, kernel: 3, padding: 1, weights: w(4 * 8 * 9) }, cat));
const layer = (m: Mapping, name: string) => m.layers.find((l) => l.layer === name)!;

test("two convs concatenated into a third: one priced route from each producer's receiver to the consumer's tile, hop counts as links.route", () => {
  const m = mapNetwork(direct);
  // Snake order: convA on core 0, convB on core 1, convC on core 2 (one tile each).
  assert.equal(m.layers.map((l) => l.tiles.map((t) => t.core)), [[0], [1], [2]]);
  const c = layer(m, "convC");
  assert.is(c.inputRoutes.length, 2);
  const [ra, rb] = c.inputRoutes;
  assert.equal(
    { from: ra!.from, source: ra!.source, layer: ra!.layer, outputBlock: ra!.outputBlock, sender: ra!.sender, channels: ra!.channels, through: ra!.through, priced: ra!.priced },
    { from: "reluA", source: "chip", layer: "convA", outputBlock: 0, sender: 0, channels: [0, 4], through: ["cat"], priced: true },
  );
  assert.equal([rb!.from, rb!.layer, rb!.sender, rb!.channels, rb!.priced], ["reluB", "convB", 1, [4, 8], true]);
  // By hand: 0 → 1 → 2 along row 0 (E, E: the diagonals only point down), 1 → 2 one hop.
  assert.equal(ra!.tiles.map((t) => [t.tile, t.core, [...t.route.path], t.route.hops]), [[0, 2, [0, 1, 2], 2]]);
  assert.equal(rb!.tiles.map((t) => [t.tile, t.core, [...t.route.path], t.route.hops]), [[0, 2, [1, 2], 1]]);
  for (const s of c.inputRoutes) {
    for (const t of s.tiles) {
      assert.is(t.route.path[0], layer(m, s.layer!).receivers[s.outputBlock!]);
      assert.is(t.route.path.at(-1), c.tiles[t.tile]!.core);
      assert.is(t.route.hops, route(s.sender, t.core)!.hops);
      for (let i = 0; i + 1 < t.route.path.length; i++) assert.ok(hasLink(t.route.path[i]!, t.route.path[i + 1]!));
      // 4 channels × 3 × 3 patch positions of the 72 columns (k = (c·3 + i)·3 + j).
      assert.is(t.bytes, 36);
      assert.is(t.cycles, transferCycles(36, t.route.hops));
    }
  }
  assert.is(ra!.tiles[0]!.cycles, 2 * 37); // 1 preamble byte + 36, one byte per clock, two hops
  // The producers read the network input from the chip I/O, unpriced.
  for (const p of ["convA", "convB"]) {
    const [s] = layer(m, p).inputRoutes;
    assert.equal([s!.from, s!.source, s!.sender, s!.channels, s!.priced], ["input", "host", OFFCHIP, [0, 2], false]);
    assert.equal(s!.tiles.map((t) => [...t.route.path]), [[OFFCHIP, layer(m, p).tiles[0]!.core]]);
    assert.is(s!.tiles[0]!.bytes, 2);
  }
  assert.ok(m.host.includes("cat"));
});

test("every copy's tile reads the concat: replicas 2 give two tiles, each with a route from both producers", () => {
  const m = mapNetwork(direct, { replicas: 2 });
  const c = layer(m, "convC");
  assert.is(c.tiles.length, 2);
  for (const s of c.inputRoutes) {
    assert.equal(s.tiles.map((t) => t.core), c.tiles.map((t) => t.core));
    for (const t of s.tiles) assert.equal([t.route.path[0], t.route.path.at(-1)], [s.sender, t.core]);
  }
});

test("a concat behind a host max-pool is joined on the host: the next layer reads it from the chip I/O, unpriced", () => {
  const net = twoBranches((b, cat) => {
    b.maxPool("pool", 2, 2, cat);
    b.conv2d("convC", { inChannels: 8, outChannels: 4, kernel: 1, weights: w(32) });
  });
  const m = mapNetwork(net);
  const [s, ...rest] = layer(m, "convC").inputRoutes;
  assert.is(rest.length, 0);
  assert.equal([s!.from, s!.source, s!.sender, s!.channels, s!.through, s!.priced], ["pool", "host", OFFCHIP, [0, 8], [], false]);
  assert.equal(s!.tiles.map((t) => [[...t.route.path], t.bytes]), [[[OFFCHIP, layer(m, "convC").tiles[0]!.core], 8]]);
});

test("a concat flattened into a dense layer: each producer fills its channels × H·W features", () => {
  const net = twoBranches((b, cat) => {
    b.flatten("flat", cat);
    b.dense("fc", { inFeatures: 128, outFeatures: 3, weights: w(3 * 128) });
  });
  const m = mapNetwork(net);
  const fc = layer(m, "fc");
  assert.equal(fc.inputRoutes.map((s) => [s.from, s.channels, s.through, s.priced, s.tiles.map((t) => t.bytes)]), [
    ["reluA", [0, 64], ["cat", "flat"], true, [64]],
    ["reluB", [64, 128], ["cat", "flat"], true, [64]],
  ]);
});

test("a Concat of one input is a copy: its producer's route is recorded, unpriced", () => {
  const b = new GraphBuilder("one", [2, 4, 4]);
  const a = b.conv2d("convA", { inChannels: 2, outChannels: 4, kernel: 1, weights: w(8) }, "input");
  b.conv2d("convC", { inChannels: 4, outChannels: 2, kernel: 1, weights: w(8) }, b.concat("cat", [a]));
  const [s, ...rest] = layer(mapNetwork(b.build()), "convC").inputRoutes;
  assert.is(rest.length, 0);
  assert.equal([s!.from, s!.source, s!.through, s!.priced, s!.tiles.map((t) => [...t.route.path])], ["convA", "chip", ["cat"], false, [[0, 1]]]);
});

test("maxHops bounds a concat's routes: convA's receiver is 2 hops from convC, so maxHops 1 is refused naming the route", () => {
  assert.ok(mapNetwork(direct, { maxHops: 2 }).layers.length === 3);
  try {
    mapNetwork(direct, { maxHops: 1 });
    assert.unreachable("should throw");
  } catch (e) {
    assert.instance(e, MappingError);
    assert.match((e as Error).message, /the output of reluA into convC needs a link route from core 0 to core 2 within 1 hop.*shortest has 2 hops/);
  }
});

test("ResNet-9: single-producer inputs and pooled inputs are recorded, none priced; conv3 reads relu2 from conv2's receiver", () => {
  const m = mapNetwork(resnet9({ seed: 3 }));
  assert.ok(m.layers.every((l) => l.inputRoutes.length === 1 && !l.inputRoutes[0]!.priced));
  assert.equal(m.layers.map((l) => l.inputRoutes[0]!.from), ["input", "relu0", "pool1", "relu2", "add3", "pool4", "pool5", "relu6", "pool8"]);
  const c3 = layer(m, "conv3");
  const [s] = c3.inputRoutes;
  assert.is(s!.sender, layer(m, "conv2").receiver);
  // 112 channels × 9 = 1008 columns in 4 tiles of 252.
  assert.equal(s!.tiles.map((t) => t.bytes), [252, 252, 252, 252]);
  assert.equal(s!.tiles.map((t) => t.core), c3.tiles.map((t) => t.core));
  // The dense layer reads pool8 through the flatten.
  assert.equal(layer(m, "dense").inputRoutes[0]!.through, ["flatten"]);
});

test.run();
