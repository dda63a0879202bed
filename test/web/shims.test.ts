// The browser shims of web/src/shims/ against Node's own modules: the SHA-256 behind RunTally's
// digest (so that the page's `digest` can equal the CLI's) on every padding boundary.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHash } from "node:crypto";
import { createHash as shimHash, sha256 } from "../../web/src/shims/crypto.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

test("sha256 equals node:crypto for lengths 0..300 and a 1 MB input", () => {
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
  for (let n = 0; n <= 300; n++) {
    const data = Uint8Array.from({ length: n }, rnd);
    assert.is(hex(sha256(data)), createHash("sha256").update(data).digest("hex"), `length ${n}`);
  }
  const big = Uint8Array.from({ length: 1 << 20 }, rnd);
  assert.is(hex(sha256(big)), createHash("sha256").update(big).digest("hex"));
  assert.is(hex(sha256(new TextEncoder().encode("abc"))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
});

test("createHash chains update() over typed-array views like node:crypto", () => {
  const a = new Uint8Array(32).fill(7);
  const v = new Int8Array([1, -2, 3, -128, 127]);
  const sub = new Int8Array(new Int8Array([9, 9, 1, -2, 3, -128, 127, 9]).buffer, 2, 5);
  const want = createHash("sha256").update(a).update(v).digest("hex");
  assert.is(hex(shimHash("sha256").update(a).update(v).digest()), want);
  assert.is(hex(shimHash("sha256").update(a).update(sub).digest()), want);
  assert.throws(() => shimHash("md5"), /only sha256/);
});

test.run();
