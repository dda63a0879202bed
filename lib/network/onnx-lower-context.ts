// The state of one ONNX → IR lowering (lib/network/onnx-lower.ts) and helpers that name the
// node in every error.

import { INPUT, type Node, type Shape } from "./graph.ts";
import { inferShapes } from "./graph-shapes.ts";
import { attr, OnnxError, type NodeProto, type Tensor } from "./onnx-decode.ts";

/** What the lowering of one node sees: the graph so far and helpers that name the node in errors. */
export class LowerContext {
  readonly nodes: Node[] = [];
  /** ONNX tensor → IR node name. */
  readonly alias = new Map<string, string>();
  /** ONNX tensor → its ONNX dims where they differ from the IR's (a no-op Transpose's output). */
  readonly relaid = new Map<string, number[]>();
  private counter = 0;
  private shapeCache: { count: number; shapes: Map<string, Shape> } | undefined;

  constructor(
    readonly what: string,
    readonly inits: Map<string, Tensor>,
    readonly inputShape: number[],
    readonly consumers: Map<string, NodeProto[]>,
  ) {}

  /** The IR node an ONNX tensor stands for. */
  get(t: string, n: NodeProto, layoutOk = false): string {
    const v = this.alias.get(t);
    if (v === undefined) throw this.error(n, `reads ${t}, which no supported node produced`);
    if (this.relaid.has(t) && !layoutOk) throw this.error(n, `reads ${t}, a Transpose's [${this.relaid.get(t)!.join(", ")}] layout; only Flatten or Reshape may read it`);
    return v;
  }

  /** A constant input (initializer or folded constant). */
  init(t: string | undefined, n: NodeProto, role: string): Tensor {
    const v = t ? this.inits.get(t) : undefined;
    if (!v) throw this.error(n, `needs its ${role} as a constant (initializer)`);
    return v;
  }

  isConst(t: string | undefined): boolean {
    return !!t && this.inits.has(t);
  }

  /** The IR shape of a node (the network so far). */
  shape(irName: string): Shape {
    if (this.shapeCache?.count !== this.nodes.length) {
      this.shapeCache = { count: this.nodes.length, shapes: inferShapes({ name: "partial", inputShape: this.inputShape, nodes: this.nodes }) };
    }
    return this.shapeCache.shapes.get(irName)!;
  }

  /** Add an IR node for ONNX node `n` whose output is ONNX tensor `out`. */
  push(n: NodeProto, node: Node, out = (n.output ?? [])[0] ?? ""): void {
    this.nodes.push(node);
    this.alias.set(out, node.name);
  }

  fresh(n: NodeProto, op: string): string {
    const taken = (s: string) => s === INPUT || this.nodes.some((x) => x.name === s);
    if (n.name && !taken(n.name)) return n.name;
    let s: string;
    do s = `${op}${this.counter++}`;
    while (taken(s));
    return s;
  }

  error(n: NodeProto, why: string): OnnxError {
    return new OnnxError(`${this.what}: node "${n.name ?? ""}" (${n.opType}) ${why}`);
  }
}

/** [top, left, bottom, right] from its pads / auto_pad over an [H, W] input (`hw`, asked only for SAME_*). */
export function windowPads(cx: LowerContext, n: NodeProto, k: number, s: number, hw: () => readonly number[]): [number, number, number, number] {
  const auto = attr(n, "auto_pad")?.s ?? "NOTSET";
  let pads: number[];
  if (auto === "NOTSET") pads = attr(n, "pads")?.ints ?? [];
  else if (auto === "VALID") pads = [];
  else if (auto === "SAME_UPPER" || auto === "SAME_LOWER") {
    // Output ceil(in / s); total padding (out − 1)·s + k − in, the odd one at the end (UPPER) or the start (LOWER).
    const total = hw().map((d) => Math.max((Math.ceil(d / s) - 1) * s + k - d, 0));
    const begin = total.map((t) => (auto === "SAME_UPPER" ? Math.floor(t / 2) : Math.ceil(t / 2)));
    pads = [...begin, ...total.map((t, i) => t - begin[i]!)];
  } else throw cx.error(n, `has an unknown auto_pad "${auto}"`);
  if (pads.length === 0) pads = [0, 0, 0, 0];
  if (pads.length !== 4) throw cx.error(n, `has pads [${pads.join(", ")}]; a 2-D window needs 4`);
  return [pads[0]!, pads[1]!, pads[2]!, pads[3]!];
}

