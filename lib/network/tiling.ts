// The Methods' tiling ("Weight mapping onto cores"): a layer's W (outputs × inputs) cut into
// the fewest crossbar tiles with both dims ≤ 256, near-equal blocks; a tile's weights as a
// zero-filled 256 × 256 matrix (rows = outputs, cols = inputs).

import { ARCH } from "../chip/config.ts";
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

/** A tile's weights as a 256 × 256 row-major crossbar matrix, zero-filled (rows = outputs, cols = inputs). */
export function tileMatrix(layer: WeightNode, tile: Pick<Tile, "rowRange" | "colRange">): Float32Array {
  const { inputs } = matrixShape(layer);
  const [r0, r1] = tile.rowRange;
  const [c0, c1] = tile.colRange;
  if (r1 - r0 > XBAR_ROWS || c1 - c0 > XBAR_COLS) throw new ArgumentError("tile", `at most ${XBAR_ROWS} × ${XBAR_COLS}`, `${r1 - r0} × ${c1 - c0}`);
  const w = layer.op === "conv2d" ? denseConvWeights(layer) : layer.weights;
  const m = new Float32Array(XBAR_ROWS * XBAR_COLS);
  for (let r = r0; r < r1; r++) m.set(w.subarray(r * inputs + c0, r * inputs + c1), (r - r0) * XBAR_COLS);
  return m;
}

/** Whether a tile of the layer's MVM matrix holds any weight: always for a dense layer or an
 * ungrouped conv; for a grouped conv (block-diagonal matrix: output channel o reads only its
 * group's inputs) only when the rows' groups reach into the tile's columns. Tiles without a
 * weight are not placed: each tile packs the groups that meet on it, block-diagonally. */
export function tileHoldsWeights(layer: WeightNode, rowRange: Range, colRange: Range): boolean {
  if (layer.op !== "conv2d" || convGroups(layer) === 1) return true;
  const g = convGroups(layer);
  const cout = layer.outChannels / g;
  const colsPerGroup = (layer.inChannels / g) * layer.kernel * layer.kernel;
  const g0 = Math.floor(rowRange[0] / cout);
  const g1 = Math.floor((rowRange[1] - 1) / cout);
  return g0 * colsPerGroup < colRange[1] && (g1 + 1) * colsPerGroup > colRange[0];
}

/** The tiles a layer occupies: (output block, input block) pairs of its tiling that hold weights. */
export function layerTiles(layer: WeightNode): { rowBlocks: Range[]; colBlocks: Range[]; tiles: { ob: number; ib: number }[] } {
  const { outputs, inputs } = matrixShape(layer);
  const t = tiling(outputs, inputs);
  const tiles: { ob: number; ib: number }[] = [];
  t.rowBlocks.forEach((rr, ob) => t.colBlocks.forEach((cr, ib) => {
    if (tileHoldsWeights(layer, rr, cr)) tiles.push({ ob, ib });
  }));
  return { rowBlocks: t.rowBlocks, colBlocks: t.colBlocks, tiles };
}


