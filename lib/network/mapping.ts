// The result of mapping a network onto the chip (lib/network/mapper.ts): tiles, cores,
// partial-sum routes, the receiving cores' LDPU work, and the error for what does not fit.

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
  /** Which copy of the layer's weights this tile holds, 0..replicas − 1 (MapOptions.replicas). */
  readonly replica: number;
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
  /** Row r is programmed as W[r] / rowScale[r] (its largest |weight| becomes the core's
   * Wmax) and the LDPU multiplies rowScale[r] back; absent with `rowScaling: false`. */
  readonly rowScale?: Float32Array;
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
  /** Host-side nodes (pools, flatten, pad, concat, affines that follow no weight layer), in order. */
  readonly host: readonly string[];
}

export interface MapOptions {
  /** Longest accepted partial-sum / residual route, in links (default: any). */
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
