import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  COST_PARAMETERS,
  FITTED_TABLE1_ENTRIES,
  FREE_PARAMETER_COUNT,
  PAPER_TABLE1,
  TABLE1_ENTRY_COUNT,
  compareTable1,
  digitalBackgroundCost,
  fitCostParameters,
  gdpuCost,
  layerStepCost,
  ldpuCost,
  linkCost,
  mvmCost,
  mvmLatencyNs,
  pwmWindowNs,
  table1Rows,
  type CostParameterName,
  type Table1Row,
} from "../../../lib/cost/index.ts";

// Table I of the paper, typed in from the table (not imported from the model's file).
// [workload, mode, TOPS, TOPS/W, TOPS/mm², energy µJ, latency ns]
const TABLE1: [Table1Row["workload"], Table1Row["mode"], number, number, number, number, number][] = [
  ["mvm", "1-phase", 63.1, 9.76, 1.55, 0.86, 133],
  ["mvm", "4-phase", 16.1, 2.48, 0.4, 3.38, 520],
  ["resnet9-layer", "1-phase", 6.79, 6.88, 1.34, 0.97, 1131],
  ["resnet9-layer", "4-phase", 1.74, 1.74, 0.34, 1.51, 1518],
  ["lstm-timestep", "1-phase", 30.6, 9.34, 1.5, 3.46, 1043],
  ["lstm-timestep", "4-phase", 7.82, 2.37, 0.38, 5.24, 1430],
];
const METRICS = ["tops", "topsPerW", "topsPerMm2", "energyUj", "latencyNs"] as const;

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

test("every Table I entry is within 5 % of the paper", () => {
  const rows = table1Rows();
  assert.is(rows.length, 6);
  for (const [workload, mode, ...paper] of TABLE1) {
    const row = rows.find((r) => r.workload === workload && r.mode === mode);
    assert.ok(row, `${workload}/${mode} missing`);
    METRICS.forEach((m, i) => {
      const want = paper[i]!;
      assert.ok(rel(row[m], want) < 0.05, `${workload}/${mode}/${m}: model ${row[m]} vs paper ${want}`);
    });
  }
});

test("PAPER_TABLE1 holds the paper's values and is not what table1Rows returns", () => {
  for (const [workload, mode, ...paper] of TABLE1) {
    const ref = PAPER_TABLE1.find((r) => r.workload === workload && r.mode === mode)!;
    METRICS.forEach((m, i) => assert.is(ref[m], paper[i]));
  }
  // The model is computed: at least some entries differ from the printed numbers.
  const diffs = compareTable1().filter((c) => c.model !== c.paper);
  assert.ok(diffs.length > 10);
});

test("fewer free parameters than Table I entries; each fitted to named entries, the rest are predictions", () => {
  assert.is(TABLE1_ENTRY_COUNT, 30);
  assert.ok(FREE_PARAMETER_COUNT < TABLE1_ENTRY_COUNT);
  assert.ok(FITTED_TABLE1_ENTRIES.size < TABLE1_ENTRY_COUNT);
  const ids = new Set(compareTable1().map((c) => c.id));
  for (const [name, p] of Object.entries(COST_PARAMETERS)) {
    assert.ok(p.unit.length > 0 && p.source.length > 0, name);
    if (p.kind === "fitted") {
      const fittedTo = p.fittedTo ?? [];
      assert.ok(fittedTo.length > 0, `${name} names its entries`);
      for (const id of fittedTo) assert.ok(ids.has(id), `${name}: unknown entry ${id}`);
    }
  }
  const predictions = compareTable1().filter((c) => !c.fitted);
  assert.ok(predictions.length >= 20, `${predictions.length} predictions`);
  for (const c of predictions) assert.ok(Math.abs(c.relError) < 0.05, `${c.id}: ${c.relError}`);
});

test("the stored fitted values are the fit to PAPER_TABLE1 (rounded)", () => {
  const fit = fitCostParameters();
  for (const [name, value] of Object.entries(fit) as [CostParameterName, number][]) {
    const stored = COST_PARAMETERS[name];
    assert.is(stored.kind, "fitted", name);
    assert.ok(rel(stored.value, value) < 0.01 || Math.abs(stored.value - value) < 1e-9, `${name}: stored ${stored.value}, fit ${value}`);
  }
  const fittedNames = Object.entries(COST_PARAMETERS).filter(([, p]) => p.kind === "fitted").map(([n]) => n);
  assert.equal(Object.keys(fit).sort(), fittedNames.sort());
});

