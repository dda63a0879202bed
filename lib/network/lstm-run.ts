// An LSTM on the simulated chip, timestep by timestep (paper §V, Figs. 4–5): per column,
// the input-gate and hidden-gate tiles' INT8 partial sums travel down the links into the
// row-4 LDPU (bias added there), whose INT8 gate pre-activations feed that column's GDPU
// slice (lib/chip/gdpu.ts: FP16 sigmoid/tanh LUTs, cell state, INT8 hidden output); the hidden
// vector goes back to the hidden-gate tiles at the next timestep and to the output layer.
// Gate rows are I, A, F, O interleaved per hidden unit (row 4u + g), as the GDPU reads them.
// Read noise is keyed by the timestep (each core is read once per step): a fresh draw each step.

import type { Chip } from "../chip/chip.ts";
import { GdpuSlice } from "../chip/gdpu.ts";
import type { LstmMapping, LstmSpec } from "./lstm-map.ts";
import { mapLstm } from "./lstm-map.ts";
import { CHIP_CORE, Purpose } from "../chip/rng.ts";
import type { Scheme } from "../chip/targets.ts";
import { ArgumentError, seedToBigInt } from "../runtime/validate.ts";
import { sparseUniform } from "../chip/workload.ts";

const N = 256;

/** The weights of a single-layer LSTM with a dense output layer (float, row-major). */
export interface LstmWeights {
  /** The sizes: I inputs, H hidden, O outputs. */
  spec: LstmSpec;
  /** Input-to-gate weights, 4H × I (row 4u + g, g = I, A, F, O). */
  wih: Float32Array;
  /** Hidden-to-gate weights, 4H × H (same row order). */
  whh: Float32Array;
  /** Gate biases, 4H (same order). */
  bias: Float32Array;
  /** Output layer weights, O × H. */
  wout: Float32Array;
  /** Output layer biases, O. */
  bout: Float32Array;
}

/** Random weights uniform in ±1/√H (PyTorch's LSTM initialisation) from a seed. */
export function randomLstm(spec: LstmSpec, seed: number | bigint = 1): LstmWeights {
  const s = seedToBigInt(seed);
  const H = spec.hidden;
  const k = 1 / Math.sqrt(H);
  const draw = (n: number, step: number) => sparseUniform(s, CHIP_CORE, Purpose.WEIGHTS, n, 0, 100 + step).map((v) => v * k);
  return {
    spec,
    wih: draw(4 * H * spec.inputs, 1),
    whh: draw(4 * H * H, 2),
    bias: draw(4 * H, 3),
    wout: draw(spec.outputs * H, 4),
    bout: draw(spec.outputs, 5),
  };
}

/** One sub-matrix (rows r0..r1, cols c0..c1 of an R × C matrix), zero-filled to 256 × 256. */
function tile(w: Float32Array, cols: number, [r0, r1]: readonly [number, number], [c0, c1]: readonly [number, number]): Float32Array {
  const m = new Float32Array(N * N);
  for (let r = r0; r < r1; r++) m.set(w.subarray(r * cols + c0, r * cols + c1), (r - r0) * N);
  return m;
}

/**
 * Program an LSTM mapping's tiles (`mapLstm(w.spec)`) on the chip's cores (program-and-verify
 * at physical fidelity); cores without a tile get zeros.
 * @param threads - worker threads (default: all machine cores)
 * @throws {@link ArgumentError} on a bad scheme or thread count
 */
