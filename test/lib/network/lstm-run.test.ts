// The PTB-sized character LSTM (embedding 128, hidden 504, 50 outputs) with random weights
// on the simulated chip: gates on the cores, partial sums down the columns, GDPU slices,
// hidden state fed back; against a float64 LSTM.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Chip } from "../../../lib/chip/chip.ts";
import { LSTM_PTB, mapLstm } from "../../../lib/network/lstm-map.ts";
import { lstmReference, programLstm, randomLstm, runLstm, runLstmOnChip } from "../../../lib/network/lstm-run.ts";
import { shutdownPool } from "../../../lib/runtime/pool.ts";

const w = randomLstm(LSTM_PTB, 3);
const m = mapLstm(LSTM_PTB);
let s = 7;
const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
const xs = Array.from({ length: 1000 }, () => Float32Array.from({ length: 128 }, () => rnd() * 2 - 1));

test("the float64 reference is an LSTM: zero weights give h = 0 and logits = output bias", () => {
  const z = { ...w, wih: new Float32Array(w.wih.length), whh: new Float32Array(w.whh.length), bias: new Float32Array(w.bias.length) };
  const r = lstmReference(z, xs.slice(0, 3));
  // i = f = o = ½, a = 0 → c = 0, h = 0.
  assert.ok(r.hidden.every((h) => h.every((v) => v === 0)));
  assert.equal(Array.from(r.outputs[2]!), Array.from(w.bout, (v) => v));
});

for (const fidelity of ["physical", "functional"] as const) {
  test(`${fidelity} TDP: 1,000 timesteps without blow-up, close to float64`, async () => {
    const chip = Chip.create({ seed: 5, fidelity });
    const r = await runLstmOnChip(chip, w, xs, { scheme: "tdp", threads: 2 });
    chip.dispose();
    assert.is(r.outputs.length, 1000);
    assert.ok(r.outputs.every((y) => y.every(Number.isFinite)));
    assert.ok(r.maxHidden > 0.05 && r.maxHidden < 1, `max |h| ${r.maxHidden}`);
    assert.ok(r.error < 0.2, `error ${r.error}`);
  });
}

test("ODP is further from float than TDP, at both fidelities (200 timesteps)", async () => {
  for (const fidelity of ["physical", "functional"] as const) {
    const e: Record<string, number> = {};
    for (const scheme of ["odp", "tdp"] as const) {
      const chip = Chip.create({ seed: 5, fidelity });
      await programLstm(chip, m, w, scheme, 2);
      e[scheme] = runLstm(chip, m, w, xs.slice(0, 200)).error;
      chip.dispose();
    }
    assert.ok(e["tdp"]! < e["odp"]! && e["odp"]! < 0.3, `${fidelity}: ${JSON.stringify(e)}`);
  }
  await shutdownPool();
});

test("bad sequences are named", () => {
  const chip = Chip.create({ seed: 5, fidelity: "functional" });
  try {
    assert.throws(() => runLstm(chip, m, w, [new Float32Array(3)]), /xs\[0\] must be 128 values/);
    assert.throws(() => runLstm(chip, m, w, []), /xs must be a non-empty sequence/);
  } finally {
    chip.dispose();
  }
});

test.run();
