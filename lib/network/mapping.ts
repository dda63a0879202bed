// The result of mapping a network onto the chip (lib/network/mapper.ts): tiles, cores,
// partial-sum routes, the receiving cores' LDPU work, the routes of each layer's input,
// and the error for what does not fit.

/** The network needs more than the chip has, or a partial sum cannot reach its receiver. */
export class MappingError extends RangeError {
  constructor(
    message: string,
    /** What the network needs: cores and weights. */
    readonly needs: { cores: number; weights: number },
  ) {
    super(message);
    this.name = "MappingError";
  }
}

/** A half-open index range [start, end). */
export type Range = readonly [start: number, end: number];

/** A route over the chip's links, as a mapping records it. */
export interface RouteInfo {
  /** Nodes from source to destination (cores 0..63, GDPU slices 64..71). */
  readonly path: readonly number[];
  /** Links taken (0 on the receiver itself). */
  readonly hops: number;
  /** Sum of link lengths, core pitches. */
  readonly length: number;
}

/** One tile of a layer's MVM matrix on one core. */
export interface Tile {
  /** Core index 0..63. */
  readonly core: number;
  /** Outputs held on crossbar rows 0..(end − start − 1). */
  readonly rowRange: Range;
  /** Inputs (unrolled patch indices) on crossbar columns 0..(end − start − 1). */
  readonly colRange: Range;
  /** Index of the tile's block of outputs (its receiver is `receivers[outputBlock]`). */
  readonly outputBlock: number;
  /** Index of the tile's block of inputs. */
  readonly inputBlock: number;
  /** Which copy of the layer's weights this tile holds, 0..replicas − 1 (MapOptions.replicas). */
  readonly replica: number;
  /** Route of this tile's partial sums to its receiver (hops 0 on the receiver itself). */
  readonly route: RouteInfo;
  /** Link clock cycles to move the partial sums (1 byte per output, preamble included). */
  readonly cycles: number;
}

/** One step of a receiver's LDPU work after the RX add: the affine (bias and folded batch norms, naming the folded nodes), a ReLU, or a residual add (with the residual's routes). */
export type LdpuOp =
  | { readonly op: "affine"; readonly folds: readonly string[] }
  | { readonly op: "relu"; readonly node: string }
  | { readonly op: "add"; readonly node: string; readonly residual: string; readonly routes: readonly RouteInfo[] };

/** One tile's share of an input source (InputRoute.tiles): the values it reads from that
 * source per MVM step and their link route. */
export interface InputTileRoute {
  /** Index of the tile in LayerPlacement.tiles. */
  readonly tile: number;
  /** The tile's core (the route's destination). */
  readonly core: number;
  /** INT8 values per MVM step: the tile's input columns (unrolled patch indices of a conv,
   * features of a dense layer) that read this source's channels, padded positions included. */
  readonly bytes: number;
  /** Route from the sender (InputRoute.sender) to the tile's core. */
  readonly route: RouteInfo;
  /** Link clock cycles to move `bytes` over the route, preamble included (lib/chip/links.ts
   * transferCycles, store and forward, as Tile.cycles). */
  readonly cycles: number;
}

/**
 * One source of a weight layer's input and the link routes from its sender to the layer's
 * tiles (LayerPlacement.inputRoutes). A source is an output block of an earlier weight layer
 * (source "chip": its receiver sends it) or a value the host holds (source "host": the
 * network input, a pool, a batch norm no layer folds; it enters through the chip I/O, node
 * OFFCHIP of lib/chip/links.ts). Data-movement nodes (concat, flatten, pad) between the
 * source and the layer are followed; any other host node is itself the source.
 */
export interface InputRoute {
  /** The node whose value this is: a weight layer's output (its epilogue's last node), a
   * host node, or "input" (the network input). */
  readonly from: string;
  /** "chip": sent over the links by a receiver of weight layer `layer`; "host": enters
   * through the chip I/O. */
  readonly source: "chip" | "host";
  /** The weight layer whose receiver sends it (source "chip"). */
  readonly layer?: string;
  /** That layer's output block (source "chip"; its `rowBlocks` range). */
  readonly outputBlock?: number;
  /** The sending node: the producer's receiver core, or OFFCHIP (72) for the host. */
  readonly sender: number;
  /** The consuming layer's input channels (conv) or features (dense) it fills, [start, end). */
  readonly channels: Range;
  /** The concat / flatten / pad nodes between `from` and the layer, from `from` on. */
  readonly through: readonly string[];
  /** Priced by lib/cost/network.ts networkCost: true for a weight layer's output that joins
   * a Concat of two or more inputs on its way (the on-chip concatenation, sent over the links); false for the
   * host's values and for a single producer's output, which the paper moves between layers
   * through the test board's FPGA (unpriced, as before; the route shows where it would run). */
  readonly priced: boolean;
  /** The tiles that read any of these channels, in tile order. */
  readonly tiles: readonly InputTileRoute[];
}

