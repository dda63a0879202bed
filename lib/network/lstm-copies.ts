// Where the copies of an LSTM mapping's tiles go (LstmMapOptions.replicas): each copy of a
// tile on the free core nearest its block's receiver (fewest links, then the least link
// length, then the lowest core id), so a copy of a gate tile sits near its column's row-4
// receiver and GDPU slice and a copy of a dense tile near its block's receiver. Kept apart
// from lib/network/lstm-map.ts (plain core numbers in and out, no mapping types).

import { route } from "../chip/links.ts";

/** A route over the links as the mapping records it. */
export interface CopyRoute {
  /** Nodes from the copy's core to the receiver. */
  path: number[];
  /** Links taken. */
  hops: number;
  /** Sum of link lengths, core pitches. */
  length: number;
}

/**
 * For each receiver in `receivers` (one per tile to copy, in order), take the nearest core in
 * `free` that has a link route to it and remove it from `free`.
 * @returns the cores taken and their routes, in the order of `receivers`; null when a receiver
 *   has no free core that reaches it
 */
export function nearestFreeCores(receivers: readonly number[], free: Set<number>): { core: number; route: CopyRoute }[] | null {
  const out: { core: number; route: CopyRoute }[] = [];
  for (const to of receivers) {
    let best: { core: number; route: CopyRoute } | null = null;
    for (const c of [...free].sort((a, b) => a - b)) {
      const r = route(c, to);
      if (!r) continue;
      if (best === null || r.hops < best.route.hops || (r.hops === best.route.hops && r.length < best.route.length)) {
        best = { core: c, route: { path: [...r.path], hops: r.hops, length: r.length } };
      }
    }
    if (best === null) return null;
    free.delete(best.core);
    out.push(best);
  }
  return out;
}
