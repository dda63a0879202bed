// The on-chip link network ("5 Parallel Prism", 5PP): which link controller can send to
// which, shortest routes over links, routing tables with preambles, link timing, and a
// bit-error model.
//
// What the paper states (§I, §II, Extended Data Fig. 1, EDT I):
// - "418 physical communication links in total, which together implement a 5 Parallel
//   Prism communication fabric topology" (ref. 26, Dazzi et al.); core outputs and GDPU
//   inputs are interconnected by a grid of horizontal and vertical links.
// - a core transmits to and receives from "at most six neighboring cores (receiving and
//   transmitting cores are not necessarily the same)".
// - a link is eight parallel channels of one bit per clock: 3.2 Gbit/s at 400 MHz (EDT I).
// - the RX input of the LDPU comes "from the neighboring cores, or from off-chip".
// - links carry LDPU -> LDPU partial sums and LDPU -> GDPU inputs; the cores of row 4
//   (1-based) send to "their respective GDPU slice"; the GDPU row lies between rows 4 and 5.
// - routing tables are configured before runtime; the TX prepends a preamble that
//   identifies a routing path; a core samples only if enabled for that path; further
//   routing registers select a portion of the payload at TX and RX.
// The figure that maps every link (EDF 1c) is not available as text, so the exact link
// list is NOT known. Note that 418 directed links cannot all join two cores: with at most
// six TX partners per core there are at most 64 × 6 = 384 core-to-core links. The rest
// must end at GDPU inputs or the chip I/O, which the paper names as link endpoints.
//
// ASSUMPTION (the construction used here, chosen to meet every number above exactly).
// Nodes: cores 0..63 (row-major, core = row·8 + col, rows/cols 0-based), GDPU slices
// 64..71 (slice s sits in column s between rows 3 and 4, 0-based), and OFFCHIP = 72.
// 1. 322 core -> core links. Every core transmits to the cores E, W, N, S, SW and SE of it
//    (where they exist), so it receives from W, E, S, N, NE and NW: TX and RX sets differ
//    in their diagonals (the paper's "not necessarily the same"), both have ≤ 6 members.
//    Horizontal links serve row-wise partial-sum aggregation (ResNet-9, Fig. 3b), vertical
//    links column chains (LSTM, Figs. 4b, 5b); the down-diagonals close the triangles of
//    the "prism" so a layer's output can fan into the next row in one hop.
//    Count: 2·56 (E, W) + 2·56 (N, S) + 2·49 (SW, SE) = 322.
// 2. 16 core -> GDPU links: each core of rows 3 and 4 (0-based; the rows either side of
//    the GDPU row) to the slice of its column (Fig. 4b uses row 3 -> slice).
// 3. 72 OFFCHIP -> node links: one chip-I/O input into every core RX (paper: RX input
//    "from off-chip") and into every GDPU slice.
// 4. 8 GDPU -> OFFCHIP links: each slice's output leaves through the chip I/O (links carry
//    only LDPU and GDPU-input traffic in the current design, so the GDPU output that feeds
//    the dense layer and the hidden gate is assumed to go round through the I/O).
// Total 322 + 16 + 72 + 8 = 418. Core-to-core in- and out-degree ≤ 6 for every core.
// Link length is the Manhattan distance in core pitches (|Δrow| + |Δcol|): 1 for E, W,
// N, S, 2 for diagonals; core <-> GDPU 1; chip-I/O links 0 (the pad array of Fig. 1a
// covers the die, so each node has pads over it).

import { ARCH } from "./config.ts";
import { MAX_ROUTE_IDS, PREAMBLE_BYTES } from "./link-timing.ts";
import { ArgumentError } from "../runtime/validate.ts";

export * from "./link-timing.ts";

