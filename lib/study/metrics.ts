// MVM accuracy metrics exactly as the paper defines them (§IV, Eqs. 2–4, Fig. 2b–d),
// in float64.
//
//   y_fp = W x,  Ŵ = argmin ‖y_exp − Ŵ x‖₂ (least squares over the input set, per row),
//   ε_total = y_exp − y_fp,  ε_linear = Ŵ x − y_fp,  ε_residual = y_exp − Ŵ x,
// reported as ‖ε‖₂ / ‖y_fp‖₂ over all outputs of all inputs; the weight error
// std(W − Ŵ) / Wmax binned by target weight; and the equivalent digital bits: the N at
// which an ideal digital engine with 8-bit inputs and outputs and N-bit weights has the
// same normalised ε_total.
//
// Layouts: W is rows × cols (row-major), X is n × cols (one input per row), Y is n × rows.

import { ArgumentError } from "../runtime/validate.ts";

/** The shape of an MVM data set: W is rows × cols, X is n × cols (one input per row), Y is n × rows. */
export interface MatrixShape {
  /** Rows of W (outputs per input). */
  rows: number;
  /** Columns of W (values per input). */
  cols: number;
  /** Inputs. */
  n: number;
}

/** Y = X Wᵀ (n × rows) in float64. */
export function matmulT(w: ArrayLike<number>, x: ArrayLike<number>, s: MatrixShape): Float64Array {
  const y = new Float64Array(s.n * s.rows);
  const wr = Float64Array.from(w as ArrayLike<number>);
  for (let b = 0; b < s.n; b++) {
    const xo = b * s.cols;
    for (let r = 0; r < s.rows; r++) {
      let acc = 0;
      const wo = r * s.cols;
      for (let c = 0; c < s.cols; c++) acc += wr[wo + c]! * (x[xo + c] as number);
      y[b * s.rows + r] = acc;
    }
  }
  return y;
}

/** In-place Cholesky factor (lower) of an SPD matrix a (k × k). Throws if not SPD. */
export function cholesky(a: Float64Array, k: number): Float64Array {
  for (let j = 0; j < k; j++) {
    let d = a[j * k + j]!;
    for (let p = 0; p < j; p++) d -= a[j * k + p]! ** 2;
    if (!(d > 0)) throw new Error(`cholesky: matrix is not positive definite (pivot ${j} = ${d})`);
    const l = Math.sqrt(d);
    a[j * k + j] = l;
    for (let i = j + 1; i < k; i++) {
      let v = a[i * k + j]!;
      for (let p = 0; p < j; p++) v -= a[i * k + p]! * a[j * k + p]!;
      a[i * k + j] = v / l;
    }
    for (let i = 0; i < j; i++) a[i * k + j] = 0;
  }
  return a;
}

/** The inverse of an SPD matrix (k × k) via its Cholesky factor; `a` is not modified. */
export function inverseSpd(a: ArrayLike<number>, k: number): Float64Array {
  const l = cholesky(Float64Array.from(a as ArrayLike<number>), k);
  const inv = new Float64Array(k * k);
  const col = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    col.fill(0);
    col[j] = 1;
    cholSolve(l, k, col);
    for (let i = 0; i < k; i++) inv[i * k + j] = col[i]!;
  }
  return inv;
}

/** Solve L Lᵀ z = b in place (L from `cholesky`). */
function cholSolve(l: Float64Array, k: number, b: Float64Array): void {
  for (let i = 0; i < k; i++) {
    let v = b[i]!;
    for (let p = 0; p < i; p++) v -= l[i * k + p]! * b[p]!;
    b[i] = v / l[i * k + i]!;
  }
  for (let i = k - 1; i >= 0; i--) {
    let v = b[i]!;
    for (let p = i + 1; p < k; p++) v -= l[p * k + i]! * b[p]!;
    b[i] = v / l[i * k + i]!;
  }
}

/**
 * Least-squares weights Ŵ (rows × cols) with Ŵ x ≈ y for every input of the set:
 * (XᵀX) Ŵᵀ = XᵀY, one Cholesky factor shared by all rows. Columns whose input is always
 * zero are left at Ŵ = 0 (they are unobservable).
 */
