// Running a mapped network on the simulated chip (paper §V, Fig. 3b): every weight layer as
// batched MVMs over its input vectors (image patches for a conv) on its cores; the partial
// sums of a layer split over several cores travel as INT8 over the links, core by core
// towards the receiver, each LDPU adding the incoming INT8 to its own scaled counts; the
// receiver's LDPU applies the folded batch norm and bias (affine), the ReLU, and the residual
// data; pooling and flattening happen on the host, as on the chip. Everything between
// layers is INT8, as on the chip.
//
// This file: the INT8 scales (calibrateScales: s = 127 / max |value| of the float64
// reference over the calibration inputs, over each value that is INT8 on the chip — a
// layer's output and every partial sum on its links — so nothing clips there), and
// runNetwork, which turns the network into a weight-free plan
// (lib/network/run-plan.ts, where the number formats are written out) and runs it chunk by chunk,
// each chunk one task inline or on a worker thread (lib/network/run-exec.ts).

import type { ChipAtTime } from "../chip/analog.ts";
import type { Chip } from "../chip/chip.ts";
import type { FunctionalFit } from "../chip/functional-fit.ts";
import { conv2dTs, conv2dWasm, evaluate } from "./graph-eval.ts";
import { denseConvWeights, INPUT, matrixShape, type Conv2dNode, type Network, type WeightNode } from "./graph.ts";
import { inferShapes } from "./graph-shapes.ts";
import { mapNetwork, tileMatrix, type LayerPlacement, type Mapping, type Range } from "./mapper.ts";
import { groupPacking } from "./tiling.ts";
import { checkThreads, mapTasks } from "../runtime/pool.ts";
import { execLayout, type ExecBuffers } from "./run-exec.ts";
import { buildPlan, chainTiles, chainWeights, leadingAffines } from "./run-plan.ts";
import type { Scheme } from "../chip/targets.ts";
import { ArgumentError } from "../runtime/validate.ts";
import "./tasks.ts"; // the runChunk task kind

const N = 256;

/** Options of `runNetwork` and `runOnChip`. */
export interface RunOptions {
  /** Read time, seconds since programming (default 25). */
  t?: number;
  /** Global drift compensation in the LDPU gain (default true). */
  compensation?: boolean;
  /** Inputs whose float64 activations set the INT8 scales (default: the first 16 inputs). */
  calibration?: readonly ArrayLike<number>[];
  /** Functional fidelity: the weight-noise fit (default lib/chip/functional-fit.json). */
  fit?: FunctionalFit;
  /** Compare with the float64 reference on every input (default true). With false only
   * the calibration inputs are evaluated in float64 (for the scales) and `error` and
   * `agreement` are NaN: the chip's own speed. */
  reference?: boolean;
  /** Worker threads (default 1: inline): chunks of inputs run in parallel, one per thread;
   * same bits for any count. */
  threads?: number;
  /** INT8 scales per tensor from an earlier run (its `scales`): skips the float64
   * calibration. */
  scales?: Readonly<Record<string, number>>;
  /** Independent repetition (chip.at's `draw`): other read noise (physical) or weight noise (functional). */
  draw?: number;
  /** A view of the chip to read through (`chip.at(t)`), kept across runs so each core's
   * drifted state is computed once; `t`, `compensation` and `fit` are then ignored. */
  at?: ChipAtTime;
  /** Inputs per chunk (default RUN_CHUNK, fewer when the inputs would not give every thread
   * a chunk): bounds memory; the results do not depend on it
   * (the read noise is keyed by each vector's index in the whole input set). */
  chunk?: number;
  /** The index of `inputs[0]` in the whole input set (default 0): running images i..j of a
   * set alone gives the very outputs they get in a run over the whole set (the read noise is
   * keyed by that index), which is how a run is cut into queue jobs (lib/study/queue/). */
  firstImage?: number;
}

