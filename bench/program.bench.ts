// Program-and-verify speed: TDP (and ODP) programming of all 64 cores (16.7 M devices) on
// one thread, and the Fig. 2a device measurement. Target (issue 4): TDP ≤ 3 s.
// Reference in the same run: drawing one uniform per device (16.7 M) in a single kernel
// call — the least any device-level simulation with per-device randomness must do.
import { Bench } from "tinybench";
import { Chip } from "../lib/chip/chip.ts";
import { shutdownPool } from "../lib/runtime/pool.ts";
import { characterisationWeights } from "../lib/chip/workload.ts";
import { WasmRuntime } from "../lib/runtime/wasm.ts";
import { writeResult } from "./results.ts";

const quick = process.argv.includes("--quick");
const chip = Chip.create({ seed: 1 });
const weights = Array.from({ length: 64 }, (_, c) => characterisationWeights(chip.seed, c));
const rt = WasmRuntime.get();
const DEVICES = 16_777_216;
const out = rt.alloc(DEVICES * 4);

const bench = new Bench({ name: "program", iterations: quick ? 1 : 3, time: 0, warmup: false });
bench
  .add("devices (Fig. 2a measurement, 64 cores)", () => {
    // A fresh chip each time: the measurement is cached per chip.
    const c = Chip.create({ seed: 1, fidelity: "physical" });
    c.devices();
    c.dispose();
  })
  .add("program TDP, 64 cores", async () => {
    await chip.programAll(weights, { scheme: "tdp", threads: 1 });
  })
  .add("program TDP, 64 cores, 2 threads", async () => {
    await chip.programAll(weights, { scheme: "tdp", threads: 2 });
  })
  .add("program ODP, 64 cores", async () => {
    await chip.programAll(weights, { scheme: "odp", threads: 1 });
  })
  .add("reference: one uniform per device (16.7 M)", () => {
    rt.kernels.sparseUniform(1, 0, 0, 0, 0, 0, out, DEVICES);
  });
chip.devices();
await bench.run();

const rows = bench.tasks.map((t) => {
  const r = t.result as unknown as { latency: { mean: number; min: number; max: number } };
  return { task: t.name, meanS: r.latency.mean / 1000, minS: r.latency.min / 1000, maxS: r.latency.max / 1000 };
});
const get = (prefix: string) => rows.find((r) => r.task.startsWith(prefix))!;
const tdp = get("program TDP, 64 cores");
const tdp2 = rows.find((r) => r.task === "program TDP, 64 cores, 2 threads")!;
const ref = get("reference");
const result = {
  programTdp64: { seconds: tdp.minS, targetSeconds: 3, meetsTarget: tdp.minS <= 3 },
  programTdp64Threads2: { seconds: tdp2.minS, speedup: tdp.minS / tdp2.minS },
  programOdp64: { seconds: get("program ODP").minS },
  devices64: { seconds: get("devices").minS },
  ratioTdpToOneUniformPerDevice: tdp.minS / ref.minS,
  rows,
};
console.table(rows.map((r) => ({ task: r.task, "min (s)": r.minS.toFixed(3), "mean (s)": r.meanS.toFixed(3) })));
console.log(`TDP programming of 64 cores: ${tdp.minS.toFixed(2)} s (target ≤ 3 s), ${(tdp.minS / ref.minS).toFixed(1)}× the time of one uniform per device`);
console.log(`2 threads: ${tdp2.minS.toFixed(2)} s (${(tdp.minS / tdp2.minS).toFixed(2)}× one thread)`);
console.log(`wrote ${writeResult("program", result)}`);
chip.dispose();
await shutdownPool();
