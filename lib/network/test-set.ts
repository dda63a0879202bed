// Test sets in the formats users have, turned into model inputs: images (or sequences) from a
// NumPy .npy (lib/network/npy.ts) or an IDX file (lib/network/idx.ts), gzip or plain (told
// apart by their magic, not their name), labels from an integer .npy or an IDX.
//
// Layouts: N × C × H × W, N × H × W (one channel), or N × H × W × C with layout "nhwc"
// (transposed to C × H × W); N × T × F sequences for a model input [T, F]; N × … of the same
// size for a flat model input [F]. Anything else is one error giving both shapes.
//
// Transform, in torchvision's order (ToTensor, then Normalize): v = x · inputScale (default
// 1/255 for uint8 data, 1 for any other dtype), then v = (v − mean[c]) / std[c] per channel c
// (one value for all channels, or one per channel). Channels are C of a [C, H, W] input, the
// last axis (features) of [T, F] or [F]. Computed in float64, stored as float32.
//
// Every bad input is one ArgumentError (exit 2 on the command line) naming the flag and file.

import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { ArgumentError } from "../runtime/validate.ts";
import { parseIdx } from "./idx.ts";
import { isNpy, parseNpy, type NpyData, type NpyDtype } from "./npy.ts";

/** Every Layout. */
export const LAYOUTS = ["nchw", "nhwc"] as const;
/** How a test set's images are stored: "nchw" (N × C × H × W, or N × H × W) or "nhwc" (N × H × W × C, transposed on reading). */
export type Layout = (typeof LAYOUTS)[number];

/** How stored values become model inputs. */
export interface InputTransform {
  /** "nchw" (default; also N × H × W, N × T × F) or "nhwc". */
  layout?: Layout;
  /** x · inputScale first (default 1/255 for uint8, else 1). */
  inputScale?: number;
  /** Then (v − mean) / std per channel: one value or one per channel (defaults 0 and 1). */
  mean?: readonly number[];
  /** Per-channel standard deviation: one value or one per channel (default 1). */
  std?: readonly number[];
}

/** Options of `loadTestSet`: the files, how many images, the transform. */
export interface TestSetOptions extends InputTransform {
  /** Images (or sequences): .npy or IDX, gzip or plain (a path, or the file's bytes). */
  images: FileSource;
  /** Integer labels: .npy or IDX (a path, or the file's bytes). */
  labels: FileSource;
  /** The first `limit` images (default all). */
  limit?: number;
  /** The model's number of classes (outputs): labels must be below it (not checked when 1 or absent). */
  classes?: number;
}

/** A test set turned into model inputs (`loadTestSet`). */
export interface TestSet {
  /** Model inputs, one Float32Array per image in the model's layout (C × H × W). */
  images: Float32Array[];
  /** One class per image. */
  labels: Int32Array;
  /** What was read and the transform applied (defaults resolved). */
  info: {
    format: "npy" | "idx";
    dtype: NpyDtype;
    /** The images file's shape, N first. */
    shape: number[];
    layout: Layout;
    inputScale: number;
    mean: number[];
    std: number[];
  };
}

/** A numeric array read from a .npy or IDX file. */
export interface StoredArray {
  format: "npy" | "idx";
  dtype: NpyDtype;
  shape: number[];
  data: NpyData;
}

/** A file's contents already in memory (e.g. fetched from a queue), with a name for messages. */
export interface FileBytes {
  /** The file's name, for messages. */
  name: string;
  /** Its contents. */
  bytes: Uint8Array;
}

/** A path, or a file's bytes. */
export type FileSource = string | FileBytes;

const sourceName = (s: FileSource): string => (typeof s === "string" ? s : s.name);

