// A Monte Carlo drift study with a checkpoint: N simulated chips (one seed each) run the
// characterisation workload at several read times. The first run is stopped once the first
// chip is done, as a crash or Ctrl-C would stop it (chips in flight still finish); the second
// resumes from the checkpoint and computes only the missing chips. The result is the same as
// that of one uninterrupted run.
//   node examples/drift-checkpoint.mjs [trials] [checkpoint.jsonl]
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { driftStudy, shutdownPool, StudyAbortedError } from "hermes-sim";

const trials = Number(process.argv[2] ?? 4);
const path = process.argv[3] ?? join(tmpdir(), `hermes-sim-drift-${process.pid}.jsonl`);
const study = {
  seed: 1n, trials, times: [25, 3600, 86400, 30 * 86400], threads: 2, // read times in seconds
  // What each chip computes: 2 cores programmed with TDP, 256 input vectors, 4-phase reads,
  // the functional model (fast; "physical" simulates every device).
  scheme: "tdp", cores: 2, inputs: 256, phases: 4, fidelity: "functional",
};

const stop = new AbortController();
try {
  await driftStudy({ ...study, checkpoint: { path, overwrite: true }, signal: stop.signal, onProgress: (done) => done >= 1 && stop.abort() });
} catch (e) {
  if (!(e instanceof StudyAbortedError)) throw e;
  console.log(`first run: ${e.message}`);
}
let kept;
const r = await driftStudy({ ...study, checkpoint: { path, resume: true }, onProgress: (done) => (kept ??= done) });
console.log(`resumed: ${kept} of ${trials} chips read from the checkpoint, ${trials - kept} computed now`);
const pct = (v) => `${(100 * v).toFixed(2)} %`;
for (const t of r.times) {
  const on = r.series.find((s) => s.t === t && s.metric === "total"); // ‖ŷ − y‖/‖y‖ over the chips
  const off = r.series.find((s) => s.t === t && s.metric === "totalNoCompensation");
  console.log(`t = ${t} s: MVM error ${pct(on.mean)} (5th–95th percentile ${pct(on.p05)}–${pct(on.p95)}) with drift compensation, ${pct(off.mean)} without`);
}
console.log(`digest ${r.digest.slice(0, 16)}… (the same for any thread count or interruption)`);
await shutdownPool();
if (!process.argv[3]) rmSync(path);
