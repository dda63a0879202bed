// lib/chip/rng.ts: the TypeScript Philox4x32-10 twin (known answers, a BigInt reference),
// its uniforms and Box–Muller normals, stream ids, seed checks and the wasm facade.
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  CHIP_CORE, Purpose, decodeStreamId, kernelArgs, normals, streamId, streamIdFromBigInt, streamIdToBigInt, toStreamId, words64,
} from "../../../lib/chip/rng.ts";
import {
  boxMullerOfWords, twinBlock, twinNormalsF32, twinNormalsF64, twinU32Words, twinUniformsF32, uniformF32OfWord, uniformF64OfWord,
} from "../../../lib/chip/rng-twin.ts";
import { ArgumentError } from "../../../lib/runtime/validate.ts";
import { PURPOSE_INPUTS, PURPOSE_WEIGHTS } from "../../../lib/chip/workload.ts";

function hex(words: ArrayLike<number>): string {
  return Array.from(words, (w) => (w >>> 0).toString(16).padStart(8, "0")).join(" ");
}

/** Philox4x32-10 written directly from the paper with BigInt arithmetic (slow, independent). */
function philoxBigInt(ctr: bigint[], key: bigint[]): bigint[] {
  const MASK = 0xffffffffn;
  let [c0, c1, c2, c3] = ctr as [bigint, bigint, bigint, bigint];
  let [k0, k1] = key as [bigint, bigint];
  for (let r = 0; r < 10; r++) {
    const p0 = 0xd2511f53n * c0;
    const p1 = 0xcd9e8d57n * c2;
    [c0, c1, c2, c3] = [(p1 >> 32n) ^ c1 ^ k0, p1 & MASK, (p0 >> 32n) ^ c3 ^ k1, p0 & MASK];
    k0 = (k0 + 0x9e3779b9n) & MASK;
    k1 = (k1 + 0xbb67ae85n) & MASK;
  }
  return [c0, c1, c2, c3];
}

test("Philox4x32-10 known-answer vectors (Random123 kat_vectors) from the TypeScript twin", () => {
  assert.is(hex(twinBlock(0, 0, 0, 0, 0, 0)), "6627e8d5 e169c58d bc57ac4c 9b00dbd8");
  assert.is(
    hex(twinBlock(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff)),
    "408f276d 41c83b0e a20bc7c6 6d5451fd",
  );
  assert.is(
    hex(twinBlock(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0)),
    "d16cfe09 94fdcceb 5001e420 24126ea1",
  );
  // the same vectors through the BigInt reference (checks the reference itself)
  assert.is(hex(philoxBigInt([0n, 0n, 0n, 0n], [0n, 0n]).map(Number)), "6627e8d5 e169c58d bc57ac4c 9b00dbd8");
});

