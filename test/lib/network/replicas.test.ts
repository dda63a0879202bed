// Replicas: copies of each layer's weights on spare cores, their reads averaged along the
// partial-sum chain. The allocation (hand-checked cases), the mapping (every tile copied on
// its own core, the cost model counting the copies), the same function as one copy on a
// noise-free chip (the weighted partial sums keep full INT8 resolution: no systematic rounding
// of small shares), and less error than one copy on the physical chip.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Chip } from "../../../lib/chip/chip.ts";
import { quietFit } from "../../fixtures/quiet-fit.ts";
import { layerStepCost } from "../../../lib/cost/model.ts";
import { networkCost } from "../../../lib/cost/network.ts";
import { GraphBuilder } from "../../../lib/network/builders.ts";
import { MappingError, mapNetwork } from "../../../lib/network/mapper.ts";
import { parseReplicas, replicaCounts, REPLICAS_MAX } from "../../../lib/network/replicas.ts";
import { programNetwork, runNetwork } from "../../../lib/network/run.ts";
import { tileMatrix } from "../../../lib/network/tiling.ts";
import { shutdownPool } from "../../../lib/runtime/pool.ts";

let s = 5;
const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
// A first-layer-like conv (1 channel, 5 × 5: 25 inputs per output) then a dense layer of 300
// inputs (two input blocks: a chain of partial sums in every copy).
const b = new GraphBuilder("rep", [1, 10, 10]);
b.conv2d("c", { inChannels: 1, outChannels: 9, kernel: 5, padding: 0, weights: Float32Array.from({ length: 225 }, rnd), bias: Float32Array.from({ length: 9 }, () => 0.1 * rnd()) });
b.relu("r");
b.flatten("f");
b.dense("d", { inFeatures: 324, outFeatures: 10, weights: Float32Array.from({ length: 3240 }, rnd) });
const net = b.build();
const xs = Array.from({ length: 24 }, () => Float32Array.from({ length: 100 }, () => rnd()));

test("replicaCounts: uniform copies, then the layers with fewest tiles first; parseReplicas", () => {
  assert.equal(replicaCounts([1, 1, 1, 1, 1, 1], 64), [8, 8, 8, 8, 8, 8]); // capped at REPLICAS_MAX
  assert.is(REPLICAS_MAX, 8);
  assert.equal(replicaCounts([10, 20, 10], 64), [2, 1, 2]); // k = 1, 24 left: 10 + 10
  assert.equal(replicaCounts([3, 5], 20), [3, 2]); // k = 2 (16), 4 left: the 3-tile layer
  assert.equal(replicaCounts([40], 64), [1]);
  assert.equal(replicaCounts([2, 2], 64, 1), [1, 1]);
  assert.is(parseReplicas("auto"), "auto");
  assert.is(parseReplicas("3"), 3);
  assert.is(parseReplicas(1), 1);
  for (const bad of [0, "0", 65, 1.5, "two", -1]) assert.throws(() => parseReplicas(bad, "--replicas"), /--replicas must be "auto" or an integer in 1\.\.64/);
});

test("mapping: every tile copied on its own core, replica indices, cost counts the copies; too many copies is a MappingError", () => {
  const one = mapNetwork(net);
  assert.is(one.cores, 3); // conv 9 × 25: one tile; dense 10 × 324: two input blocks
  const three = mapNetwork(net, { replicas: 3 });
  assert.is(three.cores, 3 * one.cores);
  assert.is(new Set(three.coreIds).size, three.cores);
  for (const [i, p] of three.layers.entries()) {
    assert.is(p.replicas, 3);
    const base = one.layers[i]!.tiles;
    assert.is(p.tiles.length, 3 * base.length);
    for (let r = 0; r < 3; r++) {
      const copies = p.tiles.filter((t) => t.replica === r);
      assert.equal(copies.map((t) => [t.rowRange, t.colRange]), base.map((t) => [t.rowRange, t.colRange]));
    }
  }
  assert.is(one.layers[0]!.replicas, 1);
  const c1 = networkCost(net, one, "4-phase");
  const c3 = networkCost(net, three, "4-phase");
  assert.is(c3.cores, 3 * c1.cores);
  // Every copy is a core of the layer's chain: 3 × the cores, MVMs and LDPU values per step
  // (the chip's static power does not scale, so less than 3 × the energy), 2 more hops per copy.
  for (const [i, l] of c3.layers.entries()) {
    const b1 = one.layers[i]!;
    const want = layerStepCost({ chains: b1.blocks.outputs, chainLength: 3 * b1.tiles.length, inputs: b1.tileShape.cols, outputs: b1.tileShape.rows, mode: "4-phase" });
    assert.is(l.cores, 3 * c1.layers[i]!.cores);
    assert.ok(Math.abs(l.energyNjPerStep - want.energyNj) < 1e-9 && Math.abs(l.latencyNsPerStep - want.latencyNs) < 1e-9, l.layer);
  }
  assert.ok(c3.energyUj > 1.2 * c1.energyUj && c3.latencyUs > c1.latencyUs, `energy ${c1.energyUj} → ${c3.energyUj}`);
  const auto = mapNetwork(net, { replicas: "auto" });
  assert.equal(auto.layers.map((l) => l.replicas), [8, 8]);
  assert.throws(() => mapNetwork(net, { replicas: 40 }), (e: unknown) => e instanceof MappingError && /needs 120 cores; the chip has 64/.test((e as Error).message));
  assert.throws(() => mapNetwork(net, { replicas: "many" as never }), /replicas must be "auto" or an integer/);
});

