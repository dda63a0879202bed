// A small network IR for mapping onto the chip (issue 7): weight layers (conv2d, dense)
// that run as MVMs on crossbar cores, the LDPU epilogue ops (batch norm folded into the
// LDPU affine, ReLU, residual add), and the host-side ops (max-pool, average pool, flatten;
// the paper runs max-pooling off-chip: "Apart from the max-pooling in ResNet-9 ... which are
// not supported by the chip"; an average pool is host-side for the same reason).
//
// A network is an input shape [C, H, W] plus nodes in topological order; every node names
// its input(s) ("input" is the network input). `inferShapes` checks the whole network and
// returns every node's output shape, throwing an ArgumentError that names the node for
// anything inconsistent (wrong channel count, weight array length, kernel larger than the
// padded input, add of different shapes, unknown or later inputs, duplicate names, ...).
//
// Weight layouts: conv2d [out][in][kh][kw], dense [out][in] (row-major Float32Arrays), so
// that both are already the MVM matrix W[out][k] with k the unrolled-patch index
// (c·kh + i)·kw + j, see lib/mapper.ts.
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

export type Shape = readonly number[];
/** The network input's name: nodes refer to it like to any other node. */
export const INPUT = "input";

interface Base {
  readonly name: string;
}
export interface Conv2dNode extends Base {
  readonly op: "conv2d";
  readonly input: string;
  readonly inChannels: number;
  readonly outChannels: number;
  /** Square kernel size k (k × k). */
  readonly kernel: number;
  readonly stride: number;
  readonly padding: number;
  /** [out][in][kh][kw], length out·in·k·k. */
  readonly weights: Float32Array;
  readonly bias?: Float32Array;
}
export interface DenseNode extends Base {
  readonly op: "dense";
  readonly input: string;
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** [out][in], length out·in. */
  readonly weights: Float32Array;
  readonly bias?: Float32Array;
}
/** Inference batch norm as a per-channel affine y = scale·x + shift (folded into the producer's LDPU affine). */
export interface BatchNormNode extends Base {
  readonly op: "batchNorm";
  readonly input: string;
  readonly scale: Float32Array;
  readonly shift: Float32Array;
}
export interface ReluNode extends Base {
  readonly op: "relu";
  readonly input: string;
}
/** Residual add of two equally shaped tensors. */
export interface AddNode extends Base {
  readonly op: "add";
  readonly inputs: readonly [string, string];
}
/** Host-side max-pool (square window, no padding). */
export interface MaxPoolNode extends Base {
  readonly op: "maxPool";
  readonly input: string;
  readonly kernel: number;
  readonly stride: number;
}
/** Host-side average pool (square window; a global pool has kernel = H = W). Symmetric zero
 * padding < kernel; the divisor is k·k with countIncludePad, else the window's in-bounds
 * count (ONNX AveragePool's count_include_pad 1 / 0). On INT8 tensors the mean is rounded to
 * nearest, ties to even (lib/graph-eval.ts avgPool). */
export interface AvgPoolNode extends Base {
  readonly op: "avgPool";
  readonly input: string;
  readonly kernel: number;
  readonly stride: number;
  readonly padding: number;
  readonly countIncludePad?: boolean;
}
/** Host-side flatten of [C, H, W] to [C·H·W] (C-major). */
export interface FlattenNode extends Base {
  readonly op: "flatten";
  readonly input: string;
}
export type Node = Conv2dNode | DenseNode | BatchNormNode | ReluNode | AddNode | MaxPoolNode | AvgPoolNode | FlattenNode;
export type Op = Node["op"];
export type WeightNode = Conv2dNode | DenseNode;

export interface Network {
  readonly name: string;
  /** [C, H, W] (or [N] for a dense-only network). */
  readonly inputShape: Shape;
  /** Topological order: a node's inputs are INPUT or earlier nodes. */
  readonly nodes: readonly Node[];
}

