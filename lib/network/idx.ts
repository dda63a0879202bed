// IDX files (the MNIST / Fashion-MNIST format), plain or gzip-compressed: a 4-byte magic
// (0, 0, type, number of dimensions), big-endian u32 sizes, then the data. Only unsigned
// bytes (type 0x08) occur in these datasets and are supported. Images are N × H × W (one
// channel) or N × C × H × W; lib/network/test-set.ts reads IDX and .npy test sets for models.

import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { ArgumentError } from "../runtime/validate.ts";

/** An IDX array of unsigned bytes. */
export interface Idx {
  /** The sizes, first dimension first (e.g. [N, 28, 28]). */
  dims: number[];
  /** The values, C order. */
  data: Uint8Array;
}

/**
 * Parse IDX bytes (gzip-compressed too); `what` (the file) names it in errors.
 * @throws {@link ArgumentError} for anything but a complete IDX array of unsigned bytes
 */
export function parseIdx(bytes: Uint8Array, what = "IDX data"): Idx {
  let b = bytes;
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) {
    try {
      b = gunzipSync(b);
    } catch (e) {
      throw new ArgumentError(what, `a readable gzip stream (${(e as Error).message})`, `${bytes.length} bytes`);
    }
  }
  if (b.length < 4 || b[0] !== 0 || b[1] !== 0) throw new ArgumentError(what, "an IDX file (magic 00 00 type dims)", `${b.length} bytes`);
  if (b[2] !== 0x08) throw new ArgumentError(what, "IDX of unsigned bytes (type 0x08)", `type 0x${b[2]!.toString(16)}`);
  const n = b[3]!;
  if (n < 1 || b.length < 4 + 4 * n) throw new ArgumentError(what, `an IDX header of ${n} dimensions`, `${b.length} bytes`);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const dims = Array.from({ length: n }, (_, i) => view.getUint32(4 + 4 * i));
  const size = dims.reduce((a, d) => a * d, 1);
  const start = 4 + 4 * n;
  if (b.length < start + size) throw new ArgumentError(what, `${size} data bytes after the header (dims ${dims.join("×")})`, `${b.length - start} bytes`);
  return { dims, data: b.subarray(start, start + size) };
}

/**
 * Read an IDX file (plain or gzip).
 * @throws {@link ArgumentError} when the file cannot be read or is not an IDX array of unsigned bytes
 */
export function readIdx(path: string): Idx {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new ArgumentError("file", `a readable IDX file (${(e as Error).message})`, path);
  }
  return parseIdx(bytes, path);
}

/** Images (N × H × W or N × C × H × W bytes) as float tensors [C, H, W] scaled by `scale` (default 1/255). */
export function idxImages(idx: Idx, scale = 1 / 255, limit = Infinity): Float32Array[] {
  if (idx.dims.length !== 3 && idx.dims.length !== 4) throw new ArgumentError("images", "an IDX of N × H × W or N × C × H × W images", `dims ${idx.dims.join("×")}`);
  const n = idx.dims[0]!;
  const size = idx.dims.slice(1).reduce((a, b) => a * b, 1);
  const m = Math.min(n, limit);
  return Array.from({ length: m }, (_, i) => Float32Array.from(idx.data.subarray(i * size, (i + 1) * size), (v) => v * scale));
}
