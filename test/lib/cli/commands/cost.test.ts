// `hermes-sim cost --table1 --json` against Table I of the paper (values typed from the paper).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { main } from "../../../../lib/cli/main.ts";

async function run(argv: string[]): Promise<{ code: number; out: string }> {
  let out = "";
  const code = await main(argv, (s) => (out += s));
  return { code, out };
}

// Table I: [TOPS, TOPS/W, TOPS/mm², energy µJ, latency ns] per use case and mode.
const PAPER: Record<string, number[]> = {
  "mvm/1-phase": [63.1, 9.76, 1.55, 0.86, 133],
  "mvm/4-phase": [16.1, 2.48, 0.4, 3.38, 520],
  "resnet9-layer/1-phase": [6.79, 6.88, 1.34, 0.97, 1131],
  "resnet9-layer/4-phase": [1.74, 1.74, 0.34, 1.51, 1518],
  "lstm-timestep/1-phase": [30.6, 9.34, 1.5, 3.46, 1043],
  "lstm-timestep/4-phase": [7.82, 2.37, 0.38, 5.24, 1430],
};

test("cost --table1 --json: every entry within 5 % of the paper, fewer free parameters than entries", async () => {
  const { code, out } = await run(["cost", "--table1", "--json"]);
  assert.is(code, 0);
  const doc = JSON.parse(out) as { rows: Record<string, number | string>[]; freeParameters: number; entriesTotal: number };
  assert.is(doc.rows.length, 6);
  for (const r of doc.rows) {
    const p = PAPER[`${r["workload"]}/${r["mode"]}`]!;
    ["tops", "topsPerW", "topsPerMm2", "energyUj", "latencyNs"].forEach((k, i) => {
      const v = r[k] as number;
      assert.ok(Math.abs(v - p[i]!) <= 0.05 * p[i]!, `${r["workload"]} ${r["mode"]} ${k}: ${v} vs ${p[i]}`);
    });
  }
  assert.ok(doc.freeParameters < doc.entriesTotal);
});

test("cost --network resnet9: a deep layer costs what Table I measured for one input of it", async () => {
  const { code, out } = await run(["cost", "--network", "resnet9", "--json"]);
  assert.is(code, 0);
  const c = JSON.parse(out) as { cores: number; latencyUs: number; energyUj: number; layers: { layer: string; cores: number; steps: number; latencyNsPerStep: number; energyNjPerStep: number; latencyUs: number }[] };
  assert.is(c.cores, 40);
  // conv5–7 are the paper's "deep layer of ResNet-9 on 8 cores" (Table I: 1,518 ns, 1.51 µJ in 4-phase).
  const conv5 = c.layers.find((l) => l.layer === "conv5")!;
  assert.is(conv5.cores, 8);
  assert.ok(Math.abs(conv5.latencyNsPerStep - 1518) < 0.05 * 1518, `${conv5.latencyNsPerStep} ns`);
  assert.ok(Math.abs(conv5.energyNjPerStep - 1510) < 0.05 * 1510, `${conv5.energyNjPerStep} nJ`);
  // conv0 runs once per output pixel of the 32 × 32 image; totals are the sums of the layers.
  assert.is(c.layers.find((l) => l.layer === "conv0")!.steps, 1024);
  assert.ok(Math.abs(c.latencyUs - c.layers.reduce((s, l) => s + l.latencyUs, 0)) < 1e-9);
  const one = JSON.parse((await run(["cost", "--network", "resnet9", "--phases", "1", "--json"])).out) as { latencyUs: number };
  assert.ok(one.latencyUs < c.latencyUs, "1-phase reads are faster");
});

test("cost --network lstm-caption: the gate step is Table I's LSTM timestep (32 cores, 97 %)", async () => {
  const c = JSON.parse((await run(["cost", "--network", "lstm-caption", "--json"])).out) as { cores: number; layers: { layer: string; cores: number; utilisation: number; latencyNsPerStep: number; energyNjPerStep: number }[] };
  assert.is(c.cores, 64);
  const g = c.layers[0]!;
  assert.is(g.cores, 32);
  assert.ok(Math.abs(g.utilisation - 0.97) < 0.01, `utilisation ${g.utilisation}`);
  assert.ok(Math.abs(g.latencyNsPerStep - 1430) < 0.05 * 1430 && Math.abs(g.energyNjPerStep - 5240) < 0.05 * 5240, JSON.stringify(g));
  const one = JSON.parse((await run(["cost", "--network", "lstm-caption", "--phases", "1", "--json"])).out) as { layers: { latencyNsPerStep: number }[] };
  assert.ok(Math.abs(one.layers[0]!.latencyNsPerStep - 1043) < 0.05 * 1043, "1-phase: Table I's 1,043 ns");
});

test("map --json: ResNet-9 on 40 cores, 1,866,536 weights", async () => {
  const { code, out } = await run(["map", "--json"]);
  assert.is(code, 0);
  const d = JSON.parse(out) as { mapping: { cores: number; weights: number; layers: unknown[] } };
  assert.is(d.mapping.cores, 40);
  assert.is(d.mapping.weights, 1_866_536);
  assert.is(d.mapping.layers.length, 9);
});

test("map and cost of an ONNX model (--model): the trained ResNet-9 lands on 40 cores (64 with the default copies); per-image cost", async () => {
  const model = new URL("../../../../data/resnet9-fmnist.onnx", import.meta.url).pathname;
  const m = JSON.parse((await run(["map", "--model", model, "--json", "--replicas", "1"])).out);
  assert.is(m.mapping.cores, 40);
  assert.is(m.mapping.layers.length, 9);
  const auto = JSON.parse((await run(["map", "--model", model, "--json"])).out);
  assert.is(auto.mapping.cores, 64); // --replicas auto: the 24 free cores hold copies of the smallest layers
  assert.is(auto.mapping.layers.reduce((s: number, l: { coresNeeded: number }) => s + l.coresNeeded, 0), 40);
  const one = JSON.parse((await run(["cost", "--model", model, "--json", "--replicas", "1"])).out);
  assert.is(one.cores, 40);
  const c = JSON.parse((await run(["cost", "--model", model, "--json"])).out);
  assert.is(c.cores, 64);
  assert.ok(c.energyUj > one.energyUj, "copies cost energy");
  assert.is(c.layers.length, 9);
  const sum = c.layers.reduce((a: number, l: { latencyUs: number }) => a + l.latencyUs, 0);
  assert.ok(Math.abs(sum - c.latencyUs) < 1e-6 * c.latencyUs, "layers one after another");
  const bad = await run(["map", "--model", model + ".missing"]);
  assert.is(bad.code, 2);
});

test("bad usage: cost without --table1 or --network, an unknown network", async () => {
  assert.is((await run(["cost"])).code, 2);
  assert.is((await run(["cost", "--network", "vgg"])).code, 2);
  assert.is((await run(["map", "--network", "vgg"])).code, 2);
});

test.run();
