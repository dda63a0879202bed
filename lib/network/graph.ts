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
// (c·kh + i)·kw + j, see lib/network/mapper.ts. Builders of the built-in networks (ResNet-9)
// are in lib/network/builders.ts.

import { ArgumentError } from "../runtime/validate.ts";

/** A tensor shape without the batch axis: [C, H, W] for images, [N] for flat vectors. */
export type Shape = readonly number[];
/** The network input's name: nodes refer to it like to any other node. */
export const INPUT = "input";

/** What every node has: its unique name (other nodes refer to it by name). */
interface Base {
  /** The node's name, unique in the network and not "input". */
  readonly name: string;
}
export type { Base as NodeBase };
/** A 2-D convolution (an MVM per output position on crossbar cores): input [inChannels, H, W] → [outChannels, H', W']. */
export interface Conv2dNode extends Base {
  /** The node's kind. */
  readonly op: "conv2d";
  /** Name of the input node ("input" for the network input). */
  readonly input: string;
  /** Input channels (must match the input's C). */
  readonly inChannels: number;
  /** Output channels. */
  readonly outChannels: number;
  /** Square kernel size k (k × k). */
  readonly kernel: number;
  /** Stride, \>= 1 (GraphBuilder default 1). */
  readonly stride: number;
  /** Zero padding on every side, \>= 0 (GraphBuilder default 0). */
  readonly padding: number;
  /** Channel groups (default 1; inChannels = groups for a depthwise conv): output channel o
   * reads input channels [g·in/groups, (g+1)·in/groups) with g = floor(o / (out/groups)). */
  readonly groups?: number;
  /** [out][in/groups][kh][kw], length out·(in/groups)·k·k. */
  readonly weights: Float32Array;
  /** Per output channel, length outChannels (added in the LDPU affine). */
  readonly bias?: Float32Array;
}
/** A fully connected layer (one MVM on crossbar cores): a flat [inFeatures] input → [outFeatures]. */
export interface DenseNode extends Base {
  /** The node's kind. */
  readonly op: "dense";
  /** Name of the input node (a flat tensor). */
  readonly input: string;
  /** Input size (must match the input's N). */
  readonly inFeatures: number;
  /** Output size. */
  readonly outFeatures: number;
  /** [out][in], length out·in. */
  readonly weights: Float32Array;
  /** Per output, length outFeatures. */
  readonly bias?: Float32Array;
}
/** Inference batch norm as a per-channel affine y = scale·x + shift (folded into the producer's LDPU affine). */
export interface BatchNormNode extends Base {
  /** The node's kind. */
  readonly op: "batchNorm";
  /** Name of the input node. */
  readonly input: string;
  /** Per-channel scale, length C. */
  readonly scale: Float32Array;
  /** Per-channel shift, length C. */
  readonly shift: Float32Array;
}
/** ReLU, or with `max` the clipped ReLU min(max(x, 0), max) (ONNX Clip(0, max), ReLU6): the
 * LDPU's ReLU with the output's INT8 scale chosen so that `max` saturates. */
export interface ReluNode extends Base {
  /** The node's kind. */
  readonly op: "relu";
  /** Name of the input node. */
  readonly input: string;
  /** Clip value (\> 0) of a clipped ReLU; absent for a plain ReLU. */
  readonly max?: number;
}
/** Residual add of two equally shaped tensors. */
export interface AddNode extends Base {
  /** The node's kind. */
  readonly op: "add";
  /** Names of the two input nodes. */
  readonly inputs: readonly [string, string];
}
/** Pads of a window op: [top, left, bottom, right]. */
export type Pads = readonly [number, number, number, number];
/** Host-side max-pool (square window). Optional `pads` (ignored positions, never the max)
 * and `ceilMode` (output size rounded up, windows starting in the padded input only). */
export interface MaxPoolNode extends Base {
  /** The node's kind. */
  readonly op: "maxPool";
  /** Name of the input node ([C, H, W]). */
  readonly input: string;
  /** Window size k (k × k). */
  readonly kernel: number;
  /** Stride (GraphBuilder default: the kernel). */
  readonly stride: number;
  /** Pads [top, left, bottom, right] (default none). */
  readonly pads?: Pads;
  /** Round the output size up (default false). */
  readonly ceilMode?: boolean;
}
/** Host-side average pool (square window; a global pool has kernel = H = W). Symmetric zero
 * padding \< kernel; the divisor is k·k with countIncludePad, else the window's in-bounds
 * count (ONNX AveragePool's count_include_pad 1 / 0). On INT8 tensors the mean is rounded to
 * nearest, ties to even (lib/network/graph-eval.ts avgPool). */
