// INT8 scales (calibrateScales): 127 / max |value| of what is INT8 on the chip — a layer's
// output, and the partial sums on the links when a chain of tiles feeds the receiver (every
// prefix of the chain in link order, with copies the weighted sums of run-plan.ts
// chainWeights) — not of values inside an LDPU (the pre-activation before a ReLU is FP16).
// Hand-computed from the float64 activations; on a noise-free chip a chain whose first
// partial sum is 10× its output does not saturate on the links.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Chip } from "../../../lib/chip/chip.ts";
import { quietFit } from "../../fixtures/quiet-fit.ts";
import { GraphBuilder } from "../../../lib/network/builders.ts";
import { evaluate } from "../../../lib/network/graph-eval.ts";
import { mapNetwork } from "../../../lib/network/mapper.ts";
import { calibrateScales, programNetwork, runNetwork } from "../../../lib/network/run.ts";
import { chainTiles, chainWeights } from "../../../lib/network/run-plan.ts";
import { shutdownPool } from "../../../lib/runtime/pool.ts";

let s = 11;
const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
const amax = (vs: Float64Array[]) => Math.max(...vs.map((v) => Math.max(...Array.from(v, Math.abs))));

// dense 300 → 4 (two input blocks: a chain), batch norm with scales 0.1 … 4, ReLU; then a
// one-tile dense 4 → 3 with a batch norm and a ReLU.
const bn = Float32Array.from([0.1, 4, 0.5, 1]);
const w1 = Float32Array.from({ length: 1200 }, rnd);
const b = new GraphBuilder("cal", [300]);
b.dense("d1", { inFeatures: 300, outFeatures: 4, weights: w1 });
b.batchNorm("bn1", bn, Float32Array.from([0.2, -1, 0, 0.3]));
b.relu("r1");
b.dense("d2", { inFeatures: 4, outFeatures: 3, weights: Float32Array.from({ length: 12 }, rnd) });
b.batchNorm("bn2", Float32Array.from([3, 0.2, 1]), Float32Array.from([-2, 0, 0.1]));
b.relu("r2");
const net = b.build();
const xs = Array.from({ length: 10 }, () => Float64Array.from({ length: 300 }, rnd));

test("a chained layer: output and the partial sum on its link (the first tile's product × affine scale); a one-tile layer: its output only", () => {
  const m = mapNetwork(net);
  assert.is(m.layers[0]!.tiles.length, 2);
  assert.is(m.layers[1]!.tiles.length, 1);
  const cal = evaluate(net, xs);
  const sc = calibrateScales(net, m, cal);
  // The link carries the farthest tile's product (the receiver's own sum is FP16).
  const [c0, c1] = chainTiles(m.layers[0]!, 0)[0]!.colRange;
  let link = 0;
  for (const x of xs) {
    for (let r = 0; r < 4; r++) {
      let a = 0;
      for (let c = c0; c < c1; c++) a += w1[r * 300 + c]! * x[c]!;
      link = Math.max(link, Math.abs(bn[r]! * a));
    }
  }
  assert.ok(Math.abs(sc["r1"]! - 127 / Math.max(amax(cal.get("r1")!), link)) < 1e-9, `${sc["r1"]}`);
  // The looser bound max|acc| · max|scale| is not used.
  assert.ok(127 / sc["r1"]! < amax(cal.get("d1")!) * 4 - 1e-9);
  // One tile: the output's range, not the (larger, negative) pre-activation's.
  assert.ok(Math.abs(sc["r2"]! - 127 / amax(cal.get("r2")!)) < 1e-9, `${sc["r2"]}`);
  assert.ok(amax(cal.get("bn2")!) > amax(cal.get("r2")!), "the test wants a pre-activation larger than the output");
});

test("chainWeights: plain partial sums without copies; with copies no block counts twice on a link, the receiver holds the mean", () => {
  const blocks = (bs: number[]) => chainWeights(bs.map((inputBlock) => ({ inputBlock })));
  assert.equal(blocks([0, 1, 2]), [{ weight: 1, rx: 1 }, { weight: 1, rx: 1 }, { weight: 1, rx: 1 }]);
  // Two copies of 2 blocks, copies adjacent: r0, (r0 + r0')/2, + r1/2, + r1'/2.
  assert.equal(blocks([0, 0, 1, 1]), [{ weight: 1, rx: 1 }, { weight: 0.5, rx: 0.5 }, { weight: 0.5, rx: 1 }, { weight: 0.5, rx: 1 }]);
  // Copies apart: r0, r0 + r1, then halves.
  assert.equal(blocks([0, 1, 0, 1]), [{ weight: 1, rx: 1 }, { weight: 1, rx: 1 }, { weight: 0.5, rx: 0.5 }, { weight: 0.5, rx: 1 }]);
  // Check the sums: the receiver's value is the mean of the copies' totals.
  const reads = [3, 5, 7, 11]; // block 0, block 1, block 0', block 1'
  let v = 0;
  for (const [j, w] of blocks([0, 1, 0, 1]).entries()) v = w.weight * reads[j]! + w.rx * v;
  assert.is(v, (3 + 5 + 7 + 11) / 2);
  // A packed grouped conv's chain (copies of one tile): the running mean.
  assert.equal(blocks([0, 0, 0]).map((w) => w.weight), [1, 1 / 2, 1 / 3]);
});

