// A sequence model (lib/network/sequence-model.ts) on the simulated chip (issue 18), the GDPU
// path of lib/network/lstm-run.ts generalised to stacked layers and a dense head:
//  - mapping: lib/network/lstm-map.ts mapLstmStack (each layer its own columns and GDPU
//    slices; the head on the free cores); a model that does not fit is a MappingError with
//    the cores it needs; by default copies of every matrix on the free cores and in the
//    tiles' unused columns, and every row programmed at full conductance range
//    (mapSequenceModel's options);
//  - per sequence the state starts at zero (cell states in the GDPU slices, h on the host);
//    timestep by timestep, layer by layer: per column the input-gate tiles (INT8 x, or the
//    layer below's INT8 h) and the hidden-gate tiles (INT8 h of the previous step) chain
//    their partial sums down into row 4's LDPU (copies: see `chain` below), whose INT8 gate
//    pre-activations feed the column's GDPU slice (FP16 sigmoid / tanh, cell state, INT8 h);
//    the dense head reads the last layer's h at every step ("all") or at the last ("last"),
//    ReLU in the receivers' LDPUs, and the final activations run on the host;
//  - INT8 scales from the float64 reference on the first `calibration` sequences: inputs
//    127 / max|x|; gate pre-activations per row 127 / max|g_r| (the LDPU's per-channel scale
//    and the GDPU's per-input gate scale; floored at 1 % of the layer's largest range);
//    hidden states 127 (|h| < 1); dense outputs 127 / max|y| per layer;
//  - all sequences advance in lockstep, one batched MVM per tile and timestep (mvmParallel
//    over the pool for large batches: same bits for any thread count); the read noise of
//    sequence s at step t is keyed by t·N + s, so results do not depend on threads either.

import type { Chip } from "../chip/chip.ts";
import type { FunctionalFit } from "../chip/functional-fit.ts";
import { GdpuSlice } from "../chip/gdpu.ts";
import type { Scheme } from "../chip/targets.ts";
import { ArgumentError, knownKeys } from "../runtime/validate.ts";
import { lstmStackOf, mapLstmStack, type LstmLayer, type LstmMapping, type LstmTile } from "./lstm-map.ts";
import { matrixColumnCopies, matrixRowScales, matrixTile } from "./tiling.ts";
import { applyHead } from "./onnx.ts";
import { argmax } from "./run.ts";
import { emptyRanges, sequenceForwardBatch, sequenceVectors, type SequenceModel, type SequenceOutputs, type SequenceRanges } from "./sequence-model.ts";

const N = 256;

/** Options of `mapSequenceModel`; an unknown key throws. */
export interface SequenceMapOptions {
  /** Copies of every matrix on the cores the model leaves free (LstmMapOptions.replicas):
   * "auto" (default: as many as fit, at most 8) or 1..64; 1 is the plain layout. */
  replicas?: number | "auto";
  /** Fill the columns a tile leaves unused with copies of its weights (LstmLayer.columnCopies,
   * bounded by the ADC range). Default: true with replicas "auto", else false. */
  columnCopies?: boolean;
  /** Program each row at full conductance range (LstmLayer.rowScale). Default true. */
  rowScaling?: boolean;
}

/** The model's layers placed on the chip, with copies of the weights on the free cores by
 * default (`options`); a MappingError with the cores it needs when it does not fit.
 * @throws {@link MappingError} when the model (or its fixed copies) does not fit; {@link ArgumentError} on a bad option */
export function mapSequenceModel(m: SequenceModel, options: SequenceMapOptions = {}): LstmMapping {
  knownKeys(options, ["replicas", "columnCopies", "rowScaling"], "options");
  const replicas = options.replicas ?? "auto";
  const colCopies = options.columnCopies ?? replicas === "auto";
  const rowScaling = options.rowScaling ?? true;
  if (typeof colCopies !== "boolean") throw new ArgumentError("columnCopies", "true or false", options.columnCopies);
  if (typeof rowScaling !== "boolean") throw new ArgumentError("rowScaling", "true or false", options.rowScaling);
  const mapping = mapLstmStack({ name: m.name, inputs: m.layers[0]!.inputs, hidden: m.layers.map((l) => l.hidden), dense: m.dense.map((d) => d.outputs) }, { replicas });
  for (const { layer, w, cols } of sequenceMatrices(mapping, m)) {
    const rows = layer.matrix.rows;
    const rowScale = rowScaling ? matrixRowScales(w, rows, cols) : undefined;
    if (rowScale) layer.rowScale = rowScale;
    const colBlocks = [...new Map(layer.tiles.map((t) => [t.inputBlock, t.colRange])).values()];
    layer.columnCopies = colCopies ? matrixColumnCopies(w, rows, cols, colBlocks, rowScale) : 1;
  }
  return mapping;
}

