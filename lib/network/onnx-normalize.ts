// The ONNX front end's first pass: turn what exporters write into the canonical graph that
// lib/network/onnx.ts lowers, leaning on onnxruntime instead of a hand-written folder.
//
//  1. Free dimensions of the data inputs' batch axis are fixed to 1 (dynamic batch axes), and
//     so is a batch fixed at B > 1 (a model exported with a training batch as its dummy
//     input; Reshape targets [B, ...] become [1, ...]);
//     an input named in `fixed` gets the dims given instead (a sequence model's free
//     sequence axis, from its test set: lib/network/onnx-sequence.ts).
//  2. Constant subgraphs are folded: every node whose inputs are all constant
//     (initializers, Constant outputs, and Shape / Size of any tensor, static once the
//     batch is fixed) — PyTorch's Shape → Gather → Unsqueeze → Concat → Reshape for
//     `view()`, Identity over shared initializers, Transpose / Reshape / Cast of weights —
//     is evaluated by onnxruntime in one run on a zero input, and the tensors it hands to
//     the rest of the graph become initializers.
//  3. Identity and Dropout (inference: pass-through) are removed.
// BatchNormalization is NOT fused into Conv here (onnxruntime's optimiser would): the chip
// applies batch norm in the LDPU affine (paper §II), which lib/network/mapper.ts does.

import onnxProto from "onnx-proto";
import { decodeOnnx, OnnxError, tensorOf } from "./onnx-decode.ts";
import { loadOrt, type OrtTensor } from "./ort.ts";

const { onnx } = onnxProto;
type ModelProto = InstanceType<typeof onnx.ModelProto>;
type NodeProto = InstanceType<typeof onnx.NodeProto>;

/** Ops never folded even when their inputs are constant (random or stateful). */
const NEVER_FOLD = new Set(["RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli"]);
/** Ops whose output is constant once input shapes are fixed, whatever the input values. */
const SHAPE_OPS = new Set(["Shape", "Size"]);
/** Pass-through ops at inference. */
const PASS_OPS = new Set(["Identity", "Dropout"]);

/** ONNX TensorProto data types by onnxruntime tensor type. */
const DATA_TYPE: Record<string, number> = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, float64: 11 };

export interface NormalizeOptions {
  /** Dims for these data inputs (every axis; a static axis must already have that size). */
  fixed?: Readonly<Record<string, readonly number[]>>;
}

export interface NormalizeReport {
  /** Data inputs whose batch axis was free and is now 1. */
  fixedBatch: string[];
  /** Data inputs whose batch axis was fixed at more than 1 in the file (a training batch as the
   * exporter's dummy input) and is now 1: the batch it had. Reshape targets that start with
   * that batch (PyTorch's constant-folded `view(x.size(0), -1)`) now start with 1. */
  batchWas?: Record<string, number>;
  /** Data inputs whose dims were given (NormalizeOptions.fixed). */
  fixedDims?: Record<string, number[]>;
  /** Nodes folded into constants (count by op type). */
  folded: Record<string, number>;
  /** Identity / Dropout nodes removed. */
  removed: number;
}

function countBy(nodes: readonly NodeProto[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of nodes) out[n.opType ?? "?"] = (out[n.opType ?? "?"] ?? 0) + 1;
  return out;
}

function dataInputs(m: ModelProto) {
  const g = m.graph!;
  const inits = new Set((g.initializer ?? []).map((t) => t.name ?? ""));
  return (g.input ?? []).filter((i) => !inits.has(i.name ?? ""));
}

/** Fix the batch axis (dim 0) of every data input to 1 where it is free or more than 1
 * (`was` gets the latter's batch); inputs in `given` get those dims. */
