// Reading a canonical ONNX sequence graph (after lib/network/onnx-normalize.ts: batch 1, the
// sequence length fixed, constant subgraphs folded) into a SequenceModel
// (lib/network/sequence-model.ts). Every tensor on the way from the data input to the output
// is followed with a label per axis — T (sequence), B (batch, 1), D (LSTM directions, 1),
// F (features), 1 (any other size-1 axis), L (a stack of layers' last hidden states) — so
// that what PyTorch writes around an nn.LSTM is understood by what it does, not by pattern:
//  - Transpose (batch_first), Squeeze / Unsqueeze / Reshape / Flatten that only move size-1
//    axes, Cast of token ids;
//  - Gather of an initializer by token ids: the embedding (host side);
//  - LSTM (forward, default activations, no clip or peepholes, zero initial state, layout 0
//    as PyTorch writes it; onnxruntime refuses layout 1): one layer; its Y feeds the next
//    LSTM, its Y_h (or Concat of the layers' Y_h, PyTorch's h_n) the head;
//  - Gather / Slice of the last step (index −1) on T: the head reads the last step; without
//    it, every step;
//  - MatMul (+ Add of a bias) and Gemm with initializer weights, each optionally followed by
//    Relu: the dense head; Softmax / LogSoftmax / Sigmoid / Tanh after the last: host side.
// Anything else is one OnnxError naming the node, its op and the reason.

import { attr, OnnxError, tensorOf, type HeadOp, type ModelProto, type NodeProto, type Tensor } from "./onnx-decode.ts";
import { gdpuGateOrder } from "./onnx-lstm.ts";
import type { SequenceDense, SequenceLstmLayer, SequenceModel } from "./sequence-model.ts";

interface Ax {
  l: "T" | "B" | "D" | "F" | "1" | "L";
  n: number;
}
type Src =
  | { k: "ids" }
  | { k: "x" }
  | { k: "Y"; layer: number }
  | { k: "Yh"; layers: number[] }
  | { k: "Yc" }
  | { k: "dense"; index: number; stage: "raw" | "biased" | "relu" | "head" };
interface Val {
  src: Src;
  axes: Ax[];
  /** The T axis was reduced to the last step. */
  last: boolean;
}

export interface GraphInput {
  name: string;
  elemType: number;
  dims: number[];
  seqAxis: number;
}

const HEAD: Record<string, HeadOp> = { Softmax: "softmax", LogSoftmax: "logSoftmax", Sigmoid: "sigmoid", Tanh: "tanh" };

/** Why the GDPU cannot run this LSTM node, or undefined when it can. */
export function lstmUnsupported(n: NodeProto): string | undefined {
  const dir = attr(n, "direction")?.s ?? "forward";
  if (dir !== "forward") return `runs ${dir}: the GDPU slices run forward LSTMs only`;
  const acts = (n.attribute ?? []).find((a) => a.name === "activations")?.strings?.map((s) => new TextDecoder().decode(s).toLowerCase());
  if (acts && acts.join() !== "sigmoid,tanh,tanh") return `has activations ${acts.join(", ")}: the GDPU computes sigmoid and tanh only`;
  if ((n.attribute ?? []).some((a) => a.name === "activation_alpha" || a.name === "activation_beta")) return "has activation parameters: the GDPU computes plain sigmoid and tanh";
  if (attr(n, "clip")?.f !== undefined) return "clips its cell input; the GDPU does not";
  if ((attr(n, "input_forget")?.i ?? 0) !== 0) return "couples the input and forget gates (input_forget); the GDPU does not";
  if (n.input?.[7]) return "has peepholes (P); the GDPU has none";
  if ((attr(n, "layout")?.i ?? 0) !== 0) return "has layout 1 (batch-major), which onnxruntime cannot run as the float reference; PyTorch exports layout 0 with Transposes";
  return undefined;
}

