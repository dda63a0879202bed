// The benchmark regression guard's logic (the suites themselves run in `npm run bench:check`).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { baselineFrom, checkBaseline, summarise } from "../../../../lib/cli/commands/bench.ts";

const results = {
  mvm: { gmacs: { i16Batch1024: 50, i16PackedBatch1024: 52 }, ratios: { i16ToNumpy: 0.8, i16ToF32: 2 }, numpyBlasCore: "SkylakeX", machine: { cpu: "x" } },
  pipeline: {
    pipelinePhysical: { gmacs: 3, ratioToNumpy: null, ratioToF32: 0.12 },
    pipelineFunctional: { gmacs: 8, ratioToNumpy: null, ratioToF32: 0.3 },
    threads2Speedup: { speedup: 1.85 },
  },
  characterize: { characterize: { speedup: 1.8 }, monteCarlo: { speedup: 1.7, trialsPerS2: 1 }, accuracy: { equivalentBitsOdp: 2.93, equivalentBitsTdp: 3.77 } },
};

test("summary carries the issue's fields; a baseline from it passes against itself", () => {
  const s = summarise(results);
  assert.is(s["mvm"].gmacs, 50);
  assert.is(s["mvm"].ratioToF32, 2);
  assert.is(s["pipelinePhysical"].ratioToF32, 0.12);
  assert.is(s["threads2Speedup"].batchMvm, 1.85);
  const base = baselineFrom(s);
  assert.ok(base.entries.length >= 7);
  assert.equal(checkBaseline(s, base.entries), []);
});

test("a ratio more than its tolerance below the baseline fails; within it passes; accuracy must match", () => {
  const s = summarise(results);
  const entries = [
    { path: "mvm.ratioToF32", value: 2.5, tolerance: 0.1 },
    { path: "mvm.ratioToNumpy", value: 0.85, tolerance: 0.1 },
    { path: "accuracy.equivalentBitsTdp", value: 3.7701, absolute: 1e-6 },
  ];
  const fails = checkBaseline(s, entries);
  assert.is(fails.length, 2);
  assert.match(fails[0]!, /mvm\.ratioToF32: 2\.000 is more than 10 % below the baseline 2\.5/);
  assert.match(fails[1]!, /equivalentBitsTdp: 3\.77 differs from the baseline 3\.7701/);
});

test("a figure whose reference is absent (numpy) is skipped with a note, a missing one fails", () => {
  const s = summarise(results);
  const skipped: string[] = [];
  const fails = checkBaseline(s, [{ path: "pipelinePhysical.ratioToNumpy", value: 0.05, tolerance: 0.3 }, { path: "nothing.here", value: 1, tolerance: 0.3 }], skipped);
  assert.is(skipped.length, 1);
  assert.equal(fails, ["nothing.here: not measured (baseline 1)"]);
});

test("the guard's baseline holds ratios to the project's own references, not to numpy (machine-dependent)", () => {
  const s = summarise({ ...results, mvm: { ...results.mvm, ratios: { ...results.mvm.ratios, i16ToPlainJsBatch1: 30 } } });
  assert.is(s["mvm"].numpyBlasCore, "SkylakeX");
  const paths = baselineFrom(s).entries.map((e) => e.path);
  assert.ok(paths.includes("mvm.ratioToF32") && paths.includes("mvm.ratioToPlainJs"));
  assert.not.ok(paths.some((p) => /Numpy/i.test(p)));
});

test.run();
