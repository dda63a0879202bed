// Matrix–vector products of a core, batched: Y[b][r] = Σ_c W[r][c] · X[b][c].
//
// Layout (all row-major, 16-byte aligned):
//   W  rows × stride   int16 (or f32 for mvmF32), stride = paddedCols(cols) = ⌈cols/8⌉·8
//   X  batch × stride  int16 (8-bit inputs widened; or f32)
//   Y  batch × rows    int32 (or f32)
// Padding columns of W and X must be zero: the inner loop then runs over whole v128
// vectors with no tail, for any cols in 1..256.
//
// Exactness of mvmI16: i32x4.dot_i16x8_s sums pairs of exact 16 × 16-bit products in i32.
// With |w| ≤ 32768, |x| ≤ 128 and cols ≤ 256: |Σ| ≤ 256 · 32768 · 128 = 2^30 < 2^31 − 1,
// so nothing overflows and the result is exact.
//
// Blocking: tiles of 4 rows × 2 inputs (8 i32x4 accumulators), rows in blocks of 32 (16 KiB
// of weights, L1-resident) while every input passes; a tile's 4 accumulators per input
// reduced by a 4 × 4 transpose (reduce4); a lone input takes 4 rows at a time. The
// packed-weight kernel (mvmI16Packed) is in mvm-packed.ts. What each kernel does, and
// the variants measured with their figures: docs/kernels.md.

// @ts-ignore: decorator
@inline
function hsum(v: v128): i32 {
  return i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
}

// [Σa, Σb, Σc, Σd] of four i32x4 accumulators: a 4 × 4 transpose folded into the adds
// (unpack lo/hi of dwords, then of qwords: 6 shuffles and 3 adds for 4 sums).
// @ts-ignore: decorator
@inline
function reduce4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = i32x4.add(i32x4.shuffle(a, b, 0, 4, 1, 5), i32x4.shuffle(a, b, 2, 6, 3, 7));
  const cd = i32x4.add(i32x4.shuffle(c, d, 0, 4, 1, 5), i32x4.shuffle(c, d, 2, 6, 3, 7));
  return i32x4.add(i32x4.shuffle(ab, cd, 0, 1, 4, 5), i32x4.shuffle(ab, cd, 2, 3, 6, 7));
}

/** Columns rounded up to a multiple of 8 (the row stride of W and X). */
export function paddedCols(cols: i32): i32 {
  return (cols + 7) & ~7;
}

/** int16 weights × int16 inputs → int32, exact (see the bound above). Rows are taken in
 * blocks of ROW_BLOCK (16 KiB of weights, resident in L1) while every input passes. */
export function mvmI16(wPtr: usize, rows: i32, cols: i32, xPtr: usize, batch: i32, yPtr: usize): void {
  for (let r0 = 0; r0 < rows; r0 += ROW_BLOCK) {
    mvmI16Rows(wPtr, rows, r0, min(r0 + ROW_BLOCK, rows), cols, xPtr, batch, yPtr);
  }
}

const ROW_BLOCK: i32 = 32;

