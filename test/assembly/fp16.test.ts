// binary16 against independent references: @petamoriken/float16 for conversions
// (exhaustively), and exact BigInt arithmetic for add, multiply and the fused FMA.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { getFloat16, setFloat16 } from "@petamoriken/float16";
import { fmaHalf, fromHalf, toHalf } from "../../lib/chip/fp16.ts";
import { WasmRuntime } from "../../lib/runtime/wasm.ts";

const rt = WasmRuntime.get();
const k = rt.kernels;
const dv = new DataView(new ArrayBuffer(4));

function refFromHalf(h: number): number {
  dv.setUint16(0, h);
  return getFloat16(dv, 0);
}
function refToHalf(x: number): number {
  setFloat16(dv, 0, x);
  return dv.getUint16(0);
}
const isNaNHalf = (h: number) => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;

let seed = 99;
const rnd32 = () => (seed = (Math.imul(seed ^ (seed >>> 15), 2246822507) + 0x9e3779b9) >>> 0);

test("f16 → f32 and f64 on all 65,536 patterns; round trip through f32 is the identity", () => {
  const f32 = new Float32Array(1);
  for (let h = 0; h < 65536; h++) {
    const ref = refFromHalf(h);
    const a = k.f16ToF64(h);
    const b = k.f16ToF32(h);
    if (Number.isNaN(ref)) {
      assert.ok(Number.isNaN(a) && Number.isNaN(b), `NaN ${h}`);
      assert.ok(isNaNHalf(k.f32ToF16(b)), `NaN stays NaN (${h})`);
      continue;
    }
    assert.ok(Object.is(a, ref) && Object.is(b, (f32[0] = ref, f32[0])), `h=${h.toString(16)}: ${a} ${b} vs ${ref}`);
    assert.is(k.f32ToF16(b), h, `round trip ${h.toString(16)}`);
  }
});

test("f32 → f16 at every midpoint (ties to even), ±1 f32 ulp around it, and at the edges", () => {
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  let checked = 0;
  for (let h = 0; h < 0x7c00; h++) {
    const lo = refFromHalf(h);
    const hi = refFromHalf(h + 1);
    const mid = (lo + hi) / 2; // exact in f64, and in f32 (halves have 11 bits)
    for (const sign of [1, -1]) {
      f32[0] = sign * mid;
      const base = u32[0]!;
      for (const d of [-1, 0, 1]) {
        u32[0] = base + d;
        const x = f32[0]!;
        assert.is(k.f32ToF16(x), refToHalf(x), `x=${x}`);
        checked++;
      }
    }
  }
  for (const x of [65504, 65519.99, 65520, 65536, 1e10, Infinity, -65520, 2 ** -24, 2 ** -25, 2 ** -25 * 1.0000001, 2 ** -14, 2 ** -14 - 2 ** -25, 0, -0]) {
    assert.is(k.f64ToF16(x), refToHalf(x), `x=${x}`);
  }
  assert.is(checked, 0x7c00 * 2 * 3);
});

test("f32 → f16 on 1,000,000 random f32 bit patterns (bulk kernel)", () => {
  const n = 1_000_000;
  const inp = rt.alloc(n * 4);
  const out = rt.alloc(n * 2);
  try {
    const u = rt.u32(inp, n);
    for (let i = 0; i < n; i++) u[i] = rnd32();
    k.f32ToF16Array(inp, out, n);
    const f = rt.f32(inp, n);
    const h = rt.u16(out, n);
    for (let i = 0; i < n; i++) {
      const x = f[i]!;
      if (Number.isNaN(x)) {
        assert.ok(isNaNHalf(h[i]!));
        continue;
      }
      if (h[i] !== refToHalf(x)) assert.is(h[i], refToHalf(x), `x=${x}`);
    }
  } finally {
    rt.free(out);
    rt.free(inp);
  }
});

