import { test } from "uvu";
import * as assert from "uvu/assert";
import { WasmRuntime, instantiateKernels, withScratch } from "../../../lib/runtime/wasm.ts";

test("one runtime per process over a shared, growable memory", () => {
  const rt = WasmRuntime.get();
  assert.is(WasmRuntime.get(), rt);
  assert.instance(rt.memory.buffer, SharedArrayBuffer);
  assert.ok(rt.kernels.heapBase() > 0);
  assert.is(rt.maxBytes, 2 ** 31);
});

test("a second instance on the same memory sees the same bytes (worker model)", () => {
  const rt = WasmRuntime.get();
  const other = instantiateKernels(rt.module, rt.memory);
  assert.is(other.heapBase(), rt.kernels.heapBase());
  withScratch(256, (ptr) => {
    rt.f32(ptr, 4).set([1.5, -2, 3, 4]);
    assert.equal(Array.from(new Float32Array(rt.memory.buffer, ptr, 4)), [1.5, -2, 3, 4]);
  });
});

test.run();
