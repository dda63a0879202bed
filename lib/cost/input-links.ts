// The link transfers of a mapped layer's input that the cost model prices (lib/network/
// input-routes.ts: a weight layer's output joining a Concat on its way to the next layer,
// InputRoute.priced), per MVM step of the consuming layer.
//
// Each priced (source, tile) pair moves the tile's `bytes` INT8 values over its route, priced
// by linkCost (lib/cost/model.ts) as the partial-sum cascades of layerStepCost are: a fixed
// delay per hop (digitalHopNs) plus one byte per link clock, pipelined through the relays;
// energy: the relaying LDPUs' dynamic energy, (hops − 1) × bytes × digitalEnergyPerValuePj
// (the sender's first TX is part of the value it already produced).
// ASSUMPTION (the paper moves no activations between cores): a tile receives its sources one
// after another (one RX stream into its inputs), different tiles in parallel, and the step
// waits for its slowest tile before the MVM (no overlap, as layers do not overlap either);
// the consuming layer's cores draw their digital background power (digitalBackgroundCost)
// for that time. The full input patch is sent every step (no input buffer on a core).

import { digitalBackgroundCost, linkCost } from "./model.ts";
import type { LayerPlacement } from "../network/mapping.ts";

/** The priced input transfers of one MVM step of a layer (`inputLinkCost`). */
export interface InputLinkCost {
  /** Latency added to each step: the slowest tile's transfers, one after another, ns. */
  readonly latencyNsPerStep: number;
  /** Energy added to each step: the relays' dynamic energy and the layer's cores' digital
   * background power over that latency, nJ. */
  readonly energyNjPerStep: number;
  /** INT8 values moved per step (all priced routes). */
  readonly bytesPerStep: number;
}

/**
 * The priced input transfers (InputRoute.priced) of one MVM step of layer `p`, or null when
 * it has none (its input reaches it through the host, or from one producer).
 * @param p - a weight layer of a mapping (lib/network/mapper.ts mapNetwork)
 */
export function inputLinkCost(p: Pick<LayerPlacement, "inputRoutes" | "tiles">): InputLinkCost | null {
  const perTile = new Map<number, number>();
  let energyNj = 0;
  let bytes = 0;
  for (const s of p.inputRoutes ?? []) {
    if (!s.priced) continue;
    for (const t of s.tiles) {
      const c = linkCost(t.bytes, t.route.hops);
      perTile.set(t.tile, (perTile.get(t.tile) ?? 0) + c.latencyNs);
      energyNj += c.energyNj;
      bytes += t.bytes;
    }
  }
  if (perTile.size === 0) return null;
  const latencyNs = Math.max(...perTile.values());
  return { latencyNsPerStep: latencyNs, energyNjPerStep: energyNj + digitalBackgroundCost(p.tiles.length, latencyNs).energyNj, bytesPerStep: bytes };
}
