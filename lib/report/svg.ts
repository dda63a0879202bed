// Small, dependency-free SVG charts for reports: line charts (many series, e.g. one per
// core) and bar charts, each with a title, labelled axes with units, ticks and a legend.

export interface Series {
  name: string;
  x: readonly number[];
  y: readonly number[];
  color: string;
  /** Stroke opacity (many overlapping series read better faint). */
  opacity?: number;
  dashed?: boolean;
  /** Draw a dot at every point. */
  markers?: boolean;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
  xMin?: number;
  xMax?: number;
  yMin?: number;
  yMax?: number;
  /** Legend entries (name, colour); default: one per series, unless there are many. */
  legend?: { name: string; color: string; dashed?: boolean }[];
  /** Vertical reference lines with labels. */
  vlines?: { x: number; label: string; color: string }[];
  logY?: boolean;
  /** Logarithmic x axis (decade ticks); x values must be > 0. */
  logX?: boolean;
  /** Bar charts: write each bar's label under it (rotated) instead of index ticks. */
  barLabels?: boolean;
}

const M = { left: 64, right: 16, top: 36, bottom: 48 };

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** About `n` round tick values covering [lo, hi]. */
export function ticks(lo: number, hi: number, n = 6): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((k) => k * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function fmtTick(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(0);
  return String(Number(v.toPrecision(4)));
}

/** Bottom margin: room for rotated bar labels when asked for. */
const bottomOf = (o: ChartOptions): number => (o.barLabels ? 120 : M.bottom);

function frame(o: ChartOptions, w: number, h: number, body: string[], xs: (v: number) => number, ys: (v: number) => number,
  xt: number[], yt: number[], outside: string[] = []): string {
  const pw = w - M.left - M.right;
  const ph = h - M.top - bottomOf(o);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif" font-size="11">`);
  parts.push(`<rect width="${w}" height="${h}" fill="white"/>`);
  parts.push(`<text x="${w / 2}" y="20" text-anchor="middle" font-size="13" font-weight="bold">${esc(o.title)}</text>`);
  for (const v of yt) {
    const y = ys(v);
    parts.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${y}" y2="${y}" stroke="#e6e6e6"/>`);
    parts.push(`<text x="${M.left - 6}" y="${y + 4}" text-anchor="end">${fmtTick(v)}</text>`);
  }
  for (const v of xt) {
    const x = xs(v);
    parts.push(`<line x1="${x}" x2="${x}" y1="${M.top + ph}" y2="${M.top + ph + 4}" stroke="#333"/>`);
    parts.push(`<text x="${x}" y="${M.top + ph + 16}" text-anchor="middle">${fmtTick(v)}</text>`);
  }
  parts.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${M.left + pw / 2}" y="${h - 10}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`);
  parts.push(`<g clip-path="url(#plot)"><clipPath id="plot"><rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}"/></clipPath>`);
  parts.push(...body);
  parts.push(`</g>`);
  parts.push(...outside);
  for (const l of o.vlines ?? []) {
    const x = xs(l.x);
    parts.push(`<line x1="${x}" x2="${x}" y1="${M.top}" y2="${M.top + ph}" stroke="${l.color}" stroke-dasharray="5 3"/>`);
    parts.push(`<text x="${x + 4}" y="${M.top + 12}" fill="${l.color}">${esc(l.label)}</text>`);
  }
  const legend = o.legend ?? [];
  const legendWidth = 34 + 6 * Math.max(0, ...legend.map((e) => e.name.length));
  if (legend.length) {
    parts.push(`<rect x="${M.left + pw - legendWidth - 6}" y="${M.top + 2}" width="${legendWidth + 4}" height="${legend.length * 15 + 6}" fill="white" fill-opacity="0.85"/>`);
  }
  legend.forEach((e, i) => {
    const y = M.top + 14 + i * 15;
    const x = M.left + pw - legendWidth;
    parts.push(`<line x1="${x}" x2="${x + 18}" y1="${y - 4}" y2="${y - 4}" stroke="${e.color}" stroke-width="2"${e.dashed ? ' stroke-dasharray="4 2"' : ""}/>`);
    parts.push(`<text x="${x + 24}" y="${y}">${esc(e.name)}</text>`);
  });
  parts.push(`</svg>`);
  return parts.join("\n");
}