export const ROWS = ARCH.gridRows.value;
export const COLS = ARCH.gridCols.value;
export const CORES = ARCH.cores.value;
export const GDPU_BASE = CORES; // node id of GDPU slice 0
export const GDPU_SLICES = ARCH.gdpuSlices.value;
export const OFFCHIP = GDPU_BASE + GDPU_SLICES; // the chip I/O as one node
export const NODES = OFFCHIP + 1;
/** Row (0-based) just above the GDPU row; row GDPU_ROW_ABOVE + 1 is just below it. */
export const GDPU_ROW_ABOVE = ROWS / 2 - 1;
export const MAX_NEIGHBOURS = ARCH.linkMaxNeighbours.value;

/** What a link joins: "core" core → core, "gdpu" core → GDPU slice, "offchip-in" chip I/O → core or slice, "offchip-out" slice → chip I/O. */
export type LinkKind = "core" | "gdpu" | "offchip-in" | "offchip-out";
/** One on-chip link between two nodes: cores 0..63, GDPU slices 64..71, the chip I/O 72 (see the header). */
export interface Link {
  /** Index 0..417 of the link in the chip's link list. */
  readonly id: number;
  /** Sending node: core 0..63, GDPU slice 64..71 or the chip I/O 72. */
  readonly from: number;
  /** Receiving node, numbered like `from`. */
  readonly to: number;
  /** Manhattan length in core pitches. */
  readonly length: number;
  /** What the link joins. */
  readonly kind: LinkKind;
}

/** TX directions of every core as [Δrow, Δcol]: E, W, N, S, SW, SE. */
export const TX_OFFSETS: readonly (readonly [number, number])[] = [
  [0, 1], [0, -1], [-1, 0], [1, 0], [1, -1], [1, 1],
];

export function coreAt(row: number, col: number): number {
  if (!Number.isInteger(row) || row < 0 || row >= ROWS) throw new ArgumentError("row", `an integer in 0..${ROWS - 1}`, row);
  if (!Number.isInteger(col) || col < 0 || col >= COLS) throw new ArgumentError("col", `an integer in 0..${COLS - 1}`, col);
  return row * COLS + col;
}

export function checkCore(core: unknown, argument = "core"): number {
  if (typeof core !== "number" || !Number.isInteger(core) || core < 0 || core >= CORES) {
    throw new ArgumentError(argument, `a core number in 0..${CORES - 1}`, core);
  }
  return core;
}

export function checkNode(node: unknown, argument = "node"): number {
  if (typeof node !== "number" || !Number.isInteger(node) || node < 0 || node >= NODES) {
    throw new ArgumentError(argument, `a node id in 0..${NODES - 1} (cores 0..${CORES - 1}, GDPU ${GDPU_BASE}..${OFFCHIP - 1}, off-chip ${OFFCHIP})`, node);
  }
  return node;
}

export function rowCol(core: number): { row: number; col: number } {
  checkCore(core);
  return { row: Math.floor(core / COLS), col: core % COLS };
}

export function gdpuNode(slice: number): number {
  if (!Number.isInteger(slice) || slice < 0 || slice >= GDPU_SLICES) throw new ArgumentError("slice", `an integer in 0..${GDPU_SLICES - 1}`, slice);
  return GDPU_BASE + slice;
}

export const isCore = (node: number): boolean => Number.isInteger(node) && node >= 0 && node < CORES;

/** Manhattan distance between two cores in core pitches. */
export function manhattan(a: number, b: number): number {
  const p = rowCol(checkCore(a, "a"));
  const q = rowCol(checkCore(b, "b"));
  return Math.abs(p.row - q.row) + Math.abs(p.col - q.col);
}

