// The paper's two LSTM networks on the chip: mapping counts (Figs. 4b, 5b) and layout.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { hasLink, gdpuNode } from "../../../lib/chip/links.ts";
import { LSTM_CAPTION, LSTM_PTB, mapLstm } from "../../../lib/network/lstm-map.ts";

test("PTB character LSTM: 26 cores, 1,299,312 weights, 2,066 biases; gates in rows 2–4", () => {
  const m = mapLstm(LSTM_PTB);
  assert.is(m.cores, 26);
  assert.is(m.weights, 1_299_312);
  assert.is(m.biases, 2_066);
  const gateCores = m.layers.filter((l) => l.layer.startsWith("gates")).flatMap((l) => l.tiles.map((t) => t.core));
  assert.ok(gateCores.every((c) => c >= 8 && c < 32), "0-based rows 1..3");
  assert.equal(new Set(m.coreIds).size, m.coreIds.length, "no core used twice");
});

test("captioning LSTM: all 64 cores, 4,080,384 weights, 6,080 biases; output layer in rows 5–8", () => {
  const m = mapLstm(LSTM_CAPTION);
  assert.is(m.cores, 64);
  assert.is(m.weights, 4_080_384);
  assert.is(m.biases, 6_080);
  const out = m.layers.find((l) => l.layer === "output")!;
  assert.is(out.tiles.length, 32);
  assert.ok(out.tiles.every((t) => t.core >= 32));
});

test("each column's gate tiles sum down to row 4, which has a link to its GDPU slice; 63 hidden units per slice", () => {
  const m = mapLstm(LSTM_PTB);
  const gates = m.layers[0]!;
  gates.receivers.forEach((r, ob) => {
    assert.is(Math.floor(r / 8), 3);
    assert.ok(hasLink(r, gdpuNode(ob)));
  });
  for (const l of m.layers) for (const t of l.tiles) assert.ok(t.route.path[t.route.path.length - 1] === l.receivers[t.outputBlock], `${l.layer} core ${t.core}`);
  assert.ok(gates.tiles.every((t) => t.rowRange[1] - t.rowRange[0] === 252), "252 gate outputs = 63 units × I, A, F, O");
});

test("LSTMs that do not fit say what they need", () => {
  assert.throws(() => mapLstm({ name: "big", inputs: 128, hidden: 600, outputs: 50 }), /more than 8 GDPU slices/);
  assert.throws(() => mapLstm({ name: "wide", inputs: 900, hidden: 504, outputs: 50 }), /wide: 900 inputs and 504 hidden need 6 cores per column above the GDPU.*it needs 50 cores/);
  assert.throws(() => mapLstm({ name: "vocab", inputs: 504, hidden: 504, outputs: 9000 }), /output layer needs/);
});

test.run();