function fixBatch(m: ModelProto, what: string, given: Readonly<Record<string, readonly number[]>> = {}, was: Record<string, number> = {}): string[] {
  const fixed: string[] = [];
  const names = new Set(dataInputs(m).map((i) => i.name ?? ""));
  for (const name of Object.keys(given)) if (!names.has(name)) throw new OnnxError(`${what}: no data input named ${name} to fix (inputs: ${[...names].join(", ")})`);
  for (const i of dataInputs(m)) {
    const want = given[i.name ?? ""];
    if (want) {
      const dims = i.type?.tensorType?.shape?.dim ?? [];
      if (dims.length !== want.length) throw new OnnxError(`${what}: input ${i.name} has ${dims.length} axes, not ${want.length}`);
      dims.forEach((d, k) => {
        const v = d.dimValue !== undefined && d.dimValue !== null ? Number(d.dimValue) : 0;
        if (v > 0 && v !== want[k]) throw new OnnxError(`${what}: input ${i.name} axis ${k} is ${v}, not ${want[k]}`);
        d.dimValue = want[k]! as never;
        d.dimParam = "";
      });
      continue;
    }
    const d0 = i.type?.tensorType?.shape?.dim?.[0];
    const v0 = d0 && d0.dimValue !== undefined && d0.dimValue !== null ? Number(d0.dimValue) : 0;
    if (d0 && !(v0 > 0)) {
      d0.dimValue = 1 as never;
      d0.dimParam = "";
      fixed.push(i.name ?? "");
    } else if (d0 && v0 > 1 && (i.type?.tensorType?.shape?.dim ?? []).length >= 2) {
      was[i.name ?? ""] = v0; // set to 1 after the folding, which runs at the model's own batch
    }
  }
  return fixed;
}

function toInitializer(name: string, t: OrtTensor): InstanceType<typeof onnx.TensorProto> {
  const dataType = DATA_TYPE[t.type];
  if (dataType === undefined) throw new OnnxError(`folded tensor ${name} has type ${t.type}, which the front end does not handle`);
  const data = t.data as unknown as ArrayBufferView;
  const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  return onnx.TensorProto.create({ name, dims: t.dims.map(Number), dataType, rawData: raw });
}

/** A zero tensor for a data input (its ONNX element type and fixed dims). */
function zeroFeed(ort: Awaited<ReturnType<typeof loadOrt>>["ort"], input: ReturnType<typeof dataInputs>[number], what: string): OrtTensor {
  const dims = (input.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimValue !== undefined && d.dimValue !== null ? Number(d.dimValue) : -1));
  if (dims.some((d) => !(d > 0))) {
    throw new OnnxError(`${what}: input ${input.name} has free dimensions [${dims.map((d) => (d > 0 ? d : "?")).join(", ")}] besides the batch; only the batch axis may be free`);
  }
  const n = dims.reduce((a, b) => a * b, 1);
  const elem = input.type?.tensorType?.elemType ?? 1;
  if (elem === 7) return new ort.Tensor("int64", new BigInt64Array(n), dims);
  if (elem === 6) return new ort.Tensor("int32", new Int32Array(n), dims);
  return new ort.Tensor("float32", new Float32Array(n), dims);
}

/**
 * Normalise an ONNX model's bytes (see the header). Returns the canonical model's bytes and
 * what was done. Errors name the file (`what`) and, from onnxruntime, the node.
 */