function buildLinks(): Link[] {
  const out: Omit<Link, "id">[] = [];
  for (let core = 0; core < CORES; core++) {
    const row = Math.floor(core / COLS);
    const col = core % COLS;
    for (const [dr, dc] of TX_OFFSETS) {
      const r = row + dr;
      const c = col + dc;
      if (r < 0 || r >= ROWS || c < 0 || c >= COLS) continue;
      out.push({ from: core, to: r * COLS + c, length: Math.abs(dr) + Math.abs(dc), kind: "core" });
    }
  }
  for (let s = 0; s < GDPU_SLICES; s++) {
    out.push({ from: GDPU_ROW_ABOVE * COLS + s, to: GDPU_BASE + s, length: 1, kind: "gdpu" });
    out.push({ from: (GDPU_ROW_ABOVE + 1) * COLS + s, to: GDPU_BASE + s, length: 1, kind: "gdpu" });
  }
  for (let n = 0; n < OFFCHIP; n++) out.push({ from: OFFCHIP, to: n, length: 0, kind: "offchip-in" });
  for (let s = 0; s < GDPU_SLICES; s++) out.push({ from: GDPU_BASE + s, to: OFFCHIP, length: 0, kind: "offchip-out" });
  return out.map((l, id) => Object.freeze({ id, ...l }));
}

/** All 418 directed links. */
export const LINKS: readonly Link[] = Object.freeze(buildLinks());
export const CORE_LINKS: readonly Link[] = Object.freeze(LINKS.filter((l) => l.kind === "core"));

const outOf: Link[][] = Array.from({ length: NODES }, () => []);
const intoOf: Link[][] = Array.from({ length: NODES }, () => []);
const byPair = new Map<number, Link>();
for (const l of LINKS) {
  outOf[l.from]!.push(l);
  intoOf[l.to]!.push(l);
  byPair.set(l.from * NODES + l.to, l);
}

/** The cores a core transmits to (tx) and receives from (rx) over core-to-core links. */
export function neighbours(core: number): { tx: number[]; rx: number[] } {
  checkCore(core);
  return {
    tx: outOf[core]!.filter((l) => l.kind === "core").map((l) => l.to),
    rx: intoOf[core]!.filter((l) => l.kind === "core").map((l) => l.from),
  };
}

/** Every link leaving / entering a node (any kind). */
export const linksFrom = (node: number): readonly Link[] => outOf[checkNode(node)]!;
export const linksInto = (node: number): readonly Link[] => intoOf[checkNode(node)]!;

/** The directed link a -> b, or undefined. */
export function linkBetween(a: number, b: number): Link | undefined {
  return byPair.get(checkNode(a, "a") * NODES + checkNode(b, "b"));
}

export const hasLink = (a: number, b: number): boolean => linkBetween(a, b) !== undefined;

/** A shortest path over the links (`route(a, b)`). */
export interface Route {
  /** Nodes from source to destination. */
  readonly path: number[];
  /** The links taken, in order. */
  readonly links: Link[];
  /** Number of links taken (0 when source = destination). */
  readonly hops: number;
  /** Sum of link lengths (core pitches). */
  readonly length: number;
}

/** Options of `route`. */
export interface RouteOptions {
  /** Only these cores may be used as intermediate hops (the endpoints are always allowed). */
  via?: Iterable<number>;
  /** Longest route accepted, in links (a non-negative integer); default no limit. */
  maxHops?: number;
}

/**
 * Shortest route from `from` to `to` over links: fewest links first, then the least total
 * Manhattan length, then the lowest node ids (deterministic). Intermediate hops are cores
 * only (GDPU slices and the chip I/O do not forward). null when no route exists.
 * @param from - source node: core 0..63, GDPU slice 64..71 or the chip I/O 72
 * @param to - destination node, numbered like `from`
 * @throws {@link ArgumentError} on a bad node, `via` or `maxHops`
 */
