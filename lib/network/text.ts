// Character-level text for LSTM models: a vocabulary file and bits per character.

import { readFileSync } from "node:fs";
import { ArgumentError } from "../runtime/validate.ts";

/** A character vocabulary (`readVocabulary`): ids ↔ characters. */
export interface Vocabulary {
  /** The characters, index = id. */
  chars: string[];
  /** Character → id. */
  ids: Map<string, number>;
  /** Id for characters outside the vocabulary, or undefined (they are skipped). */
  unknown?: number;
  /** Whether text is lower-cased before encoding. */
  lowercase: boolean;
}

/**
 * A vocabulary JSON: an array of characters (index = id), an object with such an array
 * under "chars" / "vocab" / "itos" (optionally "unknown": id or character, "lowercase":
 * true), or an object mapping each character to its id.
 * @throws {@link ArgumentError} (named --vocab) when the file cannot be read or is none of these
 */
export function readVocabulary(path: string): Vocabulary {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new ArgumentError("--vocab", `a readable JSON vocabulary (${(e as Error).message})`, path);
  }
  let chars: string[] | undefined;
  let unknown: number | undefined;
  let lowercase = false;
  if (Array.isArray(doc)) chars = doc.map(String);
  else if (doc && typeof doc === "object") {
    const o = doc as Record<string, unknown>;
    const arr = (o["chars"] ?? o["vocab"] ?? o["itos"]) as unknown;
    if (Array.isArray(arr)) chars = arr.map(String);
    else {
      const entries = Object.entries(o).filter(([, v]) => typeof v === "number") as [string, number][];
      if (entries.length) {
        chars = [];
        for (const [c, id] of entries) chars[id] = c;
      }
    }
    const u = o["unknown"] ?? o["unk"];
    if (typeof u === "number") unknown = u;
    else if (typeof u === "string" && chars) unknown = chars.indexOf(u) >= 0 ? chars.indexOf(u) : undefined;
    lowercase = o["lowercase"] === true;
  }
  if (!chars || chars.length === 0) throw new ArgumentError("--vocab", "a JSON array of characters or an object as documented", path);
  return { chars, ids: new Map(chars.map((c, i) => [c, i])), ...(unknown !== undefined ? { unknown } : {}), lowercase };
}

/** Text → ids (characters outside the vocabulary map to `unknown`, or are skipped). */
export function encodeText(text: string, v: Vocabulary): number[] {
  const out: number[] = [];
  for (const ch of v.lowercase ? text.toLowerCase() : text) {
    const id = v.ids.get(ch) ?? v.ids.get(ch.toLowerCase()) ?? v.unknown;
    if (id !== undefined) out.push(id);
  }
  return out;
}

/** Mean −log2 softmax(logits[t])[ids[t + 1]] over the sequence. */
export function bitsPerCharacter(logits: readonly ArrayLike<number>[], ids: readonly number[]): number {
  let bits = 0;
  let n = 0;
  for (let t = 0; t + 1 < ids.length && t < logits.length; t++) {
    const y = logits[t]!;
    let m = -Infinity;
    for (let j = 0; j < y.length; j++) m = Math.max(m, y[j]!);
    let z = 0;
    for (let j = 0; j < y.length; j++) z += Math.exp(y[j]! - m);
    bits += -(y[ids[t + 1]!]! - m - Math.log(z)) / Math.LN2;
    n++;
  }
  return bits / n;
}
