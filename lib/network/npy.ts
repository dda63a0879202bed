// NumPy .npy files (numpy.save), plain or gzip-compressed: the magic "\x93NUMPY", a format
// version (1.0: 2-byte header length; 2.0: 4-byte length; 3.0: 4-byte length, UTF-8 header),
// then a Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (N, H, W), }
// padded with spaces to a multiple of 64 bytes, then the data.
//
// Read: little-endian (or byte-order-free) uint8 '|u1', int8 '|i1', int32 '<i4', int64
// '<i8', float32 '<f4', float64 '<f8', in C order. Anything else is one error naming the file
// and what it holds: Fortran order (np.ascontiguousarray before saving), big-endian or other
// dtypes, structured arrays, an .npz archive (a zip of .npy files: save one array with np.save).

import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { ArgumentError } from "../runtime/validate.ts";

/** The dtypes read, by their NumPy name. */
export type NpyDtype = "uint8" | "int8" | "int32" | "int64" | "float32" | "float64";

const DESCR: Record<string, NpyDtype> = {
  "|u1": "uint8", "<u1": "uint8", "|i1": "int8", "<i1": "int8",
  "<i4": "int32", "<i8": "int64", "<f4": "float32", "<f8": "float64",
};
const ITEM: Record<NpyDtype, number> = { uint8: 1, int8: 1, int32: 4, int64: 8, float32: 4, float64: 8 };

/** The values of an .npy array, typed by its dtype (int64 as BigInt64Array). */
export type NpyData = Uint8Array | Int8Array | Int32Array | BigInt64Array | Float32Array | Float64Array;

/** A NumPy array read from an .npy file. */
export interface Npy {
  /** The element type. */
  dtype: NpyDtype;
  /** The array's shape (C order). */
  shape: number[];
  /** The values, C order. */
  data: NpyData;
  /** Format version, e.g. "1.0". */
  version: string;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Whether `bytes` (after a gzip layer, if any) start with the .npy magic. */
export function isNpy(bytes: Uint8Array): boolean {
  return MAGIC.every((m, i) => bytes[i] === m);
}

/** One value of the header dict: the text after `'key':` up to the matching end. */
function headerField(header: string, key: string): string | undefined {
  const m = new RegExp(`['"]${key}['"]\\s*:\\s*`).exec(header);
  if (!m) return undefined;
  const rest = header.slice(m.index + m[0].length);
  if (rest.startsWith("(")) return rest.slice(0, rest.indexOf(")") + 1);
  if (rest.startsWith("[")) return rest.slice(0, rest.indexOf("]") + 1);
  const q = rest[0];
  if (q === "'" || q === '"') return rest.slice(0, rest.indexOf(q, 1) + 1);
  return /^[A-Za-z0-9_]+/.exec(rest)?.[0];
}

/**
 * Parse .npy bytes (gzip-compressed too); `what` (the file) names it in errors.
 * @throws {@link ArgumentError} for a malformed file, a dtype not in {@link NpyDtype}, Fortran order or big-endian data
 */
export function parseNpy(bytes: Uint8Array, what = ".npy data"): Npy {
  let b = bytes;
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) {
    try {
      b = gunzipSync(b);
    } catch (e) {
      throw new ArgumentError(what, `a readable gzip stream (${(e as Error).message})`, `${bytes.length} bytes`);
    }
  }
  if (b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && b[2] === 3 && b[3] === 4) {
    throw new ArgumentError(what, "one .npy array (this is an .npz archive: save the array with numpy.save)", "a zip file");
  }
  if (!isNpy(b)) throw new ArgumentError(what, 'a .npy file (magic "\\x93NUMPY")', `${b.length} bytes starting ${Array.from(b.subarray(0, 6), (x) => x.toString(16).padStart(2, "0")).join(" ")}`);
  if (b.length < 10) throw new ArgumentError(what, "a .npy header", `${b.length} bytes`);
  const major = b[6]!;
  const minor = b[7]!;
  const version = `${major}.${minor}`;
  if (major < 1 || major > 3) throw new ArgumentError(what, ".npy format version 1.0, 2.0 or 3.0", version);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (b.length < 8 + lenBytes) throw new ArgumentError(what, "a .npy header", `${b.length} bytes`);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lenBytes;
  if (b.length < start + headerLen) throw new ArgumentError(what, `a .npy header of ${headerLen} bytes`, `${b.length - start} bytes after the length`);
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(b.subarray(start, start + headerLen));

