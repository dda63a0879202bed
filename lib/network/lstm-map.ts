// LSTM networks on the chip (paper §V, Figs. 4b and 5b): the gate pre-activations
// [W_ih | W_hh]·[x; h] are MVMs on cores in grid rows 1–4 (0-based 0–3), summed vertically
// over the links into the LDPUs of row 4 (0-based 3), which feed the GDPU slices below;
// the output dense layer sits on other cores. Gate outputs are tiled with the Methods'
// rule (lib/network/mapper.ts tiling): for hidden size H the 4H gate outputs split into 8 blocks,
// one per grid column and GDPU slice (so H ≤ 8 · 64 = 512: 63 hidden units per slice for
// H = 504, I/A/F/O interleaved as lib/chip/gdpu.ts expects), and the inputs into blocks of ≤ 256.
// Each column stacks its input-gate tiles above its hidden-gate tiles and aggregates down.

import { ARCH } from "../chip/config.ts";
import { gdpuNode, route } from "../chip/links.ts";
import { MappingError, tiling, type Range, type RouteInfo } from "./mapper.ts";
import { ArgumentError } from "../runtime/validate.ts";

export interface LstmSpec {
  name: string;
  /** Input vector size (embedding or image features). */
  inputs: number;
  hidden: number;
  /** Output dense layer size (vocabulary). */
  outputs: number;
}

/** The paper's PTB character LSTM (Fig. 4): embedding 128, hidden 504, 50 characters. */
export const LSTM_PTB: LstmSpec = { name: "lstm-ptb", inputs: 128, hidden: 504, outputs: 50 };
/** The paper's captioning LSTM (Fig. 5): 504 inputs, hidden 504, 4,064 words. */
export const LSTM_CAPTION: LstmSpec = { name: "lstm-caption", inputs: 504, hidden: 504, outputs: 4064 };

export interface LstmTile {
  core: number;
  rowRange: Range;
  colRange: Range;
  outputBlock: number;
  inputBlock: number;
  route: RouteInfo;
}

export interface LstmLayer {
  layer: string;
  matrix: { rows: number; cols: number };
  tiles: LstmTile[];
  receivers: number[];
}

export interface LstmMapping {
  network: string;
  cores: number;
  coreIds: number[];
  weights: number;
  biases: number;
  layers: LstmLayer[];
  /** GDPU slice fed by each gate output block (column). */
  gdpuSlices: number[];
}

const COLS = ARCH.gridCols.value;
const GATE_ROWS = ARCH.gridRows.value / 2; // rows 0..3 feed the GDPU from above

