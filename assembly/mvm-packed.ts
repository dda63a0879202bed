// The int16 MVM on packed weights (mvmI16Packed), and its tile loop (packedProduct), which
// the fused functional kernels (assembly/functional.ts) share: the loop is written once
// and hands each tile's int32 accumulators, still in registers, to an epilogue chosen by
// a compile-time mode: DOTS stores them (mvmI16Packed); the readout modes of
// fused-readout.ts turn them into INT8 outputs.
//
// Packed layout (packI16Quads): rows in groups of 4 (the last padded with zero rows); per
// group and column pair (2p, 2p+1), one v128 [w[r][2p], w[r][2p+1]] for r = 4g..4g+3. The
// input pair is splat (v128.load32_splat) so that one i32x4.dot_i16x8_s gives 4 rows'
// partial sums in lanes: no horizontal sums. Inputs and dots as mvmI16 (mvm.ts), exact in
// int32 for the same reason. Tiles of 4 groups (16 rows) × 2 inputs (8 accumulators), a
// lone input 4 groups at a time, groups in blocks of 8 (32 rows, 16 KiB of weights at 256
// columns) while every input passes. The variants measured: docs/kernels.md.

import { paddedCols } from "./mvm";
import { readout16, readout4 } from "./fused-readout";

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
  packedProduct(wpPtr, rows, cols, xPtr, batch, yPtr, <usize>rows << 2, DOTS, 0, 0, 0, 0, 0);
}

/** packedProduct's epilogue that stores the int32 dots (the readout modes: fused-readout.ts). */
export const DOTS: i32 = -1;

const GROUP_BLOCK: i32 = 8; // groups of 4 rows: 32 rows, 16 KiB of packed weights at 256 columns

/**
 * The product of packed weights (packI16Quads; rows × cols, the first `rows` rows of a larger
 * packing are fine) and batch int16 inputs (batch × paddedCols(cols)), tile by tile, each
 * tile's sums handed to the epilogue `mode` (a constant at every call, so each caller gets
 * its own copy of the loop): DOTS stores int32 dots (group g of input b at y + b·yStride +
 * 16g); TABLE, FORMULA and UNCLAMPED (fused-readout.ts, with k, off, K, lo, X) store INT8
 * outputs (at y + b·yStride + 4g; bytes after `rows` are not written).
 */
// @ts-ignore: decorator
@inline
export function packedProduct(wp: usize, rows: i32, cols: i32, xPtr: usize, batch: i32, y: usize, yStride: usize, mode: i32, k: f64, off: usize, K: f32, lo: f32, X: f32): void {
  const groups = (rows + 3) >> 2;
  for (let g0 = 0; g0 < groups; g0 += GROUP_BLOCK) {
    packedRows(wp, rows, g0, min(g0 + GROUP_BLOCK, groups), cols, xPtr, batch, y, yStride, mode, k, off, K, lo, X);
  }
}

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

/** The epilogue of one input's 4 row groups (dots a, b, c, d) at o. */
// @ts-ignore: decorator
@inline
function tileOut(mode: i32, o: usize, a: v128, b: v128, c: v128, d: v128, k: f64, off: usize, K: f32, lo: f32, X: f32): void {
  if (mode == DOTS) {
    v128.store(o, a);
    v128.store(o, b, 16);
    v128.store(o, c, 32);
    v128.store(o, d, 48);
  } else readout16(mode, o, a, b, c, d, k, off, K, lo, X);
}

/** The epilogue of one row group (dots v) at o: its first n rows (all 4 if n ≥ 4). */
// @ts-ignore: decorator
@inline
function groupOut(mode: i32, o: usize, v: v128, n: i32, k: f64, off: usize, K: f32, lo: f32, X: f32): void {
  if (mode == DOTS) storeRows(o, v, n);
  else readout4(mode, o, v, n, k, off, K, lo, X);
}

