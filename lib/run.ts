// Running a mapped network on the simulated chip (paper §V, Fig. 3b): every weight layer as
// batched MVMs over its input vectors (image patches for a conv) on its cores; the partial
// sums of a layer split over several cores travel as INT8 over the links, core by core
// towards the receiver, each LDPU adding the incoming INT8 to its own scaled counts; the
// receiver's LDPU applies the folded batch norm and bias (affine), the ReLU, and the residual
// data; max-pooling and flattening happen on the host, as on the chip. Everything between
// layers is INT8, as on the chip.
//
// Number formats (the mapper's LDPU settings): a layer reading an INT8 tensor of scale s_in
// (INT8 per unit) runs its MVMs with the LDPU gain that makes the FP16 value W·x in float
// units; every core of the layer applies A_r = s_out·scale_r (the folded affine's scale) so
// that its INT8 partial sum and the receiver's output are in the same units (s_out); the
// receiver adds C_r = s_out·shift_r, ReLU after the partial sums, then the residual with
// scale s_out/s_res. The scales s come from the float64 reference on calibration inputs:
// s = 127 / max |value| over the layer's pre-activation and output (no clipping there).

import type { ChipAtTime } from "./analog.ts";
import type { Chip } from "./chip.ts";
import type { FunctionalFit } from "./functional-fit.ts";
import { avgPool, evaluate, maxPool } from "./graph-eval.ts";
import { inferShapes, INPUT, type Network, type WeightNode } from "./graph.ts";
import { tileMatrix, type LayerPlacement, type Mapping } from "./mapper.ts";
import type { Scheme } from "./targets.ts";
import { ArgumentError } from "./validate.ts";

const N = 256;

export interface RunOptions {
  /** Read time, seconds since programming (default 25). */
  t?: number;
  compensation?: boolean;
  /** Inputs whose float64 activations set the INT8 scales (default: the first 16 inputs). */
  calibration?: readonly ArrayLike<number>[];
  /** Functional fidelity: the weight-noise fit (default lib/functional-fit.json). */
  fit?: FunctionalFit;
  /** Compare with the float64 reference on every input (default true). With false only
   * the calibration inputs are evaluated in float64 (for the scales) and `error` and
   * `agreement` are NaN: the chip's own speed. */
  reference?: boolean;
  /** Worker threads for the MVM batches (default 1: inline); same bits for any count. */
  threads?: number;
  /** INT8 scales per tensor from an earlier run (its `scales`): skips the float64
   * calibration. */
  scales?: Readonly<Record<string, number>>;
  /** Independent repetition (chip.at's `draw`): other read noise (physical) or weight noise (functional). */
  draw?: number;
  /** A view of the chip to read through (`chip.at(t)`), kept across runs so each core's
   * drifted state is computed once; `t`, `compensation` and `fit` are then ignored. */
  at?: ChipAtTime;
}

export interface RunResult {
  /** Chip outputs of the last layer, per input, in float units. */
  outputs: Float64Array[];
  /** The float64 reference's outputs. */
  reference: Float64Array[];
  /** ‖chip − reference‖₂ / ‖reference‖₂ over all outputs. */
  error: number;
  /** Fraction of inputs whose largest output (class) agrees with the reference's. */
  agreement: number;
  /** The INT8 scale of every tensor (INT8 per unit), reusable as `scales`. */
  scales: Record<string, number>;
}

/** Program every tile of a mapping on its core (other cores stay RESET). */
export async function programNetwork(chip: Chip, net: Network, m: Mapping, scheme: Scheme, threads?: number): Promise<void> {
  const byCore = new Map<number, Float32Array>();
  const layers = new Map(net.nodes.map((n) => [n.name, n]));
  for (const p of m.layers) {
    const layer = layers.get(p.layer) as WeightNode;
    for (const t of p.tiles) byCore.set(t.core, tileMatrix(layer, t));
  }
  const cores = Math.max(...byCore.keys()) + 1;
  await chip.programAll((c) => byCore.get(c) ?? new Float32Array(N * N), { scheme, cores, ...(threads ? { threads } : {}) });
}