/** Every matrix of the mapping with its weights (rows × cols, row-major). */
function sequenceMatrices(mapping: LstmMapping, m: SequenceModel): { layer: LstmLayer; w: Float32Array; cols: number }[] {
  const stack = lstmStackOf(mapping);
  return [
    ...stack.lstm.flatMap(({ input, hidden }, k) => {
      const l = m.layers[k]!;
      return [{ layer: mapping.layers[input]!, w: l.wih, cols: l.inputs }, { layer: mapping.layers[hidden]!, w: l.whh, cols: l.hidden }];
    }),
    ...stack.dense.map((d, k) => ({ layer: mapping.layers[d]!, w: m.dense[k]!.w, cols: m.dense[k]!.inputs })),
  ];
}

/** Program every tile of the mapping, copies included (program-and-verify, `scheme`). */
export async function programSequenceModel(chip: Chip, mapping: LstmMapping, m: SequenceModel, scheme: Scheme, threads?: number): Promise<void> {
  const byCore = new Map<number, Float32Array>();
  for (const { layer, w, cols } of sequenceMatrices(mapping, m)) {
    for (const t of layer.tiles) byCore.set(t.core, matrixTile(w, cols, t.rowRange, t.colRange, layer.rowScale, layer.columnCopies));
  }
  await chip.programAll((c) => byCore.get(c) ?? new Float32Array(N * N), { scheme, cores: Math.max(...byCore.keys()) + 1, ...(threads ? { threads } : {}) });
}

/** The INT8 scales of a sequence model's tensors (INT8 units per float unit; `sequenceScales`). */
export interface SequenceScales {
  /** Of the input vectors: 127 / max |x|. */
  input: number;
  /** Per LSTM layer, per gate row: 127 / max |pre-activation| (floored at 1 % of the layer's largest range). */
  gates: Float64Array[];
  /** Of the hidden states: 127 (|h| \< 1). */
  hidden: number;
  /** Per dense layer: 127 / max |output|. */
  dense: number[];
}

/** INT8 scales from the float64 ranges (see the header). */
export function sequenceScales(r: SequenceRanges): SequenceScales {
  return {
    input: 127 / (r.input || 1),
    gates: r.gates.map((g) => {
      const top = Math.max(...g) || 1;
      return g.map((v) => 127 / Math.max(v, top / 100));
    }),
    hidden: 127,
    dense: r.dense.map((v) => 127 / (v || 1)),
  };
}

/** Options of `runSequences` and `runSequenceModel`. */
export interface SequenceRunOptions {
  /** Read time, seconds since programming (default 25). */
  t?: number;
  /** Independent repetition (chip.at's draw). */
  draw?: number;
  /** Functional fidelity: the weight-noise fit. */
  fit?: FunctionalFit;
  /** Worker threads for the batched MVMs (default 1: inline); same bits for any count. */
  threads?: number;
  /** Sequences whose float64 pass sets the INT8 scales (default: the first 16). */
  calibration?: number;
  /** Scales from an earlier run (skips the calibration). */
  scales?: SequenceScales;
  /** Evaluate the float64 reference on every sequence (default true); false: NaN error and agreement. */
  reference?: boolean;
}

/** What `runSequences` returns. */
export interface SequenceRunResult {
  /** The chip's outputs per sequence (one vector, or one per step), final activations applied. */
  outputs: SequenceOutputs;
  /** The float64 reference, the same way. */
  reference: SequenceOutputs;
  /** ‖chip − float64‖ / ‖float64‖ over every output. */
  error: number;
  /** Top-1 agreement of the chip with float64 over every output vector, 0..1. */
  agreement: number;
  /** The INT8 scales used, reusable as `scales`. */
  scales: SequenceScales;
}

function checkSequences(m: SequenceModel, seqs: readonly ArrayLike<number>[]): void {
  if (!Array.isArray(seqs) || seqs.length === 0) throw new ArgumentError("sequences", "a non-empty array of sequences", seqs);
  const size = m.steps * m.features;
  seqs.forEach((s, i) => {
    if (!s || s.length !== size) throw new ArgumentError(`sequences[${i}]`, `${size} values (${m.steps} steps × ${m.features}${m.embedding ? " token id" : " features"})`, s?.length);
  });
  if (seqs.length * m.steps >= 2 ** 30) throw new ArgumentError("sequences", "fewer than 2^30 timesteps in all", seqs.length * m.steps);
}

/** Run sequences through the programmed model at read time t (see the header).
 * @throws {@link ArgumentError} on no sequences, a sequence of the wrong length or a bad option */