/** Read a .npy or IDX file (gzip or plain; a path or its bytes), telling them apart by their magic; `flag` names it in errors. */
export function readArray(source: FileSource, flag: string): StoredArray {
  let bytes: Uint8Array;
  const path = sourceName(source);
  if (typeof source === "string") {
    try {
      bytes = readFileSync(source);
    } catch (e) {
      throw new ArgumentError(flag, `a readable .npy or IDX file (${(e as Error).message})`, path);
    }
  } else bytes = source.bytes;
  const what = `${flag} ${path}`;
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw new ArgumentError(what, `a readable gzip stream (${(e as Error).message})`, `${bytes.length} bytes`);
    }
  }
  if (isNpy(bytes) || (bytes[0] === 0x50 && bytes[1] === 0x4b)) {
    const a = parseNpy(bytes, what);
    return { format: "npy", dtype: a.dtype, shape: a.shape, data: a.data };
  }
  if (bytes.length >= 4 && bytes[0] === 0 && bytes[1] === 0) {
    const a = parseIdx(bytes, what);
    return { format: "idx", dtype: "uint8", shape: a.dims, data: a.data };
  }
  throw new ArgumentError(what, "a NumPy .npy file or an IDX file (gzip or plain)", "neither magic");
}

const fmt = (s: readonly number[]): string => `[${s.join(", ")}]`;
const same = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

/** The channel count of a model input: C of [C, H, W], else the last axis. */
export function channelsOf(shape: readonly number[]): number {
  return shape.length === 3 ? shape[0]! : shape[shape.length - 1]!;
}

/** One value or one per channel, each finite (std: > 0). */
function perChannel(v: readonly number[] | undefined, c: number, flag: "--mean" | "--std", shape: readonly number[]): number[] {
  if (v === undefined) return new Array<number>(c).fill(flag === "--mean" ? 0 : 1);
  if (!Array.isArray(v) || (v.length !== 1 && v.length !== c)) {
    throw new ArgumentError(flag, `1${c > 1 ? ` or ${c}` : ""} value${c > 1 ? "s" : ""} (one per channel of the model's input ${fmt(shape)})`, `${(v as readonly number[]).length} values (${(v as readonly number[]).join(",")})`);
  }
  for (const x of v) {
    if (!Number.isFinite(x) || (flag === "--std" && !(x > 0))) throw new ArgumentError(flag, flag === "--std" ? "numbers > 0" : "finite numbers", v.join(","));
  }
  return v.length === 1 ? new Array<number>(c).fill(v[0]!) : [...v];
}

/**
 * How an image of `stored` shape (without N) becomes the model's `expected` input: `perm`
 * gives the source index of each model-input element (absent: the same order); undefined
 * when the shapes do not match.
 */
function layoutMap(stored: readonly number[], expected: readonly number[], layout: Layout): { perm?: Int32Array } | undefined {
  const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
  if (layout === "nhwc") {
    const [C, H, W] = expected as [number, number, number];
    if (stored.length === 2 && C === 1 && same(stored, [H, W])) return {};
    if (stored.length !== 3 || !same(stored, [H, W, C])) return undefined;
    const perm = new Int32Array(C * H * W);
    for (let c = 0; c < C; c++) for (let p = 0; p < H * W; p++) perm[c * H * W + p] = p * C + c;
    return { perm };
  }
  if (same(stored, expected)) return {};
  if (expected.length === 3 && expected[0] === 1 && same(stored, expected.slice(1))) return {};
  if (expected.length === 1 && stored.length >= 1 && size(stored) === expected[0]) return {};
  return undefined;
}

/** What the images file must hold for the model input `expected`, in words. */
function wanted(expected: readonly number[], layout: Layout): string {
  if (expected.length === 3) {
    const [C, H, W] = expected;
    if (layout === "nhwc") return `N × ${H} × ${W} × ${C}${C === 1 ? ` or N × ${H} × ${W}` : ""} (--layout nhwc)`;
    return `N × ${C} × ${H} × ${W}${C === 1 ? ` or N × ${H} × ${W}` : ""}, or N × ${H} × ${W} × ${C} with --layout nhwc`;
  }
  if (expected.length === 2) return `N × ${expected[0]} × ${expected[1]} (sequences: N × T × F)`;
  return `N × ${expected[0]} (or N × … of ${expected[0]} values)`;
}