/** What `runNetwork` and `runOnChip` return. */
export interface RunResult {
  /** Chip outputs of the last layer, per input, in float units. */
  outputs: Float64Array[];
  /** The same outputs as the chip's INT8 values (outputs = int8 / scales[last layer]). */
  int8: Int8Array[];
  /** The float64 reference's outputs. */
  reference: Float64Array[];
  /** ‖chip − reference‖₂ / ‖reference‖₂ over all outputs. */
  error: number;
  /** Fraction of inputs whose largest output (class) agrees with the reference's. */
  agreement: number;
  /** The INT8 scale of every tensor (INT8 per unit), reusable as `scales`. */
  scales: Record<string, number>;
}

/** Program every tile of a mapping on its core (other cores stay RESET); `threads` default all machine cores. */
export async function programNetwork(chip: Chip, net: Network, m: Mapping, scheme: Scheme, threads?: number): Promise<void> {
  const byCore = new Map<number, Float32Array>();
  const layers = new Map(net.nodes.map((n) => [n.name, n]));
  for (const p of m.layers) {
    const layer = layers.get(p.layer) as WeightNode;
    for (const t of p.tiles) byCore.set(t.core, tileMatrix(layer, t, p.rowScale, p.columnCopies ?? 1));
  }
  const cores = Math.max(...byCore.keys()) + 1;
  await chip.programAll((c) => byCore.get(c) ?? new Float32Array(N * N), { scheme, cores, ...(threads ? { threads } : {}) });
}

/** The INT8 scale of every tensor (INT8 per unit) from the float64 activations `cal` of the
 * calibration inputs: 127 / max |value| of what is INT8 on the chip — a layer's output and,
 * when a chain of tiles feeds its receiver, every partial sum on the links (in link order,
 * farthest tile first: the sum of the first j tiles' products, for j below the chain's length,
 * times output r's affine scale; with weight copies weighted as the chain carries it), which
 * can exceed the output's range and the whole accumulation's; values inside an LDPU (before
 * its ReLU, before a residual add) are FP16 and need no INT8 range. For a clipped ReLU at most 127 / max, so
 * that the clip value saturates the LDPU's INT8 output. Tensors a host op only moves (pools,
 * pad, flatten) or joins (concat) share one scale, the smallest of theirs, so the host
 * copies INT8 values without rescaling. */
export function calibrateScales(net: Network, m: Mapping, cal: Map<string, Float64Array[]>): Record<string, number> {
  const amax = (name: string) => {
    let a = 0;
    for (const v of cal.get(name)!) for (let i = 0; i < v.length; i++) a = Math.max(a, Math.abs(v[i]!));
    return a || 1;
  };
  const placement = new Map(m.layers.map((p) => [p.layer, p]));
  const shapes = inferShapes(net);
  const natural: Record<string, number> = { [INPUT]: 127 / amax(INPUT) };
  // Union-find over tensors that must share a scale.
  const parent = new Map<string, string>();
  const find = (t: string): string => {
    let r = t;
    while (parent.has(r)) r = parent.get(r)!;
    return r;
  };
  const union = (a: string, b: string) => {
    const [ra, rb] = [find(a), find(b)];
    if (ra !== rb) parent.set(rb, ra);
  };
  for (const n of net.nodes) {
    if (n.op === "conv2d" || n.op === "dense") {
      const p = placement.get(n.name)!;
      const reluOp = p.ldpu.find((l) => l.op === "relu");
      const pre = reluOp ? net.nodes.find((k) => k.name === (reluOp as { node: string }).node) : undefined;
      // INT8 on the chip: the receiver's output and, when a chain of tiles feeds it, the
      // partial sums on the links (linkRange); inside an LDPU the values are FP16.
      const chained = p.tiles.length > p.blocks.outputs;
      let range = Math.max(amax(p.output), chained ? linkRange(n, p, cal.get(n.input)!, shapes.get(n.input)!, shapes.get(n.name)!) : 0);
      const clip = pre && pre.op === "relu" ? pre.max : undefined;
      if (clip !== undefined) range = Math.min(range, clip);
      natural[p.output] = 127 / range;
    } else if (n.op === "maxPool" || n.op === "avgPool" || n.op === "flatten" || n.op === "pad") {
      natural[n.name] = 127 / amax(n.name);
      union(n.input, n.name);
    } else if (n.op === "concat") {
      natural[n.name] = 127 / amax(n.name);
      for (const i of n.inputs) union(n.name, i);
    } else if ((n.op === "batchNorm" && m.host.includes(n.name)) || n.op === "activation") {
      natural[n.name] = 127 / amax(n.name);
    }
  }
  const group = new Map<string, number>();
  for (const [t, s] of Object.entries(natural)) group.set(find(t), Math.min(group.get(find(t)) ?? Infinity, s));
  const scale: Record<string, number> = {};
  for (const t of Object.keys(natural)) scale[t] = group.get(find(t))!;
  return scale;
}