export function lineChart(series: Series[], o: ChartOptions): string {
  const w = o.width ?? 640;
  const h = o.height ?? 360;
  const allX = series.flatMap((s) => s.x);
  const allY = series.flatMap((s) => s.y).filter((v) => !o.logY || v > 0);
  let x0 = o.xMin ?? Math.min(...allX);
  let x1 = o.xMax ?? Math.max(...allX);
  if (o.logX) {
    x0 = Math.floor(Math.log10(x0));
    x1 = Math.ceil(Math.log10(x1));
  }
  let y0 = o.yMin ?? Math.min(0, ...allY);
  let y1 = o.yMax ?? Math.max(...allY) * 1.05;
  if (o.logY) {
    y0 = Math.log10(o.yMin ?? Math.max(1e-12, Math.min(...allY)));
    y1 = Math.log10(o.yMax ?? Math.max(...allY) * 1.5);
  }
  const pw = w - M.left - M.right;
  const ph = h - M.top - M.bottom;
  const xv = (v: number) => (o.logX ? Math.log10(Math.max(v, 1e-300)) : v);
  const xs = (v: number) => M.left + ((xv(v) - x0) / (x1 - x0 || 1)) * pw;
  const yv = (v: number) => (o.logY ? Math.log10(Math.max(v, 1e-300)) : v);
  const ys = (v: number) => M.top + ph - ((yv(v) - y0) / (y1 - y0 || 1)) * ph;
  // On a log axis, non-positive values (empty bins) break the line instead of diving.
  const body = series.flatMap((s) => {
    const segments: string[][] = [[]];
    s.x.forEach((x, i) => {
      const y = s.y[i]!;
      if (o.logY && !(y > 0)) {
        if (segments[segments.length - 1]!.length) segments.push([]);
        return;
      }
      segments[segments.length - 1]!.push(`${xs(x).toFixed(1)},${ys(y).toFixed(1)}`);
    });
    return segments
      .filter((seg) => seg.length > 1)
      .map((seg) => `<polyline fill="none" stroke="${s.color}" stroke-opacity="${s.opacity ?? 1}" stroke-width="1.5"${s.dashed ? ' stroke-dasharray="5 3"' : ""} points="${seg.join(" ")}"/>`);
  });
  const yt = o.logY
    ? ticks(Math.ceil(y0), Math.floor(y1), Math.max(1, Math.floor(y1) - Math.ceil(y0))).map((e) => 10 ** e)
    : ticks(y0, y1);
  const legend = o.legend ?? (series.length <= 8 ? series.map((s) => ({ name: s.name, color: s.color, dashed: s.dashed })) : []);
  const xt = o.logX ? ticks(x0, x1, Math.max(1, x1 - x0)).map((e) => 10 ** e) : ticks(x0, x1);
  const markers = series.flatMap((s) =>
    s.markers ? s.x.map((x, i) => `<circle cx="${xs(x).toFixed(1)}" cy="${ys(s.y[i]!).toFixed(1)}" r="3" fill="${s.color}"/>`) : [],
  );
  return frame({ ...o, legend }, w, h, [...body, ...markers], xs, ys, xt, yt);
}

export interface Bar {
  label: string;
  value: number;
  color: string;
}

export function barChart(bars: Bar[], o: ChartOptions): string {
  const w = o.width ?? 640;
  const h = o.height ?? 300;
  const y0 = o.yMin ?? 0;
  const y1 = o.yMax ?? Math.max(...bars.map((b) => b.value)) * 1.05;
  const pw = w - M.left - M.right;
  const ph = h - M.top - bottomOf(o);
  const bw = pw / bars.length;
  const xs = (v: number) => M.left + (v + 0.5) * bw;
  const ys = (v: number) => M.top + ph - ((v - y0) / (y1 - y0 || 1)) * ph;
  // Bars grow from zero when the axis spans it (negative values hang down), else from y0.
  const base = ys(y0 < 0 && y1 > 0 ? 0 : y0);
  const body = bars.map((b, i) => {
    const v = ys(Math.max(y0, Math.min(y1, b.value)));
    const top = Math.min(v, base);
    return `<rect x="${(M.left + i * bw + bw * 0.1).toFixed(1)}" y="${top.toFixed(1)}" width="${(bw * 0.8).toFixed(1)}" height="${Math.abs(base - v).toFixed(1)}" fill="${b.color}"><title>${esc(b.label)}: ${b.value}</title></rect>`;
  });
  const labels = o.barLabels
    ? bars.map((b, i) => `<text transform="translate(${(xs(i) - 3).toFixed(1)} ${M.top + ph + 8}) rotate(60)" font-size="9">${esc(b.label)}</text>`)
    : [];
  const step = Math.max(1, Math.ceil(bars.length / 16));
  const xt = o.barLabels ? [] : bars.map((_, i) => i).filter((i) => i % step === 0);
  return frame(o, w, h, body, xs, ys, xt, ticks(y0, y1), labels);
}

/** A colour from a blue–green ramp, t in [0, 1] (the paper's shades per core). */
export function coreColor(t: number, hue: "blue" | "green"): string {
  const l = 30 + 35 * t;
  return hue === "blue" ? `hsl(215, 70%, ${l.toFixed(0)}%)` : `hsl(140, 55%, ${l.toFixed(0)}%)`;
}