export function mapLstm(spec: LstmSpec): LstmMapping {
  for (const k of ["inputs", "hidden", "outputs"] as const) {
    if (!Number.isInteger(spec[k]) || spec[k] < 1) throw new ArgumentError(k, "a positive integer", spec[k]);
  }
  // What it needs, for the errors: tiles of the three matrices and their weights.
  const count = (r: number, c: number) => Math.ceil(r / 256) * Math.ceil(c / 256);
  const needs = {
    cores: count(4 * spec.hidden, spec.inputs) + count(4 * spec.hidden, spec.hidden) + count(spec.outputs, spec.hidden),
    weights: 4 * spec.hidden * (spec.inputs + spec.hidden) + spec.outputs * spec.hidden,
  };
  const fail = (msg: string) => new MappingError(`${spec.name}: ${msg} (it needs ${needs.cores} cores, ${needs.weights.toLocaleString("en-US")} weights)`, needs);
  const info = (from: number, to: number): RouteInfo => {
    if (from === to) return { path: [from], hops: 0, length: 0 };
    const r = route(from, to);
    if (!r) throw fail(`no link route from core ${from} to ${to}`);
    return { path: r.path, hops: r.hops, length: r.length };
  };
  const slices = ARCH.gdpuSlices.value;
  const perSlice = ARCH.gdpuCellStates.value;
  if (spec.hidden > slices * perSlice) {
    throw fail(`hidden size ${spec.hidden} needs more than ${slices} GDPU slices × ${perSlice} cell states (at most ${slices * perSlice})`);
  }
  const gates = 4 * spec.hidden;
  const ih = tiling(gates, spec.inputs);
  const hh = tiling(gates, spec.hidden);
  for (const b of ih.rowBlocks) {
    if ((b[1] - b[0]) % 4 !== 0) throw fail(`gate block of ${b[1] - b[0]} outputs is not whole hidden units (I, A, F, O: a multiple of 4) for hidden size ${spec.hidden}`);
  }
  const blocks = Math.max(ih.outputs, hh.outputs);
  if (blocks > COLS) throw fail(`${gates} gate outputs need ${blocks} output blocks; the chip has ${COLS} columns of GDPU-feeding cores`);
  const stack = ih.inputs + hh.inputs;
  if (stack > GATE_ROWS) {
    throw fail(`${spec.inputs} inputs and ${spec.hidden} hidden need ${stack} cores per column above the GDPU; rows 1–${GATE_ROWS} have ${GATE_ROWS}`);
  }
  // Column c holds gate block c: input-gate tiles in the rows above the hidden-gate tiles,
  // all ending on row GATE_ROWS − 1 (the receiver, next to GDPU slice c).
  const firstRow = GATE_ROWS - stack;
  const gateLayer = (name: string, t: ReturnType<typeof tiling>, rowOffset: number, cols: number): LstmLayer => {
    const tiles: LstmTile[] = [];
    for (let ob = 0; ob < t.outputs; ob++) {
      for (let ib = 0; ib < t.inputs; ib++) {
        const core = (firstRow + rowOffset + ib) * COLS + ob;
        tiles.push({ core, rowRange: t.rowBlocks[ob]!, colRange: t.colBlocks[ib]!, outputBlock: ob, inputBlock: ib, route: info(core, (GATE_ROWS - 1) * COLS + ob) });
      }
    }
    return { layer: name, matrix: { rows: gates, cols }, tiles, receivers: Array.from({ length: t.outputs }, (_, ob) => (GATE_ROWS - 1) * COLS + ob) };
  };
  const layers = [gateLayer("gates.input", ih, 0, spec.inputs), gateLayer("gates.hidden", hh, ih.inputs, spec.hidden)];
  // The output dense layer on the free cores: rows below the GDPU first, pairs of vertically
  // adjacent cores aggregating downwards, then any free core above.
  const used = new Set(layers.flatMap((l) => l.tiles.map((t) => t.core)));
  const dense = tiling(spec.outputs, spec.hidden);
  const free = [
    ...Array.from({ length: (ARCH.gridRows.value - GATE_ROWS) * COLS }, (_, i) => {
      const pair = Math.floor(i / (2 * COLS));
      const within = i % (2 * COLS);
      return (GATE_ROWS + 2 * pair + (within % 2)) * COLS + Math.floor(within / 2);
    }),
    ...Array.from({ length: GATE_ROWS * COLS }, (_, i) => i).filter((c) => !used.has(c)),
  ].filter((c) => !used.has(c));
  const need = dense.outputs * dense.inputs;
  if (need > free.length) {
    throw fail(`the ${spec.outputs}×${spec.hidden} output layer needs ${need} cores; ${free.length} are free after the LSTM's ${used.size} (the chip has 64)`);
  }
  const dTiles: LstmTile[] = [];
  const dReceivers: number[] = [];
  for (let ob = 0; ob < dense.outputs; ob++) {
    const cores = free.slice(ob * dense.inputs, (ob + 1) * dense.inputs);
    const receiver = cores[cores.length - 1]!;
    dReceivers.push(receiver);
    cores.forEach((core, ib) => dTiles.push({ core, rowRange: dense.rowBlocks[ob]!, colRange: dense.colBlocks[ib]!, outputBlock: ob, inputBlock: ib, route: info(core, receiver) }));
  }
  layers.push({ layer: "output", matrix: { rows: spec.outputs, cols: spec.hidden }, tiles: dTiles, receivers: dReceivers });
  const coreIds = layers.flatMap((l) => l.tiles.map((t) => t.core)).sort((a, b) => a - b);
  // Every gate receiver reaches its GDPU slice over a link.
  const gdpuSlices = layers[0]!.receivers.map((r, ob) => {
    if (!route(r, gdpuNode(ob))) throw fail(`core ${r} has no link to GDPU slice ${ob}`);
    return ob;
  });
  return {
    network: spec.name,
    cores: coreIds.length,
    coreIds,
    weights: gates * (spec.inputs + spec.hidden) + spec.outputs * spec.hidden,
    biases: gates + spec.outputs,
    layers,
    gdpuSlices,
  };
}
