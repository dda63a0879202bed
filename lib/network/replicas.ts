// Weight replication on spare cores (MapOptions.replicas): a network that leaves cores free
// can hold k copies of a layer's tiles, each programmed independently; their partial sums,
// each scaled by 1/k in its LDPU, join the output block's chain of partial sums, so the
// receiver holds the mean of k independent reads. Programming error, drift spread and read
// noise of different devices are independent, so the analog error of the mean is 1/√k of one
// copy's (the INT8 roundings along the longer chain add √k/√12 LSB at most). The cost: k × the
// MVM reads and their energy, counted by the cost model because every copy is a tile.

import { ArgumentError } from "../runtime/validate.ts";

/** The largest number of copies "auto" gives a layer: beyond 8 the error falls by less
 * than 6 % per extra copy (1/√k) while the energy grows linearly. */
export const REPLICAS_MAX = 8;

/** Check a `replicas` option: a positive integer or "auto". */
export function parseReplicas(v: unknown, argument = "replicas"): number | "auto" {
  if (v === "auto") return "auto";
  const n = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n === "number" && Number.isInteger(n) && n >= 1 && n <= 64) return n;
  throw new ArgumentError(argument, '"auto" or an integer in 1..64 (copies of each layer\'s weights)', v);
}

/**
 * Copies per layer for "auto": every layer gets k = min(REPLICAS_MAX, ⌊available / Σ tiles⌋)
 * copies; the cores then left go one more copy at a time to the layers with the fewest tiles
 * (in network order among equals), while they fit and a layer has fewer than REPLICAS_MAX.
 * `tiles[i]` is layer i's tile count (≥ 1); Σ tiles ≤ available.
 */
export function replicaCounts(tiles: readonly number[], available: number, max = REPLICAS_MAX): number[] {
  const base = tiles.reduce((a, b) => a + b, 0);
  if (base === 0) return [];
  const k = Math.max(1, Math.min(max, Math.floor(available / base)));
  const out = tiles.map(() => k);
  let left = available - k * base;
  const order = tiles.map((t, i) => [t, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  for (const [t, i] of order) {
    if (out[i]! < max && t <= left) {
      out[i]!++;
      left -= t;
    }
  }
  return out;
}