test("the twin's 32×32→64 multiply matches BigInt Philox on 2000 pseudo-random counters and keys", () => {
  const inputs = twinU32Words(99, { core: 0, purpose: Purpose.MONTE_CARLO }, 6 * 2000);
  const extremes = [0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
  for (let i = 0; i < 2000; i++) {
    const v = Array.from(inputs.subarray(6 * i, 6 * i + 6));
    if (i < 64) for (let j = 0; j < 6; j++) if ((i >> (j % 6)) & 1) v[j] = extremes[(i + j) % extremes.length]!;
    const [c0, c1, c2, c3, k0, k1] = v as [number, number, number, number, number, number];
    const expected = philoxBigInt([c0, c1, c2, c3].map(BigInt), [k0, k1].map(BigInt)).map(Number);
    assert.equal(Array.from(twinBlock(c0, c1, c2, c3, k0, k1)), expected, `case ${i}: ${hex(v)}`);
  }
});

test("twin fills: word i = word i mod 4 of block firstBlock + i div 4; key = seed, counter = (block, stream)", () => {
  const seed = 0xfedcba9876543210n;
  const s = { lo: 0x11223344, hi: 0x55667788 };
  const first = 0x1fffffffdn; // crosses into block high word 2
  const w = twinU32Words(seed, s, 22, first);
  for (let i = 0; i < 22; i++) {
    const b = first + BigInt(i >> 2);
    const expected = philoxBigInt([b & 0xffffffffn, b >> 32n, BigInt(s.lo), BigInt(s.hi)], [0x76543210n, 0xfedcba98n]);
    assert.is(w[i], Number(expected[i & 3]));
  }
  // uniforms: 23 bits, centred in their bins, exact in f32
  const u = twinUniformsF32(seed, s, 22, first);
  for (let i = 0; i < 22; i++) assert.is(u[i], ((w[i]! >>> 9) + 0.5) / 2 ** 23);
});

test("uniforms of single words: (0, 1) exclusive at both ends and exact", () => {
  assert.is(uniformF32OfWord(0), 2 ** -24);
  assert.is(uniformF32OfWord(0xffffffff), 1 - 2 ** -24);
  assert.is(Math.fround(uniformF32OfWord(0xffffffff)), 1 - 2 ** -24); // representable: stays below 1 as f32
  assert.is(uniformF64OfWord(0), 2 ** -25);
  assert.is(uniformF64OfWord(0xffffffff), 1 - 2 ** -25);
  assert.is(uniformF64OfWord(0x80000000), 0.5 + 2 ** -25);
  assert.is(uniformF32OfWord(0x12345678), ((0x12345678 >>> 9) + 0.5) * 2 ** -23);
});

test("Box–Muller of word pairs agrees with Math.log/cos/sin to a few ulp, including extremes and quadrant edges", () => {
  const words: number[] = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffeff, 0xffffff00];
  // angle words around the quadrant boundaries θ = kπ/4 (u2 = k/8, word ≈ k·2^29)
  for (let q = 0; q <= 8; q++) for (const d of [-0x181, -0x80, -1, 0, 1, 0x7f, 0x80, 0x17f]) words.push((q * 2 ** 29 + d) >>> 0);
  const us = twinU32Words(5, { core: 0, purpose: Purpose.MONTE_CARLO }, 20000);
  let maxErr = 0;
  const check = (a: number, b: number): void => {
    const [z0, z1] = boxMullerOfWords(a, b) as [number, number];
    const u1 = uniformF64OfWord(a), u2 = uniformF64OfWord(b);
    const r = Math.sqrt(-2 * Math.log(u1)), t = 2 * Math.PI * u2;
    const e = Math.max(Math.abs(z0 - r * Math.cos(t)), Math.abs(z1 - r * Math.sin(t)));
    assert.ok(e < 1e-14, `words ${hex([a, b])}: (${z0}, ${z1}) vs (${r * Math.cos(t)}, ${r * Math.sin(t)})`);
    assert.ok(Math.abs(Math.hypot(z0, z1) - r) < 1e-14);
    maxErr = Math.max(maxErr, e);
  };
  for (const a of words) for (const b of words) check(a, b);
  for (let i = 0; i + 1 < us.length; i += 2) check(us[i]!, us[i + 1]!);
  // the largest radius: u1 = 2^-25
  const [z0, z1] = boxMullerOfWords(0, 0) as [number, number];
  assert.ok(Math.abs(Math.hypot(z0, z1) - Math.sqrt(50 * Math.LN2)) < 1e-14, `r max ${Math.hypot(z0, z1)}`);
});

test("twin normals: moments of 2^18 values, pair order and the odd tail", () => {
  const n = 1 << 18;
  const z = twinNormalsF64(2024, { core: 11, purpose: Purpose.READ_NOISE }, n);
  let s = 0, s2 = 0, s3 = 0, s4 = 0;
  for (const x of z) {
    s += x;
    s2 += x * x;
    s3 += x * x * x;
    s4 += x * x * x * x;
  }
  const mean = s / n, m2 = s2 / n, m3 = s3 / n, m4 = s4 / n; // raw moments of N(0,1): 0, 1, 0, 3
  assert.ok(Math.abs(mean) < 4 / Math.sqrt(n), `mean ${mean}`);
  assert.ok(Math.abs(m2 - 1) < 4 * Math.sqrt(2 / n), `E z² ${m2}`);
  assert.ok(Math.abs(m3) < 4 * Math.sqrt(15 / n), `E z³ ${m3}`);
  assert.ok(Math.abs(m4 - 3) < 4 * Math.sqrt(96 / n), `E z⁴ ${m4}`);
  const w = twinU32Words(2024, { core: 11, purpose: Purpose.READ_NOISE }, 8);
  assert.equal(Array.from(z.subarray(0, 8)), [
    ...boxMullerOfWords(w[0]!, w[1]!), ...boxMullerOfWords(w[2]!, w[3]!),
    ...boxMullerOfWords(w[4]!, w[5]!), ...boxMullerOfWords(w[6]!, w[7]!),
  ]);
  assert.equal(Array.from(twinNormalsF64(2024, { core: 11, purpose: Purpose.READ_NOISE }, 7)), Array.from(z.subarray(0, 7)));
  assert.equal(Array.from(twinNormalsF32(2024, { core: 11, purpose: Purpose.READ_NOISE }, 7)), Array.from(z.subarray(0, 7), Math.fround));
});

