// Maps a network (lib/network/graph.ts) onto the chip's 8 × 8 cores of 256 × 256 unit cells:
// weight layers are unrolled into MVM matrices, split into crossbar tiles, the tiles placed
// on cores, the partial sums of a split layer routed over the on-chip links (lib/chip/links.ts)
// to one receiving core, and the LDPU epilogue (folded batch norm / bias affine, ReLU,
// residual add) assigned to that receiver.
//
// Matrix orientation. A layer is y = W x with W[out][k]: for a conv, x is the unrolled
// k × k × C_in input patch, k = (c·kh + i)·kw + j, which is exactly the [out][in][kh][kw]
// weight order of lib/network/graph.ts; for a dense layer x is the input vector. On a core the MVM
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
// are always joined by an E/W or N/S link in both directions (lib/chip/links.ts). Each output
// block of each weight layer, in network order, takes a window of consecutive free snake
// positions spanning the fewest grid rows, the earliest such window first (so an 8-tile
// layer takes one whole row, and small layers fill rows without straddling them when they
// can); without any free window it takes the first free cores in snake order. The receiver is
// the group member with the fewest hops from the farthest tile, then the least total hops,
// then the least total link length, then the lowest core id. Routes are lib/chip/links.ts
// `route(tile, receiver, { via: group })`, so partial sums pass only through the layer's
// own cores (they can accumulate on the way); if that fails they may pass through any core.
// For ResNet-9 this gives the paper's Fig. 3b layout: Conv0–4 and the dense layer on the
// first two rows (16 cores), Conv5, Conv6, Conv7 one full row each, 40 cores. Within a row
// lib/chip/links.ts has only nearest-neighbour E/W links, so a row-wide layer's receiver sits in
// column 3 and its farthest tile (column 7) is 4 hops away (hops 3,2,1,0,1,2,3,4); the
// diagonal links only point down (SW, SE), so they shorten routes only between rows.
// Residuals that come from a host-side max-pool (both in ResNet-9) enter the receiver over
// its chip-I/O link (lib/chip/links.ts OFFCHIP -> core); an on-chip residual source is routed
// from its layer's receiver.
// Every layer's input sources and their routes to its tiles (LayerPlacement.inputRoutes:
// producers' receivers, or the chip I/O for what the host holds) are lib/network/input-routes.ts's;
// only a producer's output joining a Concat is priced and held to maxHops.
//
// A network that does not fit (more than 64 cores or 4,194,304 weights), or a tile with no
// link route to its receiver (within `maxHops`), gets one MappingError stating the need.


import { convGroups, isWeightNode, matrixShape, weightCount } from "./graph.ts";
import { inferShapes } from "./graph-shapes.ts";
import type { Network } from "./graph.ts";
import { CORES, transferCycles } from "../chip/links.ts";
import { ArgumentError, knownKeys } from "../runtime/validate.ts";
import { MappingError, type LayerPlacement, type MapOptions, type Mapping, type Tile } from "./mapping.ts";
import { parseReplicas, replicaCounts, REPLICAS_MAX } from "./replicas.ts";
import { CHIP_WEIGHTS, columnCopiesFor, groupPacking, layerTiles, rowScales, XBAR_COLS, XBAR_ROWS } from "./tiling.ts";
import { Placer, routeInfo } from "./placement.ts";
import { epilogues, ldpuProgram } from "./epilogue.ts";
import { inputRoutes, type OutputSite } from "./input-routes.ts";

export * from "./mapping.ts";
export { CHIP_WEIGHTS, splitRange, tileMatrix, tiling, XBAR_COLS, XBAR_ROWS } from "./tiling.ts";
export { SNAKE_ORDER } from "./placement.ts";

const n0 = (x: number): string => x.toLocaleString("en-US");
/** Ops the host runs between layers (data movement and pooling, as on the chip's host; the
 * opt-in host activations of lib/network/activation.ts). */
const HOST_OPS = new Set(["maxPool", "avgPool", "flatten", "pad", "concat", "activation"]);

/** The copies an ONNX model gets by default (`run|map|cost|drift --model`, queue workers):
 * as many as the free cores allow (MapOptions.replicas). */
export const MODEL_REPLICAS = "auto" as const;

/**
 * Map `net` onto the chip. Throws MappingError when it does not fit or a route is missing,
 * ArgumentError for a malformed network or an LDPU op (batch norm, relu, add) that does not
 * follow a weight layer.
 */

export function mapNetwork(net: Network, options: MapOptions = {}): Mapping {
  inferShapes(net);
  if (options === null || typeof options !== "object") throw new ArgumentError("options", "an object", options);
  knownKeys(options, ["maxHops", "exclude", "rowScaling", "replicas", "columnCopies"], "options");
  const replicas = parseReplicas(options.replicas ?? 1);
  if (replicas !== "auto") return place(net, options, () => replicas);
  // "auto": as many copies as the free cores allow; fewer if their routes cannot be placed.
  for (let max = REPLICAS_MAX; ; max--) {
    try {
      return place(net, options, (tiles, available) => replicaCounts(tiles, available, max));
    } catch (e) {
      if (max === 1 || !(e instanceof MappingError)) throw e;
    }
  }
}

