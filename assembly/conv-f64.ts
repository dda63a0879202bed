// Convolution helpers in wasm. conv2dF64: the float64 reference's convolution
// (lib/network/graph-eval.ts): for every weight, in the order bias, then input channel, ky, kx, add w·x to every output position it reaches —
// the same sum in the same order as the TypeScript loop, hence the same bits (an f64 multiply
// and an f64 add per term, never fused), two positions at a time with f64x2 when the stride
// is 1. Weights and bias are f32 (the IR's), promoted exactly. gatherPatches: the chip
// path's unrolled patches (lib/network/run-exec.ts), one tile's columns.

/**
 * y[o][oy][ox] = bias[o] + Σ_{c, ky, kx} w[o][c][ky][kx] · x[c][oy·s − p + ky][ox·s − p + kx]
 * (terms outside the input skipped). x: f64 [C][H][W]; w: f32 [O][C][k][k]; bias: f32 [O]
 * or 0; y: f64 [O][Ho][Wo].
 */
export function conv2dF64(
  x: usize, C: i32, H: i32, W: i32, w: usize, bias: usize, O: i32, k: i32, s: i32, p: i32, Ho: i32, Wo: i32, y: usize,
): void {
  const plane = Ho * Wo;
  for (let o = 0; o < O; o++) {
    const yo = y + (<usize>(o * plane) << 3);
    const b = bias ? <f64>load<f32>(bias + (<usize>o << 2)) : 0.0;
    for (let i = 0; i < plane; i++) store<f64>(yo + (<usize>i << 3), b);
    for (let c = 0; c < C; c++) {
      for (let ky = 0; ky < k; ky++) {
        const oy0 = max(0, ceilDiv(p - ky, s));
        const oy1 = min(Ho - 1, floorDiv(H - 1 + p - ky, s));
        for (let kx = 0; kx < k; kx++) {
          const wv = <f64>load<f32>(w + (<usize>(((o * C + c) * k + ky) * k + kx) << 2));
          const ox0 = max(0, ceilDiv(p - kx, s));
          const ox1 = min(Wo - 1, floorDiv(W - 1 + p - kx, s));
          const w2 = f64x2.splat(wv);
          for (let oy = oy0; oy <= oy1; oy++) {
            const xr = (c * H + oy * s - p + ky) * W - p + kx;
            const yr = yo + (<usize>(oy * Wo) << 3);
            let ox = ox0;
            if (s == 1) {
              for (; ox + 1 <= ox1; ox += 2) {
                const yp = yr + (<usize>ox << 3);
                v128.store(yp, f64x2.add(v128.load(yp), f64x2.mul(w2, v128.load(x + (<usize>(xr + ox) << 3)))));
              }
            }
            for (; ox <= ox1; ox++) {
              const yp = yr + (<usize>ox << 3);
              store<f64>(yp, load<f64>(yp) + wv * load<f64>(x + (<usize>(xr + ox * s) << 3)));
            }
          }
        }
      }
    }
  }
}

// @ts-ignore: decorator
@inline
function floorDiv(a: i32, b: i32): i32 {
  const q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// @ts-ignore: decorator
@inline
function ceilDiv(a: i32, b: i32): i32 {
  return -floorDiv(-a, b);
}

/**
 * Columns of unrolled conv patches (lib/network/run-exec.ts): for images i < n, output positions
 * (oy, ox) in order, vector v = (i·Ho + oy)·Wo + ox gets out[v·256 + j] =
 * padded[i·plane + oy·s·Wp + ox·s + offs[j]] for j < w (INT8; `padded` holds each image
 * zero-padded, `offs` the tile's column offsets as i32).
 */
export function gatherPatches(padded: usize, n: i32, plane: i32, Wp: i32, Ho: i32, Wo: i32, s: i32, offs: usize, w: i32, out: usize): void {
  let o = out;
  for (let i = 0; i < n; i++) {
    for (let oy = 0; oy < Ho; oy++) {
      for (let ox = 0; ox < Wo; ox++) {
        const base = padded + <usize>(i * plane + oy * s * Wp + ox * s);
        for (let j = 0; j < w; j++) store<i8>(o + <usize>j, load<i8>(base + <usize>load<i32>(offs + (<usize>j << 2))));
        o += 256;
      }
    }
  }
}
