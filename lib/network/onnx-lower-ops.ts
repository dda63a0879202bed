// Lowering of the ONNX ops that are not weight layers (lib/network/onnx-lower.ts lists where
// each runs): ReLU / Clip, BatchNormalization and arithmetic by constants (LDPU affine or
// host), residual Add, pools, Pad, Concat, and the shape ops that only flatten.

import type { Pads } from "./graph.ts";
import { attr, type NodeProto } from "./onnx-decode.ts";
import { windowPads, type LowerContext } from "./onnx-lower-context.ts";

export const OTHER_OPS = new Set([
  "Relu", "Clip", "BatchNormalization", "Add", "Sub", "Mul", "Div", "MaxPool", "AveragePool", "GlobalMaxPool", "GlobalAveragePool",
  "Pad", "Concat", "Flatten", "Reshape", "Squeeze", "Unsqueeze", "Transpose", "Cast", "ReduceMean", "ReduceMax",
]);

export function lowerOtherOp(cx: LowerContext, n: NodeProto): void {
  const op = n.opType ?? "";
  const ins = n.input ?? [];
  switch (op) {
    case "Relu":
          return cx.push(n, { op: "relu", name: cx.fresh(n, "relu"), input: cx.get(ins[0]!, n) });
    case "Clip":
      return lowerClip(cx, n);
    case "BatchNormalization": {
      const s = cx.init(ins[1], n, "scale").data;
      const b = cx.init(ins[2], n, "B").data;
      const mean = cx.init(ins[3], n, "mean").data;
      const v = cx.init(ins[4], n, "var").data;
      const eps = attr(n, "epsilon")?.f ?? 1e-5;
      const scale = s.map((si, c) => si / Math.sqrt(v[c]! + eps));
      return cx.push(n, { op: "batchNorm", name: cx.fresh(n, "bn"), input: cx.get(ins[0]!, n), scale, shift: b.map((bi, c) => bi - mean[c]! * scale[c]!) });
    }
    case "Add":
    case "Sub":
    case "Mul":
    case "Div":
      return lowerArithmetic(cx, n);
    case "MaxPool":
    case "AveragePool":
      return lowerPool(cx, n);
    case "GlobalMaxPool":
    case "GlobalAveragePool": {
      const src = cx.get(ins[0]!, n);
      const sh = cx.shape(src);
      if (sh.length !== 3 || sh[1] !== sh[2]) throw cx.error(n, `needs a square [C, H, W] input, got [${sh.join(", ")}]`);
      const k = sh[1]!;
      const name = cx.fresh(n, "pool");
      return cx.push(n, op === "GlobalMaxPool" ? { op: "maxPool", name, input: src, kernel: k, stride: k } : { op: "avgPool", name, input: src, kernel: k, stride: k, padding: 0 });
    }
    case "ReduceMean":
    case "ReduceMax":
      return lowerReduce(cx, n);
    case "Pad":
      return lowerPad(cx, n);
    case "Concat": {
      const srcs = ins.filter((t) => t).map((t) => cx.get(t, n));
      const rank = cx.shape(srcs[0]!).length + 1; // with the batch axis
      const axis = attr(n, "axis")?.i ?? 1;
      if ((axis < 0 ? axis + rank : axis) !== 1) throw cx.error(n, `concatenates on axis ${axis}; only the channel axis 1 is supported`);
      if (srcs.length === 1) return void cx.alias.set((n.output ?? [])[0] ?? "", srcs[0]!);
      return cx.push(n, { op: "concat", name: cx.fresh(n, "concat"), inputs: srcs });
    }
    case "Cast": {
      const to = attr(n, "to")?.i ?? 1;
      if (to !== 1) throw cx.error(n, `casts a tensor to ONNX type ${to}; only float32 values flow between layers`);
      return void cx.alias.set((n.output ?? [])[0] ?? "", cx.get(ins[0]!, n, true));
    }
    case "Transpose":
      return lowerTranspose(cx, n);
    default:
      return lowerReshape(cx, n);
  }
}