export function route(from: number, to: number, options: RouteOptions = {}): Route | null {
  checkNode(from, "from");
  checkNode(to, "to");
  if (options === null || typeof options !== "object") throw new ArgumentError("options", "an object", options);
  let allowed: Set<number> | null = null;
  if (options.via !== undefined) {
    if (options.via === null || typeof (options.via as Iterable<number>)[Symbol.iterator] !== "function") {
      throw new ArgumentError("via", "an iterable of core numbers", options.via);
    }
    allowed = new Set();
    for (const c of options.via) allowed.add(checkCore(c, "via"));
  }
  const maxHops = options.maxHops ?? Infinity;
  if (maxHops !== Infinity && (!Number.isInteger(maxHops) || maxHops < 0)) {
    throw new ArgumentError("maxHops", "a non-negative integer", options.maxHops);
  }
  if (from === to) return { path: [from], links: [], hops: 0, length: 0 };
  // Lexicographic Dijkstra on (hops, length); with ≤ 73 nodes a linear scan is enough.
  const hops = new Array<number>(NODES).fill(Infinity);
  const len = new Array<number>(NODES).fill(Infinity);
  const prev = new Array<Link | null>(NODES).fill(null);
  const done = new Array<boolean>(NODES).fill(false);
  hops[from] = 0;
  len[from] = 0;
  for (;;) {
    let u = -1;
    for (let n = 0; n < NODES; n++) {
      if (done[n] || hops[n] === Infinity) continue;
      if (u < 0 || hops[n]! < hops[u]! || (hops[n] === hops[u] && len[n]! < len[u]!)) u = n;
    }
    if (u < 0 || u === to) break;
    done[u] = true;
    if (u !== from && (!isCore(u) || (allowed !== null && !allowed.has(u)))) continue; // does not forward
    if (hops[u]! + 1 > maxHops) continue;
    for (const l of outOf[u]!) {
      const h = hops[u]! + 1;
      const d = len[u]! + l.length;
      if (h < hops[l.to]! || (h === hops[l.to] && d < len[l.to]!)) {
        hops[l.to] = h;
        len[l.to] = d;
        prev[l.to] = l;
      }
    }
  }
  if (hops[to] === Infinity) return null;
  const links: Link[] = [];
  for (let n = to; n !== from; ) {
    const l = prev[n]!;
    links.unshift(l);
    n = l.from;
  }
  return { path: [from, ...links.map((l) => l.to)], links, hops: links.length, length: len[to]! };
}

// ---- routing tables and preambles ---------------------------------------------------

/** A portion of a payload: `length` bytes from byte `offset` (the routing registers). */
export interface PayloadSelect {
  offset: number;
  length: number;
}

export interface RoutingEntry {
  /** The preamble value that identifies this path. */
  readonly id: number;
  readonly path: readonly number[];
  /** Portion of the source's payload that the TX sends. */
  readonly tx: PayloadSelect | null;
  /** Portion of the received payload that the destination RX keeps. */
  readonly rx: PayloadSelect | null;
}

function checkSelect(sel: unknown, argument: string): PayloadSelect | null {
  if (sel === undefined || sel === null) return null;
  const s = sel as PayloadSelect;
  if (typeof sel !== "object" || !Number.isInteger(s.offset) || s.offset < 0 || !Number.isInteger(s.length) || s.length < 0) {
    throw new ArgumentError(argument, "{ offset, length } with non-negative integers", sel);
  }
  return { offset: s.offset, length: s.length };
}

function select(data: Uint8Array, sel: PayloadSelect | null, argument: string): Uint8Array {
  if (sel === null) return data.slice();
  if (sel.offset + sel.length > data.length) {
    throw new ArgumentError(argument, `a selection inside the ${data.length}-byte payload`, `${sel.offset}+${sel.length}`);
  }
  return data.slice(sel.offset, sel.offset + sel.length);
}

/**
 * The chip's routing tables: configured before runtime (add, then freeze), one entry per
 * routing path. A frame is the preamble (the path id, PREAMBLE_BYTES bytes) followed by
 * the selected payload. Each link controller on the path is enabled for that id: the next
 * core forwards, the destination samples; any other core ignores the frame.
 */
export class RoutingTable {
  private readonly entries: RoutingEntry[] = [];
  private frozen = false;