// Exact reference: a finite half is m · 2^e with integer m and e ≥ −24; everything is
// scaled by 2^48 so products (e ≥ −48) are integers too.
function decode(h: number): { n: bigint; finite: boolean } {
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  const s = h & 0x8000 ? -1n : 1n;
  if (e === 31) return { n: 0n, finite: false };
  const mant = BigInt(e === 0 ? m : m + 1024);
  const exp = e === 0 ? -24 : e - 25; // value = mant · 2^exp
  return { n: s * (mant << BigInt(exp + 48)), finite: true };
}
/** Round N · 2^−SHIFT (SHIFT = 48 or 96) to the nearest half, ties to even; as a number. */
function roundExact(N: bigint, SHIFT: number): number {
  if (N === 0n) return 0;
  const neg = N < 0n;
  const a = neg ? -N : N;
  const bitlen = a.toString(2).length;
  const e = bitlen - 1 - SHIFT; // 2^e ≤ |x| < 2^(e+1)
  const q = Math.max(e, -14) - 10; // grid step 2^q (normal: 11 bits; subnormal: 2^-24)
  const sh = BigInt(q + SHIFT);
  let m = a >> sh;
  const r = a - (m << sh);
  const halfUlp = 1n << (sh - 1n);
  if (r > halfUlp || (r === halfUlp && (m & 1n) === 1n)) m += 1n;
  const v = Number(m) * 2 ** q;
  const out = v >= 65520 ? Infinity : v; // 65520 itself is a tie that rounds to even: Inf
  return neg ? -out : out;
}

test("fused FMA, add and multiply equal exact arithmetic rounded once (250,000 triples)", () => {
  const pick = (): number => {
    const r = rnd32();
    // Mix: all patterns, small subnormals, and values near 1 (cancellation when c ≈ −a·b).
    if (r % 4 === 0) return r >>> 16 & 0x83ff; // subnormals and zero
    if (r % 4 === 1) return ((r >>> 16) & 0x8000) | (0x3800 + ((r >>> 8) & 0x7ff)); // ~0.5..2
    return (r >>> 16) & 0xffff;
  };
  let n = 0;
  for (let t = 0; t < 250_000; t++) {
    const a = pick();
    const b = pick();
    let c = pick();
    if (t % 5 === 0) {
      // c ≈ −a·b: the hardest cancellation cases.
      const p = k.f16Mul(a, b);
      c = p ^ 0x8000;
      if (t % 10 === 0) c = (c & 0x8000) | Math.max(0, (c & 0x7fff) - (rnd32() & 3));
    }
    const A = decode(a);
    const B = decode(b);
    const C = decode(c);
    if (!A.finite || !B.finite || !C.finite) continue;
    const fma = roundExact(A.n * B.n + (C.n << 48n), 96);
    const got = fromHalf(fmaHalf(a, b, c));
    assert.ok(got === fma || (got === 0 && fma === 0), `fma(${a.toString(16)}, ${b.toString(16)}, ${c.toString(16)}) = ${got}, exact ${fma}`);
    const add = roundExact(A.n + C.n, 48);
    assert.ok(k.f16ToF64(k.f16Add(a, c)) === add || add === 0, `add ${a} ${c}`);
    const mul = roundExact(A.n * B.n, 96);
    assert.ok(k.f16ToF64(k.f16Mul(a, b)) === mul || mul === 0, `mul ${a} ${b}`);
    n++;
  }
  assert.ok(n > 200_000);
  // Inf − Inf is NaN; NaN propagates.
  assert.is(k.f16Fma(0x7c00, 0x3c00, 0xfc00), 0x7e00);
  assert.is(k.f16Add(0x7e00, 0x3c00), 0x7e00);
});

test("LDPU conversions: 12-bit counts, INT8 in and out, ReLU", () => {
  for (let v = 0; v < 4096; v++) assert.is(k.u12ToF16(v), refToHalf(v), `u12 ${v}`);
  for (let v = -128; v < 128; v++) assert.is(k.f16ToF64(k.i8ToF16(v)), v);
  for (let h = 0; h < 65536; h++) {
    const x = refFromHalf(h);
    const want = Number.isNaN(x) ? 0 : Math.min(127, Math.max(-128, roundHalfEven(x)));
    assert.is(k.f16ToI8Sat(h), want, `h=${h.toString(16)} x=${x}`);
    const relu = k.f16Relu(h);
    assert.is(relu, h & 0x8000 ? 0 : h);
  }
  assert.is(toHalf(1.5), 0x3e00);
  assert.throws(() => fromHalf(70000), /h must be a binary16 bit pattern, an integer in 0..65535, got 70000/);
  assert.throws(() => fmaHalf(1, 2, -1), /c must be a binary16 bit pattern/);
});

function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

test.run();