/** Clip(0, max) is a clipped ReLU; any other clip has no unit. */
function lowerClip(cx: LowerContext, n: NodeProto): void {
  const ins = n.input ?? [];
  const bound = (i: number, a: string): number | undefined => {
    if (ins[i]) {
      const t = cx.init(ins[i], n, a);
      if (t.data.length !== 1) throw cx.error(n, `has a ${a} of ${t.data.length} values; a scalar is expected`);
      return t.data[0]!;
    }
    return attr(n, a)?.f; // opset < 11
  };
  const lo = bound(1, "min");
  const hi = bound(2, "max");
  // PyTorch's ReLU6 at opset < 11: Relu, then Clip(max) with no min (its input is ≥ 0 already).
  // The Relu (if nothing else reads it) becomes the clipped ReLU.
  const x = ins[0]!;
  const src = cx.alias.get(x);
  const prev = cx.nodes[cx.nodes.length - 1];
  if ((lo === undefined || lo <= 0) && hi !== undefined && hi > 0 && Number.isFinite(hi) && prev?.op === "relu" && prev.name === src &&
    prev.max === undefined && (cx.consumers.get(x) ?? []).length === 1 && !cx.relaid.has(x)) {
    cx.nodes[cx.nodes.length - 1] = { ...prev, max: hi };
    return void cx.alias.set((n.output ?? [])[0] ?? "", prev.name);
  }
  if (lo !== 0 || hi === undefined || !(hi > 0) || !Number.isFinite(hi)) {
    throw cx.error(n, `clips to [${lo ?? "−∞"}, ${hi ?? "∞"}]; the chip runs only Clip(0, max > 0) (a ReLU whose INT8 scale saturates at max, e.g. ReLU6)`);
  }
  cx.push(n, { op: "relu", name: cx.fresh(n, "relu"), input: cx.get(ins[0]!, n), max: hi });
}

/** Add / Sub / Mul / Div: two tensors → a residual add (Add only); a tensor and a constant
 * (a scalar or one value per channel) → a per-channel affine, which the receiver's LDPU
 * folds after a weight layer and the host runs elsewhere. */
function lowerArithmetic(cx: LowerContext, n: NodeProto): void {
  const op = n.opType!;
  const [x, y] = [(n.input ?? [])[0]!, (n.input ?? [])[1]!];
  const cx0 = cx.isConst(x);
  const cy = cx.isConst(y);
  if (!cx0 && !cy) {
    if (op !== "Add") throw cx.error(n, `of two tensors has no unit on this chip (only Add: a residual in the LDPU)`);
    return cx.push(n, { op: "add", name: cx.fresh(n, "add"), inputs: [cx.get(x, n), cx.get(y, n)] });
  }
  if (cx0 && cy) throw cx.error(n, "of two constants was not folded (normalise the model first: readModel)");
  const src = cx.get(cx0 ? y : x, n);
  const k = cx.init(cx0 ? x : y, n, "constant");
  const sh = cx.shape(src);
  const channels = sh[0]!;
  const perChannel = k.data.length === channels && k.dims.filter((d) => d !== 1).length <= 1 &&
    (k.dims.length <= 1 ? sh.length === 1 || k.dims.length === 0 : k.dims[k.dims.length - sh.length] === channels);
  if (k.data.length !== 1 && !perChannel) {
    throw cx.error(n, `by a constant of shape [${k.dims.join(", ")}] on a [${sh.join(", ")}] tensor; only a scalar or one value per channel is supported`);
  }
  const c = (i: number) => k.data[k.data.length === 1 ? 0 : i]!;
  const scale = new Float32Array(channels).fill(1);
  const shift = new Float32Array(channels);
  for (let i = 0; i < channels; i++) {
    if (op === "Add") shift[i] = c(i);
    else if (op === "Sub" && !cx0) shift[i] = -c(i);
    else if (op === "Sub") [scale[i], shift[i]] = [-1, c(i)];
    else if (op === "Mul") scale[i] = c(i);
    else if (!cx0) scale[i] = 1 / c(i);
    else throw cx.error(n, "divides a constant by a tensor, which has no unit on this chip");
  }
  if (!scale.every(Number.isFinite)) throw cx.error(n, "divides by zero");
  cx.push(n, { op: "batchNorm", name: cx.fresh(n, "affine"), input: src, scale, shift });
}