/** Images per chunk of `runNetwork` (bounds memory: a conv layer's patches of a chunk). */
export const RUN_CHUNK = 64;

/** Run `inputs` (C·H·W floats each) through the programmed network at read time t, in
 * chunks of RUN_CHUNK inputs (`onProgress(done, total)` after each).
 * @throws {@link ArgumentError} on no inputs, an input of the wrong size or a bad option */
export async function runNetwork(
  chip: Chip, net: Network, m: Mapping, inputs: readonly ArrayLike<number>[], o: RunOptions & { onProgress?: (done: number, total: number) => void } = {},
): Promise<RunResult> {
  if (!Array.isArray(inputs) || inputs.length === 0) throw new ArgumentError("inputs", "a non-empty array of input tensors", inputs);
  const shapes = inferShapes(net);
  const size = shapes.get(INPUT)!.reduce((a, b) => a * b, 1);
  inputs.forEach((x, i) => {
    if (!x || x.length !== size) throw new ArgumentError(`inputs[${i}]`, `${size} values (shape [${shapes.get(INPUT)!.join(", ")}])`, x);
  });
  const withReference = o.reference ?? true;
  let scales: Record<string, number>;
  if (o.scales) {
    scales = { ...o.scales };
    for (const p of m.layers) if (!(scales[p.output]! > 0)) throw new ArgumentError("scales", `a scale for ${p.output}`, o.scales);
  } else {
    const cal = o.calibration ?? inputs.slice(0, Math.min(16, inputs.length));
    scales = calibrateScales(net, m, evaluate(net, cal));
  }
  const last = net.nodes[net.nodes.length - 1]!.name;
  const threads = checkThreads(o.threads ?? 1);
  // Default: RUN_CHUNK, or fewer so that every thread gets a chunk.
  const size0 = o.chunk ?? Math.max(1, Math.min(RUN_CHUNK, Math.ceil(inputs.length / threads)));
  if (!Number.isInteger(size0) || size0 < 1) throw new ArgumentError("chunk", "a positive integer (inputs per chunk)", o.chunk);
  const first = o.firstImage ?? 0;
  if (!Number.isInteger(first) || first < 0 || first > 0x7fffffff) throw new ArgumentError("firstImage", "an integer ≥ 0 (the index of inputs[0] in the whole set)", o.firstImage);
  const at = o.at ?? chip.at(o.t ?? 25, { compensation: o.compensation ?? true, ...(o.fit ? { fit: o.fit } : {}), ...(o.draw ? { draw: o.draw } : {}) });
  const outputs: Float64Array[] = [];
  const int8: Int8Array[] = [];
  const reference: Float64Array[] = [];
  try {
    // Each chunk is one task (inline, or on a worker with its own buffers): patches, every
    // tile's read and the host ops run there; results come back in input order.
    const plan = buildPlan(at, net, m, shapes, scales);
    const chunks = Math.ceil(inputs.length / size0);
    const sIn = scales[plan.input]!;
    const q = (v: number) => Math.max(-128, Math.min(127, Math.round(v * sIn)));
    const lead = leadingAffines(net);
    const prepare = (x: ArrayLike<number>): ArrayLike<number> => {
      if (lead.length === 0) return x;
      const y = Float64Array.from(x);
      for (const a of lead) {
        const per = y.length / a.scale.length;
        for (let j = 0; j < y.length; j++) y[j] = a.scale[Math.floor(j / per)]! * y[j]! + a.shift[Math.floor(j / per)]!;
      }
      return y;
    };
    const s = scales[last]!;
    let done = 0;
    const ys = await mapTasks<keyof ExecBuffers, Int8Array[]>(
      chunks, threads, execLayout(Math.min(size0, inputs.length) * plan.maxPositions, Math.min(size0, inputs.length) * plan.maxPadded),
      (i, mem) => ({
        kind: "runChunk", plan, firstImage: first + i * size0, mem: mem as ExecBuffers,
        images: inputs.slice(i * size0, (i + 1) * size0).map((x) => Int8Array.from(prepare(x), q)),
      }),
      (_, __) => {
        done = Math.min(inputs.length, done + size0);
        o.onProgress?.(done, inputs.length);
      },
    );
    for (const y of ys) {
      for (const v of y) {
        int8.push(v);
        outputs.push(Float64Array.from(v, (x) => x / s));
      }
    }
    if (withReference) {
      for (let i0 = 0; i0 < inputs.length; i0 += size0) reference.push(...evaluate(net, inputs.slice(i0, i0 + size0)).get(last)!);
    }
  } finally {
    if (!o.at) at.dispose();
  }
  if (!withReference) return { outputs, int8, reference: [], error: NaN, agreement: NaN, scales };
  let num = 0;
  let den = 0;
  let agree = 0;
  outputs.forEach((y, i) => {
    const r = reference[i]!;
    for (let j = 0; j < y.length; j++) {
      num += (y[j]! - r[j]!) ** 2;
      den += r[j]! ** 2;
    }
    if (argmax(y) === argmax(r)) agree++;
  });
  return { outputs, int8, reference, error: Math.sqrt(num / den), agreement: agree / outputs.length, scales };
}

