// LSTM networks on the chip (paper §V, Figs. 4b and 5b): the gate pre-activations
// [W_ih | W_hh]·[x; h] are MVMs on cores in grid rows 1–4 (0-based 0–3), summed vertically
// over the links into the LDPUs of row 4 (0-based 3), which feed the GDPU slices below;
// the output dense layer sits on other cores. Gate outputs are tiled with the Methods'
// rule (lib/network/mapper.ts tiling): for hidden size H the 4H gate outputs split into 8 blocks,
// one per grid column and GDPU slice (so H ≤ 8 · 64 = 512: 63 hidden units per slice for
// H = 504, I/A/F/O interleaved as lib/chip/gdpu.ts expects), and the inputs into blocks of ≤ 256.
// Each column stacks its input-gate tiles above its hidden-gate tiles and aggregates down.
// Stacked LSTMs (mapLstmStack, for ONNX sequence models): each layer takes its own columns
// and GDPU slices, left to right (layer k + 1 reads layer k's hidden state from the slices);
// a head of several dense layers takes the free cores one layer after the other. Gate blocks
// split the hidden units near-equally (whole units: I, A, F, O stay together).

import { ARCH } from "../chip/config.ts";
import { gdpuNode, route } from "../chip/links.ts";
import { MappingError, splitRange, tiling, type Range, type RouteInfo } from "./mapper.ts";
import { nearestFreeCores } from "./lstm-copies.ts";
import { parseReplicas, replicaCounts } from "./replicas.ts";
import { ArgumentError, knownKeys } from "../runtime/validate.ts";

/** The shape of a single-layer LSTM with a dense output layer (`mapLstm`). */
export interface LstmSpec {
  /** The network's name. */
  name: string;
  /** Input vector size (embedding or image features). */
  inputs: number;
  /** Hidden size H, 1..512 (4H gate outputs over at most 8 GDPU slices of 64 cell states). */
  hidden: number;
  /** Output dense layer size (vocabulary). */
  outputs: number;
}

/** The paper's PTB character LSTM (Fig. 4): embedding 128, hidden 504, 50 characters. */
export const LSTM_PTB: LstmSpec = { name: "lstm-ptb", inputs: 128, hidden: 504, outputs: 50 };
/** The paper's captioning LSTM (Fig. 5): 504 inputs, hidden 504, 4,064 words. */
export const LSTM_CAPTION: LstmSpec = { name: "lstm-caption", inputs: 504, hidden: 504, outputs: 4064 };

/** One tile of an LSTM layer's matrix on one core. */
export interface LstmTile {
  /** Core index 0..63. */
  core: number;
  /** Matrix rows (outputs) held, [start, end). */
  rowRange: Range;
  /** Matrix columns (inputs) held, [start, end). */
  colRange: Range;
  /** Index of the tile's block of outputs. */
  outputBlock: number;
  /** Index of the tile's block of inputs. */
  inputBlock: number;
  /** Which copy of the matrix's weights the tile holds, 0..replicas − 1 (LstmMapOptions.replicas). */
  replica: number;
  /** Route of its partial sums to the block's receiver. */
  route: RouteInfo;
}

/** One matrix of an LSTM mapping (the input gates, the hidden gates, or a dense layer) and its tiles. */
export interface LstmLayer {
  /** The matrix's name: "gates.input", "gates.hidden" (stacked: "lstm0.gates.input", …), "dense0", …, "output". */
  layer: string;
  /** The matrix's size: rows = outputs (4H for gates), cols = inputs. */
  matrix: { rows: number; cols: number };
  /** Its tiles, one per core. */
  tiles: LstmTile[];
  /** Receiving core of each output block. */
  receivers: number[];
  /** Copies of the matrix's tiles on other cores (LstmMapOptions.replicas; 1: none). An LSTM
   * layer's input and hidden gates have the same count: every copy of a gate block's tiles
   * joins the block's chain of partial sums, which carries their running mean (lib/network/sequence-run.ts). */
  replicas: number;
  /** Copies of each weight side by side in its tile's row (1: none; set by mapSequenceModel
   * from the weights, lib/network/tiling.ts matrixColumnCopies): each read drives the inputs
   * into every copy and the LDPU scales by 1/m. */
  columnCopies: number;
  /** Row r is programmed as W[r] / rowScale[r] and the LDPU multiplies rowScale[r] back
   * (set by mapSequenceModel from the weights; absent: the tile's largest weight is Wmax). */
  rowScale?: Float32Array;
}

