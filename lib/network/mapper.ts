// Maps a network (lib/graph.ts) onto the chip's 8 × 8 cores of 256 × 256 unit cells:
// weight layers are unrolled into MVM matrices, split into crossbar tiles, the tiles placed
// on cores, the partial sums of a split layer routed over the on-chip links (lib/links.ts)
// to one receiving core, and the LDPU epilogue (folded batch norm / bias affine, ReLU,
// residual add) assigned to that receiver.
//
// Matrix orientation. A layer is y = W x with W[out][k]: for a conv, x is the unrolled
// k × k × C_in input patch, k = (c·kh + i)·kw + j, which is exactly the [out][in][kh][kw]
// weight order of lib/graph.ts; for a dense layer x is the input vector. On a core the MVM
// is y[row] = Σ_col G[row][col] · x[col] (the inputs drive the columns through the PWM
// DACs, each row has its ADC), so the patch / input dimension maps to crossbar COLUMNS and
// the outputs (conv output channels, dense outputs) to crossbar ROWS. (The Methods write the
// deep ResNet-9 layer as "2016×224", inputs × outputs; here that matrix is 224 rows × 2016
// columns.) A tile's rowRange is its output range, colRange its input range.
//
// Tiling rule (Methods, "Weight mapping onto cores"): "split into the smallest possible
// amount of sub-matrices which have the same number of rows and columns". Both dims must be
// ≤ 256, so the fewest tiles is ceil(outputs/256) · ceil(inputs/256); each dim is cut into
// that many near-equal blocks (block i of n into b: [floor(i·n/b), floor((i+1)·n/b)); equal
// when b divides n, as for every ResNet-9 layer). The 224 × 2016 deep layer gives
// 1 × 8 tiles of 224 × 252 (the Methods' "8 252×224 sub-matrices"). Tiles are zero-filled
// to 256 × 256 (`tileMatrix`).
//
// Aggregation. The tiles of one output block hold partial sums of the same outputs over
// different inputs; they travel over links to one receiving core, whose LDPU adds them (RX
// add) and then applies the epilogue. The partial sums of a tile are ASSUMED to be sent as
// one byte per output (the chip's INT8 LDPU outputs), `cycles` = transferCycles(rows, hops).
//
// Placement (deterministic, greedy). Cores are ordered in boustrophedon ("snake") order:
// row 0 left to right, row 1 right to left, row 2 left to right, ..., so consecutive cores
// are always joined by an E/W or N/S link in both directions (lib/links.ts). Each output
// block of each weight layer, in network order, takes a window of consecutive free snake
// positions spanning the fewest grid rows, the earliest such window first (so an 8-tile
// layer takes one whole row, and small layers fill rows without straddling them when they
// can); without any free window it takes the first free cores in snake order. The receiver is
// the group member with the fewest hops from the farthest tile, then the least total hops,
// then the least total link length, then the lowest core id. Routes are lib/links.ts
// `route(tile, receiver, { via: group })`, so partial sums pass only through the layer's
// own cores (they can accumulate on the way); if that fails they may pass through any core.
// For ResNet-9 this gives the paper's Fig. 3b layout: Conv0–4 and the dense layer on the
// first two rows (16 cores), Conv5, Conv6, Conv7 one full row each, 40 cores. Within a row
// lib/links.ts has only nearest-neighbour E/W links, so a row-wide layer's receiver sits in
// column 3 and its farthest tile (column 7) is 4 hops away (hops 3,2,1,0,1,2,3,4); the
// diagonal links only point down (SW, SE), so they shorten routes only between rows.
// Residuals that come from a host-side max-pool (both in ResNet-9) enter the receiver over
// its chip-I/O link (lib/links.ts OFFCHIP -> core); an on-chip residual source is routed
// from its layer's receiver.
//
// A network that does not fit (more than 64 cores or 4,194,304 weights), or a tile with no
// link route to its receiver (within `maxHops`), gets one MappingError stating the need.

import { ARCH } from "../chip/config.ts";
import { inferShapes, isWeightNode, matrixShape, nodeInputs, weightCount } from "./graph.ts";
import type { Network, Node, WeightNode } from "./graph.ts";
import { COLS as GRID_COLS, CORES, OFFCHIP, ROWS as GRID_ROWS, route, transferCycles } from "../chip/links.ts";
import type { Route } from "../chip/links.ts";
import { ArgumentError, knownKeys } from "../runtime/validate.ts";

export const XBAR_ROWS = ARCH.crossbarRows.value;
export const XBAR_COLS = ARCH.crossbarCols.value;
export const CHIP_WEIGHTS = ARCH.weightsPerChip.value;

/** The network needs more than the chip has, or a partial sum cannot reach its receiver. */
export class MappingError extends RangeError {
  constructor(
    message: string,
    readonly needs: { cores: number; weights: number },
  ) {
    super(message);
    this.name = "MappingError";
  }
}

