// Characterisation and Monte Carlo speed at 1 and 2 threads (same results, checked), and
// the accuracy figures that are deterministic for a seed (equivalent bits of a fixed
// 8-core characterisation), which the regression guard compares exactly.
// Usage: node --import tsx bench/characterize.bench.ts [--quick]
import { characterize } from "../lib/study/characterize.ts";
import { driftStudy } from "../lib/study/drift-study.ts";
import { shutdownPool } from "../lib/runtime/pool.ts";
import { writeResult } from "./results.ts";

const quick = process.argv.includes("--quick");
const opts = { seed: 1n, cores: 8, inputs: quick ? 512 : 1024, times: [25, 30 * 86400] };

async function timed<T>(fn: () => Promise<T>): Promise<{ s: number; r: T }> {
  const t = performance.now();
  const r = await fn();
  return { s: (performance.now() - t) / 1000, r };
}

const c1 = await timed(() => characterize({ ...opts, threads: 1 }));
const c2 = await timed(() => characterize({ ...opts, threads: 2 }));
if (c1.r.digest !== c2.r.digest) throw new Error("characterize: 1 and 2 threads differ");
const study = { seed: 1n, trials: quick ? 2 : 4, times: [25, 30 * 86400], scheme: "tdp" as const, cores: 2, inputs: 256, phases: 4 as const, fidelity: "physical" as const };
const d1 = await timed(() => driftStudy({ ...study, threads: 1 }));
const d2 = await timed(() => driftStudy({ ...study, threads: 2 }));
if (d1.r.digest !== d2.r.digest) throw new Error("drift: 1 and 2 threads differ");
await shutdownPool();

const bits = (s: string) => c1.r.results.find((x) => x.scheme === s)!.equivalentBits;
const result = {
  characterize: { cores: opts.cores, inputs: opts.inputs, times: opts.times.length, seconds1: c1.s, seconds2: c2.s, speedup: c1.s / c2.s },
  monteCarlo: { trials: study.trials, trialsPerS1: study.trials / d1.s, trialsPerS2: study.trials / d2.s, speedup: d1.s / d2.s },
  accuracy: { equivalentBitsOdp: bits("odp"), equivalentBitsTdp: bits("tdp"), digest: c1.r.digest, inputs: opts.inputs },
};
console.log(`characterize (${opts.cores} cores × ${opts.inputs} inputs, 2 schemes, 2 times): ${c1.s.toFixed(2)} s on 1 thread, ${c2.s.toFixed(2)} s on 2 (${(c1.s / c2.s).toFixed(2)}×)`);
console.log(`drift study (${study.trials} chips): ${(study.trials / d1.s).toFixed(2)} chips/s on 1 thread, ${(study.trials / d2.s).toFixed(2)} on 2 (${(d1.s / d2.s).toFixed(2)}×)`);
console.log(`equivalent bits: ODP ${bits("odp").toFixed(3)}, TDP ${bits("tdp").toFixed(3)}`);
console.log(`wrote ${writeResult("characterize", result)}`);
