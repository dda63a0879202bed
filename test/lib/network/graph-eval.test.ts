// The float64 reference's convolution: the wasm kernel (assembly/conv-f64.ts) and the
// TypeScript loop against a direct per-output sum in the same order — bit for bit, over
// strides 1–3, paddings, kernel sizes 1–5, odd shapes, with and without bias.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { conv2dTs, conv2dWasm } from "../../../lib/network/graph-eval.ts";
import type { Conv2dNode } from "../../../lib/network/graph.ts";

let seed = 3;
const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32 - 0.5;

function direct(n: Conv2dNode, x: Float64Array, [C, H, W]: number[], [Ho, Wo]: number[]): Float64Array {
  const k = n.kernel;
  const y = new Float64Array(n.outChannels * Ho! * Wo!);
  for (let o = 0; o < n.outChannels; o++) {
    for (let oy = 0; oy < Ho!; oy++) {
      for (let ox = 0; ox < Wo!; ox++) {
        let s = n.bias ? n.bias[o]! : 0;
        for (let c = 0; c < C!; c++) {
          for (let ky = 0; ky < k; ky++) {
            for (let kx = 0; kx < k; kx++) {
              const iy = oy * n.stride - n.padding + ky;
              const ix = ox * n.stride - n.padding + kx;
              if (iy >= 0 && iy < H! && ix >= 0 && ix < W!) s += n.weights[((o * C! + c) * k + ky) * k + kx]! * x[(c * H! + iy) * W! + ix]!;
            }
          }
        }
        y[(o * Ho! + oy) * Wo! + ox] = s;
      }
    }
  }
  return y;
}

test("wasm = TypeScript = direct sum, bit for bit", () => {
  const cases = [
    [3, 7, 9, 4, 3, 1, 1, true], [2, 8, 8, 3, 3, 2, 1, false], [5, 11, 6, 2, 5, 3, 2, true],
    [1, 5, 5, 2, 1, 1, 0, true], [4, 6, 6, 3, 3, 2, 0, false], [2, 28, 28, 5, 3, 1, 1, true],
  ] as const;
  for (const [C, H, W, O, k, s, p, withBias] of cases) {
    const Ho = Math.floor((H + 2 * p - k) / s) + 1;
    const Wo = Math.floor((W + 2 * p - k) / s) + 1;
    const n: Conv2dNode = {
      op: "conv2d", name: "c", input: "input", inChannels: C, outChannels: O, kernel: k, stride: s, padding: p,
      weights: Float32Array.from({ length: O * C * k * k }, rnd), ...(withBias ? { bias: Float32Array.from({ length: O }, rnd) } : {}),
    };
    const x = Float64Array.from({ length: C * H * W }, rnd);
    const ref = direct(n, x, [C, H, W], [Ho, Wo]);
    const ts = conv2dTs(n, x, [C, H, W], [Ho, Wo]);
    const wasm = conv2dWasm(n, x, [C, H, W], [Ho, Wo]);
    assert.ok(wasm, "the main thread runs the wasm kernel");
    const what = `C ${C} ${H}×${W} O ${O} k ${k} s ${s} p ${p}`;
    assert.equal(Array.from(ts), Array.from(ref), `TypeScript, ${what}`);
    assert.equal(Array.from(wasm!), Array.from(ref), `wasm, ${what}`);
    assert.ok(ref.some((v) => v !== 0));
  }
});

test.run();