/** Options of `mapLstmStack`; an unknown key throws. */
export interface LstmMapOptions {
  /** Copies of every matrix on the cores the model leaves free, averaged along each block's
   * chain of partial sums: an integer 1..64 (the same for every layer; a MappingError when
   * they do not fit) or "auto" (as many as fit, at most REPLICAS_MAX, lib/network/replicas.ts
   * replicaCounts over the LSTM layers' gate tiles and the dense layers' tiles). Default 1. */
  replicas?: number | "auto";
}

/** Where an LSTM network's matrices sit on the chip (`mapLstm`, `mapLstmStack`). */
export interface LstmMapping {
  /** The network's name. */
  network: string;
  /** Cores used. */
  cores: number;
  /** The cores used, in increasing order. */
  coreIds: number[];
  /** Weights mapped. */
  weights: number;
  /** Biases (in the LDPU/GDPU, not on crossbars). */
  biases: number;
  /** The matrices in order: per LSTM layer its input and hidden gates, then the dense layers. */
  layers: LstmLayer[];
  /** GDPU slice fed by each gate output block (column). */
  gdpuSlices: number[];
  /** Which layers are which (mapLstmStack; absent from mapLstm's single-layer mapping):
   * per LSTM layer the indices of its input- and hidden-gate layers in `layers`, and the
   * indices of the dense layers, in order. */
  stack?: LstmStackLayout;
}

/** Which layers of an LSTM mapping are which (indices into `LstmMapping.layers`). */
export interface LstmStackLayout {
  /** Per LSTM layer: the indices of its input-gate and hidden-gate matrices. */
  lstm: { input: number; hidden: number }[];
  /** The dense layers' indices, in order. */
  dense: number[];
}

/** A stack of LSTM layers and a dense head (output sizes), as ONNX sequence models have. */
export interface LstmStackSpec {
  /** The network's name. */
  name: string;
  /** Input vector size of the first LSTM layer. */
  inputs: number;
  /** Hidden size of each LSTM layer, in order (one or more). */
  hidden: readonly number[];
  /** Output size of each dense layer of the head, in order (one or more). */
  dense: readonly number[];
}

/** The layout of any LSTM mapping: its `stack`, or that of mapLstm's three layers. */
export function lstmStackOf(m: LstmMapping): LstmStackLayout {
  return m.stack ?? { lstm: [{ input: 0, hidden: 1 }], dense: [2] };
}

const COLS = ARCH.gridCols.value;
const GATE_ROWS = ARCH.gridRows.value / 2; // rows 0..3 feed the GDPU from above

/**
 * Map a single-layer LSTM and its output dense layer (paper Figs. 4b, 5b): gate tiles in grid
 * rows 1–4 above the GDPU, summed down each column into the slices; the dense layer on free cores.
 * @throws {@link ArgumentError} on a size that is not a positive integer; {@link MappingError}
 *   when it does not fit (too many gate blocks, columns too deep, too few free cores)
 */
export function mapLstm(spec: LstmSpec): LstmMapping {
  for (const k of ["inputs", "hidden", "outputs"] as const) {
    if (!Number.isInteger(spec[k]) || spec[k] < 1) throw new ArgumentError(k, "a positive integer", spec[k]);
  }
  const { stack: _stack, ...m } = mapLstmStack({ name: spec.name, inputs: spec.inputs, hidden: [spec.hidden], dense: [spec.outputs] });
  return m;
}

/**
 * Map a stack of LSTM layers and a dense head: each LSTM layer takes its own columns and GDPU
 * slices, left to right; the dense layers take the free cores in order.
 * @throws {@link ArgumentError} on bad sizes; {@link MappingError} when it does not fit
 */
