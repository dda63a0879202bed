// Builders of networks in the IR of lib/network/graph.ts: GraphBuilder (node by node, shapes
// checked on build) and the built-in networks.
//
// `resnet9` builds the paper's ResNet-9 (Fig. 3a; Methods "ResNet-9 on CIFAR-10 training").
// Channel widths [56, 112, 112, 112, 224, 224, 224, 224] (the Methods' list; issue 7), 3×3
// convs, stride 1, padding 1, no conv biases (each conv is followed by batch norm), dense
// 224 → 10 with 10 biases. Layout (the Myrtle "ResNet-9" of ref. 44's family, which matches
// Fig. 3a's 8 convs, 4 max-pools and the residuals Conv1→Conv3, Conv5→Conv7):
//   conv0 3→56 (32×32) · bn · relu
//   conv1 56→112 · bn · relu · maxpool 2            → r1 (16×16)
//   conv2 112→112 · bn · relu · conv3 112→112 · bn · relu · add r1
//   conv4 112→224 · bn · relu · maxpool 2           (8×8)
//   conv5 224→224 · bn · relu · maxpool 2           → r5 (4×4)
//   conv6 224→224 · bn · relu · conv7 224→224 · bn · relu · add r5
//   maxpool 4 (1×1) · flatten (224) · dense 224→10 (+ bias)
// Weight count (k·k·C_in·C_out):
//   conv0 27·56 = 1,512; conv1 504·112 = 56,448; conv2, conv3 1008·112 = 112,896 each;
//   conv4 1008·224 = 225,792; conv5..7 2016·224 = 451,584 each; dense 224·10 = 2,240;
//   total 1,866,536 = the paper's "1,866,536 synaptic weights", with 10 biases. The
//   Methods' "1,869,122 trainable parameters" is that plus the 10 biases plus 2 batch-norm
//   parameters for each of the 1,288 conv channels (2,576): 1,866,536 + 10 + 2,576.
//   The deep layers (conv5..7) are the Methods' "2016×224 weight matrix of a deep layer".

import { CHIP_CORE, normals, Purpose, streamId } from "../chip/rng.ts";
import type { Seed } from "../chip/rng.ts";
import { ArgumentError, describe, seedToBigInt } from "../runtime/validate.ts";
import { INPUT, type Network, type Node, type Pads, type Shape } from "./graph.ts";
import { inferShapes, posInt } from "./graph-shapes.ts";

// ---- builder ---------------------------------------------------------------------------

/** Builds a network node by node; each method returns the new node's name. Shapes are checked on `build()`. */
export class GraphBuilder {
  private readonly nodes: Node[] = [];
  private last = INPUT;
  constructor(
    /** The network's name. */
    readonly name: string,
    /** The network input's shape, [C, H, W] or [N]. */
    readonly inputShape: Shape,
  ) {}

  private add<N extends Node>(node: N): string {
    this.nodes.push(node);
    this.last = node.name;
    return node.name;
  }
  /** Name of the most recently added node (INPUT at first). */
  get current(): string {
    return this.last;
  }
  /** A 2-D convolution (stride default 1, padding 0, groups 1; see Conv2dNode) on `input` (default: the last node). */
  conv2d(name: string, o: { inChannels: number; outChannels: number; kernel: number; stride?: number; padding?: number; groups?: number; weights: Float32Array; bias?: Float32Array }, input = this.last): string {
    const { bias, stride, padding, groups, ...rest } = o;
    return this.add({ op: "conv2d", name, input, ...rest, stride: stride ?? 1, padding: padding ?? 0, ...(groups && groups !== 1 ? { groups } : {}), ...(bias === undefined ? {} : { bias }) });
  }
  /** A dense layer (see DenseNode) on `input` (default: the last node). */
  dense(name: string, o: { inFeatures: number; outFeatures: number; weights: Float32Array; bias?: Float32Array }, input = this.last): string {
    const { bias, ...rest } = o;
    return this.add({ op: "dense", name, input, ...rest, ...(bias === undefined ? {} : { bias }) });
  }
  /** Inference batch norm y = scale·x + shift per channel (folded into the producer's LDPU affine). */
  batchNorm(name: string, scale: Float32Array, shift: Float32Array, input = this.last): string {
    return this.add({ op: "batchNorm", name, input, scale, shift });
  }
  /** ReLU; with `max`, the clipped ReLU min(max(x, 0), max). */
  relu(name: string, input = this.last, max?: number): string {
    return this.add({ op: "relu", name, input, ...(max === undefined ? {} : { max }) });
  }
  /** Zero padding [top, left, bottom, right] (host). */
  pad(name: string, pads: Pads, input = this.last): string {
    return this.add({ op: "pad", name, input, pads });
  }
  /** Channel concatenation of `inputs` (host). */
  concat(name: string, inputs: readonly string[]): string {
    return this.add({ op: "concat", name, inputs });
  }
  /** The residual add of nodes `a` and `b` (equal shapes). */
  addResidual(name: string, a: string, b: string): string {
    return this.add({ op: "add", name, inputs: [a, b] });
  }
  /** Max-pool with a k × k window (host): stride default k, optional pads and ceil mode. */
  maxPool(name: string, kernel: number, stride = kernel, input = this.last, pads?: Pads, ceilMode = false): string {
    return this.add({ op: "maxPool", name, input, kernel, stride, ...(pads ? { pads } : {}), ...(ceilMode ? { ceilMode } : {}) });
  }
  /** Average pool with a k × k window (host): stride default k, symmetric padding default 0, divisor k·k with `countIncludePad`. */
  avgPool(name: string, kernel: number, stride = kernel, input = this.last, padding = 0, countIncludePad = false): string {
    return this.add({ op: "avgPool", name, input, kernel, stride, padding, ...(countIncludePad ? { countIncludePad } : {}) });
  }
  /** Flatten [C, H, W] to [C·H·W] (host). */
  flatten(name: string, input = this.last): string {
    return this.add({ op: "flatten", name, input });
  }
  /** Output shape of a node added so far (checks the network built so far). @throws {@link ArgumentError} on an unknown name or an inconsistent network */
  shapeOf(name = this.last): Shape {
    const s = inferShapes({ name: this.name, inputShape: this.inputShape, nodes: this.nodes }).get(name);
    if (s === undefined) throw new ArgumentError("name", `"${INPUT}" or the name of a node added so far`, name);
    return s;
  }
  /** The network, after `inferShapes` has checked it. @throws {@link ArgumentError} naming the node and what was expected */
  build(): Network {
    const net: Network = { name: this.name, inputShape: [...this.inputShape], nodes: [...this.nodes] };
    inferShapes(net);
    return net;
  }
}

