// Per-layer and per-inference latency, energy and utilisation of a mapped network, from
// the Table I model's building blocks (lib/cost.ts layerStepCost). A conv layer runs one
// MVM step per output position (the unrolled patch is one input vector); a dense layer one.
// Layers run one after another (the paper moves activations between layers through the
// host: no inter-layer pipelining is assumed); within a layer the output blocks are
// independent cascades whose partial sums travel over the links to their receiver.

import { layerStepCost, type ReadMode } from "./cost.ts";
import { inferShapes, type Network } from "./graph.ts";
import type { Mapping } from "./mapper.ts";

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
      chainLength: p.blocks.inputs,
      inputs: p.tileShape.cols,
      outputs: p.tileShape.rows,
      mode,
    });
    const cells = p.tiles.reduce((s, t) => s + (t.rowRange[1] - t.rowRange[0]) * (t.colRange[1] - t.colRange[0]), 0);
    return {
      layer: p.layer,
      cores: p.tiles.length,
      steps,
      utilisation: cells / (p.tiles.length * 256 * 256),
      latencyNsPerStep: step.latencyNs,
      energyNjPerStep: step.energyNj,
      latencyUs: (steps * step.latencyNs) / 1000,
      energyUj: (steps * step.energyNj) / 1000,
    };
  });
  const latencyUs = layers.reduce((s, l) => s + l.latencyUs, 0);
  const energyUj = layers.reduce((s, l) => s + l.energyUj, 0);
  return { network: m.network, mode, cores: m.cores, layers, latencyUs, energyUj, inferencesPerS: 1e6 / latencyUs, inferencesPerJ: 1e6 / energyUj };
}
