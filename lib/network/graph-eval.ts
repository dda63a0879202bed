// The float64 reference of a network (lib/network/graph.ts): every node's output for a batch of
// inputs, in the layouts the chip uses ([C, H, W] per image, row-major).

import { denseConvWeights, INPUT, poolOut, poolPads, type Conv2dNode, type Network, type Node, type Pads } from "./graph.ts";
import { inferShapes } from "./graph-shapes.ts";
import { activationValue } from "./activation.ts";
import { WasmRuntime } from "../runtime/wasm.ts";

/** Every node's float64 outputs (and "input"'s): node name → one array per input, [C, H, W] row-major. */
export type Activations = Map<string, Float64Array[]>;

/**
 * Run the network in float64 on `inputs` (one Float64Array/Float32Array of C·H·W per image).
 * @throws {@link ArgumentError} when the network is inconsistent (see `inferShapes`)
 */
export function evaluate(net: Network, inputs: readonly ArrayLike<number>[]): Activations {
  const shapes = inferShapes(net);
  const acts: Activations = new Map();
  acts.set(INPUT, inputs.map((x) => Float64Array.from(x)));
  for (const n of net.nodes) acts.set(n.name, acts.get(inputOf(n))!.map((_, i) => evalNode(n, acts, i, shapes)));
  return acts;
}

const inputOf = (n: Node): string => (n.op === "add" || n.op === "concat" ? n.inputs[0]! : n.input);

function evalNode(n: Node, acts: Activations, i: number, shapes: Map<string, readonly number[]>): Float64Array {
  const x = acts.get(inputOf(n))!.at(i)!;
  const inShape = shapes.get(inputOf(n))!;
  switch (n.op) {
    case "conv2d": {
      const sh = [inShape as [number, number, number], (shapes.get(n.name) as [number, number, number]).slice(1) as [number, number]] as const;
      return conv2dWasm(n, x, ...sh) ?? conv2dTs(n, x, ...sh);
    }
    case "dense": {
      const y = new Float64Array(n.outFeatures);
      for (let o = 0; o < n.outFeatures; o++) {
        let s = n.bias ? n.bias[o]! : 0;
        for (let j = 0; j < n.inFeatures; j++) s += n.weights[o * n.inFeatures + j]! * x[j]!;
        y[o] = s;
      }
      return y;
    }
    case "batchNorm": {
      const per = x.length / n.scale.length;
      return x.map((v, j) => v * n.scale[Math.floor(j / per)]! + n.shift[Math.floor(j / per)]!);
    }
    case "relu": {
      const m = n.max ?? Infinity;
      return x.map((v) => (v > 0 ? Math.min(v, m) : 0));
    }
    case "activation": {
      const per = x.length / inShape[0]!;
      return x.map((v, j) => activationValue(n, v, Math.floor(j / per)));
    }
    case "add": {
      const b = acts.get(n.inputs[1])!.at(i)!;
      return x.map((v, j) => v + b[j]!);
    }
    case "maxPool":
      return maxPool(x, inShape as [number, number, number], n.kernel, n.stride, poolPads(n), n.ceilMode);
    case "avgPool":
      return avgPool(x, inShape as [number, number, number], n.kernel, n.stride, poolPads(n), n.countIncludePad ?? false, n.ceilMode);
    case "flatten":
      return Float64Array.from(x);
    case "pad":
      return pad(x, inShape as [number, number, number], n.pads);
    case "concat":
      return concat(n.inputs.map((t) => acts.get(t)!.at(i)!));
  }
}

/** A convolution in float64: bias, then every weight (input channel, ky, kx in order) over
 * the output positions it reaches; positions outside the input contribute nothing. */
export function conv2dTs(n: Conv2dNode, x: ArrayLike<number>, [C, H, W]: [number, number, number], [Ho, Wo]: [number, number]): Float64Array {
  const k = n.kernel;
  const weights = denseConvWeights(n);
  const y = new Float64Array(n.outChannels * Ho * Wo);
  const s = n.stride;
  const p = n.padding;
  for (let o = 0; o < n.outChannels; o++) {
    const yo = y.subarray(o * Ho * Wo, (o + 1) * Ho * Wo);
    if (n.bias) yo.fill(n.bias[o]!);
    for (let c = 0; c < C; c++) {
      for (let ky = 0; ky < k; ky++) {
        const oy0 = Math.max(0, Math.ceil((p - ky) / s));
        const oy1 = Math.min(Ho - 1, Math.floor((H - 1 + p - ky) / s));
        for (let kx = 0; kx < k; kx++) {
          const w = weights[((o * C + c) * k + ky) * k + kx]!;
          const ox0 = Math.max(0, Math.ceil((p - kx) / s));
          const ox1 = Math.min(Wo - 1, Math.floor((W - 1 + p - kx) / s));
          for (let oy = oy0; oy <= oy1; oy++) {
            const xr = (c * H + oy * s - p + ky) * W - p + kx;
            const yr = oy * Wo;
            for (let ox = ox0; ox <= ox1; ox++) yo[yr + ox]! += w * x[xr + ox * s]!;
          }
        }
      }
    }
  }
  return y;
}

/** The convolution on the wasm kernel (assembly/conv-f64.ts: the same sums in the same
 * order, ~5× faster), or undefined where wasm memory cannot be allocated (worker threads). */
