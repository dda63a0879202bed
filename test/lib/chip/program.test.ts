// Programming at chip level: the paper's Fig. 2a / EDF 5c findings on the default chip.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Chip } from "../../../lib/chip/chip.ts";
import { cellConductance } from "../../../lib/chip/program.ts";
import type { Scheme } from "../../../lib/chip/targets.ts";
import { characterisationWeights } from "../../../lib/chip/workload.ts";

const chip = Chip.create(); // the default chip (seed 1)

test("default chip: yield above 99 % on 63 of 64 cores, one outlier near 98.4 %", () => {
  const dev = chip.devices();
  const yields = dev.cores.map((c) => c.yieldPct);
  assert.is(yields.filter((y) => y > 99).length, 63, yields.join(" "));
  const outlier = Math.min(...yields);
  assert.ok(outlier > 98 && outlier < 99, `outlier ${outlier}`);
  assert.ok(dev.cores[yields.indexOf(outlier)]!.outlier);
});

test("default chip: ODP Gmax = 10th percentile of the least conductive core = 80; TDP 160", () => {
  const dev = chip.devices();
  const p10 = Math.min(...dev.cores.map((c) => c.setP10));
  assert.is(dev.odpGmax, Math.floor(p10));
  assert.is(dev.odpGmax, 80);
  assert.is(dev.tdpGmax, 160);
  // RESET distributions sit near zero.
  for (const c of dev.cores) assert.ok(c.resetMedianAbs < 2, `core ${c.core}`);
});

test("EDF 5c: programming error relative to Gmax is lower for TDP than ODP, and max-fill is worse than TDP", () => {
  const rel: Record<string, number> = {};
  for (const scheme of ["odp", "tdp", "tdp-maxfill"] as Scheme[]) {
    let se = 0;
    let n = 0;
    for (const core of [5, 17, 40]) {
      const w = characterisationWeights(chip.seed, core);
      const r = chip.program(core, w, { scheme });
      const prog = chip.programmedCore(core)!;
      const planes = [0, 1, 2, 3].map((q) => chip.core(core).devicePlane(q));
      for (let i = 0; i < 65536; i++) {
        if (prog.targets[i] === 0) continue;
        // Median-type statistic: defects (a few per mille) would dominate an rms.
        const e = (cellConductance(planes, i) - prog.targets[i]!) / r.gmax;
        if (Math.abs(e) < 0.5) {
          se += e * e;
          n++;
        }
      }
      assert.ok(r.converged > 0.99, `${scheme} core ${core} converged ${r.converged}`);
      assert.is(r.yieldPct, chip.devices().cores[core]!.yieldPct);
      assert.ok(r.programmingTimeS > 0.005 && r.programmingTimeS < 0.1, `${scheme}: ${r.programmingTimeS} s`);
    }
    rel[scheme] = Math.sqrt(se / n);
  }
  assert.ok(rel["tdp"]! < 0.75 * rel["odp"]!, JSON.stringify(rel));
  assert.ok(rel["tdp-maxfill"]! > rel["tdp"]!, JSON.stringify(rel));
});

test("same seed gives identical conductances on another chip", () => {
  const w = characterisationWeights(chip.seed, 9);
  chip.program(9, w, { scheme: "tdp" });
  const other = Chip.create({ seed: 1 });
  try {
    other.program(9, w, { scheme: "tdp" });
    for (let q = 0; q < 4; q++) {
      assert.equal(new Uint32Array(other.core(9).devicePlane(q).slice().buffer), new Uint32Array(chip.core(9).devicePlane(q).slice().buffer));
    }
  } finally {
    other.dispose();
  }
});

test("bad input gets one clear error each", async () => {
  assert.throws(() => chip.program(0, new Float32Array(100)), /weights must be an array of 256 × 256/);
  const nan = new Float32Array(65536);
  nan[5] = NaN;
  assert.throws(() => chip.program(0, nan), /weights\[0\]\[5\] must be a finite number, got NaN/);
  assert.throws(() => chip.program(0, new Float32Array(65536), { wmax: -1 }), /wmax must be a finite number > 0/);
  assert.throws(() => chip.program(0, new Float32Array(65536), { scheme: "qdp" as never }), /scheme must be one of/);
  assert.throws(() => chip.program(64, new Float32Array(65536)), /core index must be an integer in 0..63/);
  assert.throws(() => chip.program(0, new Float32Array(65536), { shceme: "odp" } as never), /unknown option program options.shceme/);
  let rejected: unknown;
  await chip.programAll([new Float32Array(65536)]).catch((e) => (rejected = e));
  assert.match(String(rejected), /weights must be an array of 64 matrices/);
  // Functional fidelity has no devices: programming records Eq. 1's mapping only.
  const f = Chip.create({ fidelity: "functional" });
  const w = new Float32Array(65536).fill(0.5);
  const r = f.program(0, w, { scheme: "odp" });
  assert.is(r.jobs, 0);
  assert.ok(r.capped && Math.abs(f.programmedCore(0)!.targets[0]! - r.gmax) < 1e-4, "all-positive rows: Gmax capped by the bit-line current");
  f.dispose();
});

test.after(() => chip.dispose());
test.run();
