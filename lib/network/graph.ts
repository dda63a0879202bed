// A small network IR for mapping onto the chip (issue 7): weight layers (conv2d, dense)
// that run as MVMs on crossbar cores, the LDPU epilogue ops (batch norm folded into the
// LDPU affine, ReLU, residual add), and the host-side ops (max-pool, average pool, flatten;
// the paper runs max-pooling off-chip: "Apart from the max-pooling in ResNet-9 ... which are
// not supported by the chip"; an average pool is host-side for the same reason).
//
// A network is an input shape [C, H, W] plus nodes in topological order; every node names
// its input(s) ("input" is the network input). `inferShapes` (lib/network/graph-shapes.ts) checks the whole network and
// returns every node's output shape, throwing an ArgumentError that names the node for
// anything inconsistent (wrong channel count, weight array length, kernel larger than the
// padded input, add of different shapes, unknown or later inputs, duplicate names, ...).
//
// Weight layouts: conv2d [out][in][kh][kw], dense [out][in] (row-major Float32Arrays), so
// that both are already the MVM matrix W[out][k] with k the unrolled-patch index
// (c·kh + i)·kw + j, see lib/network/mapper.ts. Builders of the built-in networks (ResNet-9)
// are in lib/network/builders.ts.


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
/** Elementwise activations the chip has no unit for between layers (ONNX names in
 * lib/network/activation.ts); `silu` is x·sigmoid(x), `hardSwish` x·hardSigmoid(x). */
/** Every function an ActivationNode may name. */
export const ACTIVATION_FNS = [
  "leakyRelu", "prelu", "hardSigmoid", "hardSwish", "sigmoid", "silu", "tanh", "elu", "selu", "celu", "gelu", "geluTanh", "softplus", "softsign", "mish", "thresholdedRelu",
] as const;
/** One of ACTIVATION_FNS. */
export type ActivationFn = (typeof ACTIVATION_FNS)[number];
/** Host-side elementwise activation between layers (opt-in: `hostActivations`): off-chip, on
 * the INT8 values, one 256-entry table per channel (lib/network/activation.ts). */
export interface ActivationNode extends Base {
  /** The node's kind. */
  readonly op: "activation";
  /** Name of the input node. */
  readonly input: string;
  /** The function. */
  readonly fn: ActivationFn;
  /** ONNX's alpha (LeakyRelu, Elu, Selu, Celu, HardSigmoid / HardSwish, ThresholdedRelu), if the function has one. */
  readonly alpha?: number;
  /** ONNX's beta (HardSigmoid / HardSwish). */
  readonly beta?: number;
  /** ONNX's gamma (Selu). */
  readonly gamma?: number;
  /** PRelu's negative slope: one value, or one per channel. */
  readonly slope?: Float32Array;
}
/** A node of a network: one of the op kinds, told apart by `op`. */
export type Node = Conv2dNode | DenseNode | BatchNormNode | ReluNode | AddNode | MaxPoolNode | AvgPoolNode | FlattenNode | PadNode | ConcatNode | ActivationNode;
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
