// The .npy reader against byte headers built here by hand from the format's description
// (magic, version, little-endian header length, dict literal padded to 64 bytes, data), for
// every dtype read and format versions 1.0, 2.0 and 3.0; the writer against the same bytes;
// each refusal one clear error.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { gzipSync } from "node:zlib";
import { encodeNpy, parseNpy, type NpyDtype } from "../../../lib/network/npy.ts";

/** A .npy file written byte by byte: values set through DataView little-endian setters. */
function handNpy(descr: string, shape: number[], values: number[], version = 1, fortran = "False", size = 0): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shapeText}, }`;
  const pre = version === 1 ? 10 : 12;
  while ((pre + header.length + 1) % 64 !== 0) header += " ";
  header += "\n";
  const item = size || Number(descr.slice(2));
  const bytes = new Uint8Array(pre + header.length + values.length * item);
  bytes.set([0x93, ..."NUMPY"].map((c) => (typeof c === "number" ? c : c.charCodeAt(0))), 0);
  bytes[6] = version;
  bytes[7] = 0;
  bytes[8] = header.length & 0xff;
  bytes[9] = header.length >> 8;
  for (let i = 0; i < header.length; i++) bytes[pre + i] = header.charCodeAt(i);
  const v = new DataView(bytes.buffer, pre + header.length);
  values.forEach((x, i) => {
    const at = i * item;
    switch (descr.slice(1)) {
      case "u1": v.setUint8(at, x); break;
      case "i1": v.setInt8(at, x); break;
      case "i4": v.setInt32(at, x, true); break;
      case "i8": v.setBigInt64(at, BigInt(x), true); break;
      case "f4": v.setFloat32(at, x, true); break;
      case "f8": v.setFloat64(at, x, true); break;
      default: v.setUint8(at, x);
    }
  });
  return bytes;
}

const CASES: [string, NpyDtype, number[]][] = [
  ["|u1", "uint8", [0, 1, 127, 128, 254, 255]],
  ["|i1", "int8", [-128, -1, 0, 1, 100, 127]],
  ["<i4", "int32", [-2147483648, -7, 0, 9, 65536, 2147483647]],
  ["<i8", "int64", [-(2 ** 40), -1, 0, 3, 2 ** 33, 2 ** 52]],
  ["<f4", "float32", [-1.5, 0, 0.25, Math.fround(0.1), 3e38, -2.5e-3].map(Math.fround)],
  ["<f8", "float64", [-1.5, 0, 0.1, 1e300, -2.5e-3, Math.PI]],
];

test("every dtype in format versions 1.0, 2.0 and 3.0, plain and gzip: shape and values", () => {
  for (const [descr, dtype, values] of CASES) {
    for (const version of [1, 2, 3]) {
      const raw = handNpy(descr, [2, 3], values, version);
      for (const bytes of [raw, gzipSync(raw)]) {
        const a = parseNpy(bytes, "x.npy");
        assert.is(a.dtype, dtype, descr);
        assert.equal(a.shape, [2, 3]);
        assert.is(a.version, `${version}.0`);
        assert.equal(Array.from(a.data as ArrayLike<number | bigint>, Number), values, `${descr} v${version}`);
      }
    }
  }
  // One dimension "(6,)", a scalar "()", and '<u1' (the same as '|u1').
  assert.equal(parseNpy(handNpy("<f4", [6], CASES[4]![2])).shape, [6]);
  assert.equal(parseNpy(handNpy("<u1", [], [42], 1, "False", 1)).shape, []);
  assert.equal(Array.from(parseNpy(handNpy("<u1", [], [42], 1, "False", 1)).data as Uint8Array), [42]);
  // A buffer at an odd offset (typed arrays need aligned data): still read.
  const shifted = new Uint8Array(1 + 200);
  const f8 = handNpy("<f8", [6], CASES[5]![2]);
  shifted.set(f8, 1);
  assert.equal(Array.from(parseNpy(shifted.subarray(1, 1 + f8.length)).data as Float64Array), CASES[5]![2]);
});

test("encodeNpy writes the bytes built by hand", () => {
  for (const [descr, dtype, values] of CASES) {
    for (const version of [1, 2, 3] as const) assert.equal(encodeNpy(dtype, [3, 2], values, version), handNpy(descr, [3, 2], values, version), `${descr} v${version}`);
  }
});

test("refused with one clear error naming the file", () => {
  const f = (b: Uint8Array) => () => parseNpy(b, "x.npy");
  assert.throws(f(handNpy("<f4", [2, 3], CASES[4]![2], 1, "True")), /x\.npy must be an array in C order \(save numpy\.ascontiguousarray\(x\)\), got "fortran_order True"/);
  assert.throws(f(handNpy(">f4", [2, 3], CASES[4]![2])), /x\.npy must be an array of uint8 .* \(little-endian\), got "dtype '>f4' \(big-endian/);
  assert.throws(f(handNpy("<c8", [2], [1, 2], 1, "False", 8)), /got "dtype '<c8'"/);
  assert.throws(f(handNpy("<u2", [2], [1, 2], 1, "False", 2)), /got "dtype '<u2'"/);
  const truncated = handNpy("<f4", [2, 3], CASES[4]![2]);
  assert.throws(f(truncated.subarray(0, truncated.length - 1)), /x\.npy must be 24 data bytes after the header \(float32, shape \(2, 3\)\), got "23 bytes"/);
  assert.throws(f(Uint8Array.from([0x50, 0x4b, 3, 4, 0, 0, 0, 0])), /this is an \.npz archive/);
  assert.throws(f(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])), /x\.npy must be a \.npy file/);
  const v4 = handNpy("<f4", [2, 3], CASES[4]![2]);
  v4[6] = 4;
  assert.throws(f(v4), /format version 1\.0, 2\.0 or 3\.0, got "4\.0"/);
});

test.run();
