// Executing a network plan (lib/network/run-plan.ts) on a chunk of inputs, over wasm buffers: the
// same function runs inline or in a worker thread (a "runChunk" pool task), so a whole
// chunk — patches, every tile's read, the partial-sum chains, host pooling — is one unit
// of parallel work and the main thread only hands out chunks. Everything between layers is
// INT8, as on the chip. Noise is keyed by each vector's index in the whole input set
// (firstImage), so results do not depend on chunking or threads.

import { avgPool, concat, maxPool, pad } from "./graph-eval.ts";
import { READOUT_BYTES, readTaskInto, type ReadoutBuffers } from "../chip/readout.ts";
import type { BlockPlan, RunPlan, StepPlan } from "./run-plan.ts";
import type { WasmRuntime } from "../runtime/wasm.ts";

const N = 256;

/** Buffers of one executor: the readout's, four INT8 planes of `capacity` vectors, the
 * zero-padded images of a chunk (`padded` bytes) and a tile's column offsets. */
export type ExecBuffers = ReadoutBuffers & { xt: number; ya: number; yb: number; res: number; pad: number; offs: number };

/** The buffer layout (name → bytes) for chunks of up to `capacity` input vectors per layer
 * and `padded` bytes of padded images. */
export function execLayout(capacity: number, padded: number): Record<keyof ExecBuffers, number> {
  return { ...READOUT_BYTES, xt: capacity * N, ya: capacity * N, yb: capacity * N, res: capacity * N, pad: Math.max(16, padded), offs: N * 4 };
}

/** Run INT8 inputs (`images`, the plan's input scale applied) through the plan: the last
 * step's INT8 outputs per input. */
export function runChunkPlan(rt: WasmRuntime, plan: RunPlan, images: Int8Array[], firstImage: number, mem: ExecBuffers): Int8Array[] {
  const t = new Map<string, Int8Array[]>([[plan.input, images]]);
  for (const s of plan.steps) t.set(s.name, runStep(rt, s, t, firstImage, mem));
  return t.get(plan.last)!;
}

function runStep(rt: WasmRuntime, s: StepPlan, t: Map<string, Int8Array[]>, firstImage: number, mem: ExecBuffers): Int8Array[] {
  const x = t.get(s.input)!;
  switch (s.op) {
    case "maxPool":
      return x.map((v) => maxPool(v, s.inShape as [number, number, number], s.kernel, s.stride, s.pads, s.ceil));
    case "avgPool":
      return x.map((v) => avgPool(v, s.inShape as [number, number, number], s.kernel, s.stride, s.pads, s.countIncludePad, s.ceil));
    case "flatten":
      return x;
    case "pad":
      return x.map((v) => pad(v, s.inShape as [number, number, number], s.pads));
    case "concat":
      return x.map((_, i) => concat(s.inputs.map((name) => t.get(name)![i]!)));
    case "affine":
      return x.map((v) => Int8Array.from(v, (q, j) => {
        const c = Math.floor(j / s.per);
        return Math.max(-128, Math.min(127, Math.round(s.sOut * ((s.scale[c]! * q) / s.sIn + s.shift[c]!))));
      }));
    case "lut":
      return x.map((v) => Int8Array.from(v, (q, j) => s.table[Math.floor(j / s.per) * 256 + q + 128]!));
    case "weights":
      return runWeights(rt, s, x, t, firstImage, mem);
  }
}

function runWeights(
  rt: WasmRuntime, s: StepPlan & { op: "weights" }, x: Int8Array[], t: Map<string, Int8Array[]>, firstImage: number, mem: ExecBuffers,
): Int8Array[] {
  const patches = s.kind === "conv2d" ? new Patches(rt, x, s, mem) : undefined;
  const positions = s.kind === "conv2d" ? s.outShape[1]! * s.outShape[2]! : 1;
  const P = x.length * positions; // input vectors
  const xt = rt.i8(mem.xt, P * N);
  xt.fill(0);
  let width = 0; // columns of xt written by the previous tile
  const out = x.map(() => new Int8Array(s.outChannels * positions));
  for (const b of s.blocks) {
    if (b.residual) gatherRows(t.get(b.residual)!, b.r0, b.rows, positions, rt.i8(mem.res, P * N));
    if (b.groups) {
      readGroups(rt, b, patches, x, P, firstImage * positions, mem);
      scatterRows(rt.i8(mem.yb, P * N), b, positions, out);
      width = N; // xt was overwritten
      continue;
    }
    let from = 0; // the upstream partial sums (0: none)
    let to = mem.ya;
    for (const [k, tile] of b.tiles.entries()) {
      const [c0, c1] = tile.cols;
      if (c1 - c0 < width) xt.fill(0); // columns the tile does not use read 0
      width = c1 - c0;
      if (patches) patches.into(c0, c1);
      else for (let v = 0; v < P; v++) xt.set(x[v]!.subarray(c0, c1), v * N);
      if (b.copies > 1) {
        width = b.copies * (c1 - c0);
        for (let v = 0; v < P; v++) for (let q = 1; q < b.copies; q++) xt.copyWithin(v * N + q * (c1 - c0), v * N, v * N + c1 - c0);
      }
      const receiver = k === b.tiles.length - 1;
      readTaskInto(rt, {
        ...tile.task, xPtr: mem.xt, n: P, firstInput: firstImage * positions, outPtr: to, countsPtr: 0,
        rxPtr: from, resPtr: receiver && b.residual ? mem.res : 0, buf: mem,
      });
      from = to;
      to = to === mem.ya ? mem.yb : mem.ya;
    }
    scatterRows(rt.i8(from, P * N), b, positions, out);
  }
  return out;
}