export function leastSquaresWeights(x: ArrayLike<number>, y: ArrayLike<number>, s: MatrixShape): Float64Array {
  if (s.n < s.cols) throw new ArgumentError("n", `at least cols (${s.cols}) inputs for a least-squares estimate`, s.n);
  const k = s.cols;
  const g = new Float64Array(k * k);
  const xf = Float64Array.from(x as ArrayLike<number>);
  for (let b = 0; b < s.n; b++) {
    const o = b * k;
    for (let i = 0; i < k; i++) {
      const xi = xf[o + i]!;
      if (xi === 0) continue;
      const gi = i * k;
      for (let j = 0; j <= i; j++) g[gi + j] = g[gi + j]! + xi * xf[o + j]!;
    }
  }
  const active: number[] = [];
  for (let i = 0; i < k; i++) if (g[i * k + i]! > 0) active.push(i);
  const m = active.length;
  const ga = new Float64Array(m * m);
  for (let a = 0; a < m; a++) for (let c = 0; c <= a; c++) ga[a * m + c] = g[active[a]! * k + active[c]!]!;
  for (let a = 0; a < m; a++) for (let c = a + 1; c < m; c++) ga[a * m + c] = ga[c * m + a]!;
  const l = cholesky(ga, m);
  const what = new Float64Array(s.rows * k);
  const rhs = new Float64Array(m);
  for (let r = 0; r < s.rows; r++) {
    rhs.fill(0);
    for (let b = 0; b < s.n; b++) {
      const yv = y[b * s.rows + r] as number;
      if (yv === 0) continue;
      const o = b * k;
      for (let a = 0; a < m; a++) rhs[a] = rhs[a]! + xf[o + active[a]!]! * yv;
    }
    cholSolve(l, m, rhs);
    for (let a = 0; a < m; a++) what[r * k + active[a]!] = rhs[a]!;
  }
  return what;
}

/** ‖a − b‖₂ / ‖ref‖₂ over all elements. */
export function normalisedError(a: ArrayLike<number>, b: ArrayLike<number>, ref: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += ((a[i] as number) - (b[i] as number)) ** 2;
    den += (ref[i] as number) ** 2;
  }
  return Math.sqrt(num / den);
}

/** Normalised MVM error norms of the paper's Eqs. 2–4 (fractions: 0.05 is 5 %). */
export interface MvmErrors {
  /** ε_total: ‖y_exp − y_fp‖₂ / ‖y_fp‖₂. */
  total: number;
  /** ε_linear: ‖Ŵx − y_fp‖₂ / ‖y_fp‖₂ (Ŵ the least-squares weights of the measured outputs). */
  linear: number;
  /** ε_residual: ‖y_exp − Ŵx‖₂ / ‖y_fp‖₂. */
  residual: number;
}

/**
 * The three normalised error norms of Eqs. 2–4 for one core, in float64.
 * @param w - the weights W, rows × cols row-major
 * @param x - the inputs X, n × cols
 * @param yExp - the measured outputs, n × rows (in units of W·x)
 * @returns the errors and Ŵ, the least-squares weights (rows × cols)
 * @throws {@link ArgumentError} when n \< cols (Ŵ needs at least cols inputs); Error when XᵀX is singular
 */
export function mvmErrors(w: ArrayLike<number>, x: ArrayLike<number>, yExp: ArrayLike<number>, s: MatrixShape): MvmErrors & { what: Float64Array } {
  const yFp = matmulT(w, x, s);
  const what = leastSquaresWeights(x, yExp, s);
  const yLin = matmulT(what, x, s);
  return {
    total: normalisedError(yExp, yFp, yFp),
    linear: normalisedError(yLin, yFp, yFp),
    residual: normalisedError(yExp, yLin, yFp),
    what,
  };
}

/**
 * Weight error std(W − Ŵ)/Wmax in `bins` equal bins of the target weight over
 * [−Wmax, Wmax] (Fig. 2c). Returns bin centres (as fractions of Wmax) and errors
 * (NaN for bins with fewer than 2 weights).
 */
