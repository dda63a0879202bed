// Stacked LSTMs on the chip (lib/network/lstm-map.ts mapLstmStack): each layer its own columns
// and GDPU slices, the head's dense layers on the free cores, and the cores a model needs when
// it does not fit.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { gdpuNode, hasLink } from "../../../lib/chip/links.ts";
import { lstmCost, sequenceCost } from "../../../lib/cost/network.ts";
import { LSTM_PTB, lstmStackOf, mapLstm, mapLstmStack } from "../../../lib/network/lstm-map.ts";
import { MappingError } from "../../../lib/network/mapper.ts";

test("two layers of 128 and a 2-layer head: layer 1 in columns 0–1, layer 2 in columns 2–3, each feeding its own GDPU slices", () => {
  const m = mapLstmStack({ name: "rows", inputs: 28, hidden: [128, 128], dense: [64, 10] });
  const s = lstmStackOf(m);
  assert.equal(m.layers.map((l) => l.layer), ["lstm0.gates.input", "lstm0.gates.hidden", "lstm1.gates.input", "lstm1.gates.hidden", "dense0", "output"]);
  assert.equal(s, { lstm: [{ input: 0, hidden: 1 }, { input: 2, hidden: 3 }], dense: [4, 5] });
  assert.equal(m.gdpuSlices, [0, 1, 2, 3]);
  assert.equal(m.layers[0]!.receivers, [24, 25]);
  assert.equal(m.layers[2]!.receivers, [26, 27]);
  for (const { input } of s.lstm) m.layers[input]!.receivers.forEach((r) => assert.ok(hasLink(r, gdpuNode(r % 8))));
  // 64 hidden units per block: I, A, F, O of each unit together.
  assert.ok(m.layers.slice(0, 4).every((l) => l.tiles.every((t) => t.rowRange[1] - t.rowRange[0] === 256 && t.rowRange[0] % 4 === 0)));
  assert.is(m.cores, 2 * 2 + 2 * 2 + 1 + 1);
  assert.is(m.weights, 512 * (28 + 128) + 512 * 256 + 64 * 128 + 10 * 64);
  assert.is(m.biases, 1024 + 74);
  assert.equal(new Set(m.coreIds).size, m.coreIds.length);
  for (const l of m.layers) for (const t of l.tiles) assert.is(t.route.path[t.route.path.length - 1], l.receivers[t.outputBlock]);
});

test("a hidden size that does not split into 4s of rows: blocks of whole units", () => {
  const m = mapLstmStack({ name: "odd", inputs: 10, hidden: [67], dense: [5] });
  assert.equal(m.layers[0]!.tiles.map((t) => t.rowRange), [[0, 132], [132, 268]]);
});

test("the single-layer mapping is mapLstm's, with the same costs", () => {
  const a = mapLstm(LSTM_PTB);
  const { stack, ...b } = mapLstmStack({ name: LSTM_PTB.name, inputs: 128, hidden: [504], dense: [50] });
  assert.equal(b, a);
  assert.equal(stack, lstmStackOf(a));
  assert.equal(lstmCost(b, "4-phase"), lstmCost(a, "4-phase"));
});

test("sequence cost: the head once for a last-step model, every step for an all-steps one", () => {
  const m = mapLstmStack({ name: "rows", inputs: 28, hidden: [128, 128], dense: [10] });
  const step = lstmCost(m, "4-phase");
  assert.equal(step.layers.map((l) => l.layer), ["lstm 0 gates (+GDPU)", "lstm 1 gates (+GDPU)", "output"]);
  const last = sequenceCost(m, "4-phase", 28, "last");
  const all = sequenceCost(m, "4-phase", 28, "all");
  const head = step.layers[2]!.latencyUs;
  assert.ok(Math.abs(all.latencyUs - 28 * step.latencyUs) < 1e-9);
  assert.ok(Math.abs(last.latencyUs - (28 * (step.latencyUs - head) + head)) < 1e-9);
});

test("stacks that do not fit name the cores they need", () => {
  const err = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      assert.ok(e instanceof MappingError);
      return e as MappingError;
    }
    throw new Error("no error");
  };
  const slices = err(() => mapLstmStack({ name: "deep", inputs: 64, hidden: [256, 256, 256], dense: [10] }));
  assert.match(slices.message, /deep: the LSTM layers' gates need 12 output blocks, one GDPU slice each; the chip has 8 \(it needs 25 cores, 1,378,816 weights\)/);
  assert.is(slices.needs.cores, 25);
  const head = err(() => mapLstmStack({ name: "vocab", inputs: 256, hidden: [256, 256], dense: [14000] }));
  assert.match(head.message, /vocab: the 14000×256 output layer needs 55 cores; 48 are free after the LSTM's 16 \(the chip has 64\) \(it needs 71 cores/);
  const wide = err(() => mapLstmStack({ name: "wide", inputs: 900, hidden: [64, 64], dense: [4] }));
  assert.match(wide.message, /LSTM layer 1: 900 inputs and 64 hidden need 5 cores per column above the GDPU; rows 1–4 have 4/);
});

test.run();