  const descrText = headerField(header, "descr");
  const fortran = headerField(header, "fortran_order");
  const shapeText = headerField(header, "shape");
  if (descrText === undefined || fortran === undefined || shapeText === undefined) {
    throw new ArgumentError(what, "a .npy header with 'descr', 'fortran_order' and 'shape'", header.trim());
  }
  if (!/^['"]/.test(descrText)) throw new ArgumentError(what, "a plain array (structured dtypes are not read)", `descr ${descrText}`);
  const descr = descrText.slice(1, -1);
  const dtype = DESCR[descr];
  if (!dtype) {
    throw new ArgumentError(
      what,
      "an array of uint8 '|u1', int8 '|i1', int32 '<i4', int64 '<i8', float32 '<f4' or float64 '<f8' (little-endian)",
      `dtype '${descr}'${descr.startsWith(">") ? " (big-endian: save with .astype('<" + descr.slice(1) + "'))" : ""}`,
    );
  }
  if (fortran === "True") throw new ArgumentError(what, "an array in C order (save numpy.ascontiguousarray(x))", "fortran_order True");
  if (fortran !== "False") throw new ArgumentError(what, "a header with fortran_order True or False", fortran);
  const dims = shapeText.replace(/^[([]|[)\]]$/g, "").split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  if (!dims.every((d) => /^\d+L?$/.test(d))) throw new ArgumentError(what, "a shape of non-negative integers", shapeText);
  const shape = dims.map((d) => Number.parseInt(d, 10));
  const count = shape.reduce((a, d) => a * d, 1);
  const dataStart = start + headerLen;
  const need = count * ITEM[dtype];
  if (b.length - dataStart < need) {
    throw new ArgumentError(what, `${need} data bytes after the header (${dtype}, shape (${shape.join(", ")}))`, `${b.length - dataStart} bytes`);
  }
  // Copied (a Node Buffer's slice would be a view): typed arrays need aligned offsets, and
  // the caller may keep the data.
  const raw = new Uint8Array(need);
  raw.set(b.subarray(dataStart, dataStart + need));
  const buf = raw.buffer;
  const data: NpyData =
    dtype === "uint8" ? raw
    : dtype === "int8" ? new Int8Array(buf)
    : dtype === "int32" ? new Int32Array(buf)
    : dtype === "int64" ? new BigInt64Array(buf)
    : dtype === "float32" ? new Float32Array(buf)
    : new Float64Array(buf);
  return { dtype, shape, data, version };
}

/** Read a .npy file (plain or gzip). @throws {@link ArgumentError} when it cannot be read or parsed */
export function readNpy(path: string): Npy {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new ArgumentError("file", `a readable .npy file (${(e as Error).message})`, path);
  }
  return parseNpy(bytes, path);
}

/** Element i as a number (int64 through Number: exact below 2^53). */
export function npyValue(a: Npy, i: number): number {
  return Number(a.data[i]!);
}

/** An .npy file's bytes (version 1.0, or 2.0 when the header needs it), for tests and tools. */
export function encodeNpy(dtype: NpyDtype, shape: readonly number[], data: ArrayLike<number> | ArrayLike<bigint>, version: 1 | 2 | 3 = 1): Uint8Array {
  const descr = Object.entries(DESCR).find(([k, v]) => v === dtype && (k.startsWith("|") || ITEM[dtype] > 1))![0];
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const pre = 8 + (version === 1 ? 2 : 4);
  const total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  const header = dict + " ".repeat(total - pre - dict.length - 1) + "\n";
  const Arr = { uint8: Uint8Array, int8: Int8Array, int32: Int32Array, int64: BigInt64Array, float32: Float32Array, float64: Float64Array }[dtype];
  const typed = dtype === "int64"
    ? BigInt64Array.from(Array.from(data as ArrayLike<number | bigint>, (v) => BigInt(v)))
    : (Arr as Float64ArrayConstructor).from(data as ArrayLike<number>);
  const out = new Uint8Array(total + typed.byteLength);
  out.set(MAGIC);
  out[6] = version;
  out[7] = 0;
  const v = new DataView(out.buffer);
  if (version === 1) v.setUint16(8, header.length, true);
  else v.setUint32(8, header.length, true);
  out.set(new TextEncoder().encode(header), pre);
  out.set(new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength), total);
  return out;
}