test("internal consistency: energy = power × latency, TOPS/W = TOPS / power, TOPS/mm² = TOPS / area", () => {
  for (const mode of ["1-phase", "4-phase"] as const) {
    const m = mvmCost({ cores: 64, mode });
    assert.ok(rel(m.energyNj, m.powerW * m.latencyNs) < 1e-12);
    const row = table1Rows().find((r) => r.workload === "mvm" && r.mode === mode)!;
    assert.ok(rel(row.energyUj * 1e3, m.energyNj) < 1e-12);
    assert.ok(rel(row.topsPerW, row.tops / m.powerW) < 1e-12);
    assert.ok(rel(row.topsPerMm2, row.tops / (64 * 0.635)) < 1e-12);
    const r = mvmCost({ cores: 8, inputs: 252, outputs: 224, mode });
    const rr = table1Rows().find((x) => x.workload === "resnet9-layer" && x.mode === mode)!;
    assert.ok(rel(rr.topsPerW, rr.tops / r.powerW) < 1e-12);
    assert.ok(rel(rr.tops, r.ops / r.latencyNs / 1e3) < 1e-12);
  }
  const bg = digitalBackgroundCost(8, 1000);
  assert.ok(rel(bg.energyNj, bg.powerW * 1000) < 1e-12);
  // A layer step is the sum of its parts.
  const s = layerStepCost({ chains: 1, chainLength: 8, inputs: 252, outputs: 224, mode: "1-phase" });
  assert.ok(rel(s.energyNj, s.mvm.energyNj + s.valueEnergyNj + s.backgroundEnergyNj) < 1e-12);
  assert.ok(rel(s.latencyNs, s.mvm.latencyNs + s.digitalLatencyNs) < 1e-12);
  assert.ok(rel(s.valueEnergyNj, ldpuCost(8 * 224).energyNj) < 1e-12);
});

test("scaling: 4-phase slower than 1-phase, ~4× the MVM energy; latency grows with input bits", () => {
  const rows = table1Rows();
  for (const w of ["mvm", "resnet9-layer", "lstm-timestep"] as const) {
    const one = rows.find((r) => r.workload === w && r.mode === "1-phase")!;
    const four = rows.find((r) => r.workload === w && r.mode === "4-phase")!;
    assert.ok(four.latencyNs > one.latencyNs, w);
    assert.ok(four.energyUj > one.energyUj, w);
    assert.ok(four.tops < one.tops, w);
  }
  const e1 = mvmCost({ cores: 64, mode: "1-phase" }).energyNj;
  const e4 = mvmCost({ cores: 64, mode: "4-phase" }).energyNj;
  assert.ok(e4 / e1 > 3.8 && e4 / e1 < 4.0, `${e4 / e1}`);
  assert.is(pwmWindowNs(8), 128);
  assert.is(pwmWindowNs(4), 8);
  assert.is(mvmLatencyNs("1-phase"), 133);
  assert.is(mvmLatencyNs("4-phase"), 520);
  let prev = 0;
  for (let bits = 1; bits <= 8; bits++) {
    const t = mvmLatencyNs("1-phase", bits);
    assert.ok(t > prev, `bits ${bits}`);
    prev = t;
    const c = mvmCost({ cores: 4, mode: "4-phase", inputBits: bits });
    assert.ok(rel(c.energyNj, c.powerW * c.latencyNs) < 1e-12);
  }
  // MVM energy grows with cores and with the cells used.
  assert.ok(mvmCost({ cores: 16, mode: "1-phase" }).energyNj > mvmCost({ cores: 8, mode: "1-phase" }).energyNj);
  assert.ok(mvmCost({ cores: 8, inputs: 128, mode: "1-phase" }).energyNj < mvmCost({ cores: 8, mode: "1-phase" }).energyNj);
  assert.is(mvmCost({ cores: 8, inputs: 128, outputs: 64, mode: "1-phase" }).utilisation, 0.125);
});

