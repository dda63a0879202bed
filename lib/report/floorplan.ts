// The 8 × 8 floorplan of a mapped network as SVG: each core coloured by the layer it holds,
// receivers marked, the links the partial sums use, and (dashed) the routes of a Concat's
// producers into the layer that reads it. Each core's square carries
// `data-core="c"` (the browser playground, web/, shows a core's details on hover).

/** What the floorplan needs of a mapping (lib/network/mapper.ts Mapping, lib/network/lstm-map.ts LstmMapping). */
export interface FloorplanInput {
  network: string;
  cores: number;
  weights: number;
  layers: readonly {
    layer: string;
    matrix: { rows: number; cols: number };
    tiles: readonly { core: number; route: { path: readonly number[] } }[];
    receivers: readonly number[];
    /** Sources of the layer's input (lib/network/mapping.ts InputRoute); the priced ones (a
     * Concat's producers sending over the links) are drawn dashed. */
    inputRoutes?: readonly { priced: boolean; tiles: readonly { route: { path: readonly number[] } }[] }[];
  }[];
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];

export function floorplanSvg(m: FloorplanInput): string {
  const size = 64;
  const pad = 40;
  // The legend's width from its longest line (about 6 px per character at font size 10).
  const legendChars = Math.max(...m.layers.map((p, i) => `L${i} ${p.layer}: ${p.tiles.length} cores, ${p.matrix.rows}×${p.matrix.cols}`.length));
  const w = pad * 2 + 8 * size + Math.max(180, 30 + 6 * legendChars);
  const h = pad * 2 + 8 * size;
  const xy = (core: number) => [pad + (core % 8) * size + size / 2, pad + Math.floor(core / 8) * size + size / 2] as const;
  const concat = m.layers.flatMap((p) => (p.inputRoutes ?? []).filter((s) => s.priced).flatMap((s) => s.tiles.map((t) => t.route.path)));
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif" font-size="10">`,
    `<rect width="${w}" height="${h}" fill="white"/>`,
    `<text x="${pad}" y="24" font-size="13" font-weight="bold">${m.network} on the chip: ${m.cores} cores, ${m.weights.toLocaleString("en-US")} weights (★ receiver, arrows: partial-sum links${concat.length > 0 ? "; dashed: a Concat's inputs" : ""})</text>`,
    `<defs><marker id="arrow" markerWidth="6" markerHeight="6" refX="5" refY="3" orient="auto"><path d="M0,0 L6,3 L0,6 z" fill="#333"/></marker></defs>`,
  ];
  const color = new Map(m.layers.map((p, i) => [p.layer, PALETTE[i % PALETTE.length]!]));
  // Names longer than a cell (ONNX node names such as "/convs.0/Conv") show as L0, L1, …,
  // spelled out in the legend.
  const long = m.layers.some((p) => p.layer.length > 7);
  const short = new Map(m.layers.map((p, i) => [p.layer, long ? `L${i}` : p.layer]));
  const owner = new Map<number, string>();
  for (const p of m.layers) for (const t of p.tiles) owner.set(t.core, p.layer);
  for (let c = 0; c < 64; c++) {
    const [x, y] = xy(c);
    const layer = owner.get(c);
    const rec = m.layers.some((p) => p.receivers.includes(c));
    parts.push(`<rect data-core="${c}" x="${x - size / 2 + 2}" y="${y - size / 2 + 2}" width="${size - 4}" height="${size - 4}" fill="${layer ? color.get(layer) : "#f2f2f2"}" stroke="#999"/>`);
    parts.push(`<text x="${x}" y="${y - 4}" text-anchor="middle" fill="${layer ? "white" : "#999"}">${layer ? esc(short.get(layer)!) : ""}${rec ? " ★" : ""}</text>`);
    parts.push(`<text x="${x}" y="${y + 12}" text-anchor="middle" fill="${layer ? "white" : "#999"}">(${Math.floor(c / 8) + 1},${(c % 8) + 1})</text>`);
  }
  // One arrow per link of a route; a Concat's input routes dashed and a little higher up.
  const arrows = (path: readonly number[], style: string, dyText: number) => {
    for (let i = 0; i + 1 < path.length; i++) {
      const [x0, y0] = xy(path[i]!);
      const [x1, y1] = xy(path[i + 1]!);
      const dx = x1 - x0;
      const dy = y1 - y0;
      const l = Math.hypot(dx, dy) || 1;
      parts.push(`<line x1="${x0 + (dx / l) * 14}" y1="${y0 + (dy / l) * 14 + dyText}" x2="${x1 - (dx / l) * 14}" y2="${y1 - (dy / l) * 14 + dyText}" ${style} marker-end="url(#arrow)"/>`);
    }
  };
  for (const p of m.layers) for (const t of p.tiles) arrows(t.route.path, `stroke="#333" stroke-width="1.2"`, 18);
  for (const path of new Set(concat.map((p) => p.join(",")))) arrows(path.split(",").map(Number), `stroke="#333" stroke-width="1" stroke-dasharray="3,2"`, 8);
  m.layers.forEach((p, i) => {
    const y = pad + 10 + i * 16;
    const x = pad + 8 * size + 20;
    parts.push(`<rect x="${x}" y="${y - 9}" width="12" height="12" fill="${color.get(p.layer)}"/>`);
    parts.push(`<text x="${x + 18}" y="${y + 1}">${long ? `L${i} ` : ""}${esc(p.layer)}: ${p.tiles.length} core${p.tiles.length > 1 ? "s" : ""}, ${p.matrix.rows}×${p.matrix.cols}</text>`);
  });
  parts.push("</svg>");
  return parts.join("\n");
}
