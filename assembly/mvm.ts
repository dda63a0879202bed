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
// Blocking: 4 rows × 2 input vectors per tile, 8 i32x4 accumulators; each loaded weight
// vector serves 2 inputs and each input vector 4 rows; rows in blocks of 32 (16 KiB of
// weights, L1-resident) while every input passes. Full-width cores (stride 256) use
// immediate load offsets from two moving pointers (+13 % measured). A tile's 4
// accumulators per input are reduced by a 4 × 4 transpose folded into the adds
// (`reduce4`: 6 unpack shuffles + 3 adds, one v128.store of 4 outputs) instead of 4
// scalar horizontal sums (12 lane extracts): +5 % at batch 1024 (53.2 → 55.7 GMAC/s in
// one window). A lone input (batch 1, odd batch) takes 4 rows at a time with the same
// reduction: 20.4 → 35.5 GMAC/s at batch 1.
// Tried and slower here: unrolling k by 2, tiles of 4 × 3 (16 live v128 registers spill),
// tiles of 2 rows × 4 inputs with the same reduction (55.4 vs 56.3); row blocks of 8, 16
// or 64 are within noise of 32. (Figures drift with the shared machine's load: the kernel
// before reduce4 measured 35.5 GMAC/s in an earlier session and 52-53 in this one.)
// Ceiling: V8 emits one vpmaddwd + one vpaddd per 8 MACs; on this machine (AMD Zen 5,
// ~4.2 GHz, 2 vpmaddwd/cycle) that pair bounds 128-bit wasm SIMD near 57-60 GMAC/s, so
// the only overhead left worth removing was the per-output reduction.
//
// Packed weights (mvmI16Packed, weights repacked once by packI16Quads): rows in groups of
// 4, each v128 holding 4 rows' column pair (2p, 2p+1); the input pair is splat with
// v128.load32_splat (vbroadcastss) so one dot_i16x8_s yields 4 rows' partial sums in
// lanes and no reduction is needed at all. Tiles of 4 groups (16 rows) × 2 inputs, groups
// in blocks of 8 (32 rows): 58.4 vs 55.7 GMAC/s for mvmI16 at batch 1024, 40 vs 35 at
// batch 1 (same window). Tried: 2 groups × 4 inputs 58.3; 16- or 64-row blocks 58.9,
// 57.5; 3 × 3, 5 × 2, 6 × 2, 8 × 1 spill (8-33 GMAC/s); two column pairs per iteration
// 38 (V8 hoists the extra loads and spills). npm run bench:mvm, best of 3 in one window:
// mvmI16 36.0 / 57.2, mvmI16Packed 39.9 / 59.4 at batch 1 / 1024, numpy one thread 66.1.

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

/** Repack int16 weights (rows × stride, row-major) for `mvmI16Packed`: rows in groups of 4
 * (the last padded with zero rows), and within a group, for each column pair (2p, 2p+1),
 * one v128 [w[r][2p], w[r][2p+1]] for r = 4g..4g+3. Size: ⌈rows/4⌉ · 4 · stride · 2 bytes. */
export function packI16Quads(wPtr: usize, rows: i32, cols: i32, outPtr: usize): void {
  const stride = <usize>paddedCols(cols);
  const rb = stride << 1;
  const groups = (rows + 3) >> 2;
  const pairs = stride >> 1;
  for (let g = 0; g < groups; g++) {
    const dst = outPtr + <usize>g * (stride << 3);
    for (let i = 0; i < 4; i++) {
      const r = (g << 2) + i;
      const src = wPtr + <usize>r * rb;
      for (let p: usize = 0; p < pairs; p++) {
        store<u32>(dst + (p << 4) + (<usize>i << 2), r < rows ? load<u32>(src + (p << 2)) : 0);
      }
    }
  }
}

/** Bytes of packI16Quads' output: ⌈rows/4⌉ · 4 · paddedCols(cols) · 2. */
export function packedI16Bytes(rows: i32, cols: i32): i32 {
  return ((rows + 3) >> 2) * paddedCols(cols) * 8;
}