export interface AvgPoolNode extends Base {
  /** The node's kind. */
  readonly op: "avgPool";
  /** Name of the input node ([C, H, W]). */
  readonly input: string;
  /** Window size k (k × k). */
  readonly kernel: number;
  /** Stride (GraphBuilder default: the kernel). */
  readonly stride: number;
  /** Zero padding on every side, less than the kernel (default 0). */
  readonly padding: number;
  /** Asymmetric pads [top, left, bottom, right] (instead of `padding` on every side). */
  readonly pads?: Pads;
  /** Round the output size up (default false). */
  readonly ceilMode?: boolean;
  /** Divide by k·k including padded positions (default false: by the in-bounds count). */
  readonly countIncludePad?: boolean;
}
/** Host-side flatten of [C, H, W] to [C·H·W] (C-major). */
export interface FlattenNode extends Base {
  /** The node's kind. */
  readonly op: "flatten";
  /** Name of the input node. */
  readonly input: string;
}
/** Host-side zero padding of a [C, H, W] tensor by [top, left, bottom, right] (ONNX Pad,
 * constant 0): exact on INT8 (0 stands for 0 at any scale). */
export interface PadNode extends Base {
  /** The node's kind. */
  readonly op: "pad";
  /** Name of the input node ([C, H, W]). */
  readonly input: string;
  /** Zeros added [top, left, bottom, right]. */
  readonly pads: Pads;
}
/** Channel concatenation of [C_i, H, W] tensors (or flat [N_i]) in order: the producers
 * share one INT8 scale, so the join is a copy (SqueezeNet fire modules, Inception branches). */
export interface ConcatNode extends Base {
  /** The node's kind. */
  readonly op: "concat";
  /** Names of the input nodes, in order (one or more). */
  readonly inputs: readonly string[];
}
/** A node of a network: one of the op kinds, told apart by `op`. */
export type Node = Conv2dNode | DenseNode | BatchNormNode | ReluNode | AddNode | MaxPoolNode | AvgPoolNode | FlattenNode | PadNode | ConcatNode;
export type Op = Node["op"];
/** A node whose weights run as MVMs on crossbar cores. */
export type WeightNode = Conv2dNode | DenseNode;

/** A network in hermes-sim's IR: an input shape and nodes in topological order (check it with `inferShapes`). */
export interface Network {
  /** The network's name (in reports and errors). */
  readonly name: string;
  /** [C, H, W] (or [N] for a dense-only network). */
  readonly inputShape: Shape;
  /** Topological order: a node's inputs are INPUT or earlier nodes. */
  readonly nodes: readonly Node[];
}

export const isWeightNode = (n: Node): n is WeightNode => n.op === "conv2d" || n.op === "dense";
export const nodeInputs = (n: Node): readonly string[] => (n.op === "add" || n.op === "concat" ? n.inputs : [n.input]);

/** A conv's channel groups (1 unless set). */
export const convGroups = (n: Conv2dNode): number => n.groups ?? 1;

const denseCache = new WeakMap<Conv2dNode, Float32Array>();
/** A conv's weights as the full [out][in][kh][kw] matrix (zeros outside each output
 * channel's group): the MVM matrix the crossbars hold. The node's own array when groups = 1. */
export function denseConvWeights(n: Conv2dNode): Float32Array {
  const g = convGroups(n);
  if (g === 1) return n.weights;
  let w = denseCache.get(n);
  if (w) return w;
  const kk = n.kernel * n.kernel;
  const cin = n.inChannels / g;
  const cout = n.outChannels / g;
  w = new Float32Array(n.outChannels * n.inChannels * kk);
  for (let o = 0; o < n.outChannels; o++) {
    const c0 = Math.floor(o / cout) * cin;
    w.set(n.weights.subarray(o * cin * kk, (o + 1) * cin * kk), (o * n.inChannels + c0) * kk);
  }
  denseCache.set(n, w);
  return w;
}

/** The effective pads [top, left, bottom, right] of a pool. */
export function poolPads(n: MaxPoolNode | AvgPoolNode): Pads {
  if (n.pads) return n.pads;
  const p = n.op === "avgPool" ? n.padding : 0;
  return [p, p, p, p];
}

/** Output size of a pooling window along one axis: floor (or ceil with `ceil`) of
 * (n + a + b − k) / s, plus 1; with ceil, the last window must start inside the input or
 * its leading pad (ONNX / PyTorch ceil_mode). */
export function poolOut(n: number, k: number, s: number, a: number, b: number, ceil = false): number {
  const span = n + a + b - k;
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (out - 1) * s >= n + a) out--;
  return out;
}