/** Index of the largest value (the first on ties). */
export function argmax(v: ArrayLike<number>): number {
  let b = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[b]!) b = i;
  return b;
}

/** The largest |value| on a chained layer's links over the calibration inputs `x` (the
 * layer's float64 inputs), in float units: for every output block, the chain's tiles in link
 * order (run-plan.ts chainTiles) each add their block's product W[rows, cols] · x[cols]; after
 * the j-th tile (j < n, the receiver's own sum stays in FP16) the link carries
 * w_j · (the sum so far) (chainWeights: w_j = 1 without copies), and output r's affine scale
 * applies: max over j, r and inputs of |scale_r · w_j · sum_j,r|. Every prefix of the chain
 * counts, not only the whole accumulation: a partial sum can exceed the output's range. A
 * packed grouped conv's chain holds the mean of its copies' reads: the whole product. */
function linkRange(n: WeightNode, p: LayerPlacement, x: readonly Float64Array[], inShape: readonly number[], outShape: readonly number[]): number {
  const scale = p.affine.scale;
  if (groupPacking(n)) {
    // Each link holds the mean of the copies read so far of the group's whole product.
    let m = 0;
    const full = x.map((v) => tileProduct(n, v, inShape, outShape, [0, p.matrix.rows], [0, p.matrix.cols]));
    for (const y of full) {
      const per = y.length / p.matrix.rows;
      for (let i = 0; i < y.length; i++) m = Math.max(m, Math.abs(y[i]! * scale[Math.floor(i / per)]!));
    }
    return m;
  }
  let m = 0;
  for (let ob = 0; ob < p.blocks.outputs; ob++) {
    const tiles = chainTiles(p, ob);
    if (tiles.length < 2) continue;
    const [r0, r1] = tiles[0]!.rowRange;
    const weights = chainWeights(tiles);
    for (const v of x) {
      const products = new Map<number, Float64Array>(); // copies of a block share its product
      let sum: Float64Array | undefined;
      for (let j = 0; j < tiles.length - 1; j++) {
        const t = tiles[j]!;
        let y = products.get(t.inputBlock);
        if (!y) products.set(t.inputBlock, (y = tileProduct(n, v, inShape, outShape, [r0, r1], t.colRange)));
        if (!sum) sum = y.slice();
        else for (let i = 0; i < y.length; i++) sum[i]! += y[i]!;
        const w = weights[j]!.weight;
        const per = sum.length / (r1 - r0);
        for (let i = 0; i < sum.length; i++) m = Math.max(m, Math.abs(w * sum[i]! * scale[r0 + Math.floor(i / per)]!));
      }
    }
  }
  return m;
}

