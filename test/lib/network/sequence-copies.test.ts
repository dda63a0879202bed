// Copies of a sequence model's weights (lib/network/lstm-map.ts replicas, lib/network/lstm-copies.ts
// placement, lib/network/sequence-run.ts row scales, column copies and the copy-by-copy running
// mean): the mapping (every copy on its own core with a route to its block's receiver), the
// copies' tiles (hand-checked), the cost counting them, the same function as one copy on a
// noise-free chip, and less error than one copy on the physical chip.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ADC, MVM, PROGRAMMING } from "../../../lib/chip/config.ts";
import { Chip } from "../../../lib/chip/chip.ts";
import { quietFit as quiet } from "../../fixtures/quiet-fit.ts";
import { route } from "../../../lib/chip/links.ts";
import { CHARGE_LSB_PER_COUNT_NS } from "../../../lib/chip/readout.ts";
import { lstmCost } from "../../../lib/cost/network.ts";
import { MappingError } from "../../../lib/network/mapping.ts";
import { lstmStackOf, mapLstmStack } from "../../../lib/network/lstm-map.ts";
import { loadSequenceModel } from "../../../lib/network/onnx-sequence.ts";
import { mapSequenceModel, runSequenceModel } from "../../../lib/network/sequence-run.ts";
import { matrixColumnCopies, matrixTile } from "../../../lib/network/tiling.ts";
import { rnd } from "../../fixtures/onnx-models.ts";
import { seqModel } from "../../fixtures/sequence-models.ts";

test("mapLstmStack replicas: every copy of every tile on its own free core, routed to its block's receiver", () => {
  const spec = { name: "rows", inputs: 28, hidden: [64, 64], dense: [10] };
  const plain = mapLstmStack(spec);
  assert.is(plain.cores, 5);
  assert.ok(plain.layers.every((l) => l.replicas === 1 && l.tiles.every((t) => t.replica === 0)));
  for (const [replicas, k] of [[3, [3, 3, 3]], ["auto", [8, 8, 8]]] as const) {
    const m = mapLstmStack(spec, { replicas });
    const stack = lstmStackOf(m);
    assert.equal([...stack.lstm.map(({ input, hidden }) => [m.layers[input]!.replicas, m.layers[hidden]!.replicas]), ...stack.dense.map((d) => [m.layers[d]!.replicas])], [[k[0], k[0]], [k[1], k[1]], [k[2]]]);
    assert.is(m.cores, 5 * k[0]);
    const cores = m.layers.flatMap((l) => l.tiles.map((t) => t.core));
    assert.is(new Set(cores).size, cores.length, "one tile per core");
    for (const [i, l] of m.layers.entries()) {
      const base = plain.layers[i]!;
      assert.equal(l.receivers, base.receivers, "the receivers stay those of the plain layout");
      for (let c = 0; c < l.replicas; c++) {
        const copy = l.tiles.filter((t) => t.replica === c);
        assert.equal(copy.map((t) => [t.rowRange, t.colRange, t.outputBlock, t.inputBlock]), base.tiles.map((t) => [t.rowRange, t.colRange, t.outputBlock, t.inputBlock]));
      }
      for (const t of l.tiles) {
        const r = route(t.core, l.receivers[t.outputBlock]!)!;
        assert.equal([t.route.hops, t.route.length], [r.hops, r.length], `${l.layer} core ${t.core}`);
      }
    }
  }
  assert.throws(() => mapLstmStack(spec, { replicas: 13 }), (e: unknown) => e instanceof MappingError && /rows with 13 copies of every matrix needs 65 cores; the chip has 64 \(replicas: 12 at most\)/.test((e as Error).message));
  assert.throws(() => mapLstmStack(spec, { replicas: 0 }), /replicas must be "auto" or an integer in 1\.\.64/);
  assert.throws(() => mapLstmStack(spec, { copies: 2 } as never), /copies/);
});