export const isWeightNode = (n: Node): n is WeightNode => n.op === "conv2d" || n.op === "dense";
export const nodeInputs = (n: Node): readonly string[] => (n.op === "add" ? n.inputs : [n.input]);

/** Number of synaptic weights of a weight layer. */
export function weightCount(n: WeightNode): number {
  return n.op === "conv2d" ? n.outChannels * n.inChannels * n.kernel * n.kernel : n.outFeatures * n.inFeatures;
}

/** The layer's MVM matrix shape: outputs × inputs (inputs = unrolled patch k·k·C_in for conv). */
export function matrixShape(n: WeightNode): { outputs: number; inputs: number } {
  return n.op === "conv2d"
    ? { outputs: n.outChannels, inputs: n.kernel * n.kernel * n.inChannels }
    : { outputs: n.outFeatures, inputs: n.inFeatures };
}

const fmt = (s: Shape): string => `[${s.join(", ")}]`;

function posInt(v: unknown, arg: string, min = 1): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min) throw new ArgumentError(arg, `an integer ≥ ${min}`, v);
  return v;
}

function checkArray(v: unknown, length: number, arg: string): void {
  if (!(v instanceof Float32Array)) throw new ArgumentError(arg, `a Float32Array of length ${length}`, v);
  if (v.length !== length) throw new ArgumentError(arg, `a Float32Array of length ${length}`, v);
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i]!)) throw new ArgumentError(`${arg}[${i}]`, "a finite number", v[i]);
  }
}

function chw(shape: Shape, node: string, what: string): [number, number, number] {
  if (shape.length !== 3) throw new ArgumentError(`${node}.input`, `a [C, H, W] tensor for ${what}`, `shape ${fmt(shape)}`);
  return [shape[0]!, shape[1]!, shape[2]!];
}

/** Output size of a sliding window: floor((n + 2p − k) / s) + 1, checked ≥ 1. */
function windowOut(n: number, k: number, s: number, p: number, arg: string): number {
  if (n + 2 * p < k) throw new ArgumentError(arg, `a kernel no larger than the padded input (${n} + 2·${p} = ${n + 2 * p})`, k);
  return Math.floor((n + 2 * p - k) / s) + 1;
}

/**
 * Check a network and return the output shape of every node (and of INPUT). Throws an
 * ArgumentError naming the node and what was expected for any inconsistency.
 */