/** One tile's product in float64 for one input x: rows [r0, r1) of the layer's MVM matrix
 * over its columns [c0, c1) (a conv's unrolled patch index c·k·k + ky·k + kx), no bias;
 * channel-major (row, then output position). */
function tileProduct(n: WeightNode, x: Float64Array, inShape: readonly number[], outShape: readonly number[], [r0, r1]: Range, [c0, c1]: Range): Float64Array {
  const { inputs } = matrixShape(n);
  if (n.op === "dense") {
    const y = new Float64Array(r1 - r0);
    for (let r = r0; r < r1; r++) {
      let a = 0;
      for (let c = c0; c < c1; c++) a += n.weights[r * inputs + c]! * x[c]!;
      y[r - r0] = a;
    }
    return y;
  }
  // A conv over the input channels the columns touch, weights outside [c0, c1) zero.
  const kk = n.kernel * n.kernel;
  const [ca, cb] = [Math.floor(c0 / kk), Math.ceil(c1 / kk)];
  const [, H, W] = inShape as [number, number, number];
  const dense = denseConvWeights(n);
  const w = new Float32Array((r1 - r0) * (cb - ca) * kk);
  for (let r = r0; r < r1; r++) {
    for (let c = Math.max(c0, ca * kk); c < Math.min(c1, cb * kk); c++) w[((r - r0) * (cb - ca) + Math.floor(c / kk) - ca) * kk + (c % kk)] = dense[r * inputs + c]!;
  }
  const node: Conv2dNode = { op: "conv2d", name: n.name, input: n.input, inChannels: cb - ca, outChannels: r1 - r0, kernel: n.kernel, stride: n.stride, padding: n.padding, weights: w };
  const xs = x.subarray(ca * H * W, cb * H * W);
  const out: [number, number] = [outShape[1]!, outShape[2]!];
  return conv2dWasm(node, xs, [cb - ca, H, W], out) ?? conv2dTs(node, xs, [cb - ca, H, W], out);
}

/**
 * Map `net` onto the chip's cores (mapNetwork, unless `mapping` is given), program it
 * (`scheme`, default TDP) and run `inputs` through it at read time `t` (default 25 s): the
 * one call for a whole network. Returns the outputs, the float64 reference's, the error and
 * the mapping.
 * @throws {@link MappingError} when the network does not fit; {@link ArgumentError} on bad inputs or options
 */
export async function runOnChip(
  chip: Chip, net: Network, inputs: readonly ArrayLike<number>[], o: RunOptions & { scheme?: Scheme; threads?: number; mapping?: Mapping } = {},
): Promise<RunResult & { mapping: Mapping }> {
  const mapping = o.mapping ?? mapNetwork(net);
  await programNetwork(chip, net, mapping, o.scheme ?? "tdp", o.threads);
  return { ...(await runNetwork(chip, net, mapping, inputs, { ...o, ...(o.threads ? { threads: o.threads } : {}) })), mapping };
}
