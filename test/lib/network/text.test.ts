import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bitsPerCharacter, encodeText, readVocabulary } from "../../../lib/network/text.ts";

const dir = mkdtempSync(join(tmpdir(), "hermes-text-"));

test("vocabulary formats, unknown characters, lowercasing", () => {
  writeFileSync(join(dir, "a.json"), JSON.stringify(["a", "b", "?"]));
  writeFileSync(join(dir, "b.json"), JSON.stringify({ chars: ["a", "b", "?"], unknown: "?", lowercase: true }));
  writeFileSync(join(dir, "c.json"), JSON.stringify({ a: 0, b: 1 }));
  assert.equal(encodeText("abzA", readVocabulary(join(dir, "a.json"))), [0, 1, 0]);
  assert.equal(encodeText("abzA", readVocabulary(join(dir, "b.json"))), [0, 1, 2, 0]);
  assert.equal(readVocabulary(join(dir, "c.json")).chars, ["a", "b"]);
  writeFileSync(join(dir, "d.json"), "{");
  assert.throws(() => readVocabulary(join(dir, "d.json")), /--vocab must be a readable JSON vocabulary/);
});

test("bits per character: uniform logits give log2 V; a certain prediction gives 0", () => {
  assert.ok(Math.abs(bitsPerCharacter([[0, 0, 0, 0], [0, 0, 0, 0]], [1, 2, 3]) - 2) < 1e-12);
  assert.ok(bitsPerCharacter([[0, 50, 0], [0, 0, 50]], [0, 1, 2]) < 1e-15);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