  /** Register a path (as from `route`) and return its preamble id. */
  add(path: readonly number[], options: { tx?: PayloadSelect; rx?: PayloadSelect } = {}): number {
    if (this.frozen) throw new Error("routing table is frozen: it is configured before runtime");
    if (!Array.isArray(path) || path.length < 2) throw new ArgumentError("path", "an array of at least two node ids", path);
    path.forEach((n, i) => checkNode(n, `path[${i}]`));
    for (let i = 0; i + 1 < path.length; i++) {
      if (!hasLink(path[i]!, path[i + 1]!)) throw new ArgumentError(`path[${i}..${i + 1}]`, "a pair of nodes joined by a link", `${path[i]} -> ${path[i + 1]}`);
      if (i > 0 && !isCore(path[i]!)) throw new ArgumentError(`path[${i}]`, "a core (only cores forward)", path[i]);
    }
    if (this.entries.length >= MAX_ROUTE_IDS) throw new ArgumentError("path", `one of at most ${MAX_ROUTE_IDS} routing paths (${PREAMBLE_BYTES}-byte preamble)`, path);
    const id = this.entries.length;
    this.entries.push(Object.freeze({ id, path: Object.freeze([...path]), tx: checkSelect(options.tx, "tx"), rx: checkSelect(options.rx, "rx") }));
    return id;
  }

  /** End of configuration: from here on the table is read-only (runtime). */
  freeze(): this {
    this.frozen = true;
    return this;
  }
  get size(): number {
    return this.entries.length;
  }

  entry(id: number): RoutingEntry {
    const e = Number.isInteger(id) ? this.entries[id] : undefined;
    if (e === undefined) throw new ArgumentError("id", `a routing path id in 0..${this.entries.length - 1}`, id);
    return e;
  }

  /** Whether `node` takes part in path `id`, and how: "forward", "sample" or null. */
  role(node: number, id: number): "forward" | "sample" | null {
    checkNode(node);
    const p = this.entry(id).path;
    const i = p.indexOf(node);
    if (i <= 0) return null;
    return i === p.length - 1 ? "sample" : "forward";
  }

  /** The frame the source's TX sends: preamble (big-endian id) then the TX-selected payload. */
  frame(id: number, payload: Uint8Array): Uint8Array {
    const e = this.entry(id);
    if (!(payload instanceof Uint8Array)) throw new ArgumentError("payload", "a Uint8Array", payload);
    const body = select(payload, e.tx, "tx");
    const out = new Uint8Array(PREAMBLE_BYTES + body.length);
    for (let i = 0; i < PREAMBLE_BYTES; i++) out[i] = (id >>> (8 * (PREAMBLE_BYTES - 1 - i))) & 0xff;
    out.set(body, PREAMBLE_BYTES);
    return out;
  }

  /**
   * What `node` does with a frame arriving from `sender`: null if it is not enabled to
   * receive that path from that sender; otherwise the frame to forward, or, at the
   * destination, the RX-selected payload.
   */
  receive(node: number, sender: number, frame: Uint8Array): { forward: Uint8Array } | { data: Uint8Array } | null {
    checkNode(node);
    checkNode(sender, "sender");
    if (!(frame instanceof Uint8Array) || frame.length < PREAMBLE_BYTES) throw new ArgumentError("frame", `a Uint8Array of at least ${PREAMBLE_BYTES} bytes`, frame);
    let id = 0;
    for (let i = 0; i < PREAMBLE_BYTES; i++) id = id * 256 + frame[i]!;
    const e = this.entries[id];
    if (e === undefined) return null;
    const i = e.path.indexOf(node);
    if (i <= 0 || e.path[i - 1] !== sender) return null;
    if (i < e.path.length - 1) return { forward: frame.slice() };
    return { data: select(frame.subarray(PREAMBLE_BYTES), e.rx, "rx") };
  }
}
