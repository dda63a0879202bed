// A network as the chip runs it, without its weights (they are on the cores already): per
// step, the host op or, for a weight layer, its output blocks, each a chain of tiles in
// link order (farthest first, the receiver last) with the read description of every tile
// (ChipAtTime.readTemplate: core state pointers, LDPU settings, rows). Plain data, so it can
// be sent to worker threads (lib/network/run-exec.ts executes it).
//
// Number formats (the mapper's LDPU settings): a layer reading an INT8 tensor of scale s_in
// (INT8 per unit) runs its MVMs with the LDPU gain that makes the FP16 value W·x in float
// units; every core of the layer applies A_r = s_out·scale_r (the folded affine's scale) so
// that its INT8 partial sum and the receiver's output are in the same units (s_out); the
// receiver adds C_r = s_out·shift_r, ReLU after the partial sums, then the residual with
// scale s_out/s_res.

import type { ChipAtTime } from "../chip/analog.ts";
import type { ReadTemplate } from "../chip/readout.ts";
import { INPUT, nodeInputs, poolPads, type BatchNormNode, type Network, type Pads } from "./graph.ts";
import type { LayerPlacement, Mapping, Tile } from "./mapper.ts";
import { groupPacking } from "./tiling.ts";
import { activationTable } from "./activation.ts";

const N = 256;

export interface TilePlan {
  core: number;
  /** The layer's input columns this tile holds. */
  cols: [number, number];
  task: ReadTemplate;
}

export interface BlockPlan {
  /** The block's first output channel and its number of rows. */
  r0: number;
  rows: number;
  /** Tiles in chain order: the last one is the receiver. */
  tiles: TilePlan[];
  /** The tensor added by the receiver's LDPU (residual), if any. */
  residual?: string;
  /** A packed grouped conv's tile (with its copies, if the layer has replicas, in chain order): `count` groups on the diagonal, each `rows` outputs ×
   * `cols` inputs, read one group at a time with only its inputs driven. */
  groups?: { count: number; rows: number; cols: number };
  /** Column copies (LayerPlacement.columnCopies): the inputs of a read are driven into each. */
  copies: number;
}

export type StepPlan =
  | {
      op: "weights"; kind: "conv2d" | "dense"; name: string; input: string; inShape: readonly number[]; outShape: readonly number[];
      kernel: number; stride: number; padding: number; outChannels: number; blocks: BlockPlan[];
    }
  | { op: "maxPool"; name: string; input: string; inShape: readonly number[]; kernel: number; stride: number; pads: Pads; ceil: boolean }
  | { op: "avgPool"; name: string; input: string; inShape: readonly number[]; kernel: number; stride: number; pads: Pads; ceil: boolean; countIncludePad: boolean }
  | { op: "flatten"; name: string; input: string }
  | { op: "pad"; name: string; input: string; inShape: readonly number[]; pads: Pads }
  | { op: "concat"; name: string; input: string; inputs: readonly string[] }
  /** A host-side affine on INT8 (a batch norm or constant arithmetic no weight layer folds):
   * y = round(sOut · (scale_c · x / sIn + shift_c)), saturated to INT8; `per` values per channel. */
  | { op: "affine"; name: string; input: string; scale: Float32Array; shift: Float32Array; per: number; sIn: number; sOut: number }
  /** A host-side activation (lib/network/activation.ts): y = table[c·256 + q + 128], channel
   * c = floor(j / per) when there is a table per channel, else table 0. */
  | { op: "lut"; name: string; input: string; table: Int8Array; per: number };

export interface RunPlan {
  /** The tensor the executor receives as INT8 (the input, or the last leading affine's output). */
  input: string;
  steps: StepPlan[];
  /** The tensor whose INT8 values are the outputs. */
  last: string;
  /** Input vectors per image of the widest layer (sizes the executor's buffers). */
  maxPositions: number;
  /** Bytes per image of the largest zero-padded conv input (sizes the executor's buffers). */
  maxPadded: number;
}

/** The batch norms (affines) that read the network input one after the other, each the
 * only reader of the one before (an input normalisation): runNetwork applies them to the
 * float inputs before the INT8 quantisation, as a host would. */