// @ts-ignore: decorator
@inline
function packedRows(wp: usize, rows: i32, gStart: i32, gEnd: i32, cols: i32, xPtr: usize, batch: i32, y: usize, yStride: usize, mode: i32, k: f64, off: usize, K: f32, lo: f32, X: f32): void {
  const stride = <usize>paddedCols(cols);
  const rb = stride << 1;
  const gb = stride << 3;     // bytes per group of 4 rows
  const xEnd = stride << 1;   // 4 bytes per pair, stride/2 pairs
  const og: usize = mode == DOTS ? 4 : 2; // a group's outputs: 16 bytes of dots or 4 of INT8
  // Full groups in whole tiles; the ragged last group is done per input.
  const gFull = min(gEnd, rows >> 2);
  let b = 0;
  for (; b + 2 <= batch; b += 2) {
    const x0 = xPtr + <usize>b * rb;
    const x1 = x0 + rb;
    const y0 = y + <usize>b * yStride;
    const y1 = y0 + yStride;
    let g = gStart;
    for (; g + 4 <= gFull; g += 4) {
      const w0 = wp + <usize>g * gb;
      const w1 = w0 + gb, w2 = w1 + gb, w3 = w2 + gb;
      let a00 = i32x4.splat(0), a01 = i32x4.splat(0), a10 = i32x4.splat(0), a11 = i32x4.splat(0);
      let a20 = i32x4.splat(0), a21 = i32x4.splat(0), a30 = i32x4.splat(0), a31 = i32x4.splat(0);
      if (stride == 256) {
        for (let c: usize = 0; c < 512; c += 4) {
          const xc = x0 + c;
          const wc = w0 + (c << 2);
          const x0v = v128.load32_splat(xc);
          const x1v = v128.load32_splat(xc, 512);
          const wv0 = v128.load(wc);
          a00 = i32x4.add(a00, i32x4.dot_i16x8_s(wv0, x0v));
          a01 = i32x4.add(a01, i32x4.dot_i16x8_s(wv0, x1v));
          const wv1 = v128.load(wc, 2048);
          a10 = i32x4.add(a10, i32x4.dot_i16x8_s(wv1, x0v));
          a11 = i32x4.add(a11, i32x4.dot_i16x8_s(wv1, x1v));
          const wv2 = v128.load(wc, 4096);
          a20 = i32x4.add(a20, i32x4.dot_i16x8_s(wv2, x0v));
          a21 = i32x4.add(a21, i32x4.dot_i16x8_s(wv2, x1v));
          const wv3 = v128.load(wc, 6144);
          a30 = i32x4.add(a30, i32x4.dot_i16x8_s(wv3, x0v));
          a31 = i32x4.add(a31, i32x4.dot_i16x8_s(wv3, x1v));
        }
      } else {
        for (let c: usize = 0; c < xEnd; c += 4) {
          const x0v = v128.load32_splat(x0 + c);
          const x1v = v128.load32_splat(x1 + c);
          const c4 = c << 2;
          const wv0 = v128.load(w0 + c4);
          a00 = i32x4.add(a00, i32x4.dot_i16x8_s(wv0, x0v));
          a01 = i32x4.add(a01, i32x4.dot_i16x8_s(wv0, x1v));
          const wv1 = v128.load(w1 + c4);
          a10 = i32x4.add(a10, i32x4.dot_i16x8_s(wv1, x0v));
          a11 = i32x4.add(a11, i32x4.dot_i16x8_s(wv1, x1v));
          const wv2 = v128.load(w2 + c4);
          a20 = i32x4.add(a20, i32x4.dot_i16x8_s(wv2, x0v));
          a21 = i32x4.add(a21, i32x4.dot_i16x8_s(wv2, x1v));
          const wv3 = v128.load(w3 + c4);
          a30 = i32x4.add(a30, i32x4.dot_i16x8_s(wv3, x0v));
          a31 = i32x4.add(a31, i32x4.dot_i16x8_s(wv3, x1v));
        }
      }
      const o = <usize>g << og;
      tileOut(mode, y0 + o, a00, a10, a20, a30, k, off, K, lo, X);
      tileOut(mode, y1 + o, a01, a11, a21, a31, k, off, K, lo, X);
    }
    for (; g < gEnd; g++) {
      const w0 = wp + <usize>g * gb;
      let a0 = i32x4.splat(0), a1 = i32x4.splat(0);
      for (let c: usize = 0; c < xEnd; c += 4) {
        const wv = v128.load(w0 + (c << 2));
        a0 = i32x4.add(a0, i32x4.dot_i16x8_s(wv, v128.load32_splat(x0 + c)));
        a1 = i32x4.add(a1, i32x4.dot_i16x8_s(wv, v128.load32_splat(x1 + c)));
      }
      const n = rows - (g << 2);
      groupOut(mode, y0 + (<usize>g << og), a0, n, k, off, K, lo, X);
      groupOut(mode, y1 + (<usize>g << og), a1, n, k, off, K, lo, X);
    }
  }
  for (; b < batch; b++) {
    const x0 = xPtr + <usize>b * rb;
    const y0 = y + <usize>b * yStride;
    let g = gStart;
    for (; g + 4 <= gFull; g += 4) {
      const w0 = wp + <usize>g * gb;
      const w1 = w0 + gb, w2 = w1 + gb, w3 = w2 + gb;
      let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
      for (let c: usize = 0; c < xEnd; c += 4) {
        const xv = v128.load32_splat(x0 + c);
        const c4 = c << 2;
        a0 = i32x4.add(a0, i32x4.dot_i16x8_s(v128.load(w0 + c4), xv));
        a1 = i32x4.add(a1, i32x4.dot_i16x8_s(v128.load(w1 + c4), xv));
        a2 = i32x4.add(a2, i32x4.dot_i16x8_s(v128.load(w2 + c4), xv));
        a3 = i32x4.add(a3, i32x4.dot_i16x8_s(v128.load(w3 + c4), xv));
      }
      tileOut(mode, y0 + (<usize>g << og), a0, a1, a2, a3, k, off, K, lo, X);
    }
    for (; g < gEnd; g++) {
      const w0 = wp + <usize>g * gb;
      let a = i32x4.splat(0);
      for (let c: usize = 0; c < xEnd; c += 4) a = i32x4.add(a, i32x4.dot_i16x8_s(v128.load(w0 + (c << 2)), v128.load32_splat(x0 + c)));
      groupOut(mode, y0 + (<usize>g << og), a, rows - (g << 2), k, off, K, lo, X);
    }
  }
}