/** The INT8 scale of every tensor (INT8 per unit) from the float64 activations `cal` of the
 * calibration inputs: 127 / max |value| of the tensor (for a layer: also of its
 * pre-activation and of its partial sums, so nothing clips on the links). */
export function calibrateScales(net: Network, m: Mapping, cal: Map<string, Float64Array[]>): Record<string, number> {
  const amax = (name: string) => {
    let a = 0;
    for (const v of cal.get(name)!) for (let i = 0; i < v.length; i++) a = Math.max(a, Math.abs(v[i]!));
    return a || 1;
  };
  const placement = new Map(m.layers.map((p) => [p.layer, p]));
  const scale: Record<string, number> = { [INPUT]: 127 / amax(INPUT) };
  for (const n of net.nodes) {
    if (n.op === "conv2d" || n.op === "dense") {
      const p = placement.get(n.name)!;
      const pre = net.nodes.find((k) => k.op === "relu" && p.ldpu.some((l) => l.op === "relu" && l.node === k.name));
      scale[p.output] = 127 / Math.max(amax(p.output), pre ? amax((pre as { input: string }).input) : 0, amax(n.name) * maxAbs(p.affine.scale));
    } else if (n.op === "maxPool" || n.op === "avgPool" || n.op === "flatten") {
      scale[n.name] = scale[n.input]!; // a pool's output lies within its input's range
    }
  }
  return scale;
}

/** Images per chunk of `runNetwork` (bounds memory: a conv layer's patches of a chunk). */
export const RUN_CHUNK = 64;

/** Run `inputs` (C·H·W floats each) through the programmed network at read time t, in
 * chunks of RUN_CHUNK inputs (`onProgress(done, total)` after each). */
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
  const at = o.at ?? chip.at(o.t ?? 25, { compensation: o.compensation ?? true, ...(o.fit ? { fit: o.fit } : {}), ...(o.draw ? { draw: o.draw } : {}) });
  const outputs: Float64Array[] = [];
  const reference: Float64Array[] = [];
  try {
    for (let i0 = 0; i0 < inputs.length; i0 += RUN_CHUNK) {
      const chunk = inputs.slice(i0, i0 + RUN_CHUNK);
      const y = await runChunk(at, net, m, chunk, scales, shapes, o.threads ?? 1);
      const s = scales[last]!;
      for (const v of y) outputs.push(Float64Array.from(v, (q) => q / s));
      if (withReference) reference.push(...evaluate(net, chunk).get(last)!);
      o.onProgress?.(Math.min(inputs.length, i0 + RUN_CHUNK), inputs.length);
    }
  } finally {
    if (!o.at) at.dispose();
  }
  if (!withReference) return { outputs, reference: [], error: NaN, agreement: NaN, scales };
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
  return { outputs, reference, error: Math.sqrt(num / den), agreement: agree / outputs.length, scales };
}

/** One chunk of inputs through every layer: the last node's INT8 outputs per input. */
async function runChunk(
  at: ChipAtTime, net: Network, m: Mapping, inputs: readonly ArrayLike<number>[], scales: Record<string, number>,
  shapes: Map<string, readonly number[]>, threads: number,
): Promise<Int8Array[]> {
  const scale = new Map(Object.entries(scales));
  const int8 = new Map<string, Int8Array[]>();
  const q = (v: number) => Math.max(-128, Math.min(127, Math.round(v)));
  const sIn0 = scale.get(INPUT)!;
  int8.set(INPUT, inputs.map((x) => Int8Array.from(x as ArrayLike<number>, (v: number) => q(v * sIn0))));
  const placement = new Map(m.layers.map((p) => [p.layer, p]));
  for (const n of net.nodes) {
    if (n.op === "conv2d" || n.op === "dense") {
      const p = placement.get(n.name)!;
      int8.set(p.output, await runLayer(at, n, p, shapes, int8, scale, scale.get(p.output)!, threads));
    } else if (n.op === "maxPool") {
      const sh = shapes.get(n.input) as [number, number, number];
      int8.set(n.name, int8.get(n.input)!.map((x) => maxPool(x, sh, n.kernel, n.stride)));
    } else if (n.op === "avgPool") {
      // The INT8 mean rounded to nearest, ties to even; same scale as the input.
      const sh = shapes.get(n.input) as [number, number, number];
      int8.set(n.name, int8.get(n.input)!.map((x) => avgPool(x, sh, n.kernel, n.stride, n.padding, n.countIncludePad ?? false)));
    } else if (n.op === "flatten") {
      int8.set(n.name, int8.get(n.input)!);
    }
    // batchNorm, relu and add are done in the receivers' LDPUs (the mapper's epilogues).
  }
  return int8.get(net.nodes[net.nodes.length - 1]!.name)!;
}