export function inferShapes(net: Network): Map<string, Shape> {
  if (net === null || typeof net !== "object") throw new ArgumentError("network", "an object { name, inputShape, nodes }", net);
  const input = net.inputShape;
  if (!Array.isArray(input) || (input.length !== 3 && input.length !== 1)) {
    throw new ArgumentError("inputShape", "[C, H, W] (or [N])", input);
  }
  input.forEach((d, i) => posInt(d, `inputShape[${i}]`));
  if (!Array.isArray(net.nodes)) throw new ArgumentError("nodes", "an array of nodes", net.nodes);
  const shapes = new Map<string, Shape>([[INPUT, [...input]]]);
  net.nodes.forEach((n, idx) => {
    if (n === null || typeof n !== "object") throw new ArgumentError(`nodes[${idx}]`, "a node object", n);
    const name = n.name;
    if (typeof name !== "string" || name === "") throw new ArgumentError(`nodes[${idx}].name`, "a non-empty string", name);
    if (shapes.has(name)) throw new ArgumentError(`nodes[${idx}].name`, `a name not used before (${INPUT} and earlier nodes)`, name);
    const ins = n.op === "add" ? n.inputs : [(n as { input: unknown }).input];
    if (!Array.isArray(ins) || (n.op === "add" && ins.length !== 2)) throw new ArgumentError(`${name}.inputs`, "two node names", ins);
    const inShapes = ins.map((i, k) => {
      const s = typeof i === "string" ? shapes.get(i) : undefined;
      if (s === undefined) {
        throw new ArgumentError(n.op === "add" ? `${name}.inputs[${k}]` : `${name}.input`, `"${INPUT}" or the name of an earlier node`, i);
      }
      return s;
    });
    const x = inShapes[0]!;
    let out: Shape;
    switch (n.op) {
      case "conv2d": {
        const [c, h, w] = chw(x, name, "conv2d");
        const ci = posInt(n.inChannels, `${name}.inChannels`);
        const co = posInt(n.outChannels, `${name}.outChannels`);
        const k = posInt(n.kernel, `${name}.kernel`);
        const s = posInt(n.stride, `${name}.stride`);
        const p = posInt(n.padding, `${name}.padding`, 0);
        if (ci !== c) throw new ArgumentError(`${name}.inChannels`, `the input's channel count ${c} (input shape ${fmt(x)})`, ci);
        checkArray(n.weights, co * ci * k * k, `${name}.weights ([out][in][kh][kw] = ${co}×${ci}×${k}×${k})`);
        if (n.bias !== undefined) checkArray(n.bias, co, `${name}.bias`);
        out = [co, windowOut(h, k, s, p, `${name}.kernel`), windowOut(w, k, s, p, `${name}.kernel`)];
        break;
      }
      case "dense": {
        const fi = posInt(n.inFeatures, `${name}.inFeatures`);
        const fo = posInt(n.outFeatures, `${name}.outFeatures`);
        if (x.length !== 1) throw new ArgumentError(`${name}.input`, "a flat [N] tensor (add a flatten node)", `shape ${fmt(x)}`);
        if (fi !== x[0]) throw new ArgumentError(`${name}.inFeatures`, `the input's size ${x[0]}`, fi);
        checkArray(n.weights, fo * fi, `${name}.weights ([out][in] = ${fo}×${fi})`);
        if (n.bias !== undefined) checkArray(n.bias, fo, `${name}.bias`);
        out = [fo];
        break;
      }
      case "batchNorm": {
        const ch = x[0]!;
        checkArray(n.scale, ch, `${name}.scale`);
        checkArray(n.shift, ch, `${name}.shift`);
        out = x;
        break;
      }
      case "relu":
        out = x;
        break;
      case "add": {
        const y = inShapes[1]!;
        if (fmt(x) !== fmt(y)) throw new ArgumentError(`${name}.inputs`, "two tensors of the same shape", `${fmt(x)} and ${fmt(y)}`);
        out = x;
        break;
      }
      case "maxPool":
      case "avgPool": {
        const [c, h, w] = chw(x, name, n.op);
        const k = posInt(n.kernel, `${name}.kernel`);
        const s = posInt(n.stride, `${name}.stride`);
        const p = n.op === "avgPool" ? posInt(n.padding, `${name}.padding`, 0) : 0;
        if (p >= k) throw new ArgumentError(`${name}.padding`, `less than the kernel ${k}`, p);
        out = [c, windowOut(h, k, s, p, `${name}.kernel`), windowOut(w, k, s, p, `${name}.kernel`)];
        break;
      }
      case "flatten":
        out = [x.reduce((a, b) => a * b, 1)];
        break;
      default:
        throw new ArgumentError(`${name}.op`, `one of "conv2d", "dense", "batchNorm", "relu", "add", "maxPool", "avgPool", "flatten"`, (n as { op: unknown }).op);
    }
    shapes.set(name, out);
  });
  return shapes;
}

/** The output shape of the network's last node. */
export function outputShape(net: Network): Shape {
  const shapes = inferShapes(net);
  const last = net.nodes[net.nodes.length - 1];
  return shapes.get(last === undefined ? INPUT : last.name)!;
}