export type Range = readonly [start: number, end: number];

export interface RouteInfo {
  readonly path: readonly number[];
  readonly hops: number;
  /** Sum of link lengths, core pitches. */
  readonly length: number;
}

export interface Tile {
  readonly core: number;
  /** Outputs held on crossbar rows 0..(end − start − 1). */
  readonly rowRange: Range;
  /** Inputs (unrolled patch indices) on crossbar columns 0..(end − start − 1). */
  readonly colRange: Range;
  readonly outputBlock: number;
  readonly inputBlock: number;
  /** Route of this tile's partial sums to its receiver (hops 0 on the receiver itself). */
  readonly route: RouteInfo;
  /** Link clock cycles to move the partial sums (1 byte per output, preamble included). */
  readonly cycles: number;
}

export type LdpuOp =
  | { readonly op: "affine"; readonly folds: readonly string[] }
  | { readonly op: "relu"; readonly node: string }
  | { readonly op: "add"; readonly node: string; readonly residual: string; readonly routes: readonly RouteInfo[] };

export interface LayerPlacement {
  readonly layer: string;
  readonly op: "conv2d" | "dense";
  readonly matrix: { readonly rows: number; readonly cols: number };
  /** Blocks along rows (outputs) and columns (inputs): tiles = outputBlocks · inputBlocks. */
  readonly blocks: { readonly outputs: number; readonly inputs: number };
  /** Largest tile (rows × cols); all tiles have this shape when the blocks divide evenly. */
  readonly tileShape: { readonly rows: number; readonly cols: number };
  readonly tiles: readonly Tile[];
  /** Receiving core of each output block. */
  readonly receivers: readonly number[];
  /** receivers[0]. */
  readonly receiver: number;
  /** Hop count of every tile's route, in tile order. */
  readonly routeHops: readonly number[];
  readonly weights: number;
  readonly biases: number;
  /** The receiver's LDPU work after the RX add, in order. */
  readonly ldpu: readonly LdpuOp[];
  /** LDPU affine y = scale · acc + shift per output (bias and folded batch norms). */
  readonly affine: { readonly scale: Float32Array; readonly shift: Float32Array };
  /** Name of the node whose value leaves the receiver (the last epilogue node). */
  readonly output: string;
}

export interface Mapping {
  readonly network: string;
  /** Number of cores used. */
  readonly cores: number;
  readonly coreIds: readonly number[];
  readonly weights: number;
  readonly biases: number;
  readonly layers: readonly LayerPlacement[];
  /** Host-side nodes (max / average pools, flatten), in order. */
  readonly host: readonly string[];
}

export interface MapOptions {
  /** Longest accepted partial-sum / residual route, in links (default: any). */
  maxHops?: number;
  /** Cores not to use (e.g. faulty ones). */
  exclude?: Iterable<number>;
}

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

/** Core ids in boustrophedon order: row 0 left→right, row 1 right→left, ... */
export const SNAKE_ORDER: readonly number[] = Object.freeze(
  Array.from({ length: CORES }, (_, i) => {
    const r = Math.floor(i / GRID_COLS);
    const c = i % GRID_COLS;
    return r * GRID_COLS + (r % 2 === 0 ? c : GRID_COLS - 1 - c);
  }),
);

const n0 = (x: number): string => x.toLocaleString("en-US");
const info = (r: Route): RouteInfo => ({ path: r.path, hops: r.hops, length: r.length });

function lexLess(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return false;
}

interface Epilogue {
  ops: { node: Node }[];
  output: string;
}

/** Walk from a weight layer through its single-consumer batchNorm / relu / add successors. */
function epilogue(layer: WeightNode, consumers: Map<string, Node[]>): Epilogue {
  const ops: { node: Node }[] = [];
  let cur = layer.name;
  let foldable = true; // batch norm folds only before any relu / add
  for (;;) {
    const next = consumers.get(cur) ?? [];
    const c = next[0];
    if (next.length !== 1 || c === undefined) break;
    if (c.op === "batchNorm" && !foldable) break;
    if (c.op !== "batchNorm" && c.op !== "relu" && c.op !== "add") break;
    if (c.op !== "batchNorm") foldable = false;
    ops.push({ node: c });
    cur = c.name;
  }
  return { ops, output: cur };
}

/**
 * Map `net` onto the chip. Throws MappingError when it does not fit or a route is missing,
 * ArgumentError for a malformed network or an LDPU op (batch norm, relu, add) that does not
 * follow a weight layer.
 */
