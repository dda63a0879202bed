// The read's inputs and planes, before the MVM kernel (assembly/readout.ts does the
// rest): the three int16 input rows per INT8 input (x, |x| or x⁻, x²) with the PWM phase
// lengths, and the rounding of a core's f32 conductance planes to int16.

/**
 * Inputs for the three dot products: from INT8 inputs (batch × cols, row stride `cols`)
 * write int16 rows of stride 256 (zero padded): X1 = x, X2 = |x| (4-phase) or x⁻ = max(−x, 0)
 * (1-phase), X3 = x²; and per input the phase lengths (T+, T−) = (max x⁺, max x⁻) as i32.
 */
export function prepareInputs(x: usize, batch: i32, cols: i32, phases: i32, x1: usize, x2: usize, x3: usize, tOut: usize): void {
  if (cols == 256) {
    prepareFullInputs(x, batch, phases, x1, x2, x3, tOut);
    return;
  }
  for (let b = 0; b < batch; b++) {
    let tp = 0, tn = 0;
    const src = x + <usize>(b * cols);
    const o = <usize>b << 9; // 256 int16 per row
    for (let j = 0; j < 256; j++) {
      const v: i32 = j < cols ? <i32>load<i8>(src + <usize>j) : 0;
      const a = v < 0 ? -v : v;
      store<i16>(x1 + o + (<usize>j << 1), <i16>v);
      store<i16>(x2 + o + (<usize>j << 1), <i16>(phases == 4 ? a : (v < 0 ? -v : 0)));
      store<i16>(x3 + o + (<usize>j << 1), <i16>(v * v));
      if (v > tp) tp = v;
      if (-v > tn) tn = -v;
    }
    store<i32>(tOut + (<usize>b << 3), tp);
    store<i32>(tOut + (<usize>b << 3), tn, 4);
  }
}

// @ts-ignore: decorator
@inline
function hmaxI16(m: v128): i32 {
  m = i16x8.max_s(m, i32x4.shuffle(m, m, 2, 3, 0, 1));
  m = i16x8.max_s(m, i32x4.shuffle(m, m, 1, 0, 3, 2));
  m = i16x8.max_s(m, i16x8.shuffle(m, m, 1, 0, 3, 2, 5, 4, 7, 6));
  return <i32>i16x8.extract_lane_s(m, 0);
}

/** prepareInputs for 256 columns, 16 inputs at a time (i16x8; x² ≤ 16,384 fits int16). */
function prepareFullInputs(x: usize, batch: i32, phases: i32, x1: usize, x2: usize, x3: usize, tOut: usize): void {
  const zero = i16x8.splat(0);
  for (let b = 0; b < batch; b++) {
    const src = x + <usize>(b << 8);
    const o = <usize>b << 9;
    let mp = zero, mn = zero;
    for (let j = 0; j < 256; j += 16) {
      const v = v128.load(src + <usize>j);
      const lo = i16x8.extend_low_i8x16_s(v), hi = i16x8.extend_high_i8x16_s(v);
      const nlo = i16x8.neg(lo), nhi = i16x8.neg(hi);
      const d = o + (<usize>j << 1);
      v128.store(x1 + d, lo);
      v128.store(x1 + d, hi, 16);
      v128.store(x2 + d, phases == 4 ? i16x8.abs(lo) : i16x8.max_s(nlo, zero));
      v128.store(x2 + d, phases == 4 ? i16x8.abs(hi) : i16x8.max_s(nhi, zero), 16);
      v128.store(x3 + d, i16x8.mul(lo, lo));
      v128.store(x3 + d, i16x8.mul(hi, hi), 16);
      mp = i16x8.max_s(mp, i16x8.max_s(lo, hi));
      mn = i16x8.max_s(mn, i16x8.max_s(nlo, nhi));
    }
    store<i32>(tOut + (<usize>b << 3), hmaxI16(mp));
    store<i32>(tOut + (<usize>b << 3), hmaxI16(mn), 4);
  }
}

/** Round n f32 values times `scale` to int16 (the caller guarantees |v·scale| ≤ 32767). */
export function quantisePlane(src: usize, n: i32, scale: f32, dst: usize): void {
  const s = f32x4.splat(scale);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const a = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(src + (<usize>i << 2)), s)));
    const b = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(src + (<usize>i << 2), 16), s)));
    v128.store(dst + (<usize>i << 1), i16x8.narrow_i32x4_s(a, b));
  }
  for (; i < n; i++) store<i16>(dst + (<usize>i << 1), <i16>(<i32>f32.nearest(load<f32>(src + (<usize>i << 2)) * scale)));
}