export async function programLstm(chip: Chip, m: LstmMapping, w: LstmWeights, scheme: Scheme, threads?: number): Promise<void> {
  const byCore = new Map<number, Float32Array>();
  const src: Record<string, [Float32Array, number]> = {
    "gates.input": [w.wih, w.spec.inputs],
    "gates.hidden": [w.whh, w.spec.hidden],
    output: [w.wout, w.spec.hidden],
  };
  for (const l of m.layers) for (const t of l.tiles) byCore.set(t.core, tile(src[l.layer]![0], src[l.layer]![1], t.rowRange, t.colRange));
  await chip.programAll((c) => byCore.get(c) ?? new Float32Array(N * N), { scheme, cores: Math.max(...byCore.keys()) + 1, ...(threads ? { threads } : {}) });
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** The float64 reference: outputs (logits) per timestep, and the hidden states. */
export function lstmReference(w: LstmWeights, xs: readonly ArrayLike<number>[]): { outputs: Float64Array[]; hidden: Float64Array[] } {
  const { inputs: I, hidden: H, outputs: O } = w.spec;
  let h = new Float64Array(H);
  const c = new Float64Array(H);
  const outputs: Float64Array[] = [];
  const hidden: Float64Array[] = [];
  for (const x of xs) {
    const g = new Float64Array(4 * H);
    for (let r = 0; r < 4 * H; r++) {
      let s = w.bias[r]!;
      for (let j = 0; j < I; j++) s += w.wih[r * I + j]! * x[j]!;
      for (let j = 0; j < H; j++) s += w.whh[r * H + j]! * h[j]!;
      g[r] = s;
    }
    const hn = new Float64Array(H);
    for (let u = 0; u < H; u++) {
      const i = sigmoid(g[4 * u]!), a = Math.tanh(g[4 * u + 1]!), f = sigmoid(g[4 * u + 2]!), o = sigmoid(g[4 * u + 3]!);
      c[u] = f * c[u]! + i * a;
      hn[u] = o * Math.tanh(c[u]!);
    }
    h = hn;
    hidden.push(h);
    const y = new Float64Array(O);
    for (let r = 0; r < O; r++) {
      let s = w.bout[r]!;
      for (let j = 0; j < H; j++) s += w.wout[r * H + j]! * h[j]!;
      y[r] = s;
    }
    outputs.push(y);
  }
  return { outputs, hidden };
}

/** What `runLstm` returns. */
export interface LstmRunResult {
  /** The chip's outputs (logits, float units) per timestep. */
  outputs: Float64Array[];
  /** The float64 reference's outputs per timestep. */
  reference: Float64Array[];
  /** ‖chip − float64‖/‖float64‖ of the outputs over all timesteps. */
  error: number;
  /** Largest |h| on the chip (INT8 / scale), to see that nothing blows up. */
  maxHidden: number;
}

/**
 * Run a sequence (xs[t] of spec.inputs floats) through the programmed LSTM at read time t.
 * INT8 scales: inputs 127/max|x|, gates 127/max|pre-activation| and outputs 127/max|y| of the
 * float64 reference on the same sequence, hidden states 127 (|h| \< 1).
 * @param o - `t`: read time, s since programming; `draw`: repetition 0..65535 (default 0)
 * @throws {@link ArgumentError} on an empty sequence or an input of the wrong length
 */
export function runLstm(chip: Chip, m: LstmMapping, w: LstmWeights, xs: readonly ArrayLike<number>[], o: { t?: number; draw?: number } = {}): LstmRunResult {
  const { inputs: I, hidden: H, outputs: O } = w.spec;
  if (!Array.isArray(xs) || xs.length === 0) throw new ArgumentError("xs", "a non-empty sequence of input vectors", xs);
  xs.forEach((x, i) => {
    if (!x || x.length !== I) throw new ArgumentError(`xs[${i}]`, `${I} values`, x);
  });
  const ref = lstmReference(w, xs);
  let xmax = 0;
  for (const x of xs) for (let j = 0; j < I; j++) xmax = Math.max(xmax, Math.abs(x[j]!));
  const sx = 127 / (xmax || 1);
  const sh = 127; // |h| < 1
  let gmax = 0;
  let ymax = 0;
  {
    // Gate pre-activation range from the reference (bias included).
    let h: Float64Array = new Float64Array(H);
    xs.forEach((x, t) => {
      for (let r = 0; r < 4 * H; r++) {
        let s = w.bias[r]!;
        for (let j = 0; j < I; j++) s += w.wih[r * I + j]! * x[j]!;
        for (let j = 0; j < H; j++) s += w.whh[r * H + j]! * h[j]!;
        gmax = Math.max(gmax, Math.abs(s));
      }
      h = ref.hidden[t]!;
      for (const v of ref.outputs[t]!) ymax = Math.max(ymax, Math.abs(v));
    });
  }
  const sg = 127 / (gmax || 1);
  const sy = 127 / (ymax || 1);
  const [gi, gh, go] = m.layers as [LstmMapping["layers"][0], LstmMapping["layers"][0], LstmMapping["layers"][0]];
  const blocks = gi.receivers.length;
  const slices = gi.receivers.map((_, ob) => {
    const [r0, r1] = gi.tiles.find((t) => t.outputBlock === ob)!.rowRange;
    return new GdpuSlice({ units: (r1 - r0) / 4, gateScale: 1 / sg, outScale: sh });
  });
  const at = chip.at(o.t ?? 25, o.draw ? { draw: o.draw } : {});
  const q = (v: number) => Math.max(-128, Math.min(127, Math.round(v)));
  let h8 = new Int8Array(H);
  const outputs: Float64Array[] = [];
  let maxHidden = 0;
  try {
    for (const [step, x] of xs.entries()) {
      const x8 = Int8Array.from({ length: I }, (_, j) => q(x[j]! * sx));
      const hNext = new Int8Array(H);
      for (let ob = 0; ob < blocks; ob++) {
        const chain = [...gi.tiles.filter((t) => t.outputBlock === ob), ...gh.tiles.filter((t) => t.outputBlock === ob)];
        const [r0, r1] = chain[0]!.rowRange;
        const bias = Float64Array.from({ length: N }, (_, r) => (r < r1 - r0 ? sg * w.bias[r0 + r]! : 0));
        let partial: Int8Array | undefined;
        chain.forEach((t, k) => {
          const fromInput = k < gi.tiles.filter((u) => u.outputBlock === ob).length;
          const src = fromInput ? x8 : h8;
          const v = new Int8Array(N);
          v.set(src.subarray(t.colRange[0], t.colRange[1]));
          const receiver = k === chain.length - 1;
          partial = at.mvm(t.core, v, {
            outputScale: 1 / (fromInput ? sx : sh),
            firstInput: step,
            ldpu: { scale: sg, rxScale: 1, ...(receiver ? { bias } : {}) },
            ...(partial ? { rx: partial } : {}),
          }).y;
        });
        const units = (r1 - r0) / 4;
        hNext.set(slices[ob]!.step(partial!.subarray(0, 4 * units)), r0 / 4);
      }
      h8 = hNext;
      for (let j = 0; j < H; j++) maxHidden = Math.max(maxHidden, Math.abs(h8[j]! / sh));
      // Output layer: chains of its tiles into their receivers.
      const y = new Float64Array(O);
      for (let ob = 0; ob < go.receivers.length; ob++) {
        const chain = go.tiles.filter((t) => t.outputBlock === ob);
        const [r0, r1] = chain[0]!.rowRange;
        const bias = Float64Array.from({ length: N }, (_, r) => (r < r1 - r0 ? sy * w.bout[r0 + r]! : 0));
        let partial: Int8Array | undefined;
        chain.forEach((t, k) => {
          const v = new Int8Array(N);
          v.set(h8.subarray(t.colRange[0], t.colRange[1]));
          partial = at.mvm(t.core, v, {
            outputScale: 1 / sh,
            firstInput: step,
            ldpu: { scale: sy, rxScale: 1, ...(k === chain.length - 1 ? { bias } : {}) },
            ...(partial ? { rx: partial } : {}),
          }).y;
        });
        for (let r = 0; r < r1 - r0; r++) y[r0 + r] = partial![r]! / sy;
      }
      outputs.push(y);
    }
  } finally {
    at.dispose();
  }
  let num = 0;
  let den = 0;
  outputs.forEach((y, t) => y.forEach((v, j) => {
    num += (v - ref.outputs[t]![j]!) ** 2;
    den += ref.outputs[t]![j]! ** 2;
  }));
  return { outputs, reference: ref.outputs, error: Math.sqrt(num / den), maxHidden };
}

/** Map, program and run in one call. */
export async function runLstmOnChip(chip: Chip, w: LstmWeights, xs: readonly ArrayLike<number>[], o: { scheme?: Scheme; t?: number; threads?: number } = {}) {
  const m = mapLstm(w.spec);
  await programLstm(chip, m, w, o.scheme ?? "tdp", o.threads);
  return { ...runLstm(chip, m, w, xs, o), mapping: m };
}