export function leadingAffines(net: Network): BatchNormNode[] {
  const lead: BatchNormNode[] = [];
  let cur = INPUT;
  for (;;) {
    const readers = net.nodes.filter((n) => nodeInputs(n).includes(cur));
    const r = readers[0];
    if (readers.length !== 1 || r === undefined || r.op !== "batchNorm") return lead;
    lead.push(r);
    cur = r.name;
  }
}

/** One output block's tiles in chain order: farthest from the receiver first (most hops,
 * then lowest core), the receiver (0 hops) last. */
export function chainTiles(p: LayerPlacement, outputBlock: number): Tile[] {
  return p.tiles.filter((t) => t.outputBlock === outputBlock).sort((a, b) => b.route.hops - a.route.hops || a.core - b.core);
}

/** What each tile of a chain (in chain order) puts on its link: 1 / m_j times the sum of the
 * chain's first j reads, m_j the most copies of any one input block among them, so tile j
 * scales its read by `weight` = 1 / m_j and the partial sum it receives by `rx` =
 * m_(j−1) / m_j. Without copies m_j = 1: the plain partial sums. With copies (replicas) the
 * link holds a partial sum in which each block read so far counts with a weight in (0, 1]
 * (never twice, when two copies of a block come first), and the receiver (m = copies) the
 * mean of the copies. Every hop rounds at the output's INT8 resolution: scaling each copy by
 * 1/copies instead rounds each copy's small share the same way every time (a systematic error
 * that grows with the copies); extrapolating the first reads to a whole output (blocks / j
 * times the sum of j reads) overflows the INT8 range on the first links. */
export function chainWeights(tiles: readonly Pick<Tile, "inputBlock">[]): { weight: number; rx: number }[] {
  const count = new Map<number, number>();
  let m = 0;
  return tiles.map((t) => {
    const c = (count.get(t.inputBlock) ?? 0) + 1;
    count.set(t.inputBlock, c);
    const before = m;
    m = Math.max(m, c);
    return { weight: 1 / m, rx: before === 0 ? 1 : before / m };
  });
}

