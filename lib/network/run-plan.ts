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
import { INPUT, type Network } from "./graph.ts";
import type { Mapping } from "./mapper.ts";

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
}

export type StepPlan =
  | {
      op: "weights"; kind: "conv2d" | "dense"; name: string; input: string; inShape: readonly number[]; outShape: readonly number[];
      kernel: number; stride: number; padding: number; outChannels: number; blocks: BlockPlan[];
    }
  | { op: "maxPool"; name: string; input: string; inShape: readonly number[]; kernel: number; stride: number }
  | { op: "avgPool"; name: string; input: string; inShape: readonly number[]; kernel: number; stride: number; padding: number; countIncludePad: boolean }
  | { op: "flatten"; name: string; input: string };

export interface RunPlan {
  input: string;
  steps: StepPlan[];
  /** The tensor whose INT8 values are the outputs. */
  last: string;
  /** Input vectors per image of the widest layer (sizes the executor's buffers). */
  maxPositions: number;
  /** Bytes per image of the largest zero-padded conv input (sizes the executor's buffers). */
  maxPadded: number;
}

/** The plan of a mapped, programmed network read through `at` with INT8 `scales`. */
export function buildPlan(at: ChipAtTime, net: Network, m: Mapping, shapes: Map<string, readonly number[]>, scales: Readonly<Record<string, number>>): RunPlan {
  const placement = new Map(m.layers.map((p) => [p.layer, p]));
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
      const relu = p.ldpu.some((l) => l.op === "relu");
      const blocks: BlockPlan[] = [];
      for (let ob = 0; ob < p.blocks.outputs; ob++) {
        const tiles = p.tiles.filter((t) => t.outputBlock === ob).sort((a, b) => b.route.hops - a.route.hops || a.core - b.core);
        const [r0, r1] = tiles[0]!.rowRange;
        const rows = r1 - r0;
        const A = new Float64Array(N);
        const C = new Float64Array(N);
        for (let r = 0; r < rows; r++) {
          A[r] = sOut * p.affine.scale[r0 + r]!;
          C[r] = sOut * p.affine.shift[r0 + r]!;
        }
        blocks.push({
          r0, rows,
          ...(residual && residual.op === "add" ? { residual: residual.residual } : {}),
          tiles: tiles.map((t, k) => {
            const receiver = k === tiles.length - 1;
            return {
              core: t.core,
              cols: [t.colRange[0], t.colRange[1]] as [number, number],
              task: at.readTemplate(t.core, {
                rows,
                outputScale: 1 / sIn,
                ldpu: {
                  scale: A,
                  ...(receiver ? { bias: C, flags: relu ? 2 : 0 } : {}),
                  rxScale: 1,
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
      steps.push({ op: "maxPool", name: n.name, input: n.input, inShape: shapes.get(n.input)!, kernel: n.kernel, stride: n.stride });
    } else if (n.op === "avgPool") {
      steps.push({
        op: "avgPool", name: n.name, input: n.input, inShape: shapes.get(n.input)!, kernel: n.kernel, stride: n.stride,
        padding: n.padding, countIncludePad: n.countIncludePad ?? false,
      });
    } else if (n.op === "flatten") {
      steps.push({ op: "flatten", name: n.name, input: n.input });
    }
    // batchNorm, relu and add are done in the receivers' LDPUs (the mapper's epilogues).
  }
  return { input: INPUT, steps, last: net.nodes[net.nodes.length - 1]!.name, maxPositions, maxPadded };
}