test("matrixTile: row scales and column copies side by side (hand-checked); matrixColumnCopies is the largest count within 256 columns and the ADC range", () => {
  // 2 × 3 matrix, block of columns 1..3 (2 columns), 3 copies, row scales 2 and 0.5.
  const w = Float32Array.from([1, -2, 4, 0.25, 0.5, -0.125]);
  const t = matrixTile(w, 3, [0, 2], [1, 3], [2, 0.5], 3);
  assert.equal(Array.from(t.subarray(0, 7)), [-1, 2, -1, 2, -1, 2, 0]);
  assert.equal(Array.from(t.subarray(256, 263)), [1, -0.25, 1, -0.25, 1, -0.25, 0]);
  assert.ok(t.subarray(512).every((v) => v === 0));
  assert.throws(() => matrixTile(w, 3, [0, 2], [0, 3], undefined, 86), /tile must be at most 256 × 256 with its copies/);
  // Copies of random 4H × F gate matrices: bounded by ⌊256 / cols⌋ and by the charge of the
  // row with the largest Σ|ŵ| (weights over the row's largest |w|), and maximal.
  const perCount = PROGRAMMING.gmaxTdp.value * MVM.fullScalePulseNs.value * CHARGE_LSB_PER_COUNT_NS;
  for (const cols of [8, 32, 100]) {
    const m = Float32Array.from({ length: 16 * cols }, () => rnd() * 2 - 1);
    const scale = Float32Array.from({ length: 16 }, (_, r) => Math.max(...Array.from(m.subarray(r * cols, (r + 1) * cols), Math.abs)));
    const worst = Math.max(...Array.from({ length: 16 }, (_, r) => m.subarray(r * cols, (r + 1) * cols).reduce((s, v) => s + Math.abs(v), 0) / scale[r]!));
    const fits = (n: number) => n * cols <= 256 && n * worst * perCount <= MVM.copyChargeFraction.value * ADC.fullScaleCounts.value;
    const n = matrixColumnCopies(m, 16, cols, [[0, cols]], scale);
    assert.ok(n >= 1 && (n === 1 || fits(n)) && !fits(n + 1), `${cols} columns: ${n} copies`);
  }
});

test("lstmCost counts every copy: k × the chain's tiles, column copies' cells in use", async () => {
  const m = await loadSequenceModel(seqModel({ hidden: 16, features: 5 }), { steps: 4 });
  const plain = mapSequenceModel(m, { replicas: 1 });
  const copies = mapSequenceModel(m);
  const [gp, hp] = [plain.layers[0]!, plain.layers[1]!];
  assert.equal([gp.columnCopies, hp.columnCopies], [1, 1]);
  const [gi, gh] = [copies.layers[0]!, copies.layers[1]!];
  assert.ok(gi.columnCopies > 1 && gh.columnCopies > 1 && gi.replicas === 8);
  const c1 = lstmCost(plain, "4-phase");
  const c8 = lstmCost(copies, "4-phase");
  assert.equal([c1.layers[0]!.cores, c8.layers[0]!.cores], [2, 16]);
  // Utilisation: 64 gate rows × (5 inputs · m_i + 16 hidden · m_h) cells over the 16 cores.
  const want = (8 * 64 * (5 * gi.columnCopies + 16 * gh.columnCopies)) / (16 * 65536);
  assert.ok(Math.abs(c8.layers[0]!.utilisation - want) < 1e-12, `${c8.layers[0]!.utilisation} vs ${want}`);
  assert.ok(c8.energyUj > c1.energyUj && c8.latencyUs > c1.latencyUs);
});

const T = 6;
const seqs = (n: number, f: number) => Array.from({ length: n }, () => Float32Array.from({ length: T * f }, () => rnd() * 2 - 1));

test("noise-free functional chip: 8 copies (and column copies) give the function of one copy", async () => {
  const m = await loadSequenceModel(seqModel({ hidden: 16, layers: 2, outputs: "hn" }), { steps: T });
  const xs = seqs(24, m.features);
  const err: number[] = [];
  for (const map of [{ replicas: 1 }, {}] as const) {
    const chip = Chip.create({ seed: 4, fidelity: "functional" });
    try {
      err.push((await runSequenceModel(chip, m, xs, { fit: quiet(), map })).error);
    } finally {
      chip.dispose();
    }
  }
  assert.ok(err[0]! < 0.05, `one copy, INT8 only: ${err[0]}`);
  assert.ok(err[1]! < 1.5 * err[0]! + 0.005, `copies ${err[1]} vs one ${err[0]}`);
});

test("physical TDP chip: the default copies bring the outputs closer to float64 than one copy", async () => {
  const m = await loadSequenceModel(seqModel({ hidden: 24, features: 10, batchFirst: true, classes: 6 }), { steps: T });
  const xs = seqs(32, 10);
  const err: number[] = [];
  for (const map of [{ replicas: 1, rowScaling: false }, {}] as const) {
    const chip = Chip.create({ seed: 5 });
    try {
      err.push((await runSequenceModel(chip, m, xs, { scheme: "tdp", threads: 2, map })).error);
    } finally {
      chip.dispose();
    }
  }
  assert.ok(err[1]! < 0.7 * err[0]!, `error with copies ${err[1]}, with one ${err[0]}`);
});

test.run();