/** The plan of a mapped, programmed network read through `at` with INT8 `scales`. */
export function buildPlan(at: ChipAtTime, net: Network, m: Mapping, shapes: Map<string, readonly number[]>, scales: Readonly<Record<string, number>>): RunPlan {
  const placement = new Map(m.layers.map((p) => [p.layer, p]));
  const lead = leadingAffines(net);
  const skip = new Set(lead.map((n) => n.name));
  const host = new Set(m.host);
  const steps: StepPlan[] = [];
  let maxPositions = 1;
  let maxPadded = 0;
  for (const n of net.nodes) {
    if (n.op === "conv2d" || n.op === "dense") {
      const p = placement.get(n.name)!;
      const sIn = scales[n.input]!;
      const sOut = scales[p.output]!;
      const outShape = shapes.get(n.name)!;
      const positions = n.op === "conv2d" ? outShape[1]! * outShape[2]! : 1;
      maxPositions = Math.max(maxPositions, positions);
      if (n.op === "conv2d") {
        const [C, H, W] = shapes.get(n.input) as [number, number, number];
        maxPadded = Math.max(maxPadded, C * (H + 2 * n.padding) * (W + 2 * n.padding));
      }
      const residual = p.ldpu.find((l) => l.op === "add");
      const resScale = residual && residual.op === "add" ? scales[residual.residual]! : 1;
      // The receiver's ReLU: after the partial sums (flag 2), or after the residual add when
      // it follows the add in the epilogue (relu(x + residual), flag 4; assembly/ldpu.ts).
      const addAt = p.ldpu.findIndex((l) => l.op === "add");
      const reluFlags = p.ldpu.reduce((f, l, i) => (l.op !== "relu" ? f : f | (addAt >= 0 && i > addAt ? 4 : 2)), 0);
      const pack = groupPacking(n);
      const blocks: BlockPlan[] = [];
      for (let ob = 0; ob < p.blocks.outputs; ob++) {
        const tiles = chainTiles(p, ob);
        const [r0, r1] = tiles[0]!.rowRange;
        const rows = r1 - r0;
        const A = new Float64Array(N);
        const C = new Float64Array(N);
        for (let r = 0; r < rows; r++) {
          A[r] = (sOut * p.affine.scale[r0 + r]! * (p.rowScale ? p.rowScale[r0 + r]! : 1)) / (p.columnCopies ?? 1);
          C[r] = sOut * p.affine.shift[r0 + r]!;
        }
        // With copies (replicas) the chain's partial sums are weighted (chainWeights); the
        // receiver holds the mean of the copies.
        const weights = chainWeights(tiles);
        const stage = (j: number): { A: Float64Array; rx: number } => {
          const w = weights[j]!;
          return { A: w.weight === 1 ? A : A.map((a) => a * w.weight), rx: w.rx };
        };
        blocks.push({
          r0, rows, copies: p.columnCopies ?? 1,
          ...(residual && residual.op === "add" ? { residual: residual.residual } : {}),
          ...(pack ? { groups: { count: rows / pack.rows, rows: pack.rows, cols: pack.cols } } : {}),
          tiles: tiles.map((t, j) => {
            const receiver = j === tiles.length - 1;
            const st = stage(j);
            return {
              core: t.core,
              cols: [t.colRange[0], t.colRange[1]] as [number, number],
              task: at.readTemplate(t.core, {
                rows,
                outputScale: 1 / sIn,
                ldpu: {
                  scale: st.A,
                  ...(receiver ? { bias: C, flags: reluFlags } : {}),
                  rxScale: st.rx,
                  ...(receiver && residual ? { residualScale: sOut / resScale } : {}),
                },
              }),
            };
          }),
        });
      }
      steps.push({
        op: "weights", kind: n.op, name: p.output, input: n.input, inShape: shapes.get(n.input)!, outShape,
        kernel: n.op === "conv2d" ? n.kernel : 1, stride: n.op === "conv2d" ? n.stride : 1, padding: n.op === "conv2d" ? n.padding : 0,
        outChannels: n.op === "conv2d" ? n.outChannels : n.outFeatures, blocks,
      });
    } else if (n.op === "maxPool") {
      steps.push({ op: "maxPool", name: n.name, input: n.input, inShape: shapes.get(n.input)!, kernel: n.kernel, stride: n.stride, pads: poolPads(n), ceil: n.ceilMode ?? false });
    } else if (n.op === "avgPool") {
      steps.push({
        op: "avgPool", name: n.name, input: n.input, inShape: shapes.get(n.input)!, kernel: n.kernel, stride: n.stride,
        pads: poolPads(n), ceil: n.ceilMode ?? false, countIncludePad: n.countIncludePad ?? false,
      });
    } else if (n.op === "flatten") {
      steps.push({ op: "flatten", name: n.name, input: n.input });
    } else if (n.op === "pad") {
      steps.push({ op: "pad", name: n.name, input: n.input, inShape: shapes.get(n.input)!, pads: n.pads });
    } else if (n.op === "concat") {
      steps.push({ op: "concat", name: n.name, input: n.inputs[0]!, inputs: n.inputs });
    } else if (n.op === "activation") {
      const size = shapes.get(n.name)!.reduce((a, b) => a * b, 1);
      const table = activationTable(n, scales[n.input]!, scales[n.name]!);
      steps.push({ op: "lut", name: n.name, input: n.input, table, per: table.length === 256 ? size : size / (table.length / 256) });
    } else if (n.op === "batchNorm" && host.has(n.name) && !skip.has(n.name)) {
      const size = shapes.get(n.name)!.reduce((a, b) => a * b, 1);
      steps.push({ op: "affine", name: n.name, input: n.input, scale: n.scale, shift: n.shift, per: size / n.scale.length, sIn: scales[n.input]!, sOut: scales[n.name]! });
    }
    // Other batch norms, relu and add are done in the receivers' LDPUs (the mapper's epilogues).
  }
  const input = lead.length ? lead[lead.length - 1]!.name : INPUT;
  return { input, steps, last: net.nodes[net.nodes.length - 1]!.name, maxPositions, maxPadded };
}
