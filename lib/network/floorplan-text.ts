// The text floorplan of a mapping (`hermes-sim map`): the 8 × 8 cores, each showing the
// layer it holds. Layer names longer than 6 characters (ONNX node names such as
// "/convs.0/Conv") are shown as L0, L1, … with a legend below the grid.

import { COLS, CORES, ROWS } from "../chip/links.ts";
import type { Mapping } from "./mapper.ts";

/** Each core shows its layer, "*" marks a receiver, "." is free. */
export function floorplan(m: Mapping): string {
  const long = m.layers.some((p) => p.layer.length > 6);
  const label = (i: number) => (long ? `L${i}` : m.layers[i]!.layer);
  const cell = new Array<string>(CORES).fill(".");
  m.layers.forEach((p, i) => {
    for (const t of p.tiles) cell[t.core] = label(i) + (p.receivers.includes(t.core) ? "*" : "");
  });
  const w = Math.max(2, ...cell.map((s) => s.length));
  const lines: string[] = [];
  for (let r = 0; r < ROWS; r++) lines.push(cell.slice(r * COLS, (r + 1) * COLS).map((s) => s.padEnd(w)).join(" ").trimEnd());
  if (long) lines.push(...m.layers.map((p, i) => `  ${label(i)} = ${p.layer}`));
  return lines.join("\n");
}