export async function runSequences(chip: Chip, m: SequenceModel, mapping: LstmMapping, seqs: readonly ArrayLike<number>[], o: SequenceRunOptions = {}): Promise<SequenceRunResult> {
  checkSequences(m, seqs);
  const S = seqs.length;
  const withRef = o.reference ?? true;
  let scales = o.scales;
  let reference: SequenceOutputs = [];
  if (!scales || withRef) {
    const ranges = emptyRanges(m);
    const cal = Math.min(S, o.calibration ?? 16);
    const ref = [...sequenceForwardBatch(m, seqs.slice(0, cal), ranges), ...(withRef ? sequenceForwardBatch(m, seqs.slice(cal)) : [])];
    scales ??= sequenceScales(ranges);
    if (withRef) reference = ref.map((ys) => ys.map((y) => applyHead(m.head, y)));
  }
  const sc = scales;
  const stack = lstmStackOf(mapping);
  const threads = o.threads ?? 1;
  const at = chip.at(o.t ?? 25, { ...(o.draw ? { draw: o.draw } : {}), ...(o.fit ? { fit: o.fit } : {}) });
  const q = (v: number) => Math.max(-128, Math.min(127, Math.round(v)));
  const outputs: SequenceOutputs = seqs.map(() => []);
  try {
    // The per-sequence state: INT8 h per layer and FP16 cell states per (layer, block).
    const h8 = m.layers.map((l) => seqs.map(() => new Int8Array(l.hidden)));
    const slices = stack.lstm.map(({ input }, k) => mapping.layers[input]!.receivers.map((_, ob) => {
      const [r0, r1] = mapping.layers[input]!.tiles.find((t) => t.outputBlock === ob)!.rowRange;
      return new GdpuSlice({ units: (r1 - r0) / 4, gateScale: Array.from(sc.gates[k]!.subarray(r0, r1), (s) => 1 / s), outScale: sc.hidden });
    }));
    const cells = slices.map((ls) => ls.map((sl): Uint16Array[] => seqs.map(() => new Uint16Array(sl.units))));
    const xs = seqs.map((s) => sequenceVectors(m, s));
    // One output block's chain of tiles over the batch, copy after copy (LstmLayer.replicas k):
    // the copies on other cores first, the mapped one last (its receiver last of all), each
    // copy's tiles farthest first. The chain carries the running mean of the copies' sums at
    // full INT8 resolution: the tiles of the i-th copy in the chain (0-based) scale their reads
    // by 1 / (i + 1), and its first tile scales the partial sum it receives by i / (i + 1).
    // Within a copy the partial sums are those of a chain without copies (a running estimate
    // over the tiles, B / j, would multiply the first tile's read by B: the input gates'
    // partial sum alone can be several times the gate range when the hidden gates cancel it).
    // The first tile of each copy adds the copy's share of the bias, so that every partial sum
    // on the links estimates the output itself (whose range sets the INT8 scale), not the
    // output less its bias; the receiver applies the ReLU. Each tile's LDPU restores its
    // matrix's row scale and divides by its column copies.
    type Link = { t: LstmTile; l: LstmLayer; src: { v: Int8Array[]; scale: number } };
    const chain = async (links: Link[], rowScale: (r: number) => number, bias: Float64Array, key: number, relu: boolean): Promise<Int8Array> => {
      const k = links[0]!.l.replicas;
      const copyOrder = [...Array.from({ length: k - 1 }, (_, i) => i + 1), 0];
      const order = copyOrder.flatMap((c, i) => links.filter((x) => x.t.replica === c)
        .sort((a, b) => b.t.route.hops - a.t.route.hops || a.t.core - b.t.core)
        .map((x, p) => ({ ...x, share: 1 / (i + 1), rx: p === 0 ? i / (i + 1) : 1, first: p === 0 })));
      const [r0, r1] = order[0]!.t.rowRange;
      const rows = r1 - r0;
      let partial: Int8Array | undefined;
      for (const [j, { t, l, src, share, rx, first }] of order.entries()) {
        const [c0, c1] = t.colRange;
        const w = c1 - c0;
        const copies = l.columnCopies;
        const x = new Int8Array(S * N);
        src.v.forEach((row, s) => {
          const seg = row.subarray(c0, c1);
          for (let q = 0; q < copies; q++) x.set(seg, s * N + q * w);
        });
        const A = Float64Array.from({ length: N }, (_, r) => (r < rows ? (rowScale(r0 + r) * (l.rowScale ? l.rowScale[r0 + r]! : 1) * share) / copies : 1));
        const receiver = j === order.length - 1;
        const opts = {
          outputScale: 1 / src.scale,
          firstInput: key,
          rows,
          ldpu: { scale: A, rxScale: rx, ...(first ? { bias: bias.map((b) => b * share) } : {}), ...(receiver && relu ? { flags: 2 } : {}) },
          ...(partial ? { rx: partial } : {}),
        };
        partial = (threads > 1 && S >= 2 * N ? await at.mvmParallel(t.core, x, { ...opts, threads }) : at.mvm(t.core, x, opts)).y;
      }
      return partial!;
    };
    const blockTiles = (l: LstmLayer, ob: number) => l.tiles.filter((t) => t.outputBlock === ob);
    for (let step = 0; step < m.steps; step++) {
      const key = step * S;
      let below = { v: xs.map((x) => Int8Array.from(x[step]!, (v) => q(v * sc.input))), scale: sc.input };
      for (const [k, { input, hidden }] of stack.lstm.entries()) {
        const li = mapping.layers[input]!;
        const lh = mapping.layers[hidden]!;
        const layer = m.layers[k]!;
        const prev = { v: h8[k]!, scale: sc.hidden };
        const next = seqs.map(() => new Int8Array(layer.hidden));
        for (let ob = 0; ob < li.receivers.length; ob++) {
          const links: Link[] = [...blockTiles(li, ob).map((t) => ({ t, l: li, src: below })), ...blockTiles(lh, ob).map((t) => ({ t, l: lh, src: prev }))];
          const [r0, r1] = li.tiles.find((t) => t.outputBlock === ob)!.rowRange;
          const gates = sc.gates[k]!;
          const bias = Float64Array.from({ length: N }, (_, r) => (r < r1 - r0 ? gates[r0 + r]! * layer.bias[r0 + r]! : 0));
          const g = await chain(links, (r) => gates[r]!, bias, key, false);
          const slice = slices[k]![ob]!;
          for (let s = 0; s < S; s++) {
            slice.setCellBits(cells[k]![ob]![s]!);
            next[s]!.set(slice.step(g.subarray(s * N, s * N + (r1 - r0))), r0 / 4);
            cells[k]![ob]![s] = slice.cellBits();
          }
        }
        h8[k] = next;
        below = { v: next, scale: sc.hidden };
      }
      if (m.outputs === "all" || step === m.steps - 1) {
        let v = below;
        for (const [k, d] of stack.dense.entries()) {
          const l = mapping.layers[d]!;
          const dense = m.dense[k]!;
          const sd = sc.dense[k]!;
          const y = seqs.map(() => new Int8Array(dense.outputs));
          for (let ob = 0; ob < l.receivers.length; ob++) {
            const tiles = blockTiles(l, ob);
            const [r0, r1] = tiles[0]!.rowRange;
            const bias = Float64Array.from({ length: N }, (_, r) => (r < r1 - r0 ? sd * dense.b[r0 + r]! : 0));
            const vin = v;
            const out = await chain(tiles.map((t) => ({ t, l, src: vin })), () => sd, bias, key, dense.relu);
            for (let s = 0; s < S; s++) y[s]!.set(out.subarray(s * N, s * N + (r1 - r0)), r0);
          }
          v = { v: y, scale: sd };
        }
        v.v.forEach((y, s) => outputs[s]!.push(applyHead(m.head, Float64Array.from(y, (q8) => q8 / v.scale))));
      }
    }
  } finally {
    at.dispose();
  }
  const { error, agreement } = withRef ? compareSequenceOutputs(outputs, reference) : { error: NaN, agreement: NaN };
  return { outputs, reference, error, agreement, scales: sc };
}

