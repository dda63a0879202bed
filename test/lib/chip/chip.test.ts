import { test } from "uvu";
import * as assert from "uvu/assert";
import { Chip } from "../../../lib/chip/chip.ts";
import { CELLS } from "../../../lib/chip/core.ts";
import { WasmRuntime } from "../../../lib/runtime/wasm.ts";

test("a physical chip has 64 cores on an 8x8 grid with disjoint device planes", () => {
  const chip = Chip.create({ seed: 7 });
  try {
    assert.is(chip.cores.length, 64);
    assert.is(chip.seed, 7n);
    assert.is(chip.fidelity, "physical");
    const c = chip.core(13);
    assert.is(c.row, 1);
    assert.is(c.col, 5);
    assert.is(c.label, "Core(2,6)");
    assert.is(chip.coreAt(1, 5), c);
    assert.is(chip.bytes, 64 * (CELLS * 4 * 4 + CELLS * 2 + 256 * 48));
    // Writing one core's plane must not touch another's.
    chip.core(0).devicePlane(3).fill(1);
    chip.core(1).readPlane().fill(2);
    assert.is(chip.core(1).devicePlane(0)[0], 0);
    assert.is(chip.core(0).readPlane()[CELLS - 1], 0);
    assert.is(chip.core(0).devicePlane(3)[CELLS - 1], 1);
    assert.ok(chip.core(0).devicePlane(0).byteOffset % 64 === 0);
  } finally {
    chip.dispose();
  }
});

test("functional fidelity holds no device planes", () => {
  const chip = Chip.create({ fidelity: "functional" });
  assert.is(chip.bytes, 64 * CELLS * 2);
  assert.throws(() => chip.core(0).devicePlane(0), /no device planes at functional fidelity/);
  chip.dispose();
});

test("dispose returns the memory, is idempotent, and a disposed chip refuses use", () => {
  const rt = WasmRuntime.get();
  const before = rt.arena.usedBytes;
  const chip = Chip.create();
  assert.ok(rt.arena.usedBytes > before);
  chip.dispose();
  chip.dispose();
  assert.is(rt.arena.usedBytes, before);
  assert.throws(() => chip.core(0), /disposed/);
});

test("bad arguments get one clear error naming the argument", () => {
  assert.throws(() => Chip.create({ seed: -1 }), /seed must be a non-negative safe integer/);
  assert.throws(() => Chip.create({ seed: 1.5 }), /seed must be/);
  assert.throws(() => Chip.create({ seed: "3" as never }), /seed must be .*got "3"/);
  assert.throws(() => Chip.create({ seed: 1n << 64n }), /seed must be/);
  assert.throws(() => Chip.create({ fidelity: "exact" as never }), /fidelity must be one of "physical", "functional", got "exact"/);
  assert.throws(() => Chip.create({ sed: 1 } as never), /unknown option Chip.create options.sed; known options are seed, fidelity/);
  const chip = Chip.create({ fidelity: "functional" });
  assert.throws(() => chip.core(64), /core index must be an integer in 0..63, got 64/);
  assert.throws(() => chip.core(-1), /core index/);
  assert.throws(() => chip.coreAt(8, 0), /row must be an integer in 0..7/);
  chip.dispose();
});

test("many chips can be created and disposed without leaking (arena reuse)", () => {
  const rt = WasmRuntime.get();
  const before = rt.arena.usedBytes;
  for (let i = 0; i < 40; i++) Chip.create({ seed: i }).dispose();
  assert.is(rt.arena.usedBytes, before);
  assert.ok(rt.bytes < 200 * 2 ** 20, `memory stayed bounded (${rt.bytes} bytes)`);
});

test.run();