/** Number of synaptic weights of a weight layer (a grouped conv's own weights, not the zeros between its groups). */
export function weightCount(n: WeightNode): number {
  return n.op === "conv2d" ? (n.outChannels * n.inChannels * n.kernel * n.kernel) / convGroups(n) : n.outFeatures * n.inFeatures;
}

/** The layer's MVM matrix shape: outputs × inputs (inputs = unrolled patch k·k·C_in for conv). */
export function matrixShape(n: WeightNode): { outputs: number; inputs: number } {
  return n.op === "conv2d"
    ? { outputs: n.outChannels, inputs: n.kernel * n.kernel * n.inChannels }
    : { outputs: n.outFeatures, inputs: n.inFeatures };
}

const fmt = (s: Shape): string => `[${s.join(", ")}]`;

export function posInt(v: unknown, arg: string, min = 1): number {
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
    const multi = n.op === "add" || n.op === "concat";
    const ins = multi ? n.inputs : [(n as { input: unknown }).input];
    if (!Array.isArray(ins) || (n.op === "add" && ins.length !== 2)) throw new ArgumentError(`${name}.inputs`, "two node names", ins);
    if (n.op === "concat" && ins.length < 1) throw new ArgumentError(`${name}.inputs`, "one or more node names", ins);
    const inShapes = ins.map((i, k) => {
      const s = typeof i === "string" ? shapes.get(i) : undefined;
      if (s === undefined) {
        throw new ArgumentError(multi ? `${name}.inputs[${k}]` : `${name}.input`, `"${INPUT}" or the name of an earlier node`, i);
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
        const g = posInt(n.groups ?? 1, `${name}.groups`);
        if (ci !== c) throw new ArgumentError(`${name}.inChannels`, `the input's channel count ${c} (input shape ${fmt(x)})`, ci);
        if (ci % g !== 0 || co % g !== 0) throw new ArgumentError(`${name}.groups`, `a divisor of inChannels ${ci} and outChannels ${co}`, g);
        checkArray(n.weights, (co * ci * k * k) / g, `${name}.weights ([out][in/groups][kh][kw] = ${co}×${ci / g}×${k}×${k})`);
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
        if (n.max !== undefined && !(typeof n.max === "number" && n.max > 0 && Number.isFinite(n.max))) {
          throw new ArgumentError(`${name}.max`, "a finite number > 0 (the clip value)", n.max);
        }
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
        if (n.op === "avgPool") posInt(n.padding, `${name}.padding`, 0);
        const pads = poolPads(n);
        pads.forEach((p, i) => {
          const arg = n.pads ? `${name}.pads[${i}]` : `${name}.padding`;
          posInt(p, arg, 0);
          if (p >= k) throw new ArgumentError(arg, `less than the kernel ${k}`, p);
        });
        const [t, l, b, r] = pads;
        if (h + t + b < k) throw new ArgumentError(`${name}.kernel`, `a kernel no larger than the padded input (${h} + ${t === b ? `2·${t}` : `${t} + ${b}`} = ${h + t + b})`, k);
        if (w + l + r < k) throw new ArgumentError(`${name}.kernel`, `a kernel no larger than the padded input (${w} + ${l === r ? `2·${l}` : `${l} + ${r}`} = ${w + l + r})`, k);
        out = [c, poolOut(h, k, s, t, b, n.ceilMode), poolOut(w, k, s, l, r, n.ceilMode)];
        break;
      }
      case "pad": {
        const [c, h, w] = chw(x, name, "pad");
        if (!Array.isArray(n.pads) || n.pads.length !== 4) throw new ArgumentError(`${name}.pads`, "[top, left, bottom, right]", n.pads);
        (n.pads as readonly number[]).forEach((p: number, i: number) => posInt(p, `${name}.pads[${i}]`, 0));
        out = [c, h + n.pads[0] + n.pads[2], w + n.pads[1] + n.pads[3]];
        break;
      }
      case "concat": {
        const rest = fmt(x.slice(1));
        inShapes.forEach((sh, k) => {
          if (sh.length !== x.length || fmt(sh.slice(1)) !== rest) {
            throw new ArgumentError(`${name}.inputs[${k}]`, `a tensor whose shape matches ${fmt(x)} but for the channel count`, `shape ${fmt(sh)}`);
          }
        });
        out = [inShapes.reduce((a, sh) => a + sh[0]!, 0), ...x.slice(1)];
        break;
      }
      case "flatten":
        out = [x.reduce((a, b) => a * b, 1)];
        break;
      default:
        throw new ArgumentError(`${name}.op`, `one of "conv2d", "dense", "batchNorm", "relu", "add", "maxPool", "avgPool", "flatten", "pad", "concat"`, (n as { op: unknown }).op);
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
