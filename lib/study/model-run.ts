// Inference of an ONNX classifier over a test set on a programmed chip: the functions that
// local runs (`hermes-sim run --model`, `drift --model`) and queue workers (lib/study/queue/)
// both call, so that a run cut into jobs gives the very bits of a local run.
//
// - modelScales: the INT8 scales between layers, from the float64 activations of the first
//   CALIBRATION_IMAGES images (they depend on the model and those images only).
// - readAt: the chip read at (t, draw, fit), built one way everywhere.
// - inferImages: images first..first+n−1 of a set at one read point → the chip's INT8 outputs;
//   the read noise is keyed by each image's index in the whole set (runNetwork's firstImage),
//   so any cut of a set into chunks gives the same outputs.
// - countCorrect and RunTally: what is made of the outputs. RunTally takes them image by
//   image, run by run, in order (the sums of outputError are taken in that order), and keeps
//   a SHA-256 chain over every INT8 output (`digest`); its state after any image is a few
//   numbers, which is what a queue submitter's checkpoint stores to resume.

import { createHash } from "node:crypto";
import type { Chip } from "../chip/chip.ts";
import type { ChipAtTime } from "../chip/analog.ts";
import type { FunctionalFit } from "../chip/functional-fit.ts";
import { evaluate } from "../network/graph-eval.ts";
import type { Network } from "../network/graph.ts";
import type { Mapping } from "../network/mapper.ts";
import { applyHead, type HeadOp } from "../network/onnx.ts";
import { argmax, calibrateScales, runNetwork } from "../network/run.ts";
import type { Metrics } from "./checkpoint.ts";

/** Images whose float64 activations set the INT8 scales (the first ones of the set). */
export const CALIBRATION_IMAGES = 16;

/** A mapped network and its INT8 scales: what inference needs besides a programmed chip. */
export interface InferModel {
  /** The network. */
  net: Network;
  /** Its mapping onto the chip's cores. */
  mapping: Mapping;
  /** INT8 scale of every tensor by node name, INT8 units per float unit (`modelScales`). */
  scales: Record<string, number>;
}

/** The INT8 scales of a model over a test set (from its first CALIBRATION_IMAGES images). */
export function modelScales(net: Network, mapping: Mapping, images: readonly ArrayLike<number>[]): Record<string, number> {
  return calibrateScales(net, mapping, evaluate(net, images.slice(0, CALIBRATION_IMAGES)));
}

/** When and how the chip is read: time since programming, repetition (`draw`), functional fit. */
export interface ReadPoint {
  /** Time since programming, s (≥ 0, finite). */
  t: number;
  /** Independent repetition 0..65535 (default 0): its own read noise. */
  draw?: number;
  /** Functional fidelity: the fit (default lib/chip/functional-fit.json). */
  fit?: FunctionalFit;
}

/** The chip read at a read point (global drift compensation on). */
export function readAt(chip: Chip, p: ReadPoint): ChipAtTime {
  return chip.at(p.t, { compensation: true, ...(p.fit ? { fit: p.fit } : {}), ...(p.draw ? { draw: p.draw } : {}) });
}

/** The INT8 scale of the model's output (outputs in float units = INT8 / this). */
export function outputScale(m: InferModel): number {
  return m.scales[m.net.nodes[m.net.nodes.length - 1]!.name]!;
}

/** The chip's INT8 outputs of `images`, which are images first, first + 1, … of the set. */
export async function inferImages(
  chip: Chip,
  m: InferModel,
  images: readonly ArrayLike<number>[],
  o: ReadPoint & { first?: number; threads: number; at?: ChipAtTime; onProgress?: (done: number, total: number) => void },
): Promise<Int8Array[]> {
  const at = o.at ?? readAt(chip, o);
  try {
    const r = await runNetwork(chip, m.net, m.mapping, images, {
      at, scales: m.scales, reference: false, threads: o.threads, firstImage: o.first ?? 0, ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    });
    return r.int8;
  } finally {
    if (!o.at) at.dispose();
  }
}

/** INT8 outputs in float units (as runNetwork's `outputs`). */
export function toFloat(v: Int8Array, scale: number): Float64Array {
  return Float64Array.from(v, (x) => x / scale);
}

/** How many of `outputs` (images first, first + 1, …) have their label as largest output. */
export function countCorrect(outputs: readonly Int8Array[], labels: ArrayLike<number>, first: number, scale: number): number {
  let ok = 0;
  outputs.forEach((v, i) => {
    if (argmax(toFloat(v, scale)) === labels[first + i]) ok++;
  });
  return ok;
}

