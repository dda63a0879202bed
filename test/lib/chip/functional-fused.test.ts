// The fused functional readout (assembly/functional.ts functionalPackedTable and
// functionalPackedLdpu) against the unfused path it replaces (mvmI16Packed, then
// functionalReadoutTable) on random data and edge shapes, and chip.at(t).mvm at functional
// fidelity (which uses it) against the readTaskInto path (mvmParallel) bit for bit.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { MvmOptions } from "../../../lib/chip/read-options.ts";
import { Chip } from "../../../lib/chip/chip.ts";
import { paddedCols } from "../../../lib/chip/mvm-kernels.ts";
import { WasmRuntime } from "../../../lib/runtime/wasm.ts";
import { characterisationWeights, sparseUniform } from "../../../lib/chip/workload.ts";

let seed = 11;
const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
const randInt = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));

const rt = WasmRuntime.get();
const k = rt.kernels;

/** An LDPU table (ldpuTable) for gain, flags and optional affine scale/bias; its K (FP16 gain). */
function ldpuTable(gain: number, flags: number, scale = 1, bias = 0): { table: number; K: number } {
  const params = rt.alloc(256 * 16);
  const table = rt.alloc(8192);
  const u = rt.u16(params, 256 * 8);
  for (let r = 0; r < 256; r++) {
    u[r * 8] = k.f64ToF16(gain);
    u[r * 8 + 2] = k.f64ToF16(scale);
    u[r * 8 + 3] = k.f64ToF16(bias);
    u[r * 8 + 4] = u[r * 8 + 5] = 0x3c00;
  }
  assert.is(k.ldpuTable(params, 256, flags, table), 1);
  const K = k.f16ToF64(u[0]!);
  rt.free(params);
  return { table, K };
}

test("fused kernels = mvmI16Packed + functionalReadoutTable, on random data and edge shapes", () => {
  const tables = [
    { gain: 0.1314, flags: 0 }, { gain: 0.2628, flags: 1 }, { gain: 0.03, flags: 2 }, { gain: 1.7, flags: 0 },
    { gain: 0.001, flags: 0 }, { gain: -0.2, flags: 0 }, { gain: 0.5, flags: 3 }, { gain: 0.1314, flags: 0, scale: 0.7, bias: 3 },
  ].map((t) => ({ ...t, ...ldpuTable(t.gain, t.flags, t.scale, t.bias) }));
  // A table no LDPU makes: only the lookup kernel applies.
  const random = rt.alloc(8192);
  rt.i8(random, 8191).forEach((_, i, a) => (a[i] = randInt(-128, 127)));
  const perUnit = [3.1245158553263804e-5, 1e-4, 2 ** -16, 2.5e-6, -2e-5, 0.5, 0.999];
  const shapes = [[256, 256, 37], [256, 256, 1], [255, 255, 13], [77, 200, 9], [3, 5, 1], [130, 256, 5], [64, 8, 7], [16, 256, 3], [20, 256, 6], [1, 1, 2]] as const;
  let formulaRuns = 0;
  for (const [rows, cols, batch] of shapes) {
    const s = paddedCols(cols);
    const w = rt.alloc(rows * s * 2), wp = rt.alloc(k.packedI16Bytes(rows, cols)), x = rt.alloc(batch * s * 2);
    const dots = rt.alloc(batch * rows * 4), want = rt.alloc(batch * rows), got = rt.alloc(batch * rows);
    try {
      const extreme = rows % 5 === 0;
      const W = rt.i16(w, rows * s).fill(0), X = rt.i16(x, batch * s).fill(0);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) W[r * s + c] = extreme ? -32768 : randInt(-32768, 32767) >> (rnd() < 0.8 ? 3 : 0);
      for (let b = 0; b < batch; b++) for (let c = 0; c < cols; c++) X[b * s + c] = extreme ? -128 : randInt(-128, 127);
      k.packI16Quads(w, rows, cols, wp);
      k.mvmI16Packed(wp, rows, cols, x, batch, dots);
      for (const cpu of perUnit) {
        for (const t of [...tables, { table: random, K: 0, flags: 0, gain: 0 }]) {
          k.functionalReadoutTable(dots, batch * rows, cpu, t.table, want);
          const ref = Array.from(rt.i8(want, batch * rows));
          const label = `${rows}×${cols}×${batch}, ${cpu} counts/unit, gain ${t.gain} flags ${t.flags}`;
          rt.i8(got, batch * rows).fill(99);
          assert.is(k.functionalPackedTable(wp, rows, cols, x, batch, cpu, t.table, got, rows), 1);
          assert.equal(Array.from(rt.i8(got, batch * rows)), ref, `table: ${label}`);
          if (t.K !== 0 && k.functionalLdpuFormula(t.table, t.K, t.flags) === 1) {
            rt.i8(got, batch * rows).fill(99);
            assert.is(k.functionalPackedLdpu(wp, rows, cols, x, batch, cpu, t.K, t.flags, got, rows), 1);
            assert.equal(Array.from(rt.i8(got, batch * rows)), ref, `formula: ${label}`);
            formulaRuns++;
          }
        }
      }
    } finally {
      for (const p of [got, want, dots, x, wp, w]) rt.free(p);
    }
  }
  // The formula stands in for the default LDPU (gain ~0.13 per count, no ReLU or with it),
  // never for a table it does not reproduce.
  assert.ok(formulaRuns >= shapes.length * perUnit.length * 4, `formula runs ${formulaRuns}`);
  assert.is(k.functionalLdpuFormula(tables[0]!.table, tables[0]!.K, 0), 1);
  assert.is(k.functionalLdpuFormula(tables[1]!.table, tables[1]!.K, 1), 1);
  assert.is(k.functionalLdpuFormula(tables[7]!.table, tables[7]!.K, 0), 0, "affine scale and bias");
  assert.is(k.functionalLdpuFormula(random, 0.1314, 0), 0, "random table");
  for (const t of tables) rt.free(t.table);
  rt.free(random);
});