test("digital building blocks: LDPU one value per clock, link one byte per clock per hop, GDPU one output per 4 clocks", () => {
  const clk = 2.5; // 400 MHz
  const fill = COST_PARAMETERS.ldpuFillNs.value;
  const hop = COST_PARAMETERS.digitalHopNs.value;
  assert.is(ldpuCost(0).latencyNs, 0);
  assert.ok(rel(ldpuCost(100).latencyNs, fill + 100 * clk) < 1e-12);
  assert.ok(rel(ldpuCost(200).latencyNs - ldpuCost(100).latencyNs, 100 * clk) < 1e-12);
  assert.ok(rel(ldpuCost(10).energyNj, 10 * COST_PARAMETERS.digitalEnergyPerValuePj.value * 1e-3) < 1e-12);
  assert.ok(rel(linkCost(224, 1).latencyNs, hop + 224 * clk) < 1e-12);
  assert.ok(rel(linkCost(224, 3).latencyNs - linkCost(224, 1).latencyNs, 2 * hop) < 1e-12);
  assert.is(linkCost(224, 1).energyNj, 0);
  assert.ok(linkCost(224, 3).energyNj > 0);
  assert.equal(linkCost(0, 3), { latencyNs: 0, energyNj: 0 });
  assert.ok(rel(gdpuCost(63).latencyNs, (63 * 4 + 4) * clk) < 1e-12);
  // Longer cascades and the GDPU add latency.
  const base = { chains: 1, inputs: 252, outputs: 224, mode: "1-phase" } as const;
  const a = layerStepCost({ ...base, chainLength: 4 });
  const b = layerStepCost({ ...base, chainLength: 8 });
  assert.ok(rel(b.latencyNs - a.latencyNs, 4 * hop) < 1e-12);
  const g = layerStepCost({ ...base, chainLength: 4, gdpu: true });
  assert.ok(g.latencyNs > a.latencyNs);
  assert.is(g.hopsPerChain, 4);
});

test("bad arguments throw ArgumentError", () => {
  const isArg = (fn: () => unknown, re: RegExp) => {
    try {
      fn();
    } catch (e) {
      assert.is((e as Error).name, "ArgumentError");
      assert.match((e as Error).message, re);
      return;
    }
    assert.unreachable("did not throw");
  };
  isArg(() => mvmCost({ cores: 0, mode: "1-phase" }), /cores must be an integer in 1\.\.64, got 0/);
  isArg(() => mvmCost({ cores: 65, mode: "1-phase" }), /cores must be/);
  isArg(() => mvmCost({ cores: 2.5, mode: "1-phase" }), /cores must be/);
  isArg(() => mvmCost({ cores: 8, inputs: 257, mode: "1-phase" }), /inputs must be an integer in 1\.\.256, got 257/);
  isArg(() => mvmCost({ cores: 8, outputs: 0, mode: "1-phase" }), /outputs must be/);
  isArg(() => mvmCost({ cores: 8, mode: "2-phase" as never }), /mode must be one of "1-phase", "4-phase", got "2-phase"/);
  isArg(() => mvmCost({ cores: 8, mode: "1-phase", inputBits: 9 }), /inputBits must be an integer in 1\.\.8, got 9/);
  isArg(() => mvmCost(null as never), /options must be an object/);
  isArg(() => mvmLatencyNs("x" as never), /mode must be/);
  isArg(() => ldpuCost(-1), /n must be a non-negative integer, got -1/);
  isArg(() => ldpuCost(NaN), /n must be a non-negative integer, got NaN/);
  isArg(() => linkCost(1.5, 1), /bytes must be/);
  isArg(() => linkCost(10, -1), /hops must be an integer in 0\.\.63, got -1/);
  isArg(() => gdpuCost(65), /hiddenUnits must be an integer in 0\.\.64, got 65/);
  isArg(() => digitalBackgroundCost(8, -1), /latencyNs must be a finite number ≥ 0, got -1/);
  isArg(() => digitalBackgroundCost(65, 1), /activeCores must be/);
  isArg(() => layerStepCost({ chains: 9, chainLength: 8, inputs: 1, outputs: 1, mode: "1-phase" }), /chains × chainLength must be at most 64 cores, got 72/);
  isArg(() => layerStepCost({ chains: 9, chainLength: 1, inputs: 1, outputs: 4, mode: "1-phase", gdpu: true }), /chains must be at most 8 with a GDPU/);
  isArg(() => layerStepCost({ chains: 1, chainLength: 4, inputs: 1, outputs: 6, mode: "1-phase", gdpu: true }), /outputs must be a multiple of 4/);
  isArg(() => layerStepCost(undefined as never), /spec must be an object/);
});

test.run();