/** A test set's images, read and checked, turned into model inputs one at a time (see the header). */
export interface PreparedImages {
  /** Images in the file. */
  count: number;
  /** Image i (0 ≤ i < count) as a model input (C × H × W floats), transformed. */
  image(i: number): Float32Array;
  info: TestSet["info"];
}

/**
 * Read an images file and check it against a model whose input (one image, no batch axis)
 * is `expectedShape`; images are transformed on demand (`image(i)`), by the one function
 * every reader of a test set uses (loadTestSet here, queue workers in lib/study/queue/).
 */
export function prepareImages(o: InputTransform & { images: FileSource }, expectedShape: readonly number[]): PreparedImages {
  const layout = o.layout ?? "nchw";
  if (!(LAYOUTS as readonly string[]).includes(layout)) throw new ArgumentError("--layout", `one of ${LAYOUTS.join(", ")}`, layout);
  if (layout === "nhwc" && expectedShape.length !== 3) {
    throw new ArgumentError("--layout", `nchw (the default) for this model: nhwc is for image inputs [C, H, W], the model's input is ${fmt(expectedShape)}`, layout);
  }
  if (o.inputScale !== undefined && (!(o.inputScale > 0) || !Number.isFinite(o.inputScale))) {
    throw new ArgumentError("--input-scale", "a number > 0 (input = stored value × scale)", o.inputScale);
  }
  const C = channelsOf(expectedShape);
  const mean = perChannel(o.mean, C, "--mean", expectedShape);
  const std = perChannel(o.std, C, "--std", expectedShape);

  const name = sourceName(o.images);
  const img = readArray(o.images, "--images");
  const stored = img.shape.slice(1);
  const n = img.shape[0] ?? 0;
  const map = img.shape.length >= 2 ? layoutMap(stored, expectedShape, layout) : undefined;
  if (!map) {
    const hwc = expectedShape.length === 3 && expectedShape[0]! > 1 && same(stored, [expectedShape[1]!, expectedShape[2]!, expectedShape[0]!]);
    throw new ArgumentError(
      "--images",
      `${wanted(expectedShape, layout)} for the model's input ${fmt(expectedShape)}`,
      `${name} of shape ${fmt(img.shape)} (${img.dtype})${layout === "nchw" && hwc ? ": N × H × W × C needs --layout nhwc" : ""}`,
    );
  }
  if (n < 1) throw new ArgumentError("--images", "at least one image", `${name} of shape ${fmt(img.shape)}`);

  const inputScale = o.inputScale ?? (img.dtype === "uint8" ? 1 / 255 : 1);
  const size = expectedShape.reduce((a, b) => a * b, 1);
  const perChannelStride = expectedShape.length === 3 ? size / C : 1;
  const data = img.data;
  const image = (i: number): Float32Array => {
    if (!Number.isInteger(i) || i < 0 || i >= n) throw new ArgumentError("image index", `an integer in 0..${n - 1} (${name} holds ${n})`, i);
    const x = new Float32Array(size);
    const base = i * size;
    for (let k = 0; k < size; k++) {
      const src = map.perm ? map.perm[k]! : k;
      const c = expectedShape.length === 3 ? Math.floor(k / perChannelStride) : k % C;
      const v = (Number(data[base + src]!) * inputScale - mean[c]!) / std[c]!;
      if (!Number.isFinite(v)) throw new ArgumentError("--images", "finite values", `${name}: ${Number(data[base + src]!)} in image ${i}`);
      x[k] = v;
    }
    return x;
  };
  return { count: n, image, info: { format: img.format, dtype: img.dtype, shape: img.shape, layout, inputScale, mean, std } };
}