async function runLayer(
  at: ChipAtTime, n: WeightNode, p: LayerPlacement, shapes: Map<string, readonly number[]>,
  int8: Map<string, Int8Array[]>, scale: Map<string, number>, sOut: number, threads: number,
): Promise<Int8Array[]> {
  const x = int8.get(n.input)!;
  const sIn = scale.get(n.input)!;
  const patches = n.op === "conv2d" ? new Patches(x, n, shapes.get(n.input) as [number, number, number], shapes.get(n.name) as [number, number, number]) : undefined;
  const P = x.length * (patches?.count ?? 1); // input vectors
  const xt = new Int8Array(P * N);
  let width = 0; // columns of xt written by the previous tile
  const outShape = shapes.get(n.name)!;
  const positions = n.op === "conv2d" ? outShape[1]! * outShape[2]! : 1;
  const outC = n.op === "conv2d" ? n.outChannels : n.outFeatures;
  const out = x.map(() => new Int8Array(outC * positions));
  const residual = p.ldpu.find((l) => l.op === "add");
  const resScale = residual && residual.op === "add" ? scale.get(residual.residual)! : 1;
  for (let ob = 0; ob < p.blocks.outputs; ob++) {
    const tiles = p.tiles.filter((t) => t.outputBlock === ob).sort((a, b) => b.route.hops - a.route.hops || a.core - b.core);
    const [r0, r1] = tiles[0]!.rowRange;
    const rows = r1 - r0;
    const A = new Float64Array(N);
    const C = new Float64Array(N);
    for (let r = 0; r < rows; r++) {
      A[r] = sOut * p.affine.scale[r0 + r]!;
      C[r] = sOut * p.affine.shift[r0 + r]!;
    }
    const res = residual && residual.op === "add" ? gatherRows(int8.get(residual.residual)!, r0, rows, positions) : undefined;
    let partial: Int8Array | undefined;
    for (const [k, t] of tiles.entries()) {
      const receiver = k === tiles.length - 1;
      const [c0, c1] = t.colRange;
      if (c1 - c0 < width) xt.fill(0); // columns the tile does not use read 0
      width = c1 - c0;
      if (patches) patches.into(c0, c1, xt);
      else for (let v = 0; v < P; v++) xt.set(x[v]!.subarray(c0, c1), v * N);
      const mvmOptions = {
        rows,
        outputScale: 1 / sIn,
        ldpu: {
          scale: A,
          ...(receiver ? { bias: C, flags: p.ldpu.some((l) => l.op === "relu") ? 2 : 0 } : {}),
          rxScale: 1,
          ...(receiver && res ? { residualScale: sOut / resScale } : {}),
        },
        ...(partial ? { rx: partial } : {}),
        ...(receiver && res ? { residual: res } : {}),
      };
      const r = threads > 1 && P >= 2 * N ? await at.mvmParallel(t.core, xt, { ...mvmOptions, threads }) : at.mvm(t.core, xt, mvmOptions);
      partial = r.y;
    }
    // The receiver's INT8 outputs into the [C, H, W] tensors.
    const y = partial!;
    for (let v = 0; v < P; v++) {
      const img = Math.floor(v / positions);
      const pos = v % positions;
      for (let r = 0; r < rows; r++) out[img]![(r0 + r) * positions + pos] = y[v * N + r]!;
    }
  }
  return out;
}