export function weightErrorByTarget(w: ArrayLike<number>, what: ArrayLike<number>, wmax: number, bins = 11): { target: number; error: number; count: number }[] {
  const sum = new Float64Array(bins);
  const sum2 = new Float64Array(bins);
  const cnt = new Float64Array(bins);
  for (let i = 0; i < w.length; i++) {
    const t = (w[i] as number) / wmax;
    const b = Math.min(bins - 1, Math.max(0, Math.floor(((t + 1) / 2) * bins)));
    const e = ((w[i] as number) - (what[i] as number)) / wmax;
    sum[b] = sum[b]! + e;
    sum2[b] = sum2[b]! + e * e;
    cnt[b] = cnt[b]! + 1;
  }
  return Array.from({ length: bins }, (_, b) => {
    const n = cnt[b]!;
    const mean = n ? sum[b]! / n : 0;
    return {
      target: -1 + ((b + 0.5) * 2) / bins,
      error: n > 1 ? Math.sqrt(Math.max(0, sum2[b]! / n - mean * mean)) : NaN,
      count: n,
    };
  });
}

/** Symmetric N-bit quantisation of v to the grid k·Wmax/(2^(N−1) − 1); N = 1 is sign·Wmax. */
export function quantiseWeight(v: number, wmax: number, bits: number): number {
  if (bits <= 1) return v === 0 ? 0 : Math.sign(v) * wmax;
  const levels = 2 ** (bits - 1) - 1;
  const step = wmax / levels;
  return Math.max(-levels, Math.min(levels, Math.round(v / step))) * step;
}

/** Symmetric 8-bit (or `bits`) quantisation of every value to ±127 steps of max|v|/127. */
export function quantiseOutputs(y: ArrayLike<number>, bits = 8): Float64Array {
  let m = 0;
  for (let i = 0; i < y.length; i++) m = Math.max(m, Math.abs(y[i] as number));
  const levels = 2 ** (bits - 1) - 1;
  const out = new Float64Array(y.length);
  if (m === 0) return out;
  const step = m / levels;
  for (let i = 0; i < y.length; i++) out[i] = Math.round((y[i] as number) / step) * step;
  return out;
}

/**
 * Normalised ε_total of the ideal digital engine with N-bit weights (N = 1..8) and 8-bit
 * inputs (x must already be 8-bit values) and outputs (scaled to max |y|) on (W, X).
 */
export function digitalEngineErrors(w: ArrayLike<number>, x: ArrayLike<number>, s: MatrixShape, wmax: number, maxBits = 8): number[] {
  const yFp = matmulT(w, x, s);
  const out: number[] = [];
  for (let bits = 1; bits <= maxBits; bits++) {
    const wq = Float64Array.from(w as ArrayLike<number>, (v) => quantiseWeight(v, wmax, bits));
    out.push(normalisedError(quantiseOutputs(matmulT(wq, x, s)), yFp, yFp));
  }
  return out;
}

/**
 * The equivalent digital bits: the (interpolated, in log error) N at which the digital
 * engine's error equals `error`. Clamped to [1, maxBits] with `clamped` set.
 * @param error - a normalised ε_total (\> 0)
 * @param engine - the digital engine's ε_total with 1, 2, … bit weights (decreasing)
 * @throws {@link ArgumentError} when `error` is not positive
 */
export function equivalentBits(error: number, engine: number[]): { bits: number; clamped: boolean } {
  if (!(error > 0)) throw new ArgumentError("error", "a positive number", error);
  if (error >= engine[0]!) return { bits: 1, clamped: true };
  for (let i = 1; i < engine.length; i++) {
    const hi = engine[i - 1]!;
    const lo = engine[i]!;
    if (error >= lo) {
      const f = (Math.log(hi) - Math.log(error)) / (Math.log(hi) - Math.log(lo));
      return { bits: i + f, clamped: false };
    }
  }
  return { bits: engine.length, clamped: true };
}
