// Test sets as model inputs (lib/network/test-set.ts): the torchvision-order transform against
// a hand calculation, every layout giving the same images, labels in each format, and each
// bad input one clear error naming the flag and file.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { encodeNpy, type NpyDtype } from "../../../lib/network/npy.ts";
import { loadTestSet, parseTransformFlags, type TestSetOptions } from "../../../lib/network/test-set.ts";
import { idxBytes } from "../../fixtures/tiny-test-set.ts";

const dir = mkdtempSync(join(tmpdir(), "hermes-test-set-"));
let s = 5;
const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
function file(name: string, bytes: Uint8Array): string {
  writeFileSync(join(dir, name), bytes);
  return join(dir, name);
}
const npy = (name: string, dtype: NpyDtype, shape: number[], data: ArrayLike<number>) => file(name, encodeNpy(dtype, shape, data));

// 5 images of 3 × 4 × 6 (C × H × W), bytes, and their labels.
const [N, C, H, W] = [5, 3, 4, 6];
const u8 = Uint8Array.from({ length: N * C * H * W }, () => Math.floor(rnd() * 256));
const labels = npy("y.npy", "int64", [N], [3, 0, 9, 1, 7]);
const nchw = npy("x-nchw.npy", "uint8", [N, C, H, W], u8);
const at = (n: number, c: number, h: number, w: number) => u8[((n * C + c) * H + h) * W + w]!;

test("transform in torchvision's order: x · scale, then (v − mean[c]) / std[c]", () => {
  const mean = [0.485, 0.456, 0.406];
  const std = [0.229, 0.224, 0.225];
  const t = loadTestSet({ images: nchw, labels, mean, std }, [C, H, W]);
  assert.is(t.images.length, N);
  assert.equal(Array.from(t.labels), [3, 0, 9, 1, 7]);
  assert.is(t.info.inputScale, 1 / 255, "uint8: 1/255 by default");
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let h = 0; h < H; h++) {
        for (let w = 0; w < W; w++) {
          const want = Math.fround((at(n, c, h, w) / 255 - mean[c]!) / std[c]!);
          assert.is(t.images[n]![(c * H + h) * W + w], want);
        }
      }
    }
  }
  // float32 data: scale 1 by default; one mean / std for every channel; --input-scale given.
  const f = Float32Array.from(u8, (v) => v / 10);
  const fx = npy("x-f32.npy", "float32", [N, C, H, W], f);
  const a = loadTestSet({ images: fx, labels, mean: [2], std: [4] }, [C, H, W]);
  assert.is(a.info.inputScale, 1);
  assert.equal(Array.from(a.images[2]!), Array.from(f.subarray(2 * C * H * W, 3 * C * H * W), (v) => Math.fround((v - 2) / 4)));
  const b = loadTestSet({ images: nchw, labels, inputScale: 0.5, limit: 2 }, [C, H, W]);
  assert.is(b.images.length, 2);
  assert.equal(Array.from(b.labels), [3, 0]);
  assert.equal(Array.from(b.images[1]!), Array.from(u8.subarray(C * H * W, 2 * C * H * W), (v) => v * 0.5));
});