/** Where one weight layer sits: its MVM matrix, its tiles and their cores, receivers and LDPU epilogue. */
export interface LayerPlacement {
  /** The layer's node name. */
  readonly layer: string;
  /** The layer's kind. */
  readonly op: "conv2d" | "dense";
  /** The MVM matrix: rows = outputs (channels), cols = inputs (unrolled patch k·k·C_in, or features). */
  readonly matrix: { readonly rows: number; readonly cols: number };
  /** Blocks along rows (outputs) and columns (inputs): tiles = outputBlocks · inputBlocks,
   * less those of a grouped conv that hold no weight. */
  readonly blocks: { readonly outputs: number; readonly inputs: number };
  /** A grouped (or depthwise) conv's groups (lib/network/tiling.ts groupPacking). */
  readonly groups?: number;
  /** Groups packed on each tile's diagonal, each read with only its inputs driven: the
   * MVM reads per step (1 without packing). */
  readonly groupsPerTile?: number;
  /** Copies of the layer's weights on separate cores (MapOptions.replicas; 1: none). Every
   * copy of a tile is read with the same inputs and its partial sum joins the output block's
   * chain, each scaled by 1/replicas in its LDPU: the receiver holds their mean, whose
   * programming and read noise is 1/√replicas of one copy's, for replicas × the reads and
   * the MVM energy. */
  readonly replicas: number;
  /** Copies of each weight side by side in its tile's row (MapOptions.columnCopies; 1: none):
   * every read drives the tile's inputs (a packed grouped conv: one group's) into each copy,
   * so the row sums m independent devices per weight: m × the signal, √m × the analog error;
   * the LDPU scales by 1/m. No more reads; m × the conducting cells. */
  readonly columnCopies: number;
  /** Largest tile (rows × cols); all tiles have this shape when the blocks divide evenly. */
  readonly tileShape: { readonly rows: number; readonly cols: number };
  /** The tiles, one per core. */
  readonly tiles: readonly Tile[];
  /** Receiving core of each output block. */
  readonly receivers: readonly number[];
  /** receivers[0]. */
  readonly receiver: number;
  /** Hop count of every tile's route, in tile order. */
  readonly routeHops: readonly number[];
  /** Where the layer's input comes from and the link routes to its tiles, one entry per
   * source (a producer's output block, or the host) in input-channel order. */
  readonly inputRoutes: readonly InputRoute[];
  /** The layer's weights. */
  readonly weights: number;
  /** The layer's biases. */
  readonly biases: number;
  /** The receiver's LDPU work after the RX add, in order. */
  readonly ldpu: readonly LdpuOp[];
  /** Row r is programmed as W[r] / rowScale[r] (its largest |weight| becomes the core's
   * Wmax) and the LDPU multiplies rowScale[r] back; absent with `rowScaling: false`. */
  readonly rowScale?: Float32Array;
  /** LDPU affine y = scale · acc + shift per output (bias and folded batch norms). */
  readonly affine: { readonly scale: Float32Array; readonly shift: Float32Array };
  /** Name of the node whose value leaves the receiver (the last epilogue node). */
  readonly output: string;
}

/** Where a network sits on the chip (`mapNetwork`): every weight layer's tiles, cores and routes, and what runs on the host. */
export interface Mapping {
  /** The network's name. */
  readonly network: string;
  /** Number of cores used. */
  readonly cores: number;
  /** The cores used, layer by layer in tile order. */
  readonly coreIds: readonly number[];
  /** Weights mapped (all layers). */
  readonly weights: number;
  /** Biases (in the LDPU affine). */
  readonly biases: number;
  /** The weight layers, in network order. */
  readonly layers: readonly LayerPlacement[];
  /** Host-side nodes (pools, flatten, pad, concat, affines that follow no weight layer), in
   * order. A Concat read over the links is listed too (the join is a copy); its transfers are
   * the reader's LayerPlacement.inputRoutes. */
  readonly host: readonly string[];
}

/** Options of `mapNetwork`. */
export interface MapOptions {
  /** Longest accepted partial-sum / residual route, and route of a producer's output into a
   * Concat read by a later layer (InputRoute.priced), in links (default: any). */
  maxHops?: number;
  /** Cores not to use (e.g. faulty ones). */
  exclude?: Iterable<number>;
  /** Program each output row at full conductance range (row r as W[r] / max|W[r]|, the
   * factor restored by the receiver's LDPU affine). Default true: a row of small weights
   * (e.g. a channel whose batch norm an exporter folded into the conv) otherwise uses a
   * fraction of the range and suffers the programming error of the core's largest weight. */
  rowScaling?: boolean;
  /** Copies of every layer's weights on cores the network leaves free, averaged in the
   * digital domain (LayerPlacement.replicas): a positive integer (the same for every layer;
   * a MappingError when the copies do not fit), or "auto": as many copies as the free cores
   * allow, at most REPLICAS_MAX (lib/network/replicas.ts replicaCounts). Default 1: one copy,
   * the paper's layouts. The ONNX commands (`run|map|cost|drift --model`) use "auto". */
  replicas?: number | "auto";
  /** Fill the columns a tile leaves unused with copies of its weights
   * (LayerPlacement.columnCopies: ⌊256 / columns driven per read⌋). Default: true with
   * replicas "auto", else false (the paper's layouts). */
  columnCopies?: boolean;
}