/** Residual tensors laid out like the MVM outputs: row r of vector (img, pos) = channel r0 + r. */
function gatherRows(t: Int8Array[], r0: number, rows: number, positions: number): Int8Array {
  const y = new Int8Array(t.length * positions * N);
  t.forEach((x, img) => {
    for (let pos = 0; pos < positions; pos++) for (let r = 0; r < rows; r++) y[(img * positions + pos) * N + r] = x[(r0 + r) * positions + pos]!;
  });
  return y;
}

/** Unrolled patches of every image, one tile's columns at a time: vector (img, oy, ox)
 * holds x[c][iy][ix] at column c·k·k + ky·k + kx (0 where the window leaves the image). The
 * images are copied once into zero-padded planes so the gather has no bounds tests. */
class Patches {
  readonly count: number;
  private readonly padded: Int8Array;
  private readonly plane: number;
  private readonly Wp: number;
  constructor(
    private readonly x: Int8Array[], private readonly n: WeightNode & { op: "conv2d" },
    [C, H, W]: [number, number, number], private readonly out: [number, number, number],
  ) {
    const p = n.padding;
    const Hp = H + 2 * p;
    this.Wp = W + 2 * p;
    this.plane = C * Hp * this.Wp;
    this.count = out[1] * out[2];
    this.padded = new Int8Array(x.length * this.plane);
    x.forEach((img, i) => {
      for (let c = 0; c < C; c++) {
        for (let y = 0; y < H; y++) {
          this.padded.set(img.subarray((c * H + y) * W, (c * H + y + 1) * W), i * this.plane + (c * Hp + y + p) * this.Wp + p);
        }
      }
    });
    this.Hp = Hp;
  }
  private readonly Hp: number;

  /** Columns c0..c1 of every vector into xt (vector v at v·256). */
  into(c0: number, c1: number, xt: Int8Array): void {
    const { n, Wp, Hp, padded, plane } = this;
    const k = n.kernel;
    const s = n.stride;
    const [, Ho, Wo] = this.out;
    const off = new Int32Array(c1 - c0);
    for (let j = c0; j < c1; j++) {
      const c = Math.floor(j / (k * k));
      const ky = Math.floor((j % (k * k)) / k);
      off[j - c0] = (c * Hp + ky) * Wp + (j % k);
    }
    const w = c1 - c0;
    let v = 0;
    for (let i = 0; i < this.x.length; i++) {
      for (let oy = 0; oy < Ho; oy++) {
        for (let ox = 0; ox < Wo; ox++, v++) {
          const base = i * plane + oy * s * Wp + ox * s;
          const o = v * N;
          for (let j = 0; j < w; j++) xt[o + j] = padded[base + off[j]!]!;
        }
      }
    }
  }
}

/** Index of the largest value (the first on ties). */
export function argmax(v: ArrayLike<number>): number {
  let b = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[b]!) b = i;
  return b;
}

function maxAbs(v: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i]!));
  return m;
}

/** Map, program and run a network on a chip in one call (`chip.run`). */
export async function runOnChip(
  chip: Chip, net: Network, inputs: readonly ArrayLike<number>[], o: RunOptions & { scheme?: Scheme; threads?: number; mapping?: Mapping } = {},
): Promise<RunResult & { mapping: Mapping }> {
  const { mapNetwork } = await import("./mapper.ts");
  const mapping = o.mapping ?? mapNetwork(net);
  await programNetwork(chip, net, mapping, o.scheme ?? "tdp", o.threads);
  return { ...(await runNetwork(chip, net, mapping, inputs, { ...o, ...(o.threads ? { threads: o.threads } : {}) })), mapping };
}
