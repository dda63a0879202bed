// The cost of a Concat's link transfers (lib/cost/input-links.ts, networkCost): checked by
// hand from the config constants on two 1×1 convs concatenated into a 3×3 conv.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ARCH, COST } from "../../../lib/chip/config.ts";
import { inputLinkCost } from "../../../lib/cost/input-links.ts";
import { networkCost } from "../../../lib/cost/network.ts";
import { GraphBuilder } from "../../../lib/network/builders.ts";
import { mapNetwork, type Mapping } from "../../../lib/network/mapper.ts";

const w = (n: number, v = 0.1) => new Float32Array(n).fill(v);

// input [2, 4, 4] → convA, convB (1×1, 4 channels each) → concat [8, 4, 4] → convC (3×3, pad 1).
const b = new GraphBuilder("cat", [2, 4, 4]);
const ra = b.relu("reluA", b.conv2d("convA", { inChannels: 2, outChannels: 4, kernel: 1, weights: w(8) }, "input"));
const rb = b.relu("reluB", b.conv2d("convB", { inChannels: 2, outChannels: 4, kernel: 1, weights: w(8) }, "input"));
b.conv2d("convC", { inChannels: 8, outChannels: 4, kernel: 3, padding: 1, weights: w(288) }, b.concat("cat", [ra, rb]));
const net = b.build();
const m = mapNetwork(net);
/** The same mapping with no route priced: the cost before the concat was counted. */
const unpriced: Mapping = { ...m, layers: m.layers.map((l) => ({ ...l, inputRoutes: l.inputRoutes.map((s) => ({ ...s, priced: false })) })) };

test("convC's step grows by the two transfers into its one tile, one after another: 2 and 1 hops of 36 bytes", () => {
  const hopNs = COST.digitalHopNs.value; // 56 ns per hop
  const clockNs = 1e9 / ARCH.digitalClockHz.value; // 2.5 ns; a link moves 8 channels × 1 bit = 1 byte per clock
  const bytePerClock = ARCH.linkChannels.value / 8;
  const transfer = (bytes: number, hops: number) => hops * hopNs + (bytes / bytePerClock) * clockNs;
  const latencyNs = transfer(36, 2) + transfer(36, 1); // (112 + 90) + (56 + 90) = 348 ns with the current constants
  // Relay energy: the middle core of the 2-hop route passes 36 values; convC's one core draws its
  // background power for the transfer time.
  const energyNj = 36 * COST.digitalEnergyPerValuePj.value * 1e-3 + (COST.digitalChipPowerW.value + COST.digitalCorePowerW.value) * latencyNs;

  const link = inputLinkCost(m.layers[2]!)!;
  assert.is(link.bytesPerStep, 72);
  assert.ok(Math.abs(link.latencyNsPerStep - latencyNs) < 1e-9, `${link.latencyNsPerStep} vs ${latencyNs}`);
  assert.ok(Math.abs(link.energyNjPerStep - energyNj) < 1e-9, `${link.energyNjPerStep} vs ${energyNj}`);

  for (const mode of ["4-phase", "1-phase"] as const) {
    const after = networkCost(net, m, mode);
    const before = networkCost(net, unpriced, mode);
    const [a, c] = [after.layers[2]!, before.layers[2]!];
    assert.is(a.steps, 16);
    assert.ok(Math.abs(a.latencyNsPerStep - c.latencyNsPerStep - latencyNs) < 1e-9);
    assert.ok(Math.abs(a.energyNjPerStep - c.energyNjPerStep - energyNj) < 1e-9);
    assert.ok(Math.abs(a.latencyUs - c.latencyUs - (16 * latencyNs) / 1000) < 1e-9);
    assert.ok(Math.abs(a.energyUj - c.energyUj - (16 * energyNj) / 1000) < 1e-9);
    assert.equal(a.inputLinks, link);
    assert.is(c.inputLinks, undefined);
    // The producers read the network input from the host: nothing priced, nothing changed.
    assert.equal(after.layers.slice(0, 2), before.layers.slice(0, 2));
    assert.ok(Math.abs(after.latencyUs - before.latencyUs - (16 * latencyNs) / 1000) < 1e-9);
  }
});

test("two tiles reading the concat take the slower tile's time; energy adds over every route", () => {
  const m2 = mapNetwork(net, { replicas: 2 });
  const c = m2.layers[2]!;
  const link = inputLinkCost(c)!;
  const perTile = c.tiles.map((_, i) =>
    c.inputRoutes.flatMap((s) => s.tiles.filter((t) => t.tile === i)).reduce((ns, t) => ns + t.route.hops * COST.digitalHopNs.value + t.bytes * (1e9 / ARCH.digitalClockHz.value), 0),
  );
  assert.is(perTile.length, 2);
  assert.ok(Math.abs(link.latencyNsPerStep - Math.max(...perTile)) < 1e-9);
  assert.is(link.bytesPerStep, 4 * 36);
  assert.is(inputLinkCost(m2.layers[0]!), null);
});

test.run();