function place(net: Network, options: MapOptions, copies: (tiles: number[], available: number) => number | number[]): Mapping {
  const shapes = inferShapes(net);
  const rowScaling = options.rowScaling ?? true;
  const colCopies = options.columnCopies ?? options.replicas === "auto";
  if (typeof colCopies !== "boolean") throw new ArgumentError("columnCopies", "true or false", options.columnCopies);
  if (typeof rowScaling !== "boolean") throw new ArgumentError("rowScaling", "true or false", options.rowScaling);
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
    return { l, rows: outputs, cols: inputs, t: layerTiles(l) };
  });
  const needCores = plans.reduce((s, p) => s + p.t.tiles.length, 0);
  const needWeights = layers.reduce((s, l) => s + weightCount(l), 0);
  if (needCores > available || needWeights > CHIP_WEIGHTS) {
    const per = plans
      .map((p) => `${p.l.name} ${p.rows}×${p.cols} → ${p.t.tiles.length} core${p.t.tiles.length === 1 ? "" : "s"}`)
      .join(", ");
    throw new MappingError(
      `network "${net.name}" does not fit on the chip: it needs ${needCores} cores and ${n0(needWeights)} weights ` +
        `(${per}); the chip has ${available} ${available === CORES ? "" : "usable "}cores of ${XBAR_ROWS}×${XBAR_COLS} = ${n0(CHIP_WEIGHTS)} weights`,
      { cores: needCores, weights: needWeights },
    );
  }

  const k = copies(plans.map((p) => p.t.tiles.length), available);
  const reps = typeof k === "number" ? plans.map(() => k) : k;
  const used = plans.reduce((s, p, i) => s + reps[i]! * p.t.tiles.length, 0);
  if (used > available) {
    throw new MappingError(
      `network "${net.name}" with ${reps[0]} copies of every layer needs ${used} cores; the chip has ${available} ${available === CORES ? "" : "usable "}cores (replicas: ${Math.floor(available / needCores)} at most)`,
      { cores: used, weights: needWeights * reps[0]! },
    );
  }

  // 2. LDPU epilogues; every batchNorm / relu / add must belong to one.
  const epis = epilogues(net, layers);
  const claimed = new Set([...epis.values()].flatMap((e) => e.ops.map((o) => o.node.name)));

  // 3. Placement, routes and each receiver's LDPU program.
  const placer = new Placer(net.name, excluded, maxHops, { cores: needCores, weights: needWeights });
  const outputAt = new Map<string, OutputSite>();
  const out: LayerPlacement[] = [];
  for (const [li, { l, rows, cols, t }] of plans.entries()) {
    const tiles: Tile[] = [];
    const receivers: number[] = [];
    const kl = reps[li]!;
    t.rowBlocks.forEach((rr, ob) => {
      const one = t.tiles.filter((x) => x.ob === ob).map((x) => x.ib);
      // Copy c of input block ib at position c·blocks + ib of the group.
      const blocks = Array.from({ length: kl }, () => one).flat();
      const group = placer.takeGroup(blocks.length);
      const best = placer.receiver(group, `layer ${l.name} (output block ${ob})`);
      receivers.push(best.recv);
      group.forEach((core, k) => {
        const r = best.routes[k]!;
        const ib = blocks[k]!;
        tiles.push({
          core,
          rowRange: rr,
          colRange: t.colBlocks[ib]!,
          outputBlock: ob,
          inputBlock: ib,
          replica: Math.floor(k / one.length),
          route: routeInfo(r),
          cycles: r.hops === 0 ? 0 : transferCycles(rr[1] - rr[0], r.hops),
        });
      });
    });
    const e = epis.get(l.name)!;
    const { ldpu, affine } = ldpuProgram(l, rows, e, receivers, t.rowBlocks, outputAt, placer);
    const inputs = inputRoutes(net, shapes, l, tiles, outputAt, placer);
    outputAt.set(e.output, { layer: l.name, receivers, rowBlocks: t.rowBlocks });
    out.push({
      layer: l.name,
      op: l.op,
      matrix: { rows, cols },
      blocks: { outputs: t.rowBlocks.length, inputs: t.colBlocks.length },
      replicas: kl,
      columnCopies: colCopies ? columnCopiesFor(l, t.colBlocks, rowScaling ? rowScales(l) : undefined) : 1,
      ...(l.op === "conv2d" && convGroups(l) > 1 ? { groups: convGroups(l) } : {}),
      ...(groupPacking(l) ? { groupsPerTile: groupPacking(l)!.perTile } : {}),
      tileShape: {
        rows: Math.max(...t.rowBlocks.map(([a, b]) => b - a)),
        cols: Math.max(...t.colBlocks.map(([a, b]) => b - a)),
      },
      tiles,
      receivers,
      receiver: receivers[0]!,
      routeHops: tiles.map((x) => x.route.hops),
      inputRoutes: inputs,
      weights: weightCount(l),
      biases: l.bias?.length ?? 0,
      ldpu,
      ...(rowScaling ? { rowScale: rowScales(l) } : {}),
      affine,
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
    host: net.nodes.filter((n) => HOST_OPS.has(n.op) || (n.op === "batchNorm" && !claimed.has(n.name))).map((n) => n.name),
  };
}