export function mapNetwork(net: Network, options: MapOptions = {}): Mapping {
  inferShapes(net);
  if (options === null || typeof options !== "object") throw new ArgumentError("options", "an object", options);
  knownKeys(options, ["maxHops", "exclude"], "options");
  const maxHops = options.maxHops ?? Infinity;
  if (maxHops !== Infinity && (!Number.isInteger(maxHops) || maxHops < 0)) throw new ArgumentError("maxHops", "a non-negative integer", options.maxHops);
  const excluded = new Set<number>();
  for (const c of options.exclude ?? []) {
    if (!Number.isInteger(c) || c < 0 || c >= CORES) throw new ArgumentError("exclude", `core numbers in 0..${CORES - 1}`, c);
    excluded.add(c);
  }
  const available = CORES - excluded.size;

  // 1. What the network needs.
  const layers = net.nodes.filter(isWeightNode);
  const plans = layers.map((l) => {
    const { outputs, inputs } = matrixShape(l);
    return { l, rows: outputs, cols: inputs, t: tiling(outputs, inputs) };
  });
  const needCores = plans.reduce((s, p) => s + p.t.outputs * p.t.inputs, 0);
  const needWeights = layers.reduce((s, l) => s + weightCount(l), 0);
  if (needCores > available || needWeights > CHIP_WEIGHTS) {
    const per = plans
      .map((p) => `${p.l.name} ${p.rows}×${p.cols} → ${p.t.outputs * p.t.inputs} core${p.t.outputs * p.t.inputs === 1 ? "" : "s"}`)
      .join(", ");
    throw new MappingError(
      `network "${net.name}" does not fit on the chip: it needs ${needCores} cores and ${n0(needWeights)} weights ` +
        `(${per}); the chip has ${available} ${available === CORES ? "" : "usable "}cores of ${XBAR_ROWS}×${XBAR_COLS} = ${n0(CHIP_WEIGHTS)} weights`,
      { cores: needCores, weights: needWeights },
    );
  }

  // 2. LDPU epilogues; every batchNorm / relu / add must belong to one.
  const consumers = new Map<string, Node[]>();
  for (const n of net.nodes) for (const i of nodeInputs(n)) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  const claimed = new Set<string>();
  const epis = new Map<string, Epilogue>();
  for (const l of layers) {
    const e = epilogue(l, consumers);
    epis.set(l.name, e);
    for (const o of e.ops) claimed.add(o.node.name);
  }
  for (const n of net.nodes) {
    if ((n.op === "batchNorm" || n.op === "relu" || n.op === "add") && !claimed.has(n.name)) {
      throw new ArgumentError(
        n.name,
        n.op === "batchNorm"
          ? "a batch norm directly after a conv2d / dense (or another batch norm), to be folded into the LDPU affine"
          : `a ${n.op} in the epilogue of a conv2d / dense (the LDPU of the receiving core runs it; a value with several consumers leaves the chip)`,
        `${n.op} of ${nodeInputs(n).join(", ")}`,
      );
    }
  }

  // 3. Placement.
  const free = SNAKE_ORDER.map((c) => !excluded.has(c)); // by snake position
  const rowOf = (pos: number): number => Math.floor(SNAKE_ORDER[pos]! / GRID_COLS);
  /** The best window of `a` consecutive free snake positions (fewest grid rows, then earliest), else the first `a` free cores. */
  const takeGroup = (a: number): number[] => {
    let best: { start: number; rows: number } | null = null;
    for (let start = 0; start + a <= CORES; start++) {
      let ok = true;
      for (let i = start; i < start + a && ok; i++) ok = free[i]!;
      if (!ok) continue;
      const rows = rowOf(start + a - 1) - rowOf(start) + 1;
      if (best === null || rows < best.rows) best = { start, rows };
    }
    const positions =
      best !== null
        ? Array.from({ length: a }, (_, i) => best!.start + i)
        : free.flatMap((f, pos) => (f ? [pos] : [])).slice(0, a);
    for (const pos of positions) free[pos] = false;
    return positions.map((pos) => SNAKE_ORDER[pos]!);
  };
  const limit = maxHops === Infinity ? {} : { maxHops };
  const hopsText = maxHops === Infinity ? "" : ` within ${maxHops} hop${maxHops === 1 ? "" : "s"}`;
  /** Shortest route, through `via` cores if possible, else through any core; null if none (within maxHops). */
  const findRoute = (from: number, to: number, via?: number[]): Route | null =>
    (via === undefined ? null : route(from, to, { via, ...limit })) ?? route(from, to, limit);
  const routeOrFail = (from: number, to: number, what: string): Route => {
    const r = findRoute(from, to);
    if (r === null) {
      const need = route(from, to);
      throw new MappingError(
        `network "${net.name}" cannot be mapped: ${what} needs a link route from ${from === OFFCHIP ? "the chip I/O" : `core ${from}`} to core ${to}` +
          `${hopsText}, and lib/links.ts has none${need === null ? "" : ` (the shortest has ${need.hops} hops)`}`,
        { cores: needCores, weights: needWeights },
      );
    }
    return r;
  };
  const outputAt = new Map<string, { receivers: number[]; rowBlocks: Range[] }>();
  const out: LayerPlacement[] = [];
  for (const { l, rows, cols, t } of plans) {
    const tiles: Tile[] = [];
    const receivers: number[] = [];
    t.rowBlocks.forEach((rr, ob) => {
      const group = takeGroup(t.inputs);
      let best: { recv: number; routes: Route[]; key: number[] } | null = null;
      for (const recv of group) {
        const found = group.map((c) => findRoute(c, recv, group));
        if (found.some((r) => r === null)) continue;
        const routes = found as Route[];
        const key = [Math.max(...routes.map((r) => r.hops)), routes.reduce((s, r) => s + r.hops, 0), routes.reduce((s, r) => s + r.length, 0), recv];
        if (best === null || lexLess(key, best.key)) best = { recv, routes, key };
      }
      if (best === null) {
        // No receiver in the group reaches every tile: say what the best one would need.
        const need = Math.min(...group.map((recv) => Math.max(...group.map((c) => route(c, recv)?.hops ?? Infinity))));
        throw new MappingError(
          `network "${net.name}" cannot be mapped: the partial sums of layer ${l.name} (output block ${ob}) on cores ${group.join(", ")} ` +
            `need link routes to one receiving core${hopsText}, and lib/links.ts has none (the best receiver needs ${need} hops)`,
          { cores: needCores, weights: needWeights },
        );
      }
      receivers.push(best.recv);
      group.forEach((core, ib) => {
        const r = best.routes[ib]!;
        tiles.push({
          core,
          rowRange: rr,
          colRange: t.colBlocks[ib]!,
          outputBlock: ob,
          inputBlock: ib,
          route: info(r),
          cycles: r.hops === 0 ? 0 : transferCycles(rr[1] - rr[0], r.hops),
        });
      });
    });

    // LDPU epilogue and affine.
    const e = epis.get(l.name)!;
    const scale = new Float32Array(rows).fill(1);
    const shift = l.bias === undefined ? new Float32Array(rows) : l.bias.slice();
    const folds: string[] = l.bias === undefined ? [] : [`${l.name}.bias`];
    const ldpu: LdpuOp[] = [];
    e.ops.forEach(({ node }, k) => {
      if (node.op === "batchNorm") {
        for (let i = 0; i < rows; i++) {
          scale[i] = node.scale[i]! * scale[i]!;
          shift[i] = node.scale[i]! * shift[i]! + node.shift[i]!;
        }
        folds.push(node.name);
      } else if (node.op === "relu") {
        ldpu.push({ op: "relu", node: node.name });
      } else if (node.op === "add") {
        const mine = k === 0 ? l.name : e.ops[k - 1]!.node.name; // the value arriving along the epilogue
        const residual = node.inputs[0] === mine ? node.inputs[1] : node.inputs[0];
        const src = outputAt.get(residual);
        const routes: RouteInfo[] = [];
        receivers.forEach((recv, ob) => {
          if (src === undefined) {
            routes.push(info(routeOrFail(OFFCHIP, recv, `residual ${residual} into ${node.name}`)));
          } else {
            const [a, b] = t.rowBlocks[ob]!;
            src.rowBlocks.forEach(([c, d], sb) => {
              if (c < b && a < d) routes.push(info(routeOrFail(src.receivers[sb]!, recv, `residual ${residual} into ${node.name}`)));
            });
          }
        });
        ldpu.push({ op: "add", node: node.name, residual, routes });
      }
    });
    if (folds.length > 0) ldpu.unshift({ op: "affine", folds });
    outputAt.set(e.output, { receivers, rowBlocks: t.rowBlocks });
    out.push({
      layer: l.name,
      op: l.op,
      matrix: { rows, cols },
      blocks: { outputs: t.outputs, inputs: t.inputs },
      tileShape: {
        rows: Math.max(...t.rowBlocks.map(([a, b]) => b - a)),
        cols: Math.max(...t.colBlocks.map(([a, b]) => b - a)),
      },
      tiles,
      receivers,
      receiver: receivers[0]!,
      routeHops: tiles.map((x) => x.route.hops),
      weights: weightCount(l),
      biases: l.bias?.length ?? 0,
      ldpu,
      affine: { scale, shift },
      output: e.output,
    });
  }
  const coreIds = out.flatMap((p) => p.tiles.map((x) => x.core));
  return {
    network: net.name,
    cores: coreIds.length,
    coreIds,
    weights: needWeights,
    biases: out.reduce((s, p) => s + p.biases, 0),
    layers: out,
    host: net.nodes.filter((n) => n.op === "maxPool" || n.op === "avgPool" || n.op === "flatten").map((n) => n.name),
  };
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