// dense 512 → 8 in two input blocks of 256 whose products nearly cancel: each tile's
// partial sum is about 10× the output, then ReLU. Calibrated on its own inputs, a
// noise-free chip must keep the partial sum on the link (no saturation) with and without
// copies; before, the range was the output's or the whole accumulation's, and the link
// saturated at about 1/10 of its value.
const u = Float32Array.from({ length: 8 * 256 }, rnd);
const wc = new Float32Array(8 * 512);
for (let r = 0; r < 8; r++) {
  for (let c = 0; c < 256; c++) {
    wc[r * 512 + c] = u[r * 256 + c]!;
    wc[r * 512 + 256 + c] = -0.9 * u[r * 256 + c]!;
  }
}
const bc = new GraphBuilder("cancel", [512]);
bc.dense("d", { inFeatures: 512, outFeatures: 8, weights: wc });
bc.relu("r");
const cancel = bc.build();
const cx = Array.from({ length: 12 }, () => {
  const h = Float64Array.from({ length: 256 }, () => rnd() + 0.3);
  return Float64Array.from({ length: 512 }, (_, i) => h[i % 256]! * (i < 256 ? 1 : 1 + 0.1 * rnd()));
});

test("a chain whose first partial sum is 10× its output: the range covers it, and a noise-free chip matches float64 (one copy and two)", async () => {
  const quiet = quietFit();
  const cal = evaluate(cancel, cx);
  // The largest product of each input block (columns 0..255 and 256..511).
  const blockMax = [0, 256].map((c0) => {
    let m = 0;
    for (const x of cx) for (let r = 0; r < 8; r++) {
      let a = 0;
      for (let c = c0; c < c0 + 256; c++) a += wc[r * 512 + c]! * x[c]!;
      m = Math.max(m, Math.abs(a));
    }
    return m;
  });
  const out = amax(cal.get("r")!);
  assert.ok(Math.min(...blockMax) > 5 * out, `the test wants partial sums (${blockMax}) well above the output (${out})`);
  for (const replicas of [1, 2]) {
    const m = mapNetwork(cancel, { replicas });
    assert.is(m.layers[0]!.tiles.length, 2 * replicas);
    const sc = calibrateScales(cancel, m, cal);
    // The first link carries the farthest tile's block product; with copies the later links
    // carry weighted sums of the two blocks, each of weight at most 1.
    const first = blockMax[chainTiles(m.layers[0]!, 0)[0]!.inputBlock]!;
    const range = 127 / sc["r"]!;
    if (replicas === 1) assert.ok(Math.abs(range - first) < 1e-9 * first, `range ${range}, link ${first}`);
    else assert.ok(range >= first * (1 - 1e-9) && range <= Math.max(...blockMax) * (1 + 1e-9), `range ${range}, links ${blockMax}`);
    const chip = Chip.create({ seed: 2, fidelity: "functional" });
    try {
      await programNetwork(chip, cancel, m, "tdp", 1);
      const r = await runNetwork(chip, cancel, m, cx, { fit: quiet, calibration: cx });
      // INT8 steps of 1/127 of the partial sum, ≈ 1/13 of the output's range: error ≈ 0.1.
      assert.ok(r.error < 0.2, `replicas ${replicas}: error ${r.error}`);
      // The range of the whole accumulation (the previous calibration) saturates the link.
      const full = amax(cal.get("d")!);
      const sat = await runNetwork(chip, cancel, m, cx, { fit: quiet, scales: { ...sc, r: 127 / Math.max(full, out) } });
      assert.ok(sat.error > 1, `replicas ${replicas}: the whole accumulation's range gives error ${sat.error}`);
      assert.is(r.agreement, 1);
    } finally {
      chip.dispose();
    }
  }
});

test.after(shutdownPool);
test.run();