// ---- ResNet-9 --------------------------------------------------------------------------

/** The paper's ResNet-9 conv widths (Methods; issue 7). */
export const RESNET9_WIDTHS: readonly number[] = Object.freeze([56, 112, 112, 112, 224, 224, 224, 224]);
/** Synaptic weights of the paper's ResNet-9 (its "1,866,536 synaptic weights"). */
export const RESNET9_WEIGHTS = 1_866_536;
export const RESNET9_BIASES = 10;

/** Options of `resnet9`. */
export interface Resnet9Options {
  /** Seed of the random weights (0..2^64 − 1). Default 0. */
  seed?: Seed;
  /** Output classes (the dense layer's size). Default 10. */
  classes?: number;
  /** [C, H, W], CIFAR-10 [3, 32, 32] by default (the four pools 2, 2, 2, 4 take 32 × 32 to 1 × 1; larger inputs give a wider dense layer). */
  inputShape?: Shape;
  /** The 8 conv channel widths; widths[1..3] equal and widths[5..7] equal (the residuals). Default RESNET9_WIDTHS. */
  widths?: readonly number[];
}

/**
 * The paper's ResNet-9 (see the header) with random weights from `seed`: He-normal conv and
 * dense weights (std √(2 / fan-in)), batch norm scale 1 + 0.1·N(0,1) and shift 0.1·N(0,1),
 * dense bias 0.1·N(0,1). Draws come from the Philox stream (core CHIP_CORE, purpose
 * WEIGHTS, trial = node index + 1, step = 1: disjoint from the per-core workload streams).
 * @throws {@link ArgumentError} on a bad option (named)
 */
export function resnet9(options: Resnet9Options = {}): Network {
  if (options === null || typeof options !== "object") throw new ArgumentError("options", "an object", options);
  const seed = seedToBigInt(options.seed ?? 0);
  const classes = posInt(options.classes ?? 10, "classes");
  const inputShape = options.inputShape ?? [3, 32, 32];
  const widths = options.widths ?? RESNET9_WIDTHS;
  if (!Array.isArray(widths) || widths.length !== 8) throw new ArgumentError("widths", "8 conv channel counts", widths);
  widths.forEach((w, i) => posInt(w, `widths[${i}]`));
  if (widths[1] !== widths[2] || widths[2] !== widths[3]) throw new ArgumentError("widths", "equal widths[1..3] (residual Conv1 → Conv3)", describe(widths));
  if (widths[5] !== widths[6] || widths[6] !== widths[7]) throw new ArgumentError("widths", "equal widths[5..7] (residual Conv5 → Conv7)", describe(widths));
  let draws = 0;
  const draw = (n: number, std: number, mean = 0): Float32Array => {
    draws++;
    const z = normals(seed, streamId({ core: CHIP_CORE, purpose: Purpose.WEIGHTS, trial: draws, step: 1 }), n);
    for (let i = 0; i < n; i++) z[i] = mean + std * z[i]!;
    return z;
  };
  const b = new GraphBuilder("resnet9", inputShape);
  let ch = inputShape[0]!;
  const convBnRelu = (i: number): string => {
    const co = widths[i]!;
    const fanIn = 9 * ch;
    b.conv2d(`conv${i}`, { inChannels: ch, outChannels: co, kernel: 3, stride: 1, padding: 1, weights: draw(co * fanIn, Math.sqrt(2 / fanIn)) });
    b.batchNorm(`bn${i}`, draw(co, 0.1, 1), draw(co, 0.1));
    ch = co;
    return b.relu(`relu${i}`);
  };
  convBnRelu(0);
  convBnRelu(1);
  const r1 = b.maxPool("pool1", 2);
  convBnRelu(2);
  const c3 = convBnRelu(3);
  b.addResidual("add3", c3, r1);
  convBnRelu(4);
  b.maxPool("pool4", 2);
  convBnRelu(5);
  const r5 = b.maxPool("pool5", 2);
  convBnRelu(6);
  const c7 = convBnRelu(7);
  b.addResidual("add7", c7, r5);
  b.maxPool("pool8", 4);
  b.flatten("flatten");
  const features = b.shapeOf()[0]!; // 224 for 32 × 32 inputs
  b.dense("dense", { inFeatures: features, outFeatures: classes, weights: draw(classes * features, Math.sqrt(2 / features)), bias: draw(classes, 0.1) });
  return b.build();
}