/** mvmI16 on weights repacked by packI16Quads: the input pair (x[2p], x[2p+1]) is splat
 * to all lanes and one i32x4.dot_i16x8_s gives 4 rows' partial sums; no horizontal sums. */
export function mvmI16Packed(wpPtr: usize, rows: i32, cols: i32, xPtr: usize, batch: i32, yPtr: usize): void {
  const groups = (rows + 3) >> 2;
  for (let g0 = 0; g0 < groups; g0 += GROUP_BLOCK) {
    packedRows(wpPtr, rows, g0, min(g0 + GROUP_BLOCK, groups), cols, xPtr, batch, yPtr);
  }
}

const GROUP_BLOCK: i32 = 8; // groups of 4 rows: 32 rows, 16 KiB of packed weights at 256 columns

// @ts-ignore: decorator
@inline
function storeRows(y: usize, v: v128, n: i32): void {
  if (n >= 4) v128.store(y, v);
  else {
    store<i32>(y, i32x4.extract_lane(v, 0));
    if (n > 1) store<i32>(y, i32x4.extract_lane(v, 1), 4);
    if (n > 2) store<i32>(y, i32x4.extract_lane(v, 2), 8);
  }
}

// @ts-ignore: decorator
@inline
function packedRows(wpPtr: usize, rows: i32, gStart: i32, gEnd: i32, cols: i32, xPtr: usize, batch: i32, yPtr: usize): void {
  const stride = <usize>paddedCols(cols);
  const rb = stride << 1;
  const gb = stride << 3;     // bytes per group of 4 rows
  const yb = <usize>rows << 2;
  const xEnd = stride << 1;   // 4 bytes per pair, stride/2 pairs
  // Full groups in whole tiles use v128 stores; the ragged last group is done per input.
  const gFull = min(gEnd, rows >> 2);
  let b = 0;
  for (; b + 2 <= batch; b += 2) {
    const x0 = xPtr + <usize>b * rb;
    const x1 = x0 + rb;
    const y0 = yPtr + <usize>b * yb;
    const y1 = y0 + yb;
    let g = gStart;
    for (; g + 4 <= gFull; g += 4) {
      const w0 = wpPtr + <usize>g * gb;
      const w1 = w0 + gb, w2 = w1 + gb, w3 = w2 + gb;
      let a00 = i32x4.splat(0), a01 = i32x4.splat(0), a10 = i32x4.splat(0), a11 = i32x4.splat(0);
      let a20 = i32x4.splat(0), a21 = i32x4.splat(0), a30 = i32x4.splat(0), a31 = i32x4.splat(0);
      if (stride == 256) {
        for (let k: usize = 0; k < 512; k += 4) {
          const xk = x0 + k;
          const wk = w0 + (k << 2);
          const x0v = v128.load32_splat(xk);
          const x1v = v128.load32_splat(xk, 512);
          const wv0 = v128.load(wk);
          a00 = i32x4.add(a00, i32x4.dot_i16x8_s(wv0, x0v));
          a01 = i32x4.add(a01, i32x4.dot_i16x8_s(wv0, x1v));
          const wv1 = v128.load(wk, 2048);
          a10 = i32x4.add(a10, i32x4.dot_i16x8_s(wv1, x0v));
          a11 = i32x4.add(a11, i32x4.dot_i16x8_s(wv1, x1v));
          const wv2 = v128.load(wk, 4096);
          a20 = i32x4.add(a20, i32x4.dot_i16x8_s(wv2, x0v));
          a21 = i32x4.add(a21, i32x4.dot_i16x8_s(wv2, x1v));
          const wv3 = v128.load(wk, 6144);
          a30 = i32x4.add(a30, i32x4.dot_i16x8_s(wv3, x0v));
          a31 = i32x4.add(a31, i32x4.dot_i16x8_s(wv3, x1v));
        }
      } else {
        for (let k: usize = 0; k < xEnd; k += 4) {
          const x0v = v128.load32_splat(x0 + k);
          const x1v = v128.load32_splat(x1 + k);
          const k4 = k << 2;
          const wv0 = v128.load(w0 + k4);
          a00 = i32x4.add(a00, i32x4.dot_i16x8_s(wv0, x0v));
          a01 = i32x4.add(a01, i32x4.dot_i16x8_s(wv0, x1v));
          const wv1 = v128.load(w1 + k4);
          a10 = i32x4.add(a10, i32x4.dot_i16x8_s(wv1, x0v));
          a11 = i32x4.add(a11, i32x4.dot_i16x8_s(wv1, x1v));
          const wv2 = v128.load(w2 + k4);
          a20 = i32x4.add(a20, i32x4.dot_i16x8_s(wv2, x0v));
          a21 = i32x4.add(a21, i32x4.dot_i16x8_s(wv2, x1v));
          const wv3 = v128.load(w3 + k4);
          a30 = i32x4.add(a30, i32x4.dot_i16x8_s(wv3, x0v));
          a31 = i32x4.add(a31, i32x4.dot_i16x8_s(wv3, x1v));
        }
      }
      const o = <usize>g << 4;
      v128.store(y0 + o, a00);
      v128.store(y1 + o, a01);
      v128.store(y0 + o, a10, 16);
      v128.store(y1 + o, a11, 16);
      v128.store(y0 + o, a20, 32);
      v128.store(y1 + o, a21, 32);
      v128.store(y0 + o, a30, 48);
      v128.store(y1 + o, a31, 48);
    }
    for (; g < gEnd; g++) {
      const w0 = wpPtr + <usize>g * gb;
      const n = rows - (g << 2);
      let a0 = i32x4.splat(0), a1 = i32x4.splat(0);
      for (let k: usize = 0; k < xEnd; k += 4) {
        const wv = v128.load(w0 + (k << 2));
        a0 = i32x4.add(a0, i32x4.dot_i16x8_s(wv, v128.load32_splat(x0 + k)));
        a1 = i32x4.add(a1, i32x4.dot_i16x8_s(wv, v128.load32_splat(x1 + k)));
      }
      storeRows(y0 + (<usize>g << 4), a0, n);
      storeRows(y1 + (<usize>g << 4), a1, n);
    }
  }
  for (; b < batch; b++) {
    const x0 = xPtr + <usize>b * rb;
    const y0 = yPtr + <usize>b * yb;
    let g = gStart;
    for (; g + 4 <= gFull; g += 4) {
      const w0 = wpPtr + <usize>g * gb;
      const w1 = w0 + gb, w2 = w1 + gb, w3 = w2 + gb;
      let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
      for (let k: usize = 0; k < xEnd; k += 4) {
        const xv = v128.load32_splat(x0 + k);
        const k4 = k << 2;
        a0 = i32x4.add(a0, i32x4.dot_i16x8_s(v128.load(w0 + k4), xv));
        a1 = i32x4.add(a1, i32x4.dot_i16x8_s(v128.load(w1 + k4), xv));
        a2 = i32x4.add(a2, i32x4.dot_i16x8_s(v128.load(w2 + k4), xv));
        a3 = i32x4.add(a3, i32x4.dot_i16x8_s(v128.load(w3 + k4), xv));
      }
      const o = <usize>g << 4;
      v128.store(y0 + o, a0);
      v128.store(y0 + o, a1, 16);
      v128.store(y0 + o, a2, 32);
      v128.store(y0 + o, a3, 48);
    }
    for (; g < gEnd; g++) {
      const w0 = wpPtr + <usize>g * gb;
      let a = i32x4.splat(0);
      for (let k: usize = 0; k < xEnd; k += 4) a = i32x4.add(a, i32x4.dot_i16x8_s(v128.load(w0 + (k << 2)), v128.load32_splat(x0 + k)));
      storeRows(y0 + (<usize>g << 4), a, rows - (g << 2));
    }
  }
}