test("fused kernels: output rows of outStride bytes, the bytes after `rows` untouched", () => {
  const { table, K } = ldpuTable(0.1314, 0);
  const rows = 77, cols = 256, batch = 5, stride = 96, cpu = 3.1e-5;
  const w = rt.alloc(rows * cols * 2), wp = rt.alloc(k.packedI16Bytes(rows, cols)), x = rt.alloc(batch * cols * 2);
  const dots = rt.alloc(batch * rows * 4), want = rt.alloc(batch * rows), got = rt.alloc(batch * stride);
  rt.i16(w, rows * cols).forEach((_, i, a) => (a[i] = randInt(-4096, 4095)));
  rt.i16(x, batch * cols).forEach((_, i, a) => (a[i] = randInt(-128, 127)));
  k.packI16Quads(w, rows, cols, wp);
  k.mvmI16Packed(wp, rows, cols, x, batch, dots);
  k.functionalReadoutTable(dots, batch * rows, cpu, table, want);
  const W = rt.i8(want, batch * rows);
  for (const ldpu of [false, true]) {
    rt.i8(got, batch * stride).fill(55);
    if (ldpu) k.functionalPackedLdpu(wp, rows, cols, x, batch, cpu, K, 0, got, stride);
    else k.functionalPackedTable(wp, rows, cols, x, batch, cpu, table, got, stride);
    const G = rt.i8(got, batch * stride);
    for (let b = 0; b < batch; b++) {
      assert.equal(Array.from(G.subarray(b * stride, b * stride + rows)), Array.from(W.subarray(b * rows, (b + 1) * rows)));
      assert.ok(G.subarray(b * stride + rows, (b + 1) * stride).every((v) => v === 55));
    }
  }
  for (const p of [got, want, dots, x, wp, w, table]) rt.free(p);
});

test("fused kernels decline |counts per unit| ≥ 1 (and NaN) without writing", () => {
  const { table, K } = ldpuTable(0.1314, 0);
  const wp = rt.alloc(k.packedI16Bytes(4, 8)), x = rt.alloc(16), out = rt.alloc(4);
  rt.i8(out, 4).fill(7);
  for (const cpu of [1, -1, 3, Infinity, NaN]) {
    assert.is(k.functionalPackedTable(wp, 4, 8, x, 1, cpu, table, out, 4), 0);
    assert.is(k.functionalPackedLdpu(wp, 4, 8, x, 1, cpu, K, 0, out, 4), 0);
  }
  assert.equal(Array.from(rt.i8(out, 4)), [7, 7, 7, 7]);
  for (const p of [out, x, wp, table]) rt.free(p);
});

test("chip.at(t).mvm at functional fidelity: the same bits as the readTaskInto path, any options", async () => {
  const W = characterisationWeights(4n, 1);
  const X = Int8Array.from(sparseUniform(4n, 1, 7, 300 * 256), (v) => Math.round(127 * v));
  const rx = Int8Array.from(sparseUniform(5n, 1, 7, 300 * 256), (v) => Math.round(90 * v));
  const chip = Chip.create({ seed: 4n, fidelity: "functional" });
  try {
    chip.program(0, W, { scheme: "tdp" });
    chip.program(1, W.map((v, i) => (i % 256 < 100 ? v : 0)), { scheme: "odp" });
    const rows = Array.from({ length: 256 }, (_, i) => 0.5 + i / 512);
    const cases: MvmOptions[] = [
      {}, { outputScale: 3e-3 }, { outputScale: 40 }, { ldpu: { flags: 1 } }, { ldpu: { flags: 2, scale: 0.7, bias: 3 } },
      { ldpu: { scale: rows } }, { rows: 100 }, { rows: 3, ldpu: { flags: 1 } }, { rows: 250, ldpu: { scale: 0.5 } }, { rx: rx.subarray(0, 300 * 256) }, { residual: rx.subarray(0, 300 * 256), ldpu: { flags: 3, residualScale: 0.5 } },
    ];
    for (const t of [25, 30 * 86400]) {
      for (const compensation of [true, false]) {
        const at = chip.at(t, { compensation });
        for (const core of [0, 1]) {
          for (const batch of [1, 3, 257, 300]) {
            const xs = X.subarray(0, batch * 256);
            for (const o of batch === 300 ? cases : [{}]) {
              const fused = at.mvm(core, xs, o);
              const ref = await at.mvmParallel(core, xs, { ...o, threads: 1 });
              assert.equal(Array.from(fused.y), Array.from(ref.y), `t ${t} compensation ${compensation} core ${core} batch ${batch} ${JSON.stringify(o).slice(0, 60)}`);
              assert.is(fused.outputScale, ref.outputScale);
              assert.is(fused.alpha, ref.alpha);
            }
          }
        }
        const two = await at.mvmParallel(0, X, { threads: 2 });
        assert.equal(Array.from(two.y), Array.from(at.mvm(0, X).y), "2 threads");
        at.dispose();
      }
    }
  } finally {
    chip.dispose();
  }
});

test.run();