/** Read the canonical graph `m` whose data input is `input` (dims fixed). */
export function importSequenceGraph(m: ModelProto, input: GraphInput, what: string, bytes: Uint8Array): SequenceModel {
  const g = m.graph!;
  const opset = Number((m.opsetImport ?? []).find((o) => !o.domain || o.domain === "ai.onnx")?.version ?? 13);
  const inits = new Map<string, Tensor>();
  for (const t of g.initializer ?? []) inits.set(t.name ?? "", tensorOf(t as never, `${what}: initializer ${t.name}`));
  const steps = input.dims[input.seqAxis]!;
  const ids = input.elemType === 6 || input.elemType === 7;
  const rank = input.dims.length;
  const vals = new Map<string, Val>();
  vals.set(input.name, {
    src: ids ? { k: "ids" } : { k: "x" },
    axes: input.dims.map((n, k) => ({ l: k === input.seqAxis ? "T" : !ids && k === rank - 1 ? "F" : "B", n })),
    last: false,
  });
  let embedding: SequenceModel["embedding"];
  const layers: SequenceLstmLayer[] = [];
  const dense: (SequenceDense & { from: { layer: number; last: boolean } })[] = [];
  const head: HeadOp[] = [];

  const outName = g.output?.[0]?.name ?? "";
  // Only the nodes the first output depends on.
  const needed = new Set<string>([outName]);
  const nodes = (g.node ?? []) as NodeProto[];
  const used = new Set<NodeProto>();
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!;
    if ((n.output ?? []).some((o) => needed.has(o))) {
      used.add(n);
      for (const t of n.input ?? []) if (t) needed.add(t);
    }
  }

  for (const n of nodes) {
    if (!used.has(n)) continue;
    const op = n.opType ?? "";
    const where = `${what}: ${op} node "${n.name || n.output?.[0]}"`;
    const fail = (why: string): never => {
      throw new OnnxError(`${where} ${why}`);
    };
    const ins = n.input ?? [];
    const v = vals.get(ins[0] ?? "");
    for (const t of ins) if (vals.get(t)?.src.k === "Yc") fail("reads the LSTM's cell state Y_c, which stays in the GDPU slices");
    const konst = (i: number, name: string): number[] => {
      const t = inits.get(ins[i] ?? "");
      if (!t) fail(`needs ${name} as a constant`);
      return Array.from(t!.data);
    };
    const ints = (a: string, i: number): number[] | undefined => {
      const at = attr(n, a);
      if (at?.ints?.length) return at.ints;
      return ins[i] ? konst(i, a) : undefined;
    };
    const set = (val: Val) => vals.set(n.output?.[0] ?? "", val);
    const norm = (a: number, r: number) => (a < 0 ? a + r : a);
    if (!v && op !== "Gather" && op !== "Add" && op !== "Concat") fail(`does not read the sequence data (input ${ins[0]} is ${inits.has(ins[0] ?? "") ? "a constant" : "unknown"})`);
    const dsrc = (x: Val | undefined) => (x?.src.k === "dense" ? x.src : undefined);

    switch (op) {
      case "Cast": {
        const to = attr(n, "to")?.i ?? 1;
        if (v!.src.k === "ids" && to !== 6 && to !== 7) fail("turns token ids into another type");
        if (v!.src.k !== "ids" && to !== 1) fail(`casts data to type ${to}; the chip path is float32`);
        set(v!);
        break;
      }
      case "Identity":
      case "Dropout":
        set(v!);
        break;
      case "Gather": {
        const axis = attr(n, "axis")?.i ?? 0;
        const table = inits.get(ins[0] ?? "");
        const idv = vals.get(ins[1] ?? "");
        if (table && idv?.src.k === "ids") {
          if (embedding) fail("is a second embedding");
          if (axis !== 0 || table.dims.length !== 2) fail(`embeds with a table of shape [${table.dims}] on axis ${axis}; an embedding is a [vocabulary, dim] table on axis 0`);
          embedding = { table: table.data, vocabulary: table.dims[0]!, dim: table.dims[1]! };
          set({ src: { k: "x" }, axes: [...idv.axes, { l: "F", n: table.dims[1]! }], last: false });
          break;
        }
        const idx = inits.get(ins[1] ?? "");
        if (!v || !idx || idx.data.length !== 1) fail("is neither an embedding (a table indexed by token ids) nor a selection of one index by a constant");
        const a = norm(axis, v!.axes.length);
        const ax = v!.axes[a]!;
        const i = norm(idx!.data[0]!, ax.n);
        const keep = idx!.dims.length > 0;
        let src = v!.src;
        let last = v!.last;
        if (ax.l === "T") {
          if (i !== ax.n - 1) fail(`selects step ${i} of ${ax.n}; the head reads the last step or every step`);
          last = true;
        } else if (ax.l === "L" && src.k === "Yh") {
          src = { k: "Yh", layers: [src.layers[i]!] };
        } else if (ax.n !== 1 || i !== 0) fail(`selects index ${i} of a ${ax.l === "F" ? "feature" : ax.l} axis of size ${ax.n}; only the last step can be selected`);
        const axes = v!.axes.slice();
        if (keep) axes[a] = { l: ax.l === "L" ? "D" : ax.l, n: 1 };
        else axes.splice(a, 1);
        set({ src, axes, last });
        break;
      }
      case "Transpose": {
        const r = v!.axes.length;
        const perm = attr(n, "perm")?.ints?.length ? attr(n, "perm")!.ints! : Array.from({ length: r }, (_, k) => r - 1 - k);
        set({ ...v!, axes: perm.map((p) => v!.axes[p]!) });
        break;
      }
      case "Squeeze": {
        const axes = (ints("axes", 1) ?? v!.axes.flatMap((x, k) => (x.n === 1 ? [k] : []))).map((a) => norm(a, v!.axes.length));
        for (const a of axes) if (v!.axes[a]?.n !== 1) fail(`squeezes axis ${a} of size ${v!.axes[a]?.n}`);
        const lostT = axes.some((a) => v!.axes[a]!.l === "T");
        set({ ...v!, axes: v!.axes.filter((_, k) => !axes.includes(k)), last: v!.last || lostT });
        break;
      }
      case "Unsqueeze": {
        const add = ints("axes", 1) ?? fail("has no axes");
        const r = v!.axes.length + add.length;
        const at = add.map((a) => norm(a, r)).sort((a, b) => a - b);
        const axes = v!.axes.slice();
        for (const a of at) axes.splice(a, 0, { l: "1", n: 1 });
        set({ ...v!, axes });
        break;
      }
      case "Reshape":
      case "Flatten": {
        const dims = v!.axes.map((x) => x.n);
        let target: number[];
        if (op === "Flatten") {
          const a = norm(attr(n, "axis")?.i ?? 1, dims.length);
          target = [dims.slice(0, a).reduce((p, q) => p * q, 1), dims.slice(a).reduce((p, q) => p * q, 1)];
        } else {
          const shape = konst(1, "its shape");
          const zero = (attr(n, "allowzero")?.i ?? 0) === 1;
          target = shape.map((d, k) => (d === 0 && !zero ? dims[k]! : d));
          const known = target.filter((d) => d !== -1).reduce((p, q) => p * q, 1);
          target = target.map((d) => (d === -1 ? dims.reduce((p, q) => p * q, 1) / known : d));
        }
        const big = (d: number[]) => d.filter((x) => x !== 1);
        if (big(dims).join() !== big(target).join()) fail(`reshapes [${dims}] to [${target}]; only size-1 axes may come or go`);
        const carried = v!.axes.filter((x) => x.n !== 1);
        let j = 0;
        const lostT = v!.axes.some((x) => x.l === "T" && x.n === 1);
        set({ ...v!, axes: target.map((d) => (d === 1 ? { l: "1", n: 1 } : carried[j++]!)), last: v!.last || lostT });
        break;
      }
      case "LSTM":
        lstm(n, v!, where, fail);
        break;
      case "Concat": {
        const parts = ins.map((t) => vals.get(t));
        const a = norm(attr(n, "axis")?.i ?? 0, parts[0]?.axes.length ?? 1);
        if (!parts.every((p) => p?.src.k === "Yh" && p.axes[a]?.l === "D")) fail("concatenates anything but the LSTM layers' last hidden states (Y_h) along their direction axis");
        const axes = parts[0]!.axes.slice();
        axes[a] = { l: "L", n: parts.length };
        set({ src: { k: "Yh", layers: parts.flatMap((p) => (p!.src as { layers: number[] }).layers) }, axes, last: true });
        break;
      }
      case "Slice": {
        const starts = ints("starts", 1) ?? fail("has no starts");
        const ends = ints("ends", 2) ?? fail("has no ends");
        const axesS = ints("axes", 3) ?? starts.map((_, k) => k);
        const stepsS = ins[4] ? konst(4, "steps") : starts.map(() => 1);
        const axes = v!.axes.slice();
        let last = v!.last;
        axesS.forEach((a0, k) => {
          const a = norm(a0, axes.length);
          const ax = axes[a]!;
          const clamp = (x: number) => Math.max(0, Math.min(ax.n, x < 0 ? x + ax.n : x));
          const [s, e] = [clamp(starts[k]!), clamp(ends[k]!)];
          if (stepsS[k] !== 1) fail(`slices with step ${stepsS[k]}`);
          if (s === 0 && e === ax.n) return;
          if (ax.l === "T" && s === ax.n - 1 && e === ax.n) {
            axes[a] = { l: "T", n: 1 };
            last = true;
            return;
          }
          fail(`slices ${s}..${e} of a ${ax.l === "T" ? "sequence" : ax.l === "F" ? "feature" : ax.l} axis of size ${ax.n}; only the last step can be selected`);
        });
        set({ ...v!, axes, last });
        break;
      }
      case "MatMul":
      case "Gemm": {
        const Bt = inits.get(ins[1] ?? "");
        if (!Bt || Bt.dims.length !== 2) fail("needs a constant 2-D weight matrix");
        if (op === "Gemm" && (attr(n, "transA")?.i ?? 0) !== 0) fail("has transA = 1");
        if (op === "Gemm" && v!.axes.length !== 2) fail(`reads a ${v!.axes.length}-D tensor (Gemm is 2-D)`);
        const transB = op === "Gemm" && (attr(n, "transB")?.i ?? 0) === 1;
        const [K, N] = transB ? [Bt!.dims[1]!, Bt!.dims[0]!] : [Bt!.dims[0]!, Bt!.dims[1]!];
        const f = v!.axes[v!.axes.length - 1]!;
        if (f.l !== "F" || f.n !== K) fail(`multiplies a last axis of ${f.n} (${f.l}) by a ${K}-row matrix`);
        const alpha = op === "Gemm" ? (attr(n, "alpha")?.f ?? 1) : 1;
        const w = new Float32Array(N * K);
        for (let o = 0; o < N; o++) for (let i = 0; i < K; i++) w[o * K + i] = alpha * (transB ? Bt!.data[o * K + i]! : Bt!.data[i * N + o]!);
        const b = new Float32Array(N);
        if (op === "Gemm" && ins[2]) {
          const C = inits.get(ins[2]) ?? fail("needs a constant bias C");
          const beta = attr(n, "beta")?.f ?? 1;
          if (C.data.length !== N && C.data.length !== 1) fail(`has a bias of ${C.data.length} values for ${N} outputs`);
          for (let o = 0; o < N; o++) b[o] = beta * C.data[C.data.length === 1 ? 0 : o]!;
        }
        const s = v!.src;
        let from = { layer: -1, last: v!.last };
        if (s.k === "Y") from = { layer: s.layer, last: v!.last };
        else if (s.k === "Yh") {
          if (s.layers.length !== 1) fail("reads the last hidden states of several layers at once");
          from = { layer: s.layers[0]!, last: true };
        } else if (s.k !== "dense" || s.stage === "head" || s.index !== dense.length - 1) fail("is a dense layer that does not read the LSTM's hidden state or the previous dense layer");
        const index = dense.length;
        dense.push({ inputs: K, outputs: N, w, b, relu: false, node: n.name || (n.output?.[0] ?? ""), from });
        const axes = v!.axes.slice();
        axes[axes.length - 1] = { l: "F", n: N };
        set({ src: { k: "dense", index, stage: op === "Gemm" && ins[2] ? "biased" : "raw" }, axes, last: v!.last || s.k === "Yh" });
        break;
      }
      case "Add": {
        const [a, b] = [vals.get(ins[0] ?? ""), vals.get(ins[1] ?? "")];
        const x = a ?? b;
        const cName = a ? ins[1] : ins[0];
        const C = inits.get(cName ?? "");
        const d = dsrc(x);
        if (!x || !C || !d || d.stage !== "raw") fail("is not the bias of a MatMul (elementwise Add between layers has no unit on the chip)");
        const N = dense[d!.index]!.outputs;
        if (C!.data.length !== N && C!.data.length !== 1) fail(`adds ${C!.data.length} values to ${N} outputs`);
        dense[d!.index]!.b = Float32Array.from({ length: N }, (_, o) => C!.data[C!.data.length === 1 ? 0 : o]!);
        set({ ...x!, src: { ...d!, stage: "biased" } });
        break;
      }
      case "Relu": {
        const d = dsrc(v);
        if (!d || d.stage === "head") fail("is not after a dense layer (the LDPU's ReLU follows a weight layer; the LSTM's output goes through the GDPU)");
        dense[d!.index]!.relu = true;
        set({ ...v!, src: { ...d!, stage: "relu" } });
        break;
      }
      default: {
        const h = HEAD[op];
        const d = dsrc(v);
        if (!h) fail("has no unit on the chip in a sequence model (see README, ONNX models)");
        if (!d || d.index !== dense.length - 1) fail("is a final activation that does not follow the last dense layer");
        if (h === "softmax" || h === "logSoftmax") {
          const a = norm(attr(n, "axis")?.i ?? (opset >= 13 ? -1 : 1), v!.axes.length);
          const over = (opset >= 13 ? [v!.axes[a]!] : v!.axes.slice(a)).filter((x) => x.n !== 1 || x.l === "F");
          if (over.length !== 1 || over[0]!.l !== "F") fail(`normalises over axis ${a}, not over the classes`);
        }
        head.push(h!);
        set({ ...v!, src: { ...d!, stage: "head" } });
      }
    }
  }

  function lstm(n: NodeProto, x: Val, where: string, fail: (why: string) => never): void {
    const ins = n.input ?? [];
    const why = lstmUnsupported(n);
    if (why) fail(why);
    if (x.axes.length !== 3) fail(`reads a ${x.axes.length}-D input; an LSTM reads [T, batch, features]`);
    if (x.src.k !== "x" && !(x.src.k === "Y" && x.src.layer === layers.length - 1)) fail("does not read the model's input, its embedding or the previous LSTM layer's output");
    if (x.last && steps > 1) fail("reads only the last step of the previous layer");
    const [t, b, f] = [x.axes[0]!, x.axes[1]!, x.axes[2]!];
    if (t.l !== "T" && !(steps === 1 && t.n === 1)) {
      fail(`reads axis 0 (${t.l === "B" ? "the batch" : "not the sequence"}) as its time axis: the sequence is axis ${x.axes.findIndex((a) => a.l === "T")} of [${x.axes.map((a) => a.n)}] (batch_first without a Transpose?)`);
    }
    if (b.n !== 1 || f.l !== "F") fail(`reads [${x.axes.map((a) => a.n)}] as [T, batch, features]`);
    const W = inits.get(ins[1] ?? "");
    const R = inits.get(ins[2] ?? "");
    if (!W || !R) fail("needs W and R as constants");
    const H = Number(attr(n, "hidden_size")?.i ?? R!.dims[2]);
    const I = f.n;
    if (W!.dims.join() !== `1,${4 * H},${I}` || R!.dims.join() !== `1,${4 * H},${H}`) fail(`has W [${W!.dims}] and R [${R!.dims}]; hidden size ${H} and ${I} inputs need [1, ${4 * H}, ${I}] and [1, ${4 * H}, ${H}]`);
    const B = ins[3] ? (inits.get(ins[3]) ?? fail("needs B as a constant")) : undefined;
    if (B && B.data.length !== 8 * H) fail(`has B of ${B.data.length} values, not ${8 * H}`);
    if (ins[4]) {
      const sl = inits.get(ins[4]);
      if (!sl || sl.data.some((s) => s !== steps)) fail("has sequence_lens other than the full length");
    }
    for (const [k, name] of [[5, "initial_h"], [6, "initial_c"]] as const) {
      if (!ins[k]) continue;
      const s = inits.get(ins[k]);
      if (!s || s.data.some((v) => v !== 0)) fail(`has a nonzero or computed ${name}: each sequence starts from a zero state`);
    }
    const layer = layers.length;
    layers.push({ inputs: I, hidden: H, ...gdpuGateOrder(W!.data, R!.data, B?.data, H, I) });
    const out = n.output ?? [];
    const F = { l: "F", n: H } as const;
    const T = { l: "T", n: steps } as const;
    const D = { l: "D", n: 1 } as const;
    const Bx = { l: "B", n: 1 } as const;
    if (out[0]) vals.set(out[0], { src: { k: "Y", layer }, axes: [T, D, Bx, F], last: false });
    if (out[1]) vals.set(out[1], { src: { k: "Yh", layers: [layer] }, axes: [D, Bx, F], last: true });
    if (out[2]) vals.set(out[2], { src: { k: "Yc" }, axes: [], last: true });
  }

  const y = vals.get(outName);
  const fail = (why: string): never => {
    throw new OnnxError(`${what}: ${why}`);
  };
  if (layers.length === 0) fail("has no LSTM node on the way to its output");
  if (!y || y.src.k !== "dense") fail(`output ${outName} is not computed by a dense layer (MatMul / Gemm) after the LSTM`);
  const d0 = dense[0]!;
  if (d0.from.layer !== layers.length - 1) fail(`dense layer "${d0.node}" reads LSTM layer ${d0.from.layer + 1} of ${layers.length}`);
  const outputs = d0.from.last || steps === 1 ? "last" : "all";
  const big = y!.axes.filter((a) => a.n !== 1 || a.l === "F").map((a) => a.l).join();
  if (big !== (outputs === "all" ? "T,F" : "F")) fail(`output ${outName} has axes [${y!.axes.map((a) => `${a.l}${a.n}`)}]; it should be [${outputs === "all" ? "steps, " : ""}classes] with size-1 axes only besides`);
  if (embedding && embedding.dim !== layers[0]!.inputs) fail(`embedding of ${embedding.dim} feeds an LSTM of ${layers[0]!.inputs} inputs`);
  if (ids && !embedding) fail("takes token ids but has no embedding (Gather) before the LSTM");
  return {
    name: what,
    input: { ...input, batchFirst: input.dims.length > 1 && input.seqAxis === 1 },
    steps,
    features: ids ? 1 : input.dims[rank - 1]!,
    ...(embedding ? { embedding } : {}),
    layers,
    dense: dense.map(({ from: _from, ...d }) => d),
    head,
    outputs,
    output: outName,
    bytes,
  };
}