export async function normalizeOnnx(bytes: Uint8Array, what = "model", options: NormalizeOptions = {}): Promise<{ bytes: Uint8Array; report: NormalizeReport }> {
  const m = decodeOnnx(bytes, what);
  const g = m.graph!;
  const batchWas: Record<string, number> = {};
  const fixedBatch = fixBatch(m, what, options.fixed, batchWas);
  const nodes = (g.node ?? []) as NodeProto[];

  // 2. Which tensors are constant.
  const konst = new Set<string>((g.initializer ?? []).map((t) => t.name ?? ""));
  konst.add("");
  const foldable = new Set<NodeProto>();
  for (const n of nodes) {
    const op = n.opType ?? "";
    const ins = n.input ?? [];
    const constant =
      !NEVER_FOLD.has(op) && (op === "Constant" || SHAPE_OPS.has(op) || (ins.length > 0 && ins.every((t) => konst.has(t))));
    if (constant) {
      foldable.add(n);
      for (const o of n.output ?? []) konst.add(o);
    }
  }
  const graphOutputs = new Set((g.output ?? []).map((o) => o.name ?? ""));
  const needed = new Set<string>();
  for (const n of nodes) if (!foldable.has(n)) for (const t of n.input ?? []) if (t && konst.has(t)) needed.add(t);
  for (const o of graphOutputs) if (konst.has(o)) needed.add(o);
  const initNames = new Set((g.initializer ?? []).map((t) => t.name ?? ""));
  const frontier = [...needed].filter((t) => !initNames.has(t));

  const folded = nodes.filter((n) => foldable.has(n));
  if (frontier.length > 0) {
    const { ort } = await loadOrt();
    const evalModel = onnx.ModelProto.decode(onnx.ModelProto.encode(m).finish());
    evalModel.graph!.output = frontier.map((name) => onnx.ValueInfoProto.create({ name }));
    let values: Record<string, OrtTensor>;
    try {
      // No graph optimisations: only the values are wanted, and fusions (e.g. Pad into a pool) can
      // refuse graphs that are valid node by node.
      const session = await ort.InferenceSession.create(onnx.ModelProto.encode(evalModel).finish(), { graphOptimizationLevel: "disabled", logSeverityLevel: 4 });
      const feeds: Record<string, OrtTensor> = {};
      for (const i of dataInputs(evalModel)) feeds[i.name ?? ""] = zeroFeed(ort, i, what);
      values = await session.run(feeds);
      await session.release?.();
    } catch (e) {
      throw new OnnxError(`${what}: onnxruntime could not evaluate the model's constant subgraphs: ${(e as Error).message}`);
    }
    const kept = (g.initializer ?? []).filter((t) => nodes.some((n) => !foldable.has(n) && (n.input ?? []).includes(t.name ?? "")) || graphOutputs.has(t.name ?? ""));
    g.initializer = [...kept, ...frontier.map((name) => toInitializer(name, values[name]!))];
  }
  const rest = nodes.filter((n) => !foldable.has(n));

  // 3. Identity / Dropout removed: readers read the pass-through's input.
  const rename = new Map<string, string>();
  const resolve = (t: string): string => {
    let r = t;
    while (rename.has(r)) r = rename.get(r)!;
    return r;
  };
  let removed = 0;
  const out: NodeProto[] = [];
  for (const n of rest) {
    n.input = (n.input ?? []).map((t) => (t ? resolve(t) : t));
    const o = (n.output ?? [])[0] ?? "";
    if (PASS_OPS.has(n.opType ?? "") && !graphOutputs.has(o)) {
      rename.set(o, n.input[0]!);
      removed++;
      continue;
    }
    out.push(n);
  }
  g.node = out;
  // A batch that was fixed at B > 1: Reshape targets [B, ...] (constants torch folded from
  // x.size(0)) become [1, ...]; the lowering still checks that the sizes agree.
  for (const i of dataInputs(m)) if (batchWas[i.name ?? ""]) i.type!.tensorType!.shape!.dim![0]!.dimValue = 1 as never;
  const batches = new Set(Object.values(batchWas));
  if (batches.size === 1) {
    const b = [...batches][0]!;
    const inits = new Map((g.initializer ?? []).map((t) => [t.name ?? "", t]));
    for (const n of out) {
      const t = n.opType === "Reshape" ? inits.get((n.input ?? [])[1] ?? "") : undefined;
      if (!t || (t.dataType !== 7 && t.dataType !== 6)) continue;
      const shape = Array.from(tensorOf(t as Parameters<typeof tensorOf>[0], `${what}: Reshape ${n.name} shape`).data);
      if (shape.length < 2 || shape[0] !== b) continue;
      const name = `${t.name}.batch1`;
      if (!inits.has(name)) {
        const v = onnx.TensorProto.create({ name, dims: [shape.length], dataType: 7, rawData: new Uint8Array(BigInt64Array.from([1, ...shape.slice(1)].map(BigInt)).buffer) });
        g.initializer = [...(g.initializer ?? []), v] as typeof g.initializer;
        inits.set(name, v);
      }
      n.input = [(n.input ?? [])[0]!, name, ...(n.input ?? []).slice(2)];
    }
  }
  // Keep the initializers' and inputs' lists consistent: drop initializers nobody reads.
  const read = new Set(out.flatMap((n) => n.input ?? []));
  g.initializer = (g.initializer ?? []).filter((t) => read.has(t.name ?? "") || graphOutputs.has(t.name ?? ""));
  const initLeft = new Set((g.initializer ?? []).map((t) => t.name ?? ""));
  g.input = (g.input ?? []).filter((i) => !initNames.has(i.name ?? "") || initLeft.has(i.name ?? ""));
  g.valueInfo = [];
  return { bytes: onnx.ModelProto.encode(m).finish(), report: { fixedBatch, ...(Object.keys(batchWas).length ? { batchWas } : {}), ...(options.fixed ? { fixedDims: Object.fromEntries(Object.entries(options.fixed).map(([k, v]) => [k, [...v]])) } : {}), folded: countBy(folded), removed } };
}
