// The Methods' tiling ("Weight mapping onto cores"): a layer's W (outputs × inputs) cut into
// the fewest crossbar tiles with both dims ≤ 256, near-equal blocks; a tile's weights as a
// zero-filled 256 × 256 matrix (rows = outputs, cols = inputs).

import { ARCH } from "../chip/config.ts";
import { ArgumentError } from "../runtime/validate.ts";
import { matrixShape, type WeightNode } from "./graph.ts";
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
  const m = new Float32Array(XBAR_ROWS * XBAR_COLS);
  for (let r = r0; r < r1; r++) m.set(layer.weights.subarray(r * inputs + c0, r * inputs + c1), (r - r0) * XBAR_COLS);
  return m;
}


