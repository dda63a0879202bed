import { test } from "uvu";
import * as assert from "uvu/assert";
import { gzipSync } from "node:zlib";
import { idxImages, parseIdx } from "../../../lib/network/idx.ts";

function idx(dims: number[], data: number[]): Uint8Array {
  const head = new Uint8Array(4 + 4 * dims.length);
  head[2] = 0x08;
  head[3] = dims.length;
  const v = new DataView(head.buffer);
  dims.forEach((d, i) => v.setUint32(4 + 4 * i, d));
  return Uint8Array.from([...head, ...data]);
}

test("IDX images, plain and gzip, scaled", () => {
  const raw = idx([2, 2, 3], [0, 255, 51, 1, 2, 3, 10, 20, 30, 40, 50, 60]);
  for (const bytes of [raw, gzipSync(raw)]) {
    const p = parseIdx(bytes);
    assert.equal(p.dims, [2, 2, 3]);
    const imgs = idxImages(p);
    assert.is(imgs.length, 2);
    assert.ok(Math.abs(imgs[0]![1]! - 1) < 1e-7 && Math.abs(imgs[0]![2]! - 0.2) < 1e-7);
    assert.is(idxImages(p, 1, 1).length, 1);
  }
  assert.equal(Array.from(parseIdx(idx([3], [7, 8, 9])).data), [7, 8, 9]);
});

test("bad IDX data: one clear error", () => {
  assert.throws(() => parseIdx(Uint8Array.from([1, 2, 3, 4, 5])), /an IDX file \(magic 00 00 type dims\)/);
  assert.throws(() => parseIdx(idx([10, 10], [1, 2, 3])), /100 data bytes after the header/);
  assert.throws(() => parseIdx(Uint8Array.from([0x1f, 0x8b, 1, 2, 3])), /a readable gzip stream/);
  const wrongType = idx([1], [0]);
  wrongType[2] = 0x0d;
  assert.throws(() => parseIdx(wrongType), /unsigned bytes/);
  assert.throws(() => idxImages(parseIdx(idx([4], [1, 2, 3, 4]))), /N × H × W or N × C × H × W images/);
});

test.run();
