// What a network needs of the chip before any placement: per weight layer its MVM matrix,
// its tiles (tiling.ts layerTiles: the Methods' fewest ≤ 256 × 256 tiles, or a grouped
// conv's packed groups; one core each) and its
// weights; in total the cores and weights, which are exactly the counts lib/network/mapper.ts
// checks (its MappingError's `needs`). `map --model` prints these for a network too large to
// place; `map`, `run`, `cost` and `drift` refuse such a network with one line before any
// programming (ModelTooLargeError, exit 1).

import { CORES } from "../chip/links.ts";
import { isWeightNode, matrixShape, weightCount, type Network } from "./graph.ts";
import { CHIP_WEIGHTS, layerTiles } from "./tiling.ts";

/** What one weight layer needs of the chip. */
export interface LayerNeeds {
  /** The layer's node name. */
  readonly layer: string;
  /** The layer's kind. */
  readonly op: "conv2d" | "dense";
  /** The MVM matrix: outputs (crossbar rows) × inputs (columns). */
  readonly matrix: { readonly rows: number; readonly cols: number };
  /** Blocks along rows and columns (cores = outputs · inputs, less a grouped conv's tiles without weights). */
  readonly blocks: { readonly outputs: number; readonly inputs: number };
  /** Cores needed: one per tile. */
  readonly cores: number;
  /** The layer's weights. */
  readonly weights: number;
}

/** What a network needs of the chip (`mappingNeeds`), before any placement. */
export interface MappingNeeds {
  /** The network's name. */
  readonly network: string;
  /** Cores needed: one per tile. */
  readonly cores: number;
  /** Weights of all layers. */
  readonly weights: number;
  /** Per weight layer, in network order. */
  readonly layers: readonly LayerNeeds[];
  /** The chip's cores and weight capacity. */
  readonly chip: { readonly cores: number; readonly weights: number };
  /** Whether the needs are within the chip's (placement may still fail on routes). */
  readonly fits: boolean;
}

/** Per-layer and total cores and weights of `net` (shapes must already be valid). */
export function mappingNeeds(net: Network): MappingNeeds {
  const layers = net.nodes.filter(isWeightNode).map((l): LayerNeeds => {
    const { outputs, inputs } = matrixShape(l);
    const t = layerTiles(l);
    return { layer: l.name, op: l.op, matrix: { rows: outputs, cols: inputs }, blocks: { outputs: t.rowBlocks.length, inputs: t.colBlocks.length }, cores: t.tiles.length, weights: weightCount(l) };
  });
  const cores = layers.reduce((s, l) => s + l.cores, 0);
  const weights = layers.reduce((s, l) => s + l.weights, 0);
  return { network: net.name, cores, weights, layers, chip: { cores: CORES, weights: CHIP_WEIGHTS }, fits: cores <= CORES && weights <= CHIP_WEIGHTS };
}

/** A model too large for the chip: exit 1 with the one-line message. */
export class ModelTooLargeError extends Error {
  /** Always "ModelTooLargeError". */
  override name = "ModelTooLargeError";
  constructor(
    message: string,
    /** What the model needs (per layer and in total) against what the chip has. */
    readonly needs: MappingNeeds,
  ) {
    super(message);
  }
}

const n0 = (x: number): string => x.toLocaleString("en-US");

/** `resnet18.onnx needs 178 cores (11,172,032 weights); the chip has 64`. */
export function tooLargeMessage(what: string, needs: Pick<MappingNeeds, "cores" | "weights">): string {
  return `${what} needs ${needs.cores} cores (${n0(needs.weights)} weights); the chip has ${CORES}`;
}

/** Throw ModelTooLargeError (naming `what`, e.g. the model file) when `net` needs more than the chip has. */
export function assertFits(net: Network, what: string = net.name): MappingNeeds {
  const needs = mappingNeeds(net);
  if (!needs.fits) throw new ModelTooLargeError(tooLargeMessage(what, needs), needs);
  return needs;
}

/** The per-layer needs as text lines (for `map` and stderr). */
export function needsLines(needs: MappingNeeds): string[] {
  const w = Math.max(5, ...needs.layers.map((l) => l.layer.length));
  return [
    `  ${"layer".padEnd(w)}  matrix        cores  weights`,
    ...needs.layers.map((l) => `  ${l.layer.padEnd(w)}  ${`${l.matrix.rows}×${l.matrix.cols}`.padEnd(12)}  ${String(l.cores).padStart(5)}  ${n0(l.weights).padStart(9)}`),
    `  ${"total".padEnd(w)}  ${"".padEnd(12)}  ${String(needs.cores).padStart(5)}  ${n0(needs.weights).padStart(9)}   (the chip: ${needs.chip.cores} cores, ${n0(needs.chip.weights)} weights)`,
  ];
}