// @ts-ignore: decorator
@inline
function mvmI16Rows(wPtr: usize, rows: i32, rStart: i32, rEnd: i32, cols: i32, xPtr: usize, batch: i32, yPtr: usize): void {
  const stride = <usize>paddedCols(cols);
  const rb = <usize>stride << 1; // bytes per row / input
  const vecs = stride >> 3;
  let b = 0;
  for (; b + 2 <= batch; b += 2) {
    const x0 = xPtr + <usize>b * rb;
    const x1 = x0 + rb;
    const y0 = yPtr + ((<usize>b * <usize>rows) << 2);
    const y1 = y0 + (<usize>rows << 2);
    let r = rStart;
    for (; r + 4 <= rEnd; r += 4) {
      const w0 = wPtr + <usize>r * rb;
      const w1 = w0 + rb, w2 = w1 + rb, w3 = w2 + rb;
      let a00 = i32x4.splat(0), a01 = i32x4.splat(0), a10 = i32x4.splat(0), a11 = i32x4.splat(0);
      let a20 = i32x4.splat(0), a21 = i32x4.splat(0), a30 = i32x4.splat(0), a31 = i32x4.splat(0);
      if (stride == 256) {
        // Full-width core: rows and inputs are 512 bytes apart, so every load is an
        // immediate offset from two moving pointers (fewer address computations).
        for (let k: usize = 0; k < 512; k += 16) {
          const xk = x0 + k;
          const wk = w0 + k;
          const xv0 = v128.load(xk);
          const xv1 = v128.load(xk, 512);
          let wv = v128.load(wk);
          a00 = i32x4.add(a00, i32x4.dot_i16x8_s(wv, xv0));
          a01 = i32x4.add(a01, i32x4.dot_i16x8_s(wv, xv1));
          wv = v128.load(wk, 512);
          a10 = i32x4.add(a10, i32x4.dot_i16x8_s(wv, xv0));
          a11 = i32x4.add(a11, i32x4.dot_i16x8_s(wv, xv1));
          wv = v128.load(wk, 1024);
          a20 = i32x4.add(a20, i32x4.dot_i16x8_s(wv, xv0));
          a21 = i32x4.add(a21, i32x4.dot_i16x8_s(wv, xv1));
          wv = v128.load(wk, 1536);
          a30 = i32x4.add(a30, i32x4.dot_i16x8_s(wv, xv0));
          a31 = i32x4.add(a31, i32x4.dot_i16x8_s(wv, xv1));
        }
      } else for (let k: usize = 0; k < <usize>vecs << 4; k += 16) {
        const xv0 = v128.load(x0 + k);
        const xv1 = v128.load(x1 + k);
        const wv0 = v128.load(w0 + k);
        a00 = i32x4.add(a00, i32x4.dot_i16x8_s(wv0, xv0));
        a01 = i32x4.add(a01, i32x4.dot_i16x8_s(wv0, xv1));
        const wv1 = v128.load(w1 + k);
        a10 = i32x4.add(a10, i32x4.dot_i16x8_s(wv1, xv0));
        a11 = i32x4.add(a11, i32x4.dot_i16x8_s(wv1, xv1));
        const wv2 = v128.load(w2 + k);
        a20 = i32x4.add(a20, i32x4.dot_i16x8_s(wv2, xv0));
        a21 = i32x4.add(a21, i32x4.dot_i16x8_s(wv2, xv1));
        const wv3 = v128.load(w3 + k);
        a30 = i32x4.add(a30, i32x4.dot_i16x8_s(wv3, xv0));
        a31 = i32x4.add(a31, i32x4.dot_i16x8_s(wv3, xv1));
      }
      const o = <usize>r << 2;
      v128.store(y0 + o, reduce4(a00, a10, a20, a30));
      v128.store(y1 + o, reduce4(a01, a11, a21, a31));
    }
    for (; r < rEnd; r++) {
      const w0 = wPtr + <usize>r * rb;
      let a0 = i32x4.splat(0), a1 = i32x4.splat(0);
      for (let k: usize = 0; k < <usize>vecs << 4; k += 16) {
        const wv = v128.load(w0 + k);
        a0 = i32x4.add(a0, i32x4.dot_i16x8_s(wv, v128.load(x0 + k)));
        a1 = i32x4.add(a1, i32x4.dot_i16x8_s(wv, v128.load(x1 + k)));
      }
      store<i32>(y0 + (<usize>r << 2), hsum(a0));
      store<i32>(y1 + (<usize>r << 2), hsum(a1));
    }
  }
  for (; b < batch; b++) {
    const x0 = xPtr + <usize>b * rb;
    const y0 = yPtr + ((<usize>b * <usize>rows) << 2);
    let r = rStart;
    for (; r + 4 <= rEnd; r += 4) {
      const w0 = wPtr + <usize>r * rb;
      const w1 = w0 + rb, w2 = w1 + rb, w3 = w2 + rb;
      let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
      for (let k: usize = 0; k < <usize>vecs << 4; k += 16) {
        const xv = v128.load(x0 + k);
        a0 = i32x4.add(a0, i32x4.dot_i16x8_s(v128.load(w0 + k), xv));
        a1 = i32x4.add(a1, i32x4.dot_i16x8_s(v128.load(w1 + k), xv));
        a2 = i32x4.add(a2, i32x4.dot_i16x8_s(v128.load(w2 + k), xv));
        a3 = i32x4.add(a3, i32x4.dot_i16x8_s(v128.load(w3 + k), xv));
      }
      v128.store(y0 + (<usize>r << 2), reduce4(a0, a1, a2, a3));
    }
    for (; r < rEnd; r++) {
      const w0 = wPtr + <usize>r * rb;
      let a0 = i32x4.splat(0);
      for (let k: usize = 0; k < <usize>vecs << 4; k += 16) {
        a0 = i32x4.add(a0, i32x4.dot_i16x8_s(v128.load(w0 + k), v128.load(x0 + k)));
      }
      store<i32>(y0 + (<usize>r << 2), hsum(a0));
    }
  }
}