test("layouts: N×H×W×C with nhwc, N×C×H×W as .npy or IDX (gzip): the same images", () => {
  const hwc = new Uint8Array(u8.length);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) hwc[((n * H + h) * W + w) * C + c] = at(n, c, h, w);
  const o: Omit<TestSetOptions, "images"> = { labels, mean: [0.1, 0.2, 0.3], std: [0.5, 0.6, 0.7] };
  const ref = loadTestSet({ images: nchw, ...o }, [C, H, W]).images;
  const fromNhwc = loadTestSet({ images: npy("x-nhwc.npy", "uint8", [N, H, W, C], hwc), layout: "nhwc", ...o }, [C, H, W]).images;
  const fromIdx = loadTestSet({ images: file("x.idx.gz", gzipSync(idxBytes([N, C, H, W], u8))), labels: file("y.idx", idxBytes([N], Uint8Array.from([3, 0, 9, 1, 7]))), mean: o.mean, std: o.std }, [C, H, W]);
  assert.equal(fromNhwc.map((x) => Array.from(x)), ref.map((x) => Array.from(x)));
  assert.equal(fromIdx.images.map((x) => Array.from(x)), ref.map((x) => Array.from(x)));
  assert.equal(Array.from(fromIdx.labels), [3, 0, 9, 1, 7]);
  // One channel: N × H × W, N × 1 × H × W and N × H × W × 1 (nhwc) agree.
  const g = u8.subarray(0, N * H * W);
  const one = [1, H, W];
  const x3 = loadTestSet({ images: npy("g3.npy", "uint8", [N, H, W], g), labels }, one).images;
  const x4 = loadTestSet({ images: npy("g4.npy", "uint8", [N, 1, H, W], g), labels }, one).images;
  const xl = loadTestSet({ images: npy("gl.npy", "uint8", [N, H, W, 1], g), labels, layout: "nhwc" }, one).images;
  assert.equal(x4.map((x) => Array.from(x)), x3.map((x) => Array.from(x)));
  assert.equal(xl.map((x) => Array.from(x)), x3.map((x) => Array.from(x)));
  assert.equal(Array.from(x3[1]!), Array.from(g.subarray(H * W, 2 * H * W), (v) => Math.fround(v / 255)));
});

test("sequences N × T × F (per-feature mean / std) and flat inputs; labels as int32, uint8, [N, 1], integral floats", () => {
  const [T, F] = [4, 3];
  const x = Float32Array.from({ length: N * T * F }, () => rnd() * 4 - 2);
  const seq = loadTestSet({ images: npy("seq.npy", "float32", [N, T, F], x), labels, mean: [1, 2, 3], std: [2, 4, 8] }, [T, F]);
  for (let k = 0; k < T * F; k++) assert.is(seq.images[4]![k], Math.fround((x[4 * T * F + k]! - [1, 2, 3][k % F]!) / [2, 4, 8][k % F]!));
  // An MLP's flat input [H·W] from N × H × W images.
  const flat = loadTestSet({ images: npy("g.npy", "uint8", [N, H, W], u8.subarray(0, N * H * W)), labels }, [H * W]);
  assert.equal(Array.from(flat.images[0]!), Array.from(u8.subarray(0, H * W), (v) => Math.fround(v / 255)));
  const want = [3, 0, 9, 1, 7];
  for (const [dtype, shape] of [["int32", [N]], ["uint8", [N, 1]], ["float32", [N]], ["int8", [N]]] as const) {
    assert.equal(Array.from(loadTestSet({ images: nchw, labels: npy(`y-${dtype}.npy`, dtype, [...shape], want) }, [C, H, W]).labels), want, dtype);
  }
});

/** The error of `f`, which must throw. */
function error(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("did not throw");
}