/** A packed grouped conv's tile and its copies (one tile each, chained: every copy adds its
 * read to the partial sum of the one before): one read per group with only that group's
 * columns driven, its rows kept; the outputs end in mem.yb. */
function readGroups(rt: WasmRuntime, b: BlockPlan, patches: Patches | undefined, x: Int8Array[], P: number, firstInput: number, mem: ExecBuffers): void {
  const g = b.groups!;
  const [c0, c1] = b.tiles[0]!.cols;
  const xt = rt.i8(mem.xt, P * N);
  xt.fill(0);
  if (patches) patches.into(c0, c1);
  else for (let v = 0; v < P; v++) xt.set(x[v]!.subarray(c0, c1), v * N);
  const all = xt.slice(); // every group's inputs
  const acc = new Int8Array(P * N);
  for (let j = 0; j < g.count; j++) {
    const a = j * g.cols;
    xt.fill(0);
    // Group j's inputs in its own columns, or with column copies in every copy's slot.
    for (let v = 0; v < P; v++) {
      const src = all.subarray(v * N + a, v * N + a + g.cols);
      if (b.copies > 1) for (let q = 0; q < b.copies; q++) xt.set(src, v * N + q * g.cols);
      else xt.set(src, v * N + a);
    }
    let from = 0;
    let to = mem.ya;
    for (const [k, tile] of b.tiles.entries()) {
      const receiver = k === b.tiles.length - 1;
      readTaskInto(rt, { ...tile.task, xPtr: mem.xt, n: P, firstInput, outPtr: to, countsPtr: 0, rxPtr: from, resPtr: receiver && b.residual ? mem.res : 0, buf: mem });
      from = to;
      to = to === mem.ya ? mem.yb : mem.ya;
    }
    const y = rt.i8(from, P * N);
    const r = j * g.rows;
    for (let v = 0; v < P; v++) acc.set(y.subarray(v * N + r, v * N + r + g.rows), v * N + r);
  }
  rt.i8(mem.yb, P * N).set(acc);
}

/** The receiver's INT8 outputs (vector (img, pos), row r) into channel r0 + r of the tensors. */
function scatterRows(y: Int8Array, b: BlockPlan, positions: number, out: Int8Array[]): void {
  let v = 0;
  for (const o of out) {
    for (let pos = 0; pos < positions; pos++, v++) {
      const src = v * N;
      for (let r = 0; r < b.rows; r++) o[(b.r0 + r) * positions + pos] = y[src + r]!;
    }
  }
}

/** Residual tensors laid out like the MVM outputs: row r of vector (img, pos) = channel r0 + r. */
function gatherRows(t: Int8Array[], r0: number, rows: number, positions: number, y: Int8Array): void {
  t.forEach((x, img) => {
    for (let pos = 0; pos < positions; pos++) for (let r = 0; r < rows; r++) y[(img * positions + pos) * N + r] = x[(r0 + r) * positions + pos]!;
  });
}

/** Unrolled patches of every image, one tile's columns at a time: vector (img, oy, ox)
 * holds x[c][iy][ix] at column c·k·k + ky·k + kx (0 where the window leaves the image). The
 * images are copied once into zero-padded planes (wasm memory) so the gather
 * (assembly/conv-f64.ts gatherPatches) has no bounds tests. */
class Patches {
  private readonly plane: number;
  private readonly Hp: number;
  private readonly Wp: number;
  constructor(
    private readonly rt: WasmRuntime,
    private readonly x: Int8Array[],
    private readonly s: StepPlan & { op: "weights" },
    private readonly mem: ExecBuffers,
  ) {
    const [C, H, W] = s.inShape as [number, number, number];
    const p = s.padding;
    this.Hp = H + 2 * p;
    this.Wp = W + 2 * p;
    this.plane = C * this.Hp * this.Wp;
    const padded = rt.i8(mem.pad, x.length * this.plane);
    padded.fill(0);
    x.forEach((img, i) => {
      for (let c = 0; c < C; c++) {
        for (let y = 0; y < H; y++) {
          padded.set(img.subarray((c * H + y) * W, (c * H + y + 1) * W), i * this.plane + (c * this.Hp + y + p) * this.Wp + p);
        }
      }
    });
  }

  /** Columns c0..c1 of every vector into the xt buffer (vector v at v·256). */
  into(c0: number, c1: number): void {
    const k = this.s.kernel;
    const off = this.rt.i32(this.mem.offs, c1 - c0);
    for (let j = c0; j < c1; j++) {
      const c = Math.floor(j / (k * k));
      const ky = Math.floor((j % (k * k)) / k);
      off[j - c0] = (c * this.Hp + ky) * this.Wp + (j % k);
    }
    const [, Ho, Wo] = this.s.outShape as [number, number, number];
    this.rt.kernels.gatherPatches(this.mem.pad, this.x.length, this.plane, this.Wp, Ho, Wo, this.s.stride, this.mem.offs, c1 - c0, this.mem.xt);
  }
}
