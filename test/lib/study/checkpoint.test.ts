import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHash } from "node:crypto";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { canonicalJson, openCheckpoint, studyHash, type Study } from "../../../lib/study/checkpoint.ts";

const dir = mkdtempSync(join(tmpdir(), "hermes-ckpt-"));
let n = 0;
const fresh = (): string => join(dir, `c${n++}.jsonl`);
const STUDY: Study = { seed: "42", trials: 3, times: [1, 3600], options: { scheme: "tdp", threads: 2 } };

test("canonical JSON: sorted keys at every depth, no whitespace, undefined left out", () => {
  assert.is(canonicalJson({ b: 1, a: [3, { d: null, c: "x" }], e: undefined }), '{"a":[3,{"c":"x","d":null}],"b":1}');
  assert.is(canonicalJson({ z: 0.1, y: -0, x: 1e21, w: true }), '{"w":true,"x":1e+21,"y":0,"z":0.1}');
  assert.is(canonicalJson({ a: 1, b: 2 }), canonicalJson({ b: 2, a: 1 }));
  assert.throws(() => canonicalJson({ a: { b: NaN } }), /value\.a\.b must be a finite number/);
  assert.throws(() => canonicalJson({ s: 1n }), /value\.s must be a JSON value/);
});

test("study hash: SHA-256 of the canonical JSON, independent of key order", () => {
  const text = '{"options":{"scheme":"tdp","threads":2},"seed":"42","times":[1,3600],"trials":3}';
  assert.is(canonicalJson(STUDY), text);
  const expected = createHash("sha256").update(text).digest("hex");
  assert.is(studyHash(STUDY), expected);
  const reordered = { times: [1, 3600], options: { threads: 2, scheme: "tdp" }, trials: 3, seed: "42" } as Study;
  assert.is(studyHash(reordered), expected);
  assert.is.not(studyHash({ ...STUDY, times: [3600, 1] }), expected);
});

test("append + reload: header line, one canonical line per record, duplicates ignored", () => {
  const p = fresh();
  const c = openCheckpoint(p, STUDY);
  c.append(0, 1, { b: 2.5, a: -0 });
  c.append(0, 3600, { a: 1, b: 0.1 + 0.2 });
  c.append(0, 1, { a: 9, b: 9 }); // already there: not written
  c.close();
  const lines = readFileSync(p, "utf8").split("\n");
  assert.is(lines.length, 4);
  assert.is(lines[3], "");
  const header = JSON.parse(lines[0]!);
  assert.equal(header, { kind: "hermes-sim-checkpoint", study: STUDY, studyHash: studyHash(STUDY), version: 1 });
  assert.is(lines[1], '{"result":{"a":0,"b":2.5},"time":1,"trial":0}');
  assert.is(lines[2], '{"result":{"a":1,"b":0.30000000000000004},"time":3600,"trial":0}');
  // A duplicate written by hand (e.g. two runs racing) is ignored after the first.
  appendFileSync(p, '{"result":{"a":7,"b":7},"time":1,"trial":0}\n');
  const r = openCheckpoint(p, { ...STUDY, options: { threads: 2, scheme: "tdp" } }, { resume: true });
  assert.is(r.size, 2);
  assert.is(r.duplicates, 1);
  assert.is(r.tornLineDropped, false);
  assert.equal(r.get(0, 1), { a: 0, b: 2.5 });
  assert.is(r.get(0, 3600)!["b"], 0.1 + 0.2);
  assert.ok(r.has(0, 3600));
  assert.not.ok(r.has(1, 1));
  r.append(1, 1, { a: 3, b: 4 });
  r.close();
  assert.is(readFileSync(p, "utf8").split("\n").length, 6);
  assert.throws(() => r.append(2, 1, { a: 1 }), /is closed/);
});

test("a torn last line is dropped on resume and truncated away before the next append", () => {
  const p = fresh();
  const c = openCheckpoint(p, STUDY);
  c.append(0, 1, { a: 1 });
  c.append(0, 3600, { a: 2 });
  c.close();
  const whole = '{"result":{"a":3},"time":1,"trial":1}\n';
  appendFileSync(p, whole.slice(0, 20)); // killed mid-write
  const r = openCheckpoint(p, STUDY, { resume: true });
  assert.is(r.tornLineDropped, true);
  assert.is(r.size, 2);
  assert.not.ok(r.has(1, 1));
  r.append(1, 1, { a: 3 });
  r.close();
  const lines = readFileSync(p, "utf8").split("\n");
  assert.is(lines.length, 5);
  assert.is(lines[3] + "\n", whole);
  const again = openCheckpoint(p, STUDY, { resume: true });
  assert.is(again.tornLineDropped, false);
  assert.is(again.size, 3);
  assert.equal(again.get(1, 1), { a: 3 });
  again.close();
});

test("a corrupt complete line is an error naming the file and line", () => {
  const p = fresh();
  openCheckpoint(p, STUDY).close();
  appendFileSync(p, '{"result":{"a":1},"time":1,"trial":0}\n{"resu\n');
  assert.throws(() => openCheckpoint(p, STUDY, { resume: true }), (e: Error) => e.message.includes(p) && /line 3 is not JSON/.test(e.message));
  const q = fresh();
  openCheckpoint(q, STUDY).close();
  appendFileSync(q, '{"result":{"a":1},"time":2,"trial":0}\n');
  assert.throws(() => openCheckpoint(q, STUDY, { resume: true }), /line 2: time 2 is not one of the study's times/);
  const h = fresh();
  writeFileSync(h, '{"kind":"hermes-sim-chec');
  assert.throws(() => openCheckpoint(h, STUDY, { resume: true }), /has no complete header line/);
});

test("header mismatch: a clear error naming what differs", () => {
  const p = fresh();
  openCheckpoint(p, STUDY).close();
  assert.throws(
    () => openCheckpoint(p, { ...STUDY, trials: 5, options: { scheme: "odp", threads: 2 } }, { resume: true }),
    (e: Error) =>
      e.name === "CheckpointError" &&
      e.message.includes(p) &&
      e.message.includes('options.scheme is "tdp" there, "odp" here') &&
      e.message.includes("trials is 3 there, 5 here"),
  );
  assert.throws(() => openCheckpoint(p, { ...STUDY, seed: "43" }, { resume: true }), /seed is "42" there, "43" here/);
  const other = fresh();
  writeFileSync(other, '{"kind":"something-else"}\n');
  assert.throws(() => openCheckpoint(other, STUDY, { resume: true }), /kind "something-else", not "hermes-sim-checkpoint"/);
});

test("without resume an existing file is refused unless overwrite is given", () => {
  const p = fresh();
  const c = openCheckpoint(p, STUDY);
  c.append(2, 1, { a: 1 });
  c.close();
  assert.throws(() => openCheckpoint(p, STUDY), (e: Error) => e.message === `checkpoint ${p}: already exists; resume it, choose another path, or allow overwrite`);
  const o = openCheckpoint(p, { ...STUDY, trials: 4 }, { overwrite: true });
  assert.is(o.size, 0);
  o.close();
  assert.is(readFileSync(p, "utf8").split("\n").length, 2);
  // resume of a missing file starts one
  const m = openCheckpoint(join(dir, "sub", "new.jsonl"), STUDY, { resume: true });
  assert.is(m.size, 0);
  m.close();
  assert.ok(readFileSync(join(dir, "sub", "new.jsonl"), "utf8").startsWith('{"kind":"hermes-sim-checkpoint"'));
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
