// INT8 scales (calibrateScales): 127 / max |value| of what is INT8 on the chip — a layer's
// output, and the partial sums on the links when a chain of tiles feeds the receiver — not of
// values inside an LDPU (the pre-activation before a ReLU is FP16). Hand-computed from the
// float64 activations.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { GraphBuilder } from "../../../lib/network/builders.ts";
import { evaluate } from "../../../lib/network/graph-eval.ts";
import { mapNetwork } from "../../../lib/network/mapper.ts";
import { calibrateScales } from "../../../lib/network/run.ts";

let s = 11;
const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
const amax = (vs: Float64Array[]) => Math.max(...vs.map((v) => Math.max(...Array.from(v, Math.abs))));

// dense 300 → 4 (two input blocks: a chain), batch norm with scales 0.1 … 4, ReLU; then a
// one-tile dense 4 → 3 with a batch norm and a ReLU.
const bn = Float32Array.from([0.1, 4, 0.5, 1]);
const b = new GraphBuilder("cal", [300]);
b.dense("d1", { inFeatures: 300, outFeatures: 4, weights: Float32Array.from({ length: 1200 }, rnd) });
b.batchNorm("bn1", bn, Float32Array.from([0.2, -1, 0, 0.3]));
b.relu("r1");
b.dense("d2", { inFeatures: 4, outFeatures: 3, weights: Float32Array.from({ length: 12 }, rnd) });
b.batchNorm("bn2", Float32Array.from([3, 0.2, 1]), Float32Array.from([-2, 0, 0.1]));
b.relu("r2");
const net = b.build();
const xs = Array.from({ length: 10 }, () => Float64Array.from({ length: 300 }, rnd));

test("a chained layer: output and partial sums (per-output affine scale × accumulation); a one-tile layer: its output only", () => {
  const m = mapNetwork(net);
  assert.is(m.layers[0]!.tiles.length, 2);
  assert.is(m.layers[1]!.tiles.length, 1);
  const cal = evaluate(net, xs);
  const sc = calibrateScales(net, m, cal);
  let partial = 0;
  for (const v of cal.get("d1")!) v.forEach((a, r) => (partial = Math.max(partial, Math.abs(bn[r]! * a))));
  assert.ok(Math.abs(sc["r1"]! - 127 / Math.max(amax(cal.get("r1")!), partial)) < 1e-9, `${sc["r1"]}`);
  // The looser bound max|acc| · max|scale| is not used.
  assert.ok(127 / sc["r1"]! < amax(cal.get("d1")!) * 4 - 1e-9 || partial === amax(cal.get("d1")!) * 4);
  // One tile: the output's range, not the (larger, negative) pre-activation's.
  assert.ok(Math.abs(sc["r2"]! - 127 / amax(cal.get("r2")!)) < 1e-9, `${sc["r2"]}`);
  assert.ok(amax(cal.get("bn2")!) > amax(cal.get("r2")!), "the test wants a pre-activation larger than the output");
});

test.run();
