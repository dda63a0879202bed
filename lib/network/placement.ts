// Placement and routing of a mapping (lib/network/mapper.ts's header has the rules): cores
// taken in boustrophedon ("snake") order, each output block's tiles on a window of
// consecutive free snake positions spanning the fewest grid rows; the receiver of a block
// chosen by (hops from the farthest tile, total hops, total link length, core id); routes
// from lib/chip/links.ts, through the block's own cores where possible.

import { COLS as GRID_COLS, CORES, OFFCHIP, route } from "../chip/links.ts";
import type { Route } from "../chip/links.ts";
import { MappingError, type RouteInfo } from "./mapping.ts";

/** Core ids in boustrophedon order: row 0 left→right, row 1 right→left, ... */
export const SNAKE_ORDER: readonly number[] = Object.freeze(
  Array.from({ length: CORES }, (_, i) => {
    const r = Math.floor(i / GRID_COLS);
    const c = i % GRID_COLS;
    return r * GRID_COLS + (r % 2 === 0 ? c : GRID_COLS - 1 - c);
  }),
);

export const routeInfo = (r: Route): RouteInfo => ({ path: r.path, hops: r.hops, length: r.length });

function lexLess(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return false;
}

/** The free cores of one mapping and the routes between them; errors name the network. */
export class Placer {
  private readonly free: boolean[]; // by snake position
  private readonly limit: { maxHops?: number };
  private readonly hopsText: string;

  constructor(
    private readonly network: string,
    excluded: ReadonlySet<number>,
    maxHops: number,
    private readonly needs: { cores: number; weights: number },
  ) {
    this.free = SNAKE_ORDER.map((c) => !excluded.has(c));
    this.limit = maxHops === Infinity ? {} : { maxHops };
    this.hopsText = maxHops === Infinity ? "" : ` within ${maxHops} hop${maxHops === 1 ? "" : "s"}`;
  }

  /** The best window of `a` consecutive free snake positions (fewest grid rows, then earliest), else the first `a` free cores. */
  takeGroup(a: number): number[] {
    const rowOf = (pos: number): number => Math.floor(SNAKE_ORDER[pos]! / GRID_COLS);
    let best: { start: number; rows: number } | null = null;
    for (let start = 0; start + a <= CORES; start++) {
      let ok = true;
      for (let i = start; i < start + a && ok; i++) ok = this.free[i]!;
      if (!ok) continue;
      const rows = rowOf(start + a - 1) - rowOf(start) + 1;
      if (best === null || rows < best.rows) best = { start, rows };
    }
    const positions =
      best !== null
        ? Array.from({ length: a }, (_, i) => best!.start + i)
        : this.free.flatMap((f, pos) => (f ? [pos] : [])).slice(0, a);
    for (const pos of positions) this.free[pos] = false;
    return positions.map((pos) => SNAKE_ORDER[pos]!);
  }

  /** Shortest route, through `via` cores if possible, else through any core; null if none (within maxHops). */
  findRoute(from: number, to: number, via?: number[]): Route | null {
    return (via === undefined ? null : route(from, to, { via, ...this.limit })) ?? route(from, to, this.limit);
  }

  routeOrFail(from: number, to: number, what: string): Route {
    const r = this.findRoute(from, to);
    if (r === null) {
      const need = route(from, to);
      throw new MappingError(
        `network "${this.network}" cannot be mapped: ${what} needs a link route from ${from === OFFCHIP ? "the chip I/O" : `core ${from}`} to core ${to}` +
          `${this.hopsText}, and lib/chip/links.ts has none${need === null ? "" : ` (the shortest has ${need.hops} hops)`}`,
        this.needs,
      );
    }
    return r;
  }

  /** The receiver of a group's partial sums and every member's route to it. */
  receiver(group: number[], what: string): { recv: number; routes: Route[] } {
    let best: { recv: number; routes: Route[]; key: number[] } | null = null;
    for (const recv of group) {
      const found = group.map((c) => this.findRoute(c, recv, group));
      if (found.some((r) => r === null)) continue;
      const routes = found as Route[];
      const key = [Math.max(...routes.map((r) => r.hops)), routes.reduce((s, r) => s + r.hops, 0), routes.reduce((s, r) => s + r.length, 0), recv];
      if (best === null || lexLess(key, best.key)) best = { recv, routes, key };
    }
    if (best === null) {
      // No receiver in the group reaches every tile: say what the best one would need.
      const need = Math.min(...group.map((recv) => Math.max(...group.map((c) => route(c, recv)?.hops ?? Infinity))));
      throw new MappingError(
        `network "${this.network}" cannot be mapped: the partial sums of ${what} on cores ${group.join(", ")} ` +
          `need link routes to one receiving core${this.hopsText}, and lib/chip/links.ts has none (the best receiver needs ${need} hops)`,
        this.needs,
      );
    }
    return best;
  }
}
