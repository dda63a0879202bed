import { test } from "uvu";
import * as assert from "uvu/assert";
import { Arena, WasmMemoryExhaustedError } from "../../../lib/runtime/arena.ts";

function arena(maxPages = 8) {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: maxPages, shared: true });
  return { memory, arena: new Arena(memory, 1000, maxPages) };
}

test("regions are aligned, disjoint and zero-filled", () => {
  const { memory, arena: a } = arena();
  const p1 = a.alloc(100);
  const p2 = a.alloc(3000, 4096);
  const p3 = a.alloc(10);
  assert.is(p1 % 64, 0);
  assert.is(p2 % 4096, 0);
  assert.ok(p1 >= 1000);
  assert.ok(p1 + 100 <= p2);
  assert.ok(p2 + 3000 <= p3 || p3 + 10 <= p2);
  new Uint8Array(memory.buffer, p1, 100).fill(7);
  a.free(p1);
  const p4 = a.alloc(64);
  assert.is(p4, p1, "first fit reuses the freed block");
  assert.ok(new Uint8Array(memory.buffer, p4, 64).every((b) => b === 0));
});

test("freed neighbours coalesce so a large block fits again", () => {
  const { arena: a } = arena();
  const ps = [a.alloc(1024), a.alloc(1024), a.alloc(1024), a.alloc(1024)];
  const guard = a.alloc(64);
  for (const p of ps) a.free(p);
  const big = a.alloc(4096);
  assert.is(big, ps[0]);
  assert.ok(big + 4096 <= guard);
});

test("grows memory by pages and reports exhaustion clearly", () => {
  const { memory, arena: a } = arena(4);
  const p = a.alloc(3 * 65536);
  assert.ok(memory.buffer.byteLength >= p + 3 * 65536);
  try {
    a.alloc(2 * 65536);
    assert.unreachable("should have thrown");
  } catch (e) {
    assert.instance(e, WasmMemoryExhaustedError);
    assert.match((e as Error).message, /requested 0\.1 MiB/);
    assert.match((e as Error).message, /dispose\(\)/);
  }
});

test("bad arguments are rejected with the argument named", () => {
  const { arena: a } = arena();
  assert.throws(() => a.alloc(0), /bytes must be a positive integer/);
  assert.throws(() => a.alloc(10, 3), /align must be a power of two/);
  assert.throws(() => a.free(12345), /not a live arena region/);
});

test.run();