/** ‖a − b‖/‖b‖ over every output and the top-1 agreement of a with b over every output vector. */
export function compareSequenceOutputs(a: SequenceOutputs, b: SequenceOutputs): { error: number; agreement: number } {
  let num = 0;
  let den = 0;
  let same = 0;
  let count = 0;
  a.forEach((ys, s) => ys.forEach((y, t) => {
    const r = b[s]![t]!;
    for (let j = 0; j < y.length; j++) {
      num += (y[j]! - r[j]!) ** 2;
      den += r[j]! ** 2;
    }
    if (argmax(y) === argmax(r)) same++;
    count++;
  }));
  return { error: Math.sqrt(num / (den || 1)), agreement: same / count };
}

/** Map (`map`: SequenceMapOptions, default copies "auto"), program (`scheme`, default TDP) and run in one call.
 * @throws {@link MappingError} when the model does not fit; {@link ArgumentError} as `runSequences` */
export async function runSequenceModel(
  chip: Chip, m: SequenceModel, seqs: readonly ArrayLike<number>[], o: SequenceRunOptions & { scheme?: Scheme; map?: SequenceMapOptions } = {},
): Promise<SequenceRunResult & { mapping: LstmMapping }> {
  checkSequences(m, seqs);
  const mapping = mapSequenceModel(m, o.map);
  await programSequenceModel(chip, mapping, m, o.scheme ?? "tdp", o.threads);
  const { scheme: _scheme, map: _map, ...rest } = o;
  return { ...(await runSequences(chip, m, mapping, seqs, rest)), mapping };
}