function lowerPool(cx: LowerContext, n: NodeProto): void {
  const op = n.opType!;
  const ks = attr(n, "kernel_shape")?.ints ?? [];
  const st = attr(n, "strides")?.ints ?? [];
  const stride = st.length ? st[0]! : 1; // ONNX's default stride is 1
  if (ks.length !== 2 || ks[0] !== ks[1] || (st.length && (st.length !== 2 || st[0] !== st[1]))) throw cx.error(n, "must have a square 2-D kernel and equal strides");
  if ((attr(n, "dilations")?.ints ?? []).some((d) => d !== 1)) throw cx.error(n, "has dilations, which are not supported");
  const src = cx.get((n.input ?? [])[0]!, n);
  const pads = windowPads(cx, n, ks[0]!, stride, () => cx.shape(src).slice(1));
  const ceilMode = (attr(n, "ceil_mode")?.i ?? 0) === 1;
  const name = cx.fresh(n, "pool");
  const symmetric = pads.every((p) => p === pads[0]);
  const extra = { ...(symmetric ? {} : { pads }), ...(ceilMode ? { ceilMode } : {}) };
  if (pads.some((p) => p >= ks[0]!)) throw cx.error(n, `has pads [${pads.join(", ")}], not all less than the kernel ${ks[0]}`);
  if (op === "MaxPool") {
    if ((n.output ?? []).length > 1 && (n.output ?? [])[1]) throw cx.error(n, "returns Indices, which are not supported");
    return cx.push(n, { op: "maxPool", name, input: src, kernel: ks[0]!, stride, ...(pads.some((p) => p) ? { pads } : {}), ...(ceilMode ? { ceilMode } : {}) });
  }
  const countIncludePad = (attr(n, "count_include_pad")?.i ?? 0) === 1;
  cx.push(n, { op: "avgPool", name, input: src, kernel: ks[0]!, stride, padding: symmetric ? pads[0] : 0, ...extra, ...(countIncludePad ? { countIncludePad } : {}) });
}

/** ReduceMean / ReduceMax over the spatial axes of an [N, C, H, W] tensor (PyTorch's
 * `x.mean([2, 3])`, `amax`): a global average / max pool, then a flatten when keepdims is 0. */
function lowerReduce(cx: LowerContext, n: NodeProto): void {
  const op = n.opType!;
  const ins = n.input ?? [];
  const src = cx.get(ins[0]!, n);
  const sh = cx.shape(src);
  const rank = sh.length + 1;
  // opset 18 moves axes from an attribute to an input; no axes: all of them.
  const given = ins[1] ? Array.from(cx.init(ins[1], n, "axes").data) : (attr(n, "axes")?.ints ?? []);
  const axes = [...new Set(given.map((a) => (a < 0 ? a + rank : a)))].sort();
  const keep = (attr(n, "keepdims")?.i ?? 1) === 1;
  if (rank !== 4 || axes.join(",") !== "2,3") {
    throw cx.error(n, `reduces axes [${given.join(", ") || "all"}] of a [1, ${sh.join(", ")}] tensor; only the spatial axes [2, 3] of an [N, C, H, W] tensor (a global pool) are supported`);
  }
  if (sh[1] !== sh[2]) throw cx.error(n, `needs a square [C, H, W] input, got [${sh.join(", ")}]`);
  const k = sh[1]!;
  const out = (n.output ?? [])[0] ?? "";
  const name = cx.fresh(n, "pool");
  const pool = op === "ReduceMax" ? { op: "maxPool" as const, name, input: src, kernel: k, stride: k } : { op: "avgPool" as const, name, input: src, kernel: k, stride: k, padding: 0 };
  if (keep) return cx.push(n, pool);
  cx.nodes.push(pool);
  cx.push(n, { op: "flatten", name: cx.fresh({ name: `${name}.flat` } as NodeProto, "flatten"), input: name }, out);
}

function lowerPad(cx: LowerContext, n: NodeProto): void {
  const ins = n.input ?? [];
  const mode = attr(n, "mode")?.s ?? "constant";
  if (mode !== "constant") throw cx.error(n, `pads in mode "${mode}"; only constant (zero) padding is supported`);
  let pads = ins[1] ? Array.from(cx.init(ins[1], n, "pads").data) : (attr(n, "pads")?.ints ?? []);
  if (ins[3]) {
    // opset 18: pads for the listed axes only (begins, then ends).
    const axes = Array.from(cx.init(ins[3], n, "axes").data).map((a) => (a < 0 ? a + 4 : a));
    if (pads.length !== 2 * axes.length || axes.some((a) => a < 0 || a > 3)) throw cx.error(n, `has pads [${pads.join(", ")}] for axes [${axes.join(", ")}] of an [N, C, H, W] tensor`);
    const full = new Array<number>(8).fill(0);
    axes.forEach((a, i) => ((full[a] = pads[i]!), (full[a + 4] = pads[i + axes.length]!)));
    pads = full;
  }
  const value = ins[2] ? cx.init(ins[2], n, "constant_value").data[0] : (attr(n, "value")?.f ?? 0);
  if (value !== 0) throw cx.error(n, `pads with ${value}; only zero padding is supported`);
  if (pads.length !== 8 || pads[0] || pads[1] || pads[4] || pads[5]) throw cx.error(n, `has pads [${pads.join(", ")}]; only the H and W axes of an [N, C, H, W] tensor may be padded`);
  const src = cx.get(ins[0]!, n);
  if (pads.some((p) => p < 0)) throw cx.error(n, `has negative pads [${pads.join(", ")}] (a crop)`);
  const p: Pads = [pads[2]!, pads[3]!, pads[6]!, pads[7]!];
  cx.push(n, { op: "pad", name: cx.fresh(n, "pad"), input: src, pads: p });
}

