// Checking a network (lib/network/graph.ts) and inferring its shapes: every node's output
// shape (inferShapes, throwing an ArgumentError that names the node for any inconsistency),
// the network's output shape and its parameter counts. Split from graph.ts, which holds the
// node types and the per-node arithmetic helpers.

import { ArgumentError } from "../runtime/validate.ts";
import { ACTIVATION_FNS, INPUT, isWeightNode, poolOut, poolPads, weightCount, type Network, type Shape } from "./graph.ts";

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
      case "activation": {
        if (!(ACTIVATION_FNS as readonly string[]).includes(n.fn)) throw new ArgumentError(`${name}.fn`, `one of ${ACTIVATION_FNS.join(", ")}`, n.fn);
        for (const k of ["alpha", "beta", "gamma"] as const) {
          if (n[k] !== undefined && !Number.isFinite(n[k])) throw new ArgumentError(`${name}.${k}`, "a finite number", n[k]);
        }
        if (n.fn === "prelu" && !(n.slope instanceof Float32Array && (n.slope.length === 1 || n.slope.length === x[0]))) {
          throw new ArgumentError(`${name}.slope`, `a Float32Array of 1 or ${x[0]} (the channels) values`, n.slope?.length);
        }
        out = x;
        break;
      }
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
        throw new ArgumentError(`${name}.op`, `one of "conv2d", "dense", "batchNorm", "relu", "add", "maxPool", "avgPool", "flatten", "pad", "concat", "activation"`, (n as { op: unknown }).op);
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