test("noise-free functional chip: 8 copies give the function of one (INT8 only; no systematic rounding of the copies' shares)", async () => {
  const quiet = quietFit();
  const err: number[] = [];
  for (const replicas of [1, 8]) {
    const m = mapNetwork(net, { replicas });
    const chip = Chip.create({ seed: 3, fidelity: "functional" });
    try {
      await programNetwork(chip, net, m, "tdp", 1);
      err.push((await runNetwork(chip, net, m, xs, { fit: quiet })).error);
    } finally {
      chip.dispose();
    }
  }
  assert.ok(err[0]! < 0.03, `one copy, INT8 only: ${err[0]}`);
  assert.ok(err[1]! < 1.5 * err[0]! + 0.005, `8 copies ${err[1]} vs one ${err[0]}`);
});

test("physical TDP chip: 4 copies bring the outputs closer to float64 than one (≈ 1/√4 of the analog error)", async () => {
  const err: number[] = [];
  for (const replicas of [1, 4]) {
    const m = mapNetwork(net, { replicas });
    const chip = Chip.create({ seed: 9 });
    try {
      await programNetwork(chip, net, m, "tdp", 2);
      err.push((await runNetwork(chip, net, m, xs, { threads: 2 })).error);
    } finally {
      chip.dispose();
    }
  }
  assert.ok(err[1]! < 0.7 * err[0]!, `error with 4 copies ${err[1]}, with one ${err[0]}`);
});

// A depthwise conv (8 groups of 1 × 3 × 3: packed, 9 columns per read) after a 1-channel conv.
const g = new GraphBuilder("dw", [1, 8, 8]);
g.conv2d("c0", { inChannels: 1, outChannels: 8, kernel: 3, padding: 1, weights: Float32Array.from({ length: 72 }, rnd) });
g.relu("r0");
g.conv2d("dw", { inChannels: 8, outChannels: 8, kernel: 3, padding: 1, groups: 8, weights: Float32Array.from({ length: 72 }, rnd) });
g.flatten("f");
const dwNet = g.build();
const dxs = Array.from({ length: 8 }, () => Float32Array.from({ length: 64 }, () => rnd()));

