// Per-layer and per-inference latency, energy and utilisation of a mapped network, from
// the Table I model's building blocks (lib/cost/index.ts layerStepCost). A conv layer runs one
// MVM step per output position (the unrolled patch is one input vector); a dense layer one.
// Layers run one after another (the paper moves activations between layers through the
// host: no inter-layer pipelining is assumed); within a layer the output blocks are
// independent cascades whose partial sums travel over the links to their receiver.

import { layerStepCost, type ReadMode } from "./index.ts";
import { inferShapes, type Network } from "../network/graph.ts";
import type { LstmMapping } from "../network/lstm-map.ts";
import type { Mapping } from "../network/mapper.ts";

export interface LayerCost {
  layer: string;
  cores: number;
  /** MVM steps per inference (output positions of a conv, 1 for a dense layer). */
  steps: number;
  /** Fraction of the layer's crossbar cells holding weights. */
  utilisation: number;
  latencyNsPerStep: number;
  energyNjPerStep: number;
  latencyUs: number;
  energyUj: number;
}

export interface NetworkCost {
  network: string;
  mode: ReadMode;
  cores: number;
  layers: LayerCost[];
  latencyUs: number;
  energyUj: number;
  /** Inferences per second and per joule at that latency and energy (one input at a time). */
  inferencesPerS: number;
  inferencesPerJ: number;
}

export function networkCost(net: Network, m: Mapping, mode: ReadMode): NetworkCost {
  const shapes = inferShapes(net);
  const layers = m.layers.map((p): LayerCost => {
    const out = shapes.get(p.layer)!;
    const steps = p.op === "conv2d" ? out[1]! * out[2]! : 1;
    const step = layerStepCost({
      chains: p.blocks.outputs,
      // The longest partial-sum chain: a grouped conv's blocks hold only the tiles with weights.
      chainLength: Math.max(...Array.from({ length: p.blocks.outputs }, (_, ob) => p.tiles.filter((t) => t.outputBlock === ob).length)),
      inputs: p.tileShape.cols,
      outputs: p.tileShape.rows,
      mode,
    });
    // Cells holding weights: the tiles' areas, or a grouped conv's own weights (its tiles are block-diagonal).
    const cells = p.groups ? p.weights : p.tiles.reduce((s, t) => s + (t.rowRange[1] - t.rowRange[0]) * (t.colRange[1] - t.colRange[0]), 0);
    // A packed grouped conv reads each tile once per group (lib/network/tiling.ts groupPacking).
    const reads = p.groupsPerTile ?? 1;
    return {
      layer: p.layer,
      cores: p.tiles.length,
      steps,
      utilisation: cells / (p.tiles.length * 256 * 256),
      latencyNsPerStep: reads * step.latencyNs,
      energyNjPerStep: reads * step.energyNj,
      latencyUs: (steps * reads * step.latencyNs) / 1000,
      energyUj: (steps * reads * step.energyNj) / 1000,
    };
  });
  const latencyUs = layers.reduce((s, l) => s + l.latencyUs, 0);
  const energyUj = layers.reduce((s, l) => s + l.energyUj, 0);
  return { network: m.network, mode, cores: m.cores, layers, latencyUs, energyUj, inferencesPerS: 1e6 / latencyUs, inferencesPerJ: 1e6 / energyUj };
}

/**
 * One LSTM timestep (lib/network/lstm-map.ts placement): the gate layer as 8 column cascades into
 * the GDPU slices (Table I's LSTM use case for the captioning network), then the output
 * layer's cascades; per sequence, T timesteps one after another.
 */
export function lstmCost(m: LstmMapping, mode: ReadMode): NetworkCost & { timestepUs: number } {
  const gates = m.layers.filter((l) => l.layer.startsWith("gates"));
  const outL = m.layers.find((l) => l.layer === "output")!;
  const col = (l: LstmMapping["layers"][number]) => l.tiles.filter((t) => t.outputBlock === 0);
  const gTiles = gates.flatMap(col);
  const size = (r: readonly [number, number]) => r[1] - r[0];
  const gStep = layerStepCost({
    chains: gates[0]!.receivers.length,
    chainLength: gTiles.length,
    inputs: Math.max(...gTiles.map((t) => size(t.colRange))),
    outputs: size(gTiles[0]!.rowRange),
    gdpu: true,
    mode,
  });
  const oTiles = col(outL);
  const oStep = layerStepCost({
    chains: outL.receivers.length,
    chainLength: oTiles.length,
    inputs: Math.max(...oTiles.map((t) => size(t.colRange))),
    outputs: size(oTiles[0]!.rowRange),
    mode,
  });
  const util = (ls: LstmMapping["layers"]) => {
    const tiles = ls.flatMap((l) => l.tiles);
    return tiles.reduce((s, t) => s + size(t.rowRange) * size(t.colRange), 0) / (tiles.length * 256 * 256);
  };
  const layers: LayerCost[] = [
    { layer: "gates (+GDPU)", cores: gates.reduce((s, l) => s + l.tiles.length, 0), steps: 1, utilisation: util(gates), latencyNsPerStep: gStep.latencyNs, energyNjPerStep: gStep.energyNj, latencyUs: gStep.latencyNs / 1000, energyUj: gStep.energyNj / 1000 },
    { layer: "output", cores: outL.tiles.length, steps: 1, utilisation: util([outL]), latencyNsPerStep: oStep.latencyNs, energyNjPerStep: oStep.energyNj, latencyUs: oStep.latencyNs / 1000, energyUj: oStep.energyNj / 1000 },
  ];
  const latencyUs = layers.reduce((s, l) => s + l.latencyUs, 0);
  const energyUj = layers.reduce((s, l) => s + l.energyUj, 0);
  return { network: m.network, mode, cores: m.cores, layers, latencyUs, energyUj, inferencesPerS: 1e6 / latencyUs, inferencesPerJ: 1e6 / energyUj, timestepUs: latencyUs };
}
