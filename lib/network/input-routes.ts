// Where a weight layer's input comes from and the link routes that carry it to the layer's
// tiles (LayerPlacement.inputRoutes; lib/network/mapper.ts places the layers).
//
// Sources. The layer's input node is followed back through the data-movement nodes
// (concat, flatten, pad: a copy, a re-indexing, zeros) to the values it is made of; each is
//   - an output block of an earlier weight layer (its epilogue's last node, e.g. the ReLU):
//     source "chip", sent by that block's receiver core over the links;
//   - anything else (the network input, a max / average pool, a batch norm no layer folds):
//     source "host", entering through the chip I/O (lib/chip/links.ts OFFCHIP -> core), as
//     the residuals that come from a host-side pool do (lib/network/epilogue.ts). The paper
//     runs pooling off-chip (Fig. 3: "Four max-pooling layers, implemented off-chip"), so a
//     Concat followed by a pool (SqueezeNet's fire modules) is joined on the host too and the
//     next layer reads the pooled result from the chip I/O.
// Every tile that reads a source's channels gets a route sender -> tile core. The channels
// are the consuming layer's input channels (conv: tile columns [c·k·k, (c+1)·k·k) of the
// unrolled patch; dense: features, a flattened [C, H, W] channel c being H·W of them); a
// tile's `bytes` is its columns that read them, one INT8 value each per MVM step.
//
// Priced routes. A weight layer's output that joins a Concat of two or more inputs on its
// way (a fire module's two expand convs feeding the next layer directly, Inception branches)
// is sent over the links (issue 18: "the next layer reads its input from several producers over the links"):
// InputRoute.priced, counted by lib/cost/network.ts, its routes held to MapOptions.maxHops
// (a MappingError otherwise, as for a residual). Every other input keeps the paper's
// transport between layers, the test board's FPGA ("Only the communication of activation
// vectors between the output of a layer and the input of the next layer is done by off-chip
// data transport"), which the cost model does not price; its route (the shortest, any cores)
// is recorded all the same.

import { INPUT, type Network, type Node, type Shape, type WeightNode } from "./graph.ts";
import { OFFCHIP, route, transferCycles } from "../chip/links.ts";
import { type InputRoute, type InputTileRoute, type Range, type Tile } from "./mapping.ts";
import { routeInfo, type Placer } from "./placement.ts";

/** Where a weight layer's output is: its receivers, one per output block. */
export interface OutputSite {
  /** The weight layer. */
  layer: string;
  /** Receiver of each output block. */
  receivers: number[];
  /** Each output block's output (channel / feature) range. */
  rowBlocks: Range[];
}

interface Source {
  from: string;
  site?: { layer: string; outputBlock: number; receiver: number };
  channels: Range;
  through: string[];
}

/** The sources of value `name`, placed at channel `offset` of the consumer's input, each channel `per` wide. */
function sources(
  name: string, offset: number, per: number, through: string[],
  byName: ReadonlyMap<string, Node>, shapes: ReadonlyMap<string, Shape>, inputShape: Shape, outputAt: ReadonlyMap<string, OutputSite>,
): Source[] {
  const site = outputAt.get(name);
  if (site !== undefined) {
    return site.rowBlocks.map(([a, b], ob) => ({
      from: name,
      site: { layer: site.layer, outputBlock: ob, receiver: site.receivers[ob]! },
      channels: [offset + a * per, offset + b * per] as const,
      through,
    }));
  }
  const shapeOf = (v: string): Shape => (v === INPUT ? inputShape : shapes.get(v)!);
  const n = name === INPUT ? undefined : byName.get(name);
  const next = n === undefined ? through : [name, ...through];
  const recurse = (input: string, off: number, p: number) => sources(input, off, p, next, byName, shapes, inputShape, outputAt);
  if (n?.op === "concat") {
    let at = offset;
    return n.inputs.flatMap((i) => {
      const part = recurse(i, at, per);
      at += shapeOf(i)[0]! * per;
      return part;
    });
  }
  if (n?.op === "pad") return recurse(n.input, offset, per);
  if (n?.op === "flatten") {
    const x = shapeOf(n.input);
    return recurse(n.input, offset, per * (x.length === 3 ? x[1]! * x[2]! : 1));
  }
  // The network input or a host node (pool, unfolded batch norm, ...): through the chip I/O.
  return [{ from: name, channels: [offset, offset + shapeOf(name)[0]! * per] as const, through }];
}

/**
 * The input routes of weight layer `l` placed on `tiles`: every source of its input
 * (`outputAt`: the weight layers placed so far) with the route from its sender to each tile
 * that reads it. A priced route (a producer's output joining a Concat) must exist within the
 * mapping's maxHops (else MappingError); the others are the shortest route over any cores.
 */
export function inputRoutes(
  net: Network, shapes: ReadonlyMap<string, Shape>, l: WeightNode, tiles: readonly Tile[],
  outputAt: ReadonlyMap<string, OutputSite>, placer: Placer,
): InputRoute[] {
  const byName = new Map(net.nodes.map((n) => [n.name, n]));
  // Columns per input channel: a conv's k·k patch positions, one feature of a dense layer.
  const width = l.op === "conv2d" ? l.kernel * l.kernel : 1;
  return sources(l.input, 0, 1, [], byName, shapes, net.inputShape, outputAt).map((s): InputRoute => {
    // A Concat of one input is a copy: its producer is a single producer like any other.
    const priced = s.site !== undefined && s.through.some((t) => { const n = byName.get(t); return n?.op === "concat" && n.inputs.length > 1; });
    const sender = s.site?.receiver ?? OFFCHIP;
    const [c0, c1] = [s.channels[0] * width, s.channels[1] * width];
    const what = `the output of ${s.from} into ${l.name}`;
    const reads: InputTileRoute[] = [];
    tiles.forEach((t, i) => {
      const bytes = Math.min(c1, t.colRange[1]) - Math.max(c0, t.colRange[0]);
      if (bytes <= 0) return;
      // Unpriced: the shortest route over any cores (the links join every core to every other
      // and the chip I/O to every core, so there is one).
      const r = priced ? placer.routeOrFail(sender, t.core, what) : route(sender, t.core)!;
      reads.push({ tile: i, core: t.core, bytes, route: routeInfo(r), cycles: r.hops === 0 ? 0 : transferCycles(bytes, r.hops) });
    });
    return {
      from: s.from,
      source: s.site === undefined ? "host" : "chip",
      ...(s.site === undefined ? {} : { layer: s.site.layer, outputBlock: s.site.outputBlock }),
      sender,
      channels: s.channels,
      through: s.through,
      priced,
      tiles: reads,
    };
  });
}
