// Per-layer and per-inference latency, energy and utilisation of a mapped network, from
// the Table I model's building blocks (lib/cost/index.ts layerStepCost). A conv layer runs one
// MVM step per output position (the unrolled patch is one input vector); a dense layer one.
// Layers run one after another (the paper moves activations between layers through the
// host: no inter-layer pipelining is assumed); within a layer the output blocks are
// independent cascades whose partial sums travel over the links to their receiver.

import { layerStepCost, type ReadMode } from "./index.ts";
import { type Network } from "../network/graph.ts";
import { inferShapes } from "../network/graph-shapes.ts";
import { lstmStackOf, type LstmMapping } from "../network/lstm-map.ts";
import type { Mapping } from "../network/mapper.ts";
import { inputLinkCost, type InputLinkCost } from "./input-links.ts";

/** The cost of one layer of a mapped network, per inference (`networkCost`, `lstmCost`). */
export interface LayerCost {
  /** The layer's node name (LSTM: "gates (+GDPU)", "lstm k gates (+GDPU)", or the dense layer's: "dense0", …, "output"). */
  layer: string;
  /** Cores the layer occupies. */
  cores: number;
  /** MVM steps per inference (output positions of a conv, 1 for a dense layer). */
  steps: number;
  /** Fraction of the layer's crossbar cells holding weights. */
  utilisation: number;
  /** Latency of one MVM step (MVM, LDPU stream, cascade hops, GDPU), ns. */
  latencyNsPerStep: number;
  /** Energy of one MVM step, nJ. */
  energyNjPerStep: number;
  /** Latency per inference (steps × step latency), µs. */
  latencyUs: number;
  /** Energy per inference, µJ. */
  energyUj: number;
  /** The priced input transfers over the links included in the step figures (a Concat's
   * producers sending to this layer, lib/cost/input-links.ts); absent when there are none. */
  inputLinks?: InputLinkCost;
}

/** Latency, energy and throughput of one inference of a mapped network (`networkCost`; one LSTM timestep for `lstmCost`). Layers run one after another. */
export interface NetworkCost {
  /** The network's name. */
  network: string;
  /** The read mode priced. */
  mode: ReadMode;
  /** Cores the mapping occupies. */
  cores: number;
  /** Per layer, in execution order. */
  layers: LayerCost[];
  /** Latency of one inference, µs (the layers' sum). */
  latencyUs: number;
  /** Energy of one inference, µJ (the layers' sum). */
  energyUj: number;
  /** Inferences per second and per joule at that latency and energy (one input at a time). */
  inferencesPerS: number;
  /** Inferences per joule (1 / energy). */
  inferencesPerJ: number;
}

/**
 * Latency and energy of one inference of a mapped feed-forward network, from the Table I
 * model: a conv layer runs one MVM step per output position, a dense layer one; layers run
 * one after another (no inter-layer pipelining).
 * @param net - the network (its shapes give each conv layer's output positions)
 * @param m - its mapping (`mapNetwork(net)`)
 * @param mode - the read mode to price
 */
export function networkCost(net: Network, m: Mapping, mode: ReadMode): NetworkCost {
  const shapes = inferShapes(net);
  const layers = m.layers.map((p): LayerCost => {
    const out = shapes.get(p.layer)!;
    const steps = p.op === "conv2d" ? out[1]! * out[2]! : 1;
    const step = layerStepCost({
      chains: p.blocks.outputs,
      // The longest partial-sum chain: a grouped conv's blocks hold only the tiles with weights.
      chainLength: Math.max(...Array.from({ length: p.blocks.outputs }, (_, ob) => p.tiles.filter((t) => t.outputBlock === ob).length)),
      // Columns driven per read: a packed grouped conv drives one group's columns per read, and
      // column copies (LayerPlacement.columnCopies) drive every copy: m × the conducting cells.
      inputs: Math.min(256, Math.ceil(p.tileShape.cols / (p.groupsPerTile ?? 1)) * (p.columnCopies ?? 1)),
      outputs: p.tileShape.rows,
      mode,
    });
    // Cells holding weights: the tiles' areas, or a grouped conv's own weights (its tiles are block-diagonal).
    // With column copies (LayerPlacement.columnCopies) every row holds its weights m times.
    const cells = (p.groups ? p.weights * p.replicas : p.tiles.reduce((s, t) => s + (t.rowRange[1] - t.rowRange[0]) * (t.colRange[1] - t.colRange[0]), 0)) * (p.columnCopies ?? 1);
    // A packed grouped conv reads each tile once per group (lib/network/tiling.ts groupPacking).
    const reads = p.groupsPerTile ?? 1;
    // A Concat's producers send this layer's input over the links once per step.
    const links = inputLinkCost(p);
    const latencyNs = reads * step.latencyNs + (links?.latencyNsPerStep ?? 0);
    const energyNj = reads * step.energyNj + (links?.energyNjPerStep ?? 0);
    return {
      layer: p.layer,
      cores: p.tiles.length,
      steps,
      utilisation: cells / (p.tiles.length * 256 * 256),
      latencyNsPerStep: latencyNs,
      energyNjPerStep: energyNj,
      latencyUs: (steps * latencyNs) / 1000,
      energyUj: (steps * energyNj) / 1000,
      ...(links ? { inputLinks: links } : {}),
    };
  });
  const latencyUs = layers.reduce((s, l) => s + l.latencyUs, 0);
  const energyUj = layers.reduce((s, l) => s + l.energyUj, 0);
  return { network: m.network, mode, cores: m.cores, layers, latencyUs, energyUj, inferencesPerS: 1e6 / latencyUs, inferencesPerJ: 1e6 / energyUj };
}