test("streamId packs core, purpose, trial and step (8 + 8 + 24 + 24 bits) and round-trips", () => {
  assert.equal(streamId({ core: 5, purpose: 9, trial: 0x123456, step: 0xabcdef }), { lo: 0x34560905, hi: 0xabcdef12 });
  assert.equal(streamId({ core: 0, purpose: 0 }), { lo: 0, hi: 0 });
  assert.equal(streamId({ core: CHIP_CORE, purpose: 255, trial: 0xffffff, step: 0xffffff }), { lo: 0xffffffff, hi: 0xffffffff });
  // trial = step = 0 is the (core | purpose << 8, 0) stream of the existing kernels
  assert.equal(streamId({ core: 17, purpose: Purpose.WEIGHTS }), { lo: 17 | (PURPOSE_WEIGHTS << 8), hi: 0 });
  for (const core of [0, 1, 31, 62, 63, CHIP_CORE]) {
    for (const purpose of [0, 1, 127, 128, 255]) {
      for (const trial of [0, 1, 0xffff, 0x10000, 0x7fffff, 0x800000, 0xffffff]) {
        for (const step of [0, 1, 0x80, 0xffff, 0x800000, 0xffffff]) {
          const id = streamId({ core, purpose, trial, step });
          assert.equal(decodeStreamId(id), { core, purpose, trial, step });
          const big = streamIdToBigInt(id);
          assert.is(big, BigInt(core) | (BigInt(purpose) << 8n) | (BigInt(trial) << 16n) | (BigInt(step) << 40n));
          assert.equal(streamIdFromBigInt(big), id);
          assert.ok(id.lo >= 0 && id.lo <= 0xffffffff && id.hi >= 0 && id.hi <= 0xffffffff);
        }
      }
    }
  }
  assert.equal(toStreamId(0x0102030405060708n), { lo: 0x05060708, hi: 0x01020304 });
  assert.equal(toStreamId({ core: 1, purpose: 2 }), { lo: 0x201, hi: 0 });
});

test("streamId range errors name the argument and its allowed range", () => {
  const bad: [Record<string, unknown>, string, string][] = [
    [{ core: 64, purpose: 1 }, "core", "0..63"],
    [{ core: -1, purpose: 1 }, "core", "0..63"],
    [{ core: 1.5, purpose: 1 }, "core", "255"],
    [{ core: "3", purpose: 1 }, "core", "0..63"],
    [{ purpose: 1 }, "core", "0..63"],
    [{ core: 0, purpose: 256 }, "purpose", "0..255"],
    [{ core: 0, purpose: -1 }, "purpose", "0..255"],
    [{ core: 0, purpose: 1, trial: 2 ** 24 }, "trial", "0..16777215"],
    [{ core: 0, purpose: 1, trial: 0.5 }, "trial", "0..16777215"],
    [{ core: 0, purpose: 1, step: -1 }, "step", "0..16777215"],
    [{ core: 0, purpose: 1, step: NaN }, "step", "0..16777215"],
  ];
  for (const [fields, name, range] of bad) {
    try {
      streamId(fields as never);
      assert.unreachable(`accepted ${JSON.stringify(fields)}`);
    } catch (e) {
      assert.instance(e, RangeError);
      assert.instance(e, ArgumentError);
      const msg = (e as Error).message;
      assert.ok(msg.startsWith(`${name} must be`), msg);
      assert.ok(msg.includes(range), msg);
    }
  }
  assert.throws(() => decodeStreamId({ lo: -1, hi: 0 }), /stream must be/);
  assert.throws(() => toStreamId({ lo: 1, hi: 2 ** 32 }), /stream must be/);
});