/**
 * Load a test set and turn it into inputs for a model whose input (one image, no batch axis)
 * is `expectedShape`: the first `limit` images, transformed (see the header), and their labels.
 * @throws {@link ArgumentError} naming the flag and file for an unreadable file, a shape that
 *   does not fit the model, a label out of range or a bad transform
 */
export function loadTestSet(o: TestSetOptions, expectedShape: readonly number[]): TestSet {
  const limit = o.limit ?? Infinity;
  if (limit !== Infinity && (!Number.isInteger(limit) || limit < 1)) throw new ArgumentError("--limit", "a positive integer (images to use)", limit);
  const p = prepareImages(o, expectedShape);
  const count = Math.min(p.count, limit);
  const labels = readLabels(o.labels, count, sourceName(o.images), p.count);
  if (o.classes !== undefined && o.classes > 1) {
    const i = labels.findIndex((v) => v >= o.classes!);
    if (i >= 0) throw new ArgumentError("--labels", `class labels 0..${o.classes - 1} (the model has ${o.classes} outputs)`, `${sourceName(o.labels)} with ${labels[i]} at index ${i}`);
  }
  const images: Float32Array[] = [];
  for (let i = 0; i < count; i++) images.push(p.image(i));
  return { images, labels, info: p.info };
}

/** The first `count` labels of `source`: non-negative integers, [N] or [N, 1]. */
export function readLabels(source: FileSource, count: number, imagesPath = "the images", imagesTotal = count): Int32Array {
  const path = sourceName(source);
  const a = readArray(source, "--labels");
  if (!(a.shape.length === 1 || (a.shape.length === 2 && a.shape[1] === 1))) {
    throw new ArgumentError("--labels", "one label per image: shape [N] or [N, 1]", `${path} of shape ${fmt(a.shape)}`);
  }
  const n = a.shape[0]!;
  if (n < count) {
    throw new ArgumentError("--labels", `at least ${count} labels (one per image used: ${count === imagesTotal ? "all" : `the first ${count} of the ${imagesTotal}`} in ${imagesPath})`, `${path} with ${n}`);
  }
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const v = Number(a.data[i]!);
    if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) {
      throw new ArgumentError("--labels", "integer class labels ≥ 0 (an integer .npy or an IDX)", `${path} (${a.dtype}) with ${v} at index ${i}`);
    }
    out[i] = v;
  }
  return out;
}

/** The transform flags as given on the command line (strings), checked; undefined stays undefined.
 * @throws {@link ArgumentError} naming the flag for a bad layout or number */
export function parseTransformFlags(o: { layout?: string; inputScale?: string; mean?: string; std?: string }): InputTransform {
  const list = (text: string, flag: string): number[] => {
    const parts = text.split(",").map((s) => s.trim());
    const v = parts.map(Number);
    if (parts.some((s) => s === "") || v.some((x) => !Number.isFinite(x))) throw new ArgumentError(flag, "one number or a comma-separated list (one per channel)", text);
    return v;
  };
  const out: InputTransform = {};
  if (o.layout !== undefined) {
    if (!(LAYOUTS as readonly string[]).includes(o.layout)) throw new ArgumentError("--layout", `one of ${LAYOUTS.join(", ")}`, o.layout);
    out.layout = o.layout as Layout;
  }
  if (o.inputScale !== undefined) {
    const s = Number(o.inputScale);
    if (o.inputScale.trim() === "" || !(s > 0) || !Number.isFinite(s)) throw new ArgumentError("--input-scale", "a number > 0 (input = stored value × scale)", o.inputScale);
    out.inputScale = s;
  }
  if (o.mean !== undefined) out.mean = list(o.mean, "--mean");
  if (o.std !== undefined) {
    out.std = list(o.std, "--std");
    if (out.std.some((x) => !(x > 0))) throw new ArgumentError("--std", "numbers > 0", o.std);
  }
  return out;
}