export function mapLstmStack(spec: LstmStackSpec, options: LstmMapOptions = {}): LstmMapping {
  knownKeys(options, ["replicas"], "options");
  const replicas = parseReplicas(options.replicas ?? 1);
  const ok = (v: unknown) => Number.isInteger(v) && (v as number) >= 1;
  if (!ok(spec.inputs)) throw new ArgumentError("inputs", "a positive integer", spec.inputs);
  if (!Array.isArray(spec.hidden) || spec.hidden.length < 1 || !spec.hidden.every(ok)) throw new ArgumentError("hidden", "hidden sizes of one or more LSTM layers", spec.hidden);
  if (!Array.isArray(spec.dense) || spec.dense.length < 1 || !spec.dense.every(ok)) throw new ArgumentError("dense", "output sizes of one or more dense layers", spec.dense);
  const H = spec.hidden;
  const ins = H.map((_, k) => (k === 0 ? spec.inputs : H[k - 1]!));
  const denseIn = spec.dense.map((_, k) => (k === 0 ? H[H.length - 1]! : spec.dense[k - 1]!));
  // What it needs, for the errors: tiles of every matrix and their weights.
  const count = (r: number, c: number) => Math.ceil(r / 256) * Math.ceil(c / 256);
  const needs = {
    cores: H.reduce((s, h, k) => s + count(4 * h, ins[k]!) + count(4 * h, h), 0) + spec.dense.reduce((s, o, k) => s + count(o, denseIn[k]!), 0),
    weights: H.reduce((s, h, k) => s + 4 * h * (ins[k]! + h), 0) + spec.dense.reduce((s, o, k) => s + o * denseIn[k]!, 0),
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
  const multi = H.length > 1;
  const layers: LstmLayer[] = [];
  const stack: LstmStackLayout = { lstm: [], dense: [] };
  let col = 0; // first free column (GDPU slice)
  H.forEach((hidden, k) => {
    const what = multi ? `LSTM layer ${k + 1}: hidden size ${hidden}` : `hidden size ${hidden}`;
    if (hidden > slices * perSlice) throw fail(`${what} needs more than ${slices} GDPU slices × ${perSlice} cell states (at most ${slices * perSlice})`);
    const gates = 4 * hidden;
    // Gate output blocks of whole hidden units (at most 64 per slice).
    const rowBlocks = splitRange(hidden, Math.ceil(gates / 256)).map(([u0, u1]) => [4 * u0, 4 * u1] as const);
    const ih = tiling(gates, ins[k]!);
    const hh = tiling(gates, hidden);
    const blocks = rowBlocks.length;
    if (col + blocks > COLS) {
      throw fail(multi
        ? `the LSTM layers' gates need ${H.reduce((s, h) => s + Math.ceil((4 * h) / 256), 0)} output blocks, one GDPU slice each; the chip has ${COLS}`
        : `${gates} gate outputs need ${blocks} output blocks; the chip has ${COLS} columns of GDPU-feeding cores`);
    }
    const depth = ih.inputs + hh.inputs;
    if (depth > GATE_ROWS) {
      throw fail(`${multi ? `LSTM layer ${k + 1}: ` : ""}${ins[k]} inputs and ${hidden} hidden need ${depth} cores per column above the GDPU; rows 1–${GATE_ROWS} have ${GATE_ROWS}`);
    }
    // Column col + b holds gate block b: input-gate tiles in the rows above the hidden-gate
    // tiles, all ending on row GATE_ROWS − 1 (the receiver, next to GDPU slice col + b).
    const firstRow = GATE_ROWS - depth;
    const gateLayer = (name: string, colBlocks: readonly Range[], rowOffset: number, cols: number): LstmLayer => {
      const tiles: LstmTile[] = [];
      rowBlocks.forEach((rr, ob) => colBlocks.forEach((cr, ib) => {
        const core = (firstRow + rowOffset + ib) * COLS + col + ob;
        tiles.push({ core, rowRange: rr, colRange: cr, outputBlock: ob, inputBlock: ib, replica: 0, route: info(core, (GATE_ROWS - 1) * COLS + col + ob) });
      }));
      return { layer: name, matrix: { rows: gates, cols }, tiles, receivers: rowBlocks.map((_, ob) => (GATE_ROWS - 1) * COLS + col + ob), replicas: 1, columnCopies: 1 };
    };
    const prefix = multi ? `lstm${k}.` : "";
    stack.lstm.push({ input: layers.length, hidden: layers.length + 1 });
    layers.push(gateLayer(`${prefix}gates.input`, ih.colBlocks, 0, ins[k]!), gateLayer(`${prefix}gates.hidden`, hh.colBlocks, ih.inputs, hidden));
    col += blocks;
  });
  // The dense layers on the free cores: rows below the GDPU first, pairs of vertically
  // adjacent cores aggregating downwards, then any free core above.
  const used = new Set(layers.flatMap((l) => l.tiles.map((t) => t.core)));
  let free = [
    ...Array.from({ length: (ARCH.gridRows.value - GATE_ROWS) * COLS }, (_, i) => {
      const pair = Math.floor(i / (2 * COLS));
      const within = i % (2 * COLS);
      return (GATE_ROWS + 2 * pair + (within % 2)) * COLS + Math.floor(within / 2);
    }),
    ...Array.from({ length: GATE_ROWS * COLS }, (_, i) => i).filter((c) => !used.has(c)),
  ].filter((c) => !used.has(c));
  spec.dense.forEach((outputs, k) => {
    const inputs = denseIn[k]!;
    const dense = tiling(outputs, inputs);
    const need = dense.outputs * dense.inputs;
    if (need > free.length) {
      const taken = 64 - free.length;
      throw fail(`the ${outputs}×${inputs} ${k === spec.dense.length - 1 ? "output" : "dense"} layer needs ${need} cores; ${free.length} are free after the ${k === 0 ? "LSTM" : "layers before"}'s ${taken} (the chip has 64)`);
    }
    const tiles: LstmTile[] = [];
    const receivers: number[] = [];
    for (let ob = 0; ob < dense.outputs; ob++) {
      const cores = free.slice(ob * dense.inputs, (ob + 1) * dense.inputs);
      const receiver = cores[cores.length - 1]!;
      receivers.push(receiver);
      cores.forEach((core, ib) => tiles.push({ core, rowRange: dense.rowBlocks[ob]!, colRange: dense.colBlocks[ib]!, outputBlock: ob, inputBlock: ib, replica: 0, route: info(core, receiver) }));
    }
    free = free.slice(need);
    stack.dense.push(layers.length);
    layers.push({ layer: k === spec.dense.length - 1 ? "output" : `dense${k}`, matrix: { rows: outputs, cols: inputs }, tiles, receivers, replicas: 1, columnCopies: 1 });
  });
  if (replicas !== 1) addCopies(spec.name, layers, stack, replicas, free, needs);
  const coreIds = layers.flatMap((l) => l.tiles.map((t) => t.core)).sort((a, b) => a - b);
  // Every gate receiver reaches its GDPU slice (its column) over a link.
  const gdpuSlices = stack.lstm.flatMap(({ input }) => layers[input]!.receivers.map((r) => {
    const slice = r % COLS;
    if (!route(r, gdpuNode(slice))) throw fail(`core ${r} has no link to GDPU slice ${slice}`);
    return slice;
  }));
  return {
    network: spec.name,
    cores: coreIds.length,
    coreIds,
    weights: needs.weights,
    biases: H.reduce((s, h) => s + 4 * h, 0) + spec.dense.reduce((s, o) => s + o, 0),
    layers,
    gdpuSlices,
    stack,
  };
}

/** Copies of every matrix's tiles on the free cores (LstmMapOptions.replicas): the count per
 * group (an LSTM layer's gates, or a dense layer) fixed or from replicaCounts; each copy of a
 * tile on the free core nearest its block's receiver (lib/network/lstm-copies.ts). */
function addCopies(name: string, layers: LstmLayer[], stack: LstmStackLayout, replicas: number | "auto", free: number[], needs: { cores: number; weights: number }): void {
  const groups = [...stack.lstm.map(({ input, hidden }) => [input, hidden]), ...stack.dense.map((d) => [d])];
  const tiles = groups.map((g) => g.reduce((s, i) => s + layers[i]!.tiles.length, 0));
  const counts = replicas === "auto" ? replicaCounts(tiles, ARCH.cores.value) : groups.map(() => replicas);
  const used = tiles.reduce((s, t, i) => s + t * counts[i]!, 0);
  if (used > ARCH.cores.value) {
    throw new MappingError(
      `${name} with ${replicas} copies of every matrix needs ${used} cores; the chip has ${ARCH.cores.value} (replicas: ${Math.floor(ARCH.cores.value / needs.cores)} at most)`,
      { cores: used, weights: needs.weights * (replicas as number) },
    );
  }
  const pool = new Set(free);
  groups.forEach((g, gi) => {
    const k = counts[gi]!;
    for (const i of g) layers[i]!.replicas = k;
    for (let c = 1; c < k; c++) {
      for (const i of g) {
        const l = layers[i]!;
        const base = l.tiles.filter((t) => t.replica === 0);
        const got = nearestFreeCores(base.map((t) => l.receivers[t.outputBlock]!), pool);
        if (!got) throw new MappingError(`${name}: copy ${c + 1} of ${l.layer} has no free core with a link route to its receiver`, needs);
        base.forEach((t, j) => l.tiles.push({ ...t, core: got[j]!.core, replica: c, route: got[j]!.route }));
      }
    }
  });
}
