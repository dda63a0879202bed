// The receiving core's LDPU work after a weight layer (paper §II: affine, ReLU, residual
// add): the chain of single-consumer batchNorm / relu / add nodes that follows a conv2d /
// dense, the affine y = scale · acc + shift that folds its bias and batch norms, and the
// routes of residual data into the receivers.

import { ArgumentError } from "../runtime/validate.ts";
import { nodeInputs, type Network, type Node, type WeightNode } from "./graph.ts";
import type { LdpuOp, Range, RouteInfo } from "./mapping.ts";
import { routeInfo, type Placer } from "./placement.ts";
import { OFFCHIP } from "../chip/links.ts";
import type { OutputSite } from "./input-routes.ts";

export interface Epilogue {
  ops: { node: Node }[];
  /** The node whose value leaves the receiver. */
  output: string;
}

/** Walk from a weight layer through its single-consumer batchNorm / relu / add successors. */
function epilogue(layer: WeightNode, consumers: Map<string, Node[]>): Epilogue {
  const ops: { node: Node }[] = [];
  let cur = layer.name;
  let foldable = true; // batch norm folds only before any relu / add
  for (;;) {
    const next = consumers.get(cur) ?? [];
    const c = next[0];
    if (next.length !== 1 || c === undefined) break;
    if (c.op === "batchNorm" && !foldable) break;
    if (c.op !== "batchNorm" && c.op !== "relu" && c.op !== "add") break;
    if (c.op !== "batchNorm") foldable = false;
    ops.push({ node: c });
    cur = c.name;
  }
  return { ops, output: cur };
}

/** Every weight layer's epilogue; every relu / add must belong to one (a batchNorm that
 * does not, e.g. an input normalisation, runs on the host). */
export function epilogues(net: Network, layers: readonly WeightNode[]): Map<string, Epilogue> {
  const consumers = new Map<string, Node[]>();
  for (const n of net.nodes) for (const i of nodeInputs(n)) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  const claimed = new Set<string>();
  const epis = new Map<string, Epilogue>();
  const walked = layers.map((l) => [l, epilogue(l, consumers)] as const);
  // An add of two weight layers' outputs (a ResNet block with a conv shortcut: both chains
  // reach it) belongs to the layer that runs last; the other's chain stops before it, and its
  // output is the residual the later receiver adds.
  const order = new Map(net.nodes.map((n, i) => [n.name, i]));
  const owner = new Map<string, WeightNode>();
  for (const [l, e] of walked) {
    for (const o of e.ops) {
      const had = owner.get(o.node.name);
      if (o.node.op === "add" && (!had || order.get(l.name)! > order.get(had.name)!)) owner.set(o.node.name, l);
    }
  }
  for (const [l, e0] of walked) {
    let e = e0;
    const cut = e.ops.findIndex((o) => o.node.op === "add" && owner.get(o.node.name) !== l);
    if (cut >= 0) e = { ops: e.ops.slice(0, cut), output: cut === 0 ? l.name : e.ops[cut - 1]!.node.name };
    epis.set(l.name, e);
    for (const o of e.ops) claimed.add(o.node.name);
  }
  for (const n of net.nodes) {
    if ((n.op === "relu" || n.op === "add") && !claimed.has(n.name)) {
      throw new ArgumentError(
        n.name,
        `a ${n.op} in the epilogue of a conv2d / dense (the LDPU of the receiving core runs it; a value with several consumers leaves the chip)`,
        `${n.op} of ${nodeInputs(n).join(", ")}`,
      );
    }
  }
  return epis;
}

/**
 * The LDPU program of layer `l` (rows outputs) on its receivers: affine (bias and batch
 * norms folded), ReLU, residual adds with their routes from `outputAt` (or the chip I/O
 * when the residual is computed on the host).
 */
export function ldpuProgram(
  l: WeightNode, rows: number, e: Epilogue, receivers: readonly number[], rowBlocks: readonly Range[],
  outputAt: ReadonlyMap<string, OutputSite>, placer: Placer,
): { ldpu: LdpuOp[]; affine: { scale: Float32Array; shift: Float32Array } } {
  const scale = new Float32Array(rows).fill(1);
  const shift = l.bias === undefined ? new Float32Array(rows) : l.bias.slice();
  const folds: string[] = l.bias === undefined ? [] : [`${l.name}.bias`];
  const ldpu: LdpuOp[] = [];
  e.ops.forEach(({ node }, k) => {
    if (node.op === "batchNorm") {
      for (let i = 0; i < rows; i++) {
        scale[i] = node.scale[i]! * scale[i]!;
        shift[i] = node.scale[i]! * shift[i]! + node.shift[i]!;
      }
      folds.push(node.name);
    } else if (node.op === "relu") {
      ldpu.push({ op: "relu", node: node.name });
    } else if (node.op === "add") {
      const mine = k === 0 ? l.name : e.ops[k - 1]!.node.name; // the value arriving along the epilogue
      const residual = node.inputs[0] === mine ? node.inputs[1] : node.inputs[0];
      const src = outputAt.get(residual);
      const routes: RouteInfo[] = [];
      const what = `residual ${residual} into ${node.name}`;
      receivers.forEach((recv, ob) => {
        if (src === undefined) {
          routes.push(routeInfo(placer.routeOrFail(OFFCHIP, recv, what)));
        } else {
          const [a, b] = rowBlocks[ob]!;
          src.rowBlocks.forEach(([c, d], sb) => {
            if (c < b && a < d) routes.push(routeInfo(placer.routeOrFail(src.receivers[sb]!, recv, what)));
          });
        }
      });
      ldpu.push({ op: "add", node: node.name, residual, routes });
    }
  });
  if (folds.length > 0) ldpu.unshift({ op: "affine", folds });
  return { ldpu, affine: { scale, shift } };
}