test("bad input: one error naming the flag and file, with both shapes where they differ", () => {
  const e = (o: Partial<TestSetOptions>, shape = [C, H, W]) => error(() => loadTestSet({ images: nchw, labels, ...o }, shape));
  // Size or layout not matching the model's input: both shapes.
  assert.is(e({}, [1, 28, 28]), `--images must be N × 1 × 28 × 28 or N × 28 × 28, or N × 28 × 28 × 1 with --layout nhwc for the model's input [1, 28, 28], got "${nchw} of shape [5, 3, 4, 6] (uint8)"`);
  const hwc = npy("hwc.npy", "uint8", [N, H, W, C], u8);
  assert.match(e({ images: hwc }), /--images must be N × 3 × 4 × 6, or N × 4 × 6 × 3 with --layout nhwc for the model's input \[3, 4, 6\], got ".*hwc\.npy of shape \[5, 4, 6, 3\] \(uint8\): N × H × W × C needs --layout nhwc"/);
  assert.match(e({ layout: "nhwc" }), /--images must be N × 4 × 6 × 3 \(--layout nhwc\) for the model's input \[3, 4, 6\], got ".*x-nchw\.npy of shape \[5, 3, 4, 6\] \(uint8\)"/);
  assert.match(e({ layout: "nhwc" }, [4, 3]), /--layout must be nchw \(the default\) for this model: nhwc is for image inputs \[C, H, W\], the model's input is \[4, 3\]/);
  // Labels shorter than the images used.
  assert.match(e({ labels: npy("y3.npy", "int64", [3], [1, 2, 3]) }), /--labels must be at least 5 labels \(one per image used: all in .*x-nchw\.npy\), got ".*y3\.npy with 3"/);
  assert.is(loadTestSet({ images: nchw, labels: join(dir, "y3.npy"), limit: 3 }, [C, H, W]).labels.length, 3, "enough for --limit 3");
  // mean / std with the wrong number of channels, or a std ≤ 0.
  assert.match(e({ mean: [0.1, 0.2] }), /--mean must be 1 or 3 values \(one per channel of the model's input \[3, 4, 6\]\), got "2 values \(0\.1,0\.2\)"/);
  assert.match(e({ std: [1, 1, 1, 1] }), /--std must be 1 or 3 values/);
  assert.match(e({ std: [0] }), /--std must be numbers > 0/);
  // Non-integer or negative labels; labels of the wrong shape.
  assert.match(e({ labels: npy("yf.npy", "float32", [N], [1, 2, 2.5, 3, 4]) }), /--labels must be integer class labels ≥ 0 \(an integer \.npy or an IDX\), got ".*yf\.npy \(float32\) with 2\.5 at index 2"/);
  assert.match(e({ labels: npy("yn.npy", "int32", [N], [1, -2, 2, 3, 4]) }), /with -2 at index 1/);
  // Labels beyond the model's classes (e.g. counted from 1 for a 10-class model where 9 is the last).
  assert.match(e({ classes: 9 }), /--labels must be class labels 0\.\.8 \(the model has 9 outputs\), got ".*y\.npy with 9 at index 2"/);
  assert.is(loadTestSet({ images: nchw, labels, classes: 10 }, [C, H, W]).labels.length, N);
  assert.match(e({ labels: npy("y2.npy", "int32", [N, 2], new Array(2 * N).fill(0)) }), /--labels must be one label per image: shape \[N\] or \[N, 1\], got ".*y2\.npy of shape \[5, 2\]"/);
  // Unknown dtype; Fortran order; not a test-set file at all; a missing file.
  const c8 = encodeNpy("float64", [N], [1, 2, 3, 4, 5]);
  c8.set(new TextEncoder().encode("'<c8'"), new TextDecoder("latin1").decode(c8).indexOf("'<f8'"));
  assert.match(e({ labels: file("yc.npy", c8) }), /--labels .*yc\.npy must be an array of uint8 '\|u1', int8 '\|i1', int32 '<i4', int64 '<i8', float32 '<f4' or float64 '<f8' \(little-endian\), got "dtype '<c8'"/);
  const fortran = encodeNpy("uint8", [N, C, H, W], u8);
  fortran.set(new TextEncoder().encode("True, "), new TextDecoder("latin1").decode(fortran).indexOf("False"));
  assert.match(e({ images: file("xf.npy", fortran) }), /--images .*xf\.npy must be an array in C order/);
  assert.match(e({ images: file("x.txt", new TextEncoder().encode("hello world")) }), /--images .*x\.txt must be a NumPy \.npy file or an IDX file/);
  assert.match(e({ images: join(dir, "missing.npy") }), /--images must be a readable \.npy or IDX file/);
  assert.match(e({ limit: 0 }), /--limit must be a positive integer/);
  // NaN in float images.
  assert.match(e({ images: npy("nan.npy", "float32", [1, C, H, W], new Array(C * H * W).fill(NaN)) }), /--images must be finite values/);
});

test("command-line flags: lists, numbers, layouts", () => {
  assert.equal(parseTransformFlags({ mean: "0.485, 0.456,0.406", std: "0.5", inputScale: "0.00392156862745098", layout: "nhwc" }), { layout: "nhwc", inputScale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.5] });
  assert.equal(parseTransformFlags({}), {});
  assert.throws(() => parseTransformFlags({ mean: "0.1,,0.2" }), /--mean must be one number or a comma-separated list/);
  assert.throws(() => parseTransformFlags({ std: "0.1,x" }), /--std must be one number/);
  assert.throws(() => parseTransformFlags({ std: "-1" }), /--std must be numbers > 0/);
  assert.throws(() => parseTransformFlags({ inputScale: "0" }), /--input-scale must be a number > 0/);
  assert.throws(() => parseTransformFlags({ layout: "chw" }), /--layout must be one of nchw, nhwc/);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
