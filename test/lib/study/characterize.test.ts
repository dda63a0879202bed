// The characterisation (Fig. 2b–d): its metrics against an independent float64 least
// squares, the paper's qualitative findings on a reduced chip, and thread independence.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Chip } from "../../../lib/chip/chip.ts";
import { characterize, freeShared, sharedInputs } from "../../../lib/study/characterize.ts";
import { characterizeBytes, characterizeCoreInto } from "../../../lib/study/characterize-core.ts";
import { characterizeJson } from "../../../lib/cli/commands/characterize.ts";
import { mvmErrors } from "../../../lib/study/metrics.ts";
import { shutdownPool } from "../../../lib/runtime/pool.ts";
import { WasmRuntime } from "../../../lib/runtime/wasm.ts";
import { characterisationWeights } from "../../../lib/chip/workload.ts";

const rt = WasmRuntime.get();

async function rejects(fn: () => Promise<unknown>, re: RegExp): Promise<void> {
  try {
    await fn();
  } catch (e) {
    assert.match((e as Error).message, re);
    return;
  }
  assert.unreachable(`expected a rejection matching ${re}`);
}

test("per-core metrics equal a direct float64 least-squares computation on the same outputs", () => {
  const chip = Chip.create({ seed: 4n });
  const sh = sharedInputs(rt, 4n, 512);
  const layout = characterizeBytes(512, 2);
  const buf = Object.fromEntries(Object.entries(layout).map(([k, b]) => [k, rt.alloc(b)]));
  try {
    const w = characterisationWeights(4n, 3);
    chip.program(3, w, { scheme: "odp" });
    const pc = chip.programmedCore(3)!;
    rt.f32(buf["weights"]!, 65536).set(pc.weights);
    const c = chip.core(3);
    const r = characterizeCoreInto({
      seed: 4n, core: 3, phases: 4, times: [25, 86400], gmax: pc.gmax, wmax: pc.wmax,
      devicesPtr: c.devicesPtr, adcTable: c.adcs!.ptr, shared: sh, buf,
    });
    // buf.y holds the compensated INT8 outputs of the last time.
    const y = Float64Array.from(rt.i8(buf["y"]!, 512 * 256), (v) => v / r.outputScale);
    const x = Float64Array.from(rt.i8(sh.x, 512 * 256));
    const ref = mvmErrors(pc.weights, x, y, { rows: 256, cols: 256, n: 512 });
    const got = r.times[1]!;
    for (const k of ["total", "linear", "residual"] as const) {
      assert.ok(Math.abs(got[k] - ref[k]) < 2e-4 * ref[k] + 1e-6, `${k}: ${got[k]} vs ${ref[k]}`);
    }
    assert.ok(got.alpha > 1 && r.times[0]!.alpha < got.alpha, "drift compensation grows with time");
    assert.is(r.weightError.length, 11);
    const histCount = r.hist.total.reduce((a, b) => a + b, 0);
    // Errors beyond ±32 INT8 (defective cells) fall outside the histogram's range.
    assert.ok(histCount <= 128 * 256 && histCount > 0.99 * 128 * 256, `${histCount} in range`);
  } finally {
    for (const p of Object.values(buf)) rt.free(p);
    freeShared(rt, sh);
    chip.dispose();
  }
});

test("the paper's findings on 4 cores: TDP beats ODP, drift grows, compensation helps; same JSON on 1 and 2 threads", async () => {
  const opts = { seed: 2n, cores: 4, inputs: 1024, times: [25, 86400, 30 * 86400] };
  const a = await characterize({ ...opts, threads: 1 });
  const b = await characterize({ ...opts, threads: 2 });
  const ja = characterizeJson(a) as { threads: number };
  const jb = characterizeJson(b) as { threads: number };
  assert.equal({ ...ja, threads: 0 }, { ...jb, threads: 0 });
  assert.is(a.digest, b.digest);
  const [odp, tdp] = a.results as [(typeof a.results)[0], (typeof a.results)[0]];
  assert.is(odp.scheme, "odp");
  assert.ok(odp.equivalentBits > 2.5 && odp.equivalentBits < 3.5, `ODP bits ${odp.equivalentBits}`);
  assert.ok(tdp.equivalentBits > 3 && tdp.equivalentBits < 4 && tdp.equivalentBits > odp.equivalentBits, `TDP bits ${tdp.equivalentBits}`);
  odp.weightError.forEach((e, i) => {
    if (Math.abs(e.target) > 0.05) assert.ok(tdp.weightError[i]!.error < e.error, `bin ${e.target}: TDP ${tdp.weightError[i]!.error} vs ODP ${e.error}`);
  });
  assert.ok(odp.errors.residual < odp.errors.linear / 2);
  assert.ok(tdp.errors.linear < odp.errors.linear);
  for (const s of [odp, tdp]) {
    const d = s.drift;
    assert.ok(d[2]!.total > d[0]!.total && d[2]!.linear > d[0]!.linear, `${s.scheme}: errors grow with time`);
    assert.ok(d[2]!.total < d[2]!.totalNoCompensation, `${s.scheme}: compensation helps at 1 month`);
  }
  // The digital engine's error falls with every added weight bit.
  a.digitalEngine.forEach((e, i) => i > 0 && assert.ok(e < a.digitalEngine[i - 1]!));
  await shutdownPool();
});

test("bad arguments", async () => {
  await rejects(() => characterize({ cores: 0 }), /cores must be an integer in 1\.\.64/);
  await rejects(() => characterize({ inputs: 100 }), /inputs must be an integer in 256/);
  await rejects(() => characterize({ times: [25, -1] }), /times\[1\] must be a finite time/);
  await rejects(() => characterize({ times: [] }), /times must be a non-empty list/);
});

test.run();