export function conv2dWasm(n: Conv2dNode, x: ArrayLike<number>, [C, H, W]: [number, number, number], [Ho, Wo]: [number, number]): Float64Array | undefined {
  const rt = WasmRuntime.get();
  if (!rt.canAllocate) return undefined;
  const O = n.outChannels;
  const weights = denseConvWeights(n);
  const xp = rt.alloc(x.length * 8);
  const wp = rt.alloc(weights.length * 4);
  const bp = n.bias ? rt.alloc(O * 4) : 0;
  const yp = rt.alloc(O * Ho * Wo * 8);
  try {
    rt.f64(xp, x.length).set(x);
    rt.f32(wp, weights.length).set(weights);
    if (n.bias) rt.f32(bp, O).set(n.bias);
    rt.kernels.conv2dF64(xp, C, H, W, wp, bp, O, n.kernel, n.stride, n.padding, Ho, Wo, yp);
    return rt.f64(yp, O * Ho * Wo).slice();
  } finally {
    for (const ptr of [xp, wp, bp, yp]) if (ptr) rt.free(ptr);
  }
}

/** Max-pool of a [C, H, W] tensor; padded positions never win (ONNX MaxPool pads), and
 * `ceil` rounds the output size up (windows may then end past the padding). Any numeric
 * array type. */
export function maxPool<T extends Float64Array | Int8Array>(x: T, [C, H, W]: [number, number, number], k: number, s: number, pads: Pads = [0, 0, 0, 0], ceil = false): T {
  const [pt, pl, pb, pr] = pads;
  const Ho = poolOut(H, k, s, pt, pb, ceil);
  const Wo = poolOut(W, k, s, pl, pr, ceil);
  const y = new (x.constructor as new (n: number) => T)(C * Ho * Wo);
  for (let c = 0; c < C; c++) {
    for (let oy = 0; oy < Ho; oy++) {
      const y0 = Math.max(0, oy * s - pt);
      const y1 = Math.min(H, oy * s - pt + k);
      for (let ox = 0; ox < Wo; ox++) {
        const x0 = Math.max(0, ox * s - pl);
        const x1 = Math.min(W, ox * s - pl + k);
        let m = -Infinity;
        for (let iy = y0; iy < y1; iy++) for (let ix = x0; ix < x1; ix++) m = Math.max(m, x[(c * H + iy) * W + ix]!);
        y[(c * Ho + oy) * Wo + ox] = m;
      }
    }
  }
  return y;
}

/**
 * Average pool of a [C, H, W] tensor with zero pads [top, left, bottom, right] (each < k):
 * the divisor is the window's positions inside the padded input with `countIncludePad`,
 * else its in-bounds count (ONNX count_include_pad 1 / 0; with `ceil`, positions past the
 * padding never count). Float64: the exact mean. Int8 (the chip's host op between layers):
 * the mean rounded to nearest, ties to even (exact integer arithmetic). A number `pads` is
 * the same padding on every side.
 */
export function avgPool<T extends Float64Array | Int8Array>(
  x: T, [C, H, W]: [number, number, number], k: number, s: number, pads: Pads | number = 0, countIncludePad = false, ceil = false,
): T {
  const [pt, pl, pb, pr] = typeof pads === "number" ? [pads, pads, pads, pads] : pads;
  const Ho = poolOut(H, k, s, pt, pb, ceil);
  const Wo = poolOut(W, k, s, pl, pr, ceil);
  const y = new (x.constructor as new (n: number) => T)(C * Ho * Wo);
  const int = x instanceof Int8Array;
  for (let c = 0; c < C; c++) {
    for (let oy = 0; oy < Ho; oy++) {
      const y0 = Math.max(0, oy * s - pt);
      const y1 = Math.min(H, oy * s - pt + k);
      const py = Math.min(H + pb, oy * s - pt + k) - Math.max(-pt, oy * s - pt);
      for (let ox = 0; ox < Wo; ox++) {
        const x0 = Math.max(0, ox * s - pl);
        const x1 = Math.min(W, ox * s - pl + k);
        const px = Math.min(W + pr, ox * s - pl + k) - Math.max(-pl, ox * s - pl);
        let sum = 0;
        for (let iy = y0; iy < y1; iy++) for (let ix = x0; ix < x1; ix++) sum += x[(c * H + iy) * W + ix]!;
        const d = countIncludePad ? py * px : (y1 - y0) * (x1 - x0);
        y[(c * Ho + oy) * Wo + ox] = int ? roundHalfEven(sum, d) : sum / d;
      }
    }
  }
  return y;
}

/** Zero padding of a [C, H, W] tensor by [top, left, bottom, right]. */
export function pad<T extends Float64Array | Int8Array>(x: T, [C, H, W]: [number, number, number], [pt, pl, pb, pr]: Pads): T {
  const Hp = H + pt + pb;
  const Wp = W + pl + pr;
  const y = new (x.constructor as new (n: number) => T)(C * Hp * Wp);
  for (let c = 0; c < C; c++) for (let iy = 0; iy < H; iy++) y.set(x.subarray((c * H + iy) * W, (c * H + iy + 1) * W), (c * Hp + iy + pt) * Wp + pl);
  return y;
}

/** Channel concatenation ([C_i, H, W] tensors are C_i·H·W values each, channel-major). */
export function concat<T extends Float64Array | Int8Array>(xs: readonly T[]): T {
  const y = new (xs[0]!.constructor as new (n: number) => T)(xs.reduce((a, v) => a + v.length, 0));
  let o = 0;
  for (const v of xs) {
    y.set(v, o);
    o += v.length;
  }
  return y;
}

/** round(a / d) to nearest, ties to even, for integers a and d > 0. */
export function roundHalfEven(a: number, d: number): number {
  const q = Math.floor(a / d);
  const r2 = 2 * (a - q * d);
  return r2 > d || (r2 === d && q % 2 !== 0) ? q + 1 : q;
}
