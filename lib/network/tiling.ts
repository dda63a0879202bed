// The Methods' tiling ("Weight mapping onto cores"): a layer's W (outputs × inputs) cut into
// the fewest crossbar tiles with both dims ≤ 256, near-equal blocks; a tile's weights as a
// zero-filled 256 × 256 matrix (rows = outputs, cols = inputs).

import { ADC, ARCH, MVM, PROGRAMMING } from "../chip/config.ts";
import { CHARGE_LSB_PER_COUNT_NS } from "../chip/readout.ts";
import { ArgumentError } from "../runtime/validate.ts";
import { convGroups, denseConvWeights, matrixShape, type WeightNode } from "./graph.ts";
import type { Range, Tile } from "./mapping.ts";

export const XBAR_ROWS = ARCH.crossbarRows.value;
export const XBAR_COLS = ARCH.crossbarCols.value;
export const CHIP_WEIGHTS = ARCH.weightsPerChip.value;

/** Split n into b near-equal blocks: [floor(i·n/b), floor((i+1)·n/b)). */
export function splitRange(n: number, b: number): Range[] {
  return Array.from({ length: b }, (_, i) => [Math.floor((i * n) / b), Math.floor(((i + 1) * n) / b)] as const);
}

/** The Methods' tiling: fewest tiles with both dims ≤ 256, near-equal blocks. */
export function tiling(rows: number, cols: number): { outputs: number; inputs: number; rowBlocks: Range[]; colBlocks: Range[] } {
  for (const [v, a] of [[rows, "rows"], [cols, "cols"]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new ArgumentError(a, "a positive integer", v);
  }
  const outputs = Math.ceil(rows / XBAR_ROWS);
  const inputs = Math.ceil(cols / XBAR_COLS);
  return { outputs, inputs, rowBlocks: splitRange(rows, outputs), colBlocks: splitRange(cols, inputs) };
}

/**
 * Column copies of a layer's tiles (MapOptions.columnCopies): as many as fit side by side,
 * ⌊256 / w⌋ for w columns driven per read, and no more than keep every row's counter within
 * MVM.copyChargeFraction (1) of the ADC full scale for a full-scale input of either sign: a row
 * of programmed weights ŵ (|ŵ| ≤ 1 ↔ TDP Gmax) collects at most Σ|ŵ| · Gmax · 128 ns of charge
 * per copy. At least 1.
 */
export function columnCopiesFor(layer: WeightNode, colBlocks: readonly Range[], rowScale?: Float32Array): number {
  const pack = groupPacking(layer);
  const { outputs, inputs } = matrixShape(layer);
  const dense = layer.op === "conv2d" ? denseConvWeights(layer) : layer.weights;
  if (!pack) return matrixColumnCopies(dense, outputs, inputs, colBlocks, rowScale);
  const blocksOf = (r: number): readonly Range[] => {
    const c0 = Math.floor(r / pack.rows) * pack.cols;
    return [[c0, c0 + pack.cols]];
  };
  return copiesByCharge(dense, outputs, inputs, blocksOf, pack.cols, rowScale ?? uniformScale(dense, outputs));
}

/**
 * Column copies of the tiles of a plain outputs × inputs matrix `w` (row-major) cut into
 * `colBlocks` (columnCopiesFor's rule: ⌊256 / widest block⌋, bounded by the ADC range), rows
 * programmed as w[r] / rowScale[r] (default: the matrix's largest |weight| for every row).
 */
export function matrixColumnCopies(w: Float32Array, outputs: number, inputs: number, colBlocks: readonly Range[], rowScale?: ArrayLike<number>): number {
  const width = Math.max(...colBlocks.map(([a, b]) => b - a));
  return copiesByCharge(w, outputs, inputs, () => colBlocks, width, rowScale ?? uniformScale(w, outputs));
}

function copiesByCharge(w: Float32Array, outputs: number, inputs: number, blocksOf: (r: number) => readonly Range[], width: number, scale: ArrayLike<number>): number {
  let worst = 0; // the largest Σ|ŵ| of a row over one tile's columns
  for (let r = 0; r < outputs; r++) {
    for (const [c0, c1] of blocksOf(r)) {
      let s = 0;
      for (let j = c0; j < c1; j++) s += Math.abs(w[r * inputs + j]!);
      worst = Math.max(worst, s / scale[r]!);
    }
  }
  const perCopy = worst * PROGRAMMING.gmaxTdp.value * MVM.fullScalePulseNs.value * CHARGE_LSB_PER_COUNT_NS;
  const byCharge = perCopy > 0 ? Math.floor((MVM.copyChargeFraction.value * ADC.fullScaleCounts.value) / perCopy) : Infinity;
  return Math.max(1, Math.min(Math.floor(XBAR_COLS / width), byCharge));
}

function uniformScale(w: Float32Array, outputs: number): Float32Array {
  let m = 0;
  for (let i = 0; i < w.length; i++) m = Math.max(m, Math.abs(w[i]!));
  return new Float32Array(outputs).fill(m || 1);
}

/** A tile's weights as a 256 × 256 row-major crossbar matrix, zero-filled (rows = outputs,
 * cols = inputs); with `rowScale`, row r divided by rowScale[r] (the LDPU multiplies it back).
 * With `copies` m above 1 (column copies), row r holds its weights m times side by side: at
 * columns q·w … q·w + w − 1 for every q from 0 to m − 1, w = the tile's columns, or for a packed grouped conv
 * (lib/network/tiling.ts groupPacking) w = one group's columns and row r holds the weights of
 * its own group in every slot (each read drives one group's inputs in every slot). */
export function tileMatrix(layer: WeightNode, tile: Pick<Tile, "rowRange" | "colRange">, rowScale?: Float32Array, copies = 1): Float32Array {
  const { inputs } = matrixShape(layer);
  const w = layer.op === "conv2d" ? denseConvWeights(layer) : layer.weights;
  if (copies > 1 && groupPacking(layer)) return copiedTileMatrix(layer, tile, rowScale, copies);
  return matrixTile(w, inputs, tile.rowRange, tile.colRange, rowScale, copies);
}

/** Rows `rowRange` × columns `colRange` of a plain row-major matrix `w` of `inputs` columns as a
 * 256 × 256 crossbar matrix, zero-filled (tileMatrix's layout: row r divided by rowScale[r];
 * with `copies` m > 1 the row's weights m times side by side, one copy per block of w columns).
 * @throws {@link ArgumentError} when the block and its copies exceed the crossbar */
export function matrixTile(w: Float32Array, inputs: number, rowRange: Range, colRange: Range, rowScale?: ArrayLike<number>, copies = 1): Float32Array {
  const [r0, r1] = rowRange;
  const [c0, c1] = colRange;
  const width = c1 - c0;
  if (r1 - r0 > XBAR_ROWS || copies * width > XBAR_COLS) {
    throw new ArgumentError("tile", `at most ${XBAR_ROWS} × ${XBAR_COLS}${copies > 1 ? " with its copies" : ""}`, copies > 1 ? `${r1 - r0} × ${copies} · ${width}` : `${r1 - r0} × ${width}`);
  }
  const m = new Float32Array(XBAR_ROWS * XBAR_COLS);
  for (let r = r0; r < r1; r++) {
    const row = w.subarray(r * inputs + c0, r * inputs + c1);
    const k = rowScale ? 1 / rowScale[r]! : 1;
    for (let q = 0; q < copies; q++) {
      const at = (r - r0) * XBAR_COLS + q * width;
      if (k === 1) m.set(row, at);
      else for (let j = 0; j < width; j++) m[at + j] = row[j]! * k;
    }
  }
  return m;
}

/** A packed grouped conv's tile with column copies: row r holds its own group's weights in every slot. */
function copiedTileMatrix(layer: WeightNode, tile: Pick<Tile, "rowRange" | "colRange">, rowScale: Float32Array | undefined, copies: number): Float32Array {
  const { inputs } = matrixShape(layer);
  const [r0, r1] = tile.rowRange;
  const pack = groupPacking(layer)!;
  const w = pack.cols;
  if (r1 - r0 > XBAR_ROWS || copies * w > XBAR_COLS) throw new ArgumentError("tile", `at most ${XBAR_ROWS} × ${XBAR_COLS} with its copies`, `${r1 - r0} × ${copies} · ${w}`);
  const dense = denseConvWeights(layer as Extract<WeightNode, { op: "conv2d" }>);
  const m = new Float32Array(XBAR_ROWS * XBAR_COLS);
  for (let r = r0; r < r1; r++) {
    const c0 = Math.floor(r / pack.rows) * pack.cols;
    const row = dense.subarray(r * inputs + c0, r * inputs + c0 + w);
    const k = rowScale ? 1 / rowScale[r]! : 1;
    for (let q = 0; q < copies; q++) for (let j = 0; j < w; j++) m[(r - r0) * XBAR_COLS + q * w + j] = row[j]! * k;
  }
  return m;
}

/** Per-row weight scales of a layer: each output's largest |weight| over the whole row (1
 * for an all-zero row). Programming row r as W[r] / scale[r] lets every output use the full
 * conductance range whatever its magnitude (e.g. batch norm folded into the weights by an
 * exporter), and the receiver's LDPU affine multiplies scale[r] back. */
export function rowScales(layer: WeightNode): Float32Array {
  const { outputs, inputs } = matrixShape(layer);
  return matrixRowScales(layer.op === "conv2d" ? denseConvWeights(layer) : layer.weights, outputs, inputs);
}

/** rowScales of a plain outputs × inputs row-major matrix: each row's largest |weight| (1 for an all-zero row). */
export function matrixRowScales(w: Float32Array, outputs: number, inputs: number): Float32Array {
  const s = new Float32Array(outputs);
  for (let r = 0; r < outputs; r++) {
    let m = 0;
    for (let j = 0; j < inputs; j++) m = Math.max(m, Math.abs(w[r * inputs + j]!));
    s[r] = m > 0 ? m : 1;
  }
  return s;
}

/**
 * How a grouped (or depthwise) conv's groups are packed: when one group's block of the
 * block-diagonal matrix (out/groups rows × in/groups·k·k columns) fits a crossbar, each tile
 * holds `perTile` consecutive groups on its diagonal, and is read once per group with only
 * that group's inputs driven (the other columns at 0): zero-weight cells of the other groups
 * would otherwise add their leakage and noise times the other groups' inputs to every row.
 * Undefined for a dense layer, an ungrouped conv, or groups too large for a crossbar (then
 * the ordinary tiling applies, tiles without a weight left out).
 */
export function groupPacking(layer: WeightNode): { groups: number; rows: number; cols: number; perTile: number } | undefined {
  if (layer.op !== "conv2d" || convGroups(layer) === 1) return undefined;
  const groups = convGroups(layer);
  const rows = layer.outChannels / groups;
  const cols = (layer.inChannels / groups) * layer.kernel * layer.kernel;
  if (rows > XBAR_ROWS || cols > XBAR_COLS) return undefined;
  return { groups, rows, cols, perTile: Math.min(Math.floor(XBAR_ROWS / rows), Math.floor(XBAR_COLS / cols), groups) };
}

/** Whether a tile of the layer's MVM matrix holds any weight: always for a dense layer or an
 * ungrouped conv; for a grouped conv (block-diagonal matrix: output channel o reads only its
 * group's inputs) only when the rows' groups reach into the tile's columns. */
export function tileHoldsWeights(layer: WeightNode, rowRange: Range, colRange: Range): boolean {
  if (layer.op !== "conv2d" || convGroups(layer) === 1) return true;
  const g = convGroups(layer);
  const cout = layer.outChannels / g;
  const colsPerGroup = (layer.inChannels / g) * layer.kernel * layer.kernel;
  const g0 = Math.floor(rowRange[0] / cout);
  const g1 = Math.floor((rowRange[1] - 1) / cout);
  return g0 * colsPerGroup < colRange[1] && (g1 + 1) * colsPerGroup > colRange[0];
}

/** The tiles a layer occupies: (output block, input block) pairs that hold weights — the
 * Methods' tiling, or for a packed grouped conv one tile per `perTile` groups (block t =
 * rows and columns of groups t·perTile …, no partial sums between tiles). */
export function layerTiles(layer: WeightNode): { rowBlocks: Range[]; colBlocks: Range[]; tiles: { ob: number; ib: number }[] } {
  const pack = groupPacking(layer);
  if (pack) {
    const n = Math.ceil(pack.groups / pack.perTile);
    const block = (i: number, per: number): Range => [i * pack.perTile * per, Math.min(pack.groups, (i + 1) * pack.perTile) * per];
    const idx = Array.from({ length: n }, (_, i) => i);
    return { rowBlocks: idx.map((i) => block(i, pack.rows)), colBlocks: idx.map((i) => block(i, pack.cols)), tiles: idx.map((i) => ({ ob: i, ib: i })) };
  }
  const { outputs, inputs } = matrixShape(layer);
  const t = tiling(outputs, inputs);
  const tiles: { ob: number; ib: number }[] = [];
  t.rowBlocks.forEach((rr, ob) => t.colBlocks.forEach((cr, ib) => {
    if (tileHoldsWeights(layer, rr, cr)) tiles.push({ ob, ib });
  }));
  return { rowBlocks: t.rowBlocks, colBlocks: t.colBlocks, tiles };
}