test("column copies: each row's weights m times side by side, m bounded by the ADC range (hand-checked)", () => {
  const m = mapNetwork(net, { columnCopies: true });
  const conv = net.nodes[0]!;
  if (conv.op !== "conv2d") throw new Error("conv expected");
  const p = m.layers[0]!;
  // Row scaling: each row's largest |ŵ| is 1; the worst row's Σ|ŵ| over its 25 columns bounds
  // m: Σ|ŵ| · 160 counts · 128 ns · (0.05 µS · 0.2 V) / (100 µA · 128 ns / 4095) ≤ 4095.
  let worst = 0;
  for (let r = 0; r < 9; r++) {
    const row = Array.from(conv.weights.subarray(r * 25, r * 25 + 25), Math.abs);
    worst = Math.max(worst, row.reduce((a, b) => a + b, 0) / Math.max(...row));
  }
  const lsbPerCopy = (worst * 160 * 128 * 0.05 * 0.2) / ((100 * 128) / 4095);
  const want = Math.min(Math.floor(256 / 25), Math.floor(4095 / lsbPerCopy));
  assert.ok(want > 1, `the test wants copies: ${want}`);
  assert.is(p.columnCopies, want);
  assert.is(m.layers[1]!.columnCopies, 1); // 162 + 162 columns: no room
  assert.is(mapNetwork(net).layers[0]!.columnCopies, 1); // off by default
  assert.is(mapNetwork(net, { replicas: "auto" }).layers[0]!.columnCopies, want); // on with auto
  const t = tileMatrix(conv, p.tiles[0]!, p.rowScale, want);
  for (let r = 0; r < 9; r++) {
    for (let q = 0; q < want; q++) {
      for (let j = 0; j < 25; j++) assert.ok(Math.abs(t[r * 256 + q * 25 + j]! - conv.weights[r * 25 + j]! / p.rowScale![r]!) < 1e-6);
    }
    assert.is(t[r * 256 + want * 25], 0);
  }
  // A packed depthwise tile: row o holds its own group's 9 weights in every slot.
  const dm = mapNetwork(dwNet, { columnCopies: true });
  const dw = dwNet.nodes[2]!;
  if (dw.op !== "conv2d") throw new Error("conv expected");
  const dp = dm.layers[1]!;
  assert.ok(dp.columnCopies > 1 && dp.columnCopies <= 28, `depthwise copies ${dp.columnCopies}`);
  const dt = tileMatrix(dw, dp.tiles[0]!, dp.rowScale, dp.columnCopies);
  for (let o = 0; o < 8; o++) for (let q = 0; q < dp.columnCopies; q++) for (let j = 0; j < 9; j++) {
    assert.ok(Math.abs(dt[o * 256 + q * 9 + j]! - dw.weights[o * 9 + j]! / dp.rowScale![o]!) < 1e-6, `row ${o} slot ${q}`);
  }
  assert.throws(() => mapNetwork(net, { columnCopies: "yes" as never }), /columnCopies must be true or false/);
  // The cost: a read drives every copy's columns (25 · m of the conv), and a packed depthwise
  // read drives one group's 9 columns in each of its copies, not the tile's 72.
  const step = (mm: typeof m, n: typeof net, i: number) => networkCost(n, mm, "4-phase").layers[i]!.energyNjPerStep;
  const conv1 = m.layers[0]!;
  const byHand = layerStepCost({ chains: 1, chainLength: 1, inputs: 25 * want, outputs: 9, mode: "4-phase" });
  assert.ok(Math.abs(step(m, net, 0) - byHand.energyNj) < 1e-9, `conv energy ${step(m, net, 0)} vs ${byHand.energyNj}`);
  assert.is(conv1.tiles.length, 1);
  const dwHand = layerStepCost({ chains: 1, chainLength: 1, inputs: 9 * dp.columnCopies, outputs: 8, mode: "4-phase" });
  assert.ok(Math.abs(step(dm, dwNet, 1) - 8 * dwHand.energyNj) < 1e-9, `depthwise energy ${step(dm, dwNet, 1)} vs 8 reads of ${dwHand.energyNj}`);
});

test("column copies on a noise-free chip: the function of one copy (dense, conv and packed depthwise); on the physical chip less error", async () => {
  const quiet = quietFit();
  for (const [n, x] of [[net, xs], [dwNet, dxs]] as const) {
    const err: number[] = [];
    const phys: number[] = [];
    for (const columnCopies of [false, true]) {
      const m = mapNetwork(n, { columnCopies });
      for (const fidelity of ["functional", "physical"] as const) {
        const chip = Chip.create({ seed: 4, fidelity });
        try {
          await programNetwork(chip, n, m, "tdp", 2);
          const r = await runNetwork(chip, n, m, x, fidelity === "functional" ? { fit: quiet } : { threads: 2 });
          (fidelity === "functional" ? err : phys).push(r.error);
        } finally {
          chip.dispose();
        }
      }
    }
    assert.ok(err[0]! < 0.03 && err[1]! < 0.03, `${n.name}: INT8 only ${err}`);
    assert.ok(phys[1]! < 0.85 * phys[0]!, `${n.name}: physical error with column copies ${phys[1]}, without ${phys[0]}`);
  }
});

test.after(() => shutdownPool());
test.run();