interface Counters {
  images: number;
  correct: number;
  agree: number;
  num: number;
  den: number;
}

const CHAIN_WORDS = 8;

/**
 * The figures of `run --model` from the chip's outputs, taken image by image and run by run
 * in order: per run the accuracy (top-1 against the labels), the agreement with the float
 * model's top-1 and ‖y_chip − y_float‖₂ / ‖y_float‖₂ over all outputs (the model's final
 * activations, `head`, applied to y_chip first); over everything, `digest`, a SHA-256 chain
 * h ← SHA-256(h ‖ INT8 outputs of the next image), from 32 zero bytes.
 */
export class RunTally {
  private readonly counters: Counters[];
  private chain = new Uint8Array(32);

  constructor(
    /** Images per run. */
    readonly n: number,
    /** Runs (repetitions with their own read noise). */
    readonly runs: number,
    private readonly labels: ArrayLike<number>,
    private readonly float: readonly ArrayLike<number>[],
    private readonly head: readonly HeadOp[],
    private readonly scale: number,
  ) {
    this.counters = Array.from({ length: runs }, () => ({ images: 0, correct: 0, agree: 0, num: 0, den: 0 }));
  }

  /** Images of every run done so far, in order. */
  get done(): number {
    return this.counters.reduce((a, c) => a + c.images, 0);
  }

  /** Image `i` of run `draw`: its INT8 outputs. Images come in order, run after run. */
  add(draw: number, i: number, v: Int8Array): void {
    const c = this.counters[draw];
    if (!c || c.images !== i || (draw > 0 && this.counters[draw - 1]!.images !== this.n)) {
      throw new RangeError(`RunTally: image ${i} of run ${draw} out of order (${this.done} images done)`);
    }
    const y = toFloat(v, this.scale);
    if (argmax(y) === this.labels[i]) c.correct++;
    const yh = this.head.length ? applyHead(this.head, y) : y;
    const r = this.float[i]!;
    if (yh.length !== r.length) throw new RangeError(`RunTally: image ${i} has ${yh.length} chip outputs and ${r.length} float outputs`);
    for (let j = 0; j < yh.length; j++) {
      c.num += (yh[j]! - r[j]!) ** 2;
      c.den += r[j]! ** 2;
    }
    if (argmax(yh) === argmax(r)) c.agree++;
    this.chain = new Uint8Array(createHash("sha256").update(this.chain).update(v).digest());
    c.images++;
  }

  /** The state after the last image added (of run `draw`): plain numbers, for a checkpoint. */
  state(draw: number): Metrics {
    const c = this.counters[draw]!;
    const m: Metrics = { draw, images: c.images, correct: c.correct, agree: c.agree, num: c.num, den: c.den };
    const view = new DataView(this.chain.buffer);
    for (let k = 0; k < CHAIN_WORDS; k++) m[`h${k}`] = view.getUint32(4 * k);
    return m;
  }

  /** Back to a state given by `state` (the last one recorded in a checkpoint); the runs
   * before it are taken as finished, each with its own last state in `finished`. */
  restore(last: Metrics, finished: readonly Metrics[]): void {
    const draw = last["draw"]!;
    if (finished.length !== draw) throw new RangeError(`RunTally: ${finished.length} finished runs before run ${draw}`);
    [...finished, last].forEach((m, d) => {
      const c = this.counters[d]!;
      for (const k of ["images", "correct", "agree", "num", "den"] as const) c[k] = m[k]!;
    });
    this.chain = new Uint8Array(32);
    const view = new DataView(this.chain.buffer);
    for (let k = 0; k < CHAIN_WORDS; k++) view.setUint32(4 * k, last[`h${k}`]!);
  }

  /** Per run: accuracy, agreement and output error; the digest of every output. */
  result(): { accuracies: number[]; agreements: number[]; outputErrors: number[]; digest: string } {
    if (this.done !== this.n * this.runs) throw new RangeError(`RunTally: ${this.done} of ${this.n * this.runs} images done`);
    return {
      accuracies: this.counters.map((c) => c.correct / this.n),
      agreements: this.counters.map((c) => c.agree / this.n),
      outputErrors: this.counters.map((c) => Math.sqrt(c.num / c.den)),
      digest: Array.from(this.chain, (b) => b.toString(16).padStart(2, "0")).join(""),
    };
  }
}