/**
 * One LSTM timestep (lib/network/lstm-map.ts placement): each LSTM layer's gates as column
 * cascades into the GDPU slices (Table I's LSTM use case for the captioning network), layer
 * after layer, then the dense layers' cascades; per sequence, T timesteps one after another.
 */
export function lstmCost(m: LstmMapping, mode: ReadMode): NetworkCost & { timestepUs: number } {
  const stack = lstmStackOf(m);
  const multi = stack.lstm.length > 1;
  const size = (r: readonly [number, number]) => r[1] - r[0];
  // A tile with column copies (LstmLayer.columnCopies) drives m × its columns: m × the cells conduct.
  const tilesOf = (ls: LstmMapping["layers"]) => ls.flatMap((l) => l.tiles.map((t) => ({ t, cols: size(t.colRange) * l.columnCopies })));
  const util = (ls: LstmMapping["layers"]) => {
    const tiles = tilesOf(ls);
    return tiles.reduce((s, { t, cols }) => s + size(t.rowRange) * cols, 0) / (tiles.length * 256 * 256);
  };
  const row = (layer: string, ls: LstmMapping["layers"], gdpu: boolean): LayerCost => {
    // Output block 0's chain: its tiles and their copies (every copy is a core of the chain).
    const chain = tilesOf(ls).filter(({ t }) => t.outputBlock === 0);
    const step = layerStepCost({
      chains: ls[0]!.receivers.length,
      chainLength: chain.length,
      inputs: Math.max(...chain.map(({ cols }) => cols)),
      outputs: size(chain[0]!.t.rowRange),
      ...(gdpu ? { gdpu: true } : {}),
      mode,
    });
    const cores = ls.reduce((s, l) => s + l.tiles.length, 0);
    return { layer, cores, steps: 1, utilisation: util(ls), latencyNsPerStep: step.latencyNs, energyNjPerStep: step.energyNj, latencyUs: step.latencyNs / 1000, energyUj: step.energyNj / 1000 };
  };
  const layers: LayerCost[] = [
    ...stack.lstm.map(({ input, hidden }, k) => row(`${multi ? `lstm ${k} ` : ""}gates (+GDPU)`, [m.layers[input]!, m.layers[hidden]!], true)),
    ...stack.dense.map((d) => row(m.layers[d]!.layer, [m.layers[d]!], false)),
  ];
  const latencyUs = layers.reduce((s, l) => s + l.latencyUs, 0);
  const energyUj = layers.reduce((s, l) => s + l.energyUj, 0);
  return { network: m.network, mode, cores: m.cores, layers, latencyUs, energyUj, inferencesPerS: 1e6 / latencyUs, inferencesPerJ: 1e6 / energyUj, timestepUs: latencyUs };
}

/** One sequence of `steps` timesteps: every LSTM layer each step; the dense head each step
 * ("all") or once at the end ("last"). */
export function sequenceCost(m: LstmMapping, mode: ReadMode, steps: number, outputs: "last" | "all"): { latencyUs: number; energyUj: number; perTimestep: NetworkCost } {
  const c = lstmCost(m, mode);
  const dense = new Set(lstmStackOf(m).dense.map((d) => m.layers[d]!.layer));
  let latencyUs = 0;
  let energyUj = 0;
  for (const l of c.layers) {
    const times = dense.has(l.layer) && outputs === "last" ? 1 : steps;
    latencyUs += times * l.latencyUs;
    energyUj += times * l.energyUj;
  }
  return { latencyUs, energyUj, perTimestep: c };
}