// @ts-ignore: decorator
@inline
function hsumf(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/** The same product in f32 (f32x4 multiply–add), the same-run speed reference. */
export function mvmF32(wPtr: usize, rows: i32, cols: i32, xPtr: usize, batch: i32, yPtr: usize): void {
  const stride = <usize>paddedCols(cols);
  const rb = <usize>stride << 2;
  const end = <usize>stride << 2;
  let b = 0;
  for (; b + 2 <= batch; b += 2) {
    const x0 = xPtr + <usize>b * rb;
    const x1 = x0 + rb;
    const y0 = yPtr + ((<usize>b * <usize>rows) << 2);
    const y1 = y0 + (<usize>rows << 2);
    let r = 0;
    for (; r + 4 <= rows; r += 4) {
      const w0 = wPtr + <usize>r * rb;
      const w1 = w0 + rb, w2 = w1 + rb, w3 = w2 + rb;
      let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a10 = f32x4.splat(0), a11 = f32x4.splat(0);
      let a20 = f32x4.splat(0), a21 = f32x4.splat(0), a30 = f32x4.splat(0), a31 = f32x4.splat(0);
      for (let k: usize = 0; k < end; k += 16) {
        const xv0 = v128.load(x0 + k);
        const xv1 = v128.load(x1 + k);
        const wv0 = v128.load(w0 + k);
        a00 = f32x4.add(a00, f32x4.mul(wv0, xv0));
        a01 = f32x4.add(a01, f32x4.mul(wv0, xv1));
        const wv1 = v128.load(w1 + k);
        a10 = f32x4.add(a10, f32x4.mul(wv1, xv0));
        a11 = f32x4.add(a11, f32x4.mul(wv1, xv1));
        const wv2 = v128.load(w2 + k);
        a20 = f32x4.add(a20, f32x4.mul(wv2, xv0));
        a21 = f32x4.add(a21, f32x4.mul(wv2, xv1));
        const wv3 = v128.load(w3 + k);
        a30 = f32x4.add(a30, f32x4.mul(wv3, xv0));
        a31 = f32x4.add(a31, f32x4.mul(wv3, xv1));
      }
      const o = <usize>r << 2;
      store<f32>(y0 + o, hsumf(a00));
      store<f32>(y0 + o, hsumf(a10), 4);
      store<f32>(y0 + o, hsumf(a20), 8);
      store<f32>(y0 + o, hsumf(a30), 12);
      store<f32>(y1 + o, hsumf(a01));
      store<f32>(y1 + o, hsumf(a11), 4);
      store<f32>(y1 + o, hsumf(a21), 8);
      store<f32>(y1 + o, hsumf(a31), 12);
    }
    for (; r < rows; r++) {
      const w0 = wPtr + <usize>r * rb;
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
      for (let k: usize = 0; k < end; k += 16) {
        const wv = v128.load(w0 + k);
        a0 = f32x4.add(a0, f32x4.mul(wv, v128.load(x0 + k)));
        a1 = f32x4.add(a1, f32x4.mul(wv, v128.load(x1 + k)));
      }
      store<f32>(y0 + (<usize>r << 2), hsumf(a0));
      store<f32>(y1 + (<usize>r << 2), hsumf(a1));
    }
  }
  for (; b < batch; b++) {
    const x0 = xPtr + <usize>b * rb;
    const y0 = yPtr + ((<usize>b * <usize>rows) << 2);
    for (let r = 0; r < rows; r++) {
      const w0 = wPtr + <usize>r * rb;
      let a0 = f32x4.splat(0);
      for (let k: usize = 0; k < end; k += 16) a0 = f32x4.add(a0, f32x4.mul(v128.load(w0 + k), v128.load(x0 + k)));
      store<f32>(y0 + (<usize>r << 2), hsumf(a0));
    }
  }
}