/** Totals over the weight layers: synaptic weights and biases (batch-norm parameters are not counted). */
export function countParameters(net: Network): { weights: number; biases: number; weightLayers: number } {
  let weights = 0;
  let biases = 0;
  let weightLayers = 0;
  for (const n of net.nodes) {
    if (!isWeightNode(n)) continue;
    weightLayers++;
    weights += weightCount(n);
    biases += n.bias?.length ?? 0;
  }
  return { weights, biases, weightLayers };
}

// ---- builder ---------------------------------------------------------------------------

/** Builds a network node by node; each method returns the new node's name. Shapes are checked on `build()`. */
export class GraphBuilder {
  private readonly nodes: Node[] = [];
  private last = INPUT;
  constructor(
    readonly name: string,
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
  conv2d(name: string, o: { inChannels: number; outChannels: number; kernel: number; stride?: number; padding?: number; weights: Float32Array; bias?: Float32Array }, input = this.last): string {
    const { bias, stride, padding, ...rest } = o;
    return this.add({ op: "conv2d", name, input, ...rest, stride: stride ?? 1, padding: padding ?? 0, ...(bias === undefined ? {} : { bias }) });
  }
  dense(name: string, o: { inFeatures: number; outFeatures: number; weights: Float32Array; bias?: Float32Array }, input = this.last): string {
    const { bias, ...rest } = o;
    return this.add({ op: "dense", name, input, ...rest, ...(bias === undefined ? {} : { bias }) });
  }
  batchNorm(name: string, scale: Float32Array, shift: Float32Array, input = this.last): string {
    return this.add({ op: "batchNorm", name, input, scale, shift });
  }
  relu(name: string, input = this.last): string {
    return this.add({ op: "relu", name, input });
  }
  addResidual(name: string, a: string, b: string): string {
    return this.add({ op: "add", name, inputs: [a, b] });
  }
  maxPool(name: string, kernel: number, stride = kernel, input = this.last): string {
    return this.add({ op: "maxPool", name, input, kernel, stride });
  }
  avgPool(name: string, kernel: number, stride = kernel, input = this.last, padding = 0, countIncludePad = false): string {
    return this.add({ op: "avgPool", name, input, kernel, stride, padding, ...(countIncludePad ? { countIncludePad } : {}) });
  }
  flatten(name: string, input = this.last): string {
    return this.add({ op: "flatten", name, input });
  }
  /** Output shape of a node added so far (checks the network built so far). */
  shapeOf(name = this.last): Shape {
    const s = inferShapes({ name: this.name, inputShape: this.inputShape, nodes: this.nodes }).get(name);
    if (s === undefined) throw new ArgumentError("name", `"${INPUT}" or the name of a node added so far`, name);
    return s;
  }
  /** The network, after `inferShapes` has checked it. */
  build(): Network {
    const net: Network = { name: this.name, inputShape: [...this.inputShape], nodes: [...this.nodes] };
    inferShapes(net);
    return net;
  }
}

// ---- ResNet-9 --------------------------------------------------------------------------

/** The paper's ResNet-9 conv widths (Methods; issue 7). */
export const RESNET9_WIDTHS: readonly number[] = Object.freeze([56, 112, 112, 112, 224, 224, 224, 224]);
export const RESNET9_WEIGHTS = 1_866_536;
export const RESNET9_BIASES = 10;

export interface Resnet9Options {
  seed?: Seed;
  classes?: number;
  /** [C, H, W], CIFAR-10 [3, 32, 32] by default (the four pools 2, 2, 2, 4 take 32 × 32 to 1 × 1; larger inputs give a wider dense layer). */
  inputShape?: Shape;
  widths?: readonly number[];
}

/**
 * The paper's ResNet-9 (see the header) with random weights from `seed`: He-normal conv and
 * dense weights (std √(2 / fan-in)), batch norm scale 1 + 0.1·N(0,1) and shift 0.1·N(0,1),
 * dense bias 0.1·N(0,1). Draws come from the Philox stream (core CHIP_CORE, purpose
 * WEIGHTS, trial = node index + 1, step = 1: disjoint from the per-core workload streams).
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
