// What a TypeScript user of the package writes, type-checked against the declarations the
// package ships (test/package.test.ts: tsc --strict --module nodenext --noEmit, in a project
// that installed the packed tarball). Not run.
import {
  Chip, compareTable1, driftStudy, GraphBuilder, mapNetwork, networkCost, runOnChip, shutdownPool, StudyAbortedError, table1Rows,
  type ChipOptions, type DriftStudyOptions, type MvmResult, type Network, type NetworkCost, type RunResult, type StudyResult,
} from "hermes-sim";

const options: ChipOptions = { seed: 42n, fidelity: "functional" };
const chip = Chip.create(options);
chip.program(0, new Float32Array(256 * 256).fill(0.5), { scheme: "odp" });
const read: MvmResult = chip.at(3600, { phases: 1 }).mvm(0, new Int8Array(256).fill(64));
const first: number = read.y[0] ?? 0;

// @ts-expect-error: fidelity is "physical" | "functional"
Chip.create({ fidelity: "quantum" });
// @ts-expect-error: a read time is seconds, a number
chip.at("1d");

const g = new GraphBuilder("mlp", [16]);
g.dense("fc", { inFeatures: 16, outFeatures: 4, weights: new Float32Array(64) });
const net: Network = g.build();
const cost: NetworkCost = networkCost(net, mapNetwork(net), "4-phase");
const run: RunResult = await runOnChip(chip, net, [new Float32Array(16)], { t: 25, threads: 1 });
const argmaxOfFirst: number = run.outputs[0]!.indexOf(Math.max(...run.outputs[0]!));

const study: DriftStudyOptions = {
  seed: 1n, trials: 2, times: [25, 86400], threads: 2, scheme: "tdp", cores: 1, inputs: 256, phases: 4, fidelity: "functional",
  checkpoint: { path: "study.jsonl", resume: true },
};
try {
  const r: StudyResult = await driftStudy(study);
  console.log(r.series.filter((p) => p.metric === "total").map((p) => `${p.t} s: ${p.mean}`));
} catch (e) {
  if (e instanceof StudyAbortedError) console.log(e.done, e.total, e.checkpointPath);
}
console.log(first, argmaxOfFirst, cost.latencyUs, table1Rows().length, compareTable1().length);
chip.dispose();
await shutdownPool();