/** A layout no-op only: the dimensions other than 1 keep their order. */
function lowerTranspose(cx: LowerContext, n: NodeProto): void {
  const t = (n.input ?? [])[0]!;
  const src = cx.get(t, n, true);
  const dims = cx.relaid.get(t) ?? [1, ...cx.shape(src)];
  const perm = attr(n, "perm")?.ints ?? dims.map((_, i) => dims.length - 1 - i);
  const big = (p: readonly number[]) => p.filter((i) => dims[i] !== 1).join(",");
  if (perm.length !== dims.length || !dims.every((_, i) => perm.includes(i)) || big(perm) !== big(dims.map((_, i) => i))) {
    throw cx.error(n, `with perm [${perm.join(", ")}] of a [${dims.join(", ")}] tensor changes the layout, which is not supported (only a perm that moves size-1 dimensions is)`);
  }
  const out = (n.output ?? [])[0] ?? "";
  cx.alias.set(out, src);
  if (perm.some((p, i) => p !== i)) cx.relaid.set(out, perm.map((i) => dims[i]!));
  else if (cx.relaid.has(t)) cx.relaid.set(out, cx.relaid.get(t)!);
}

/** Flatten / Reshape / Squeeze / Unsqueeze: the ONNX output dims (batch 1 included) must be
 * the input's (a no-op) or [1, size] (a flatten). */
function lowerReshape(cx: LowerContext, n: NodeProto): void {
  const op = n.opType!;
  const ins = n.input ?? [];
  const src = cx.get(ins[0]!, n, true);
  const ir = cx.shape(src);
  const size = ir.reduce((a, b) => a * b, 1);
  const d = cx.relaid.get(ins[0]!) ?? [1, ...ir];
  let out: number[];
  if (op === "Flatten") {
    const a = attr(n, "axis")?.i ?? 1;
    const axis = a < 0 ? a + d.length : a;
    out = [d.slice(0, axis).reduce((x, y) => x * y, 1), d.slice(axis).reduce((x, y) => x * y, 1)];
  } else if (op === "Reshape") {
    const target = Array.from(cx.init(ins[1], n, "shape").data);
    out = target.map((v, i) => (v === 0 && attr(n, "allowzero")?.i !== 1 ? d[i]! : v));
    const known = out.filter((v) => v !== -1).reduce((x, y) => x * y, 1);
    out = out.map((v) => (v === -1 ? (size / known) | 0 : v));
  } else {
    const axesT = ins[1] ? Array.from(cx.init(ins[1], n, "axes").data) : (attr(n, "axes")?.ints ?? []);
    if (op === "Squeeze") {
      const axes = (axesT.length ? axesT : d.flatMap((v, i) => (v === 1 ? [i] : []))).map((a) => (a < 0 ? a + d.length : a));
      out = d.filter((_, i) => !axes.includes(i));
    } else {
      const rank = d.length + axesT.length;
      const axes = axesT.map((a) => (a < 0 ? a + rank : a));
      out = [];
      let j = 0;
      for (let i = 0; i < rank; i++) out.push(axes.includes(i) ? 1 : d[j++]!);
    }
  }
  const outT = (n.output ?? [])[0] ?? "";
  const key = (v: readonly number[]) => v.filter((x) => x !== 1).join(",");
  if (out.reduce((x, y) => x * y, 1) !== size) throw cx.error(n, `turns ${size} values into [${out.join(", ")}]`);
  if (out.length >= 2 && out[0] === 1 && out.length === d.length && out.every((v, i) => v === d[i])) {
    cx.alias.set(outT, src); // the same shape
    if (cx.relaid.has(ins[0]!)) cx.relaid.set(outT, d);
  } else if (out.length === 2 && out[0] === 1) {
    // (A no-op Transpose keeps the order of the dims other than 1, so flattening its output
    // reads the values in the IR's order.)
    if (ir.length === 1) cx.alias.set(outT, src);
    else cx.push(n, { op: "flatten", name: cx.fresh(n, "flatten"), input: src });
  } else if (key(out) === key(d)) {
    // Only size-1 dimensions move (e.g. Unsqueeze of a flat vector): the values keep their order.
    cx.alias.set(outT, src);
    cx.relaid.set(outT, out);
  } else {
    throw cx.error(n, `reshapes [${d.join(", ")}] into [${out.join(", ")}]; only a flatten to [N, ${size}] or a no-op is supported`);
  }
}