test("Purpose codes are distinct bytes and agree with the kernels' constants", () => {
  const codes = Object.values(Purpose);
  assert.is(new Set(codes).size, codes.length);
  for (const c of codes) assert.ok(Number.isInteger(c) && c >= 1 && c <= 255);
  for (const name of ["SET_DISTRIBUTION", "DEFECTS", "PROGRAM_NOISE", "DRIFT_NU", "READ_NOISE", "ADC_MISMATCH", "WEIGHTS", "INPUTS", "FUNCTIONAL_NOISE", "MONTE_CARLO"]) {
    assert.ok(name in Purpose, name);
  }
  // assembly/pcm.ts PURPOSE_DEVICE/DEFECT/PROGRAM = 1/2/3; lib/chip/workload.ts exports its own
  assert.is(Purpose.SET_DISTRIBUTION, 1);
  assert.is(Purpose.DEFECTS, 2);
  assert.is(Purpose.PROGRAM_NOISE, 3);
  assert.is(Purpose.WEIGHTS, PURPOSE_WEIGHTS);
  assert.is(Purpose.INPUTS, PURPOSE_INPUTS);
});

test("seeds: a safe non-negative integer and the equal bigint give the same stream; anything else is rejected naming seed", () => {
  const s = { core: 2, purpose: Purpose.MONTE_CARLO };
  assert.equal(twinU32Words(123456789, s, 9), twinU32Words(123456789n, s, 9));
  assert.equal(normals(2 ** 53 - 1, s, 9), normals(2n ** 53n - 1n, s, 9));
  assert.equal(words64(2n ** 64n - 1n), { lo: 0xffffffff, hi: 0xffffffff });
  assert.equal(words64(2 ** 32 + 5), { lo: 5, hi: 1 });
  assert.equal(kernelArgs(2n ** 64n - 1n, { lo: 0x80000000, hi: 1 }, 2n ** 32n + 3n), [-1, -1, -2147483648, 1, 3, 1]);
  // the low/high words are the key: seed 2^32 differs from seed 1
  assert.not.equal(twinU32Words(2 ** 32, s, 4), twinU32Words(1, s, 4));
  for (const seed of [-1, 1.5, 2 ** 53, NaN, Infinity, -1n, 2n ** 64n, "7", null, undefined, {}]) {
    for (const f of [() => normals(seed as never, s, 4), () => twinU32Words(seed as never, s, 4), () => kernelArgs(seed as never, s)]) {
      try {
        f();
        assert.unreachable(`accepted seed ${String(seed)}`);
      } catch (e) {
        assert.instance(e, RangeError);
        assert.match((e as Error).message, /^seed must be a non-negative safe integer or a bigint below 2\^64/);
      }
    }
  }
  assert.throws(() => normals(1, s, 4, -1), /^firstBlock must be/);
  assert.throws(() => twinNormalsF64(1, s, 4, 2n ** 64n), /^firstBlock must be/);
  assert.throws(() => normals(1, s, -1), /^n must be/);
  assert.throws(() => normals(1, s, 2.5), /^n must be/);
  assert.throws(() => twinU32Words(1, s, 2.5), /^n must be/);
  assert.throws(() => twinNormalsF32(1, s, -4), /^n must be/);
  assert.throws(() => normals(1, { lo: 1.5, hi: 0 }, 4), /^stream must be/);
});

test("the facade returns fresh arrays of the requested length", () => {
  const s = streamId({ core: 8, purpose: Purpose.ADC_MISMATCH });
  const a = normals(7, s, 10);
  const b = normals(7, s, 10);
  assert.instance(a, Float32Array);
  assert.is(a.length, 10);
  assert.is.not(a.buffer, b.buffer);
  assert.ok(!(a.buffer instanceof SharedArrayBuffer));
  assert.equal(a, b);
  assert.is(normals(7, s, 0).length, 0);
});

test.run();
