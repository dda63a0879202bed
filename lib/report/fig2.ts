// Fig. 2b–d of the paper for a simulated chip, from a characterisation result.

import type { CharacterizeResult } from "../study/characterize.ts";
import { lineChart, type Series } from "./svg.ts";

const COLORS: Record<string, string> = { odp: "#d9534f", tdp: "#3a7bd5", "tdp-maxfill": "#5cb85c" };
const DASH: Record<string, boolean> = { total: false, linear: true, residual: false };
const SHADE: Record<string, number> = { total: 1, linear: 0.8, residual: 0.45 };

/** Fig. 2b: histograms of ε_total, ε_linear, ε_residual (INT8 units) per scheme. */
export function fig2bHistograms(r: CharacterizeResult): string {
  const series: Series[] = [];
  for (const s of r.results) {
    const h = s.histogram;
    for (const k of ["total", "linear", "residual"] as const) {
      const counts = h[k];
      const n = counts.reduce((a, b) => a + b, 0);
      series.push({
        name: `${s.scheme.toUpperCase()} ε_${k}`,
        x: counts.map((_, i) => h.binStart + (i + 0.5) * h.binWidth),
        y: counts.map((c) => c / n / h.binWidth),
        color: COLORS[s.scheme] ?? "#333",
        opacity: SHADE[k],
        dashed: DASH[k] ?? false,
      });
    }
  }
  return lineChart(series, {
    title: `MVM error distributions over ${r.cores} cores (Fig. 2b)`,
    xLabel: "error (LDPU INT8 units)",
    yLabel: "probability density (log)",
    logY: true,
    yMin: 1e-4,
    xMin: -32,
    xMax: 32,
  });
}

/** Fig. 2c: weight error std(W − Ŵ)/Wmax against the target weight, mean ± std over cores. */
export function fig2cWeightError(r: CharacterizeResult): string {
  const series: Series[] = [];
  for (const s of r.results) {
    const pts = s.weightError.filter((w) => Number.isFinite(w.error));
    const color = COLORS[s.scheme] ?? "#333";
    const x = pts.map((w) => w.target);
    series.push({ name: `${s.scheme.toUpperCase()}`, x, y: pts.map((w) => w.error), color, markers: true });
    series.push({ name: `${s.scheme.toUpperCase()} ± 1σ over cores`, x, y: pts.map((w) => w.error + w.std), color, opacity: 0.4, dashed: true });
    series.push({ name: `${s.scheme.toUpperCase()} − 1σ`, x, y: pts.map((w) => Math.max(0, w.error - w.std)), color, opacity: 0.4, dashed: true });
  }
  return lineChart(series, {
    title: `Weight error against target weight at t = ${r.times[0]} s (Fig. 2c)`,
    xLabel: "target weight W / Wmax",
    yLabel: "std(W − Ŵ) / Wmax",
    yMin: 0,
    legend: r.results.flatMap((s) => [
      { name: s.scheme.toUpperCase(), color: COLORS[s.scheme] ?? "#333" },
      { name: `${s.scheme.toUpperCase()} ± 1σ over cores`, color: COLORS[s.scheme] ?? "#333", dashed: true },
    ]),
  });
}

/** Fig. 2d: normalised errors against time, with and without global drift compensation,
 * and the digital engine's ε_total with 3- and 4-bit weights (dashed). */
export function fig2dDrift(r: CharacterizeResult): string {
  const series: Series[] = [];
  const t = r.times;
  for (const s of r.results) {
    const color = COLORS[s.scheme] ?? "#333";
    const S = s.scheme.toUpperCase();
    series.push({ name: `${S} ε_total`, x: t, y: s.drift.map((d) => d.total), color, markers: true });
    series.push({ name: `${S} ε_linear`, x: t, y: s.drift.map((d) => d.linear), color, opacity: 0.7, markers: true, dashed: true });
    series.push({ name: `${S} ε_residual`, x: t, y: s.drift.map((d) => d.residual), color, opacity: 0.4, markers: true });
    series.push({ name: `${S} ε_total, no drift compensation`, x: t, y: s.drift.map((d) => d.totalNoCompensation), color: "#999", markers: true, dashed: s.scheme !== "odp" });
  }
  for (const bits of [3, 4]) {
    const e = r.digitalEngine[bits - 1]!;
    series.push({ name: `digital, ${bits}-bit weights`, x: [t[0]!, t[t.length - 1]!], y: [e, e], color: "#222", dashed: true, opacity: 0.6 });
  }
  return lineChart(series, {
    title: "Normalised MVM errors ‖ε‖₂/‖y_fp‖₂ against time (Fig. 2d)",
    xLabel: "time since programming (s)",
    yLabel: "‖ε‖₂ / ‖y_fp‖₂",
    logX: true,
    yMin: 0,
    yMax: 1.7 * Math.max(...r.results.flatMap((s) => s.drift.map((d) => d.totalNoCompensation))),
    width: 720,
    height: 420,
    legend: [
      ...r.results.map((s) => ({ name: `${s.scheme.toUpperCase()} ε_total (compensated)`, color: COLORS[s.scheme] ?? "#333" })),
      { name: "ε_linear (dashed), ε_residual (faint)", color: "#777", dashed: true },
      { name: "ε_total without compensation", color: "#999" },
      { name: "digital engine, 3 and 4 bits", color: "#222", dashed: true },
    ],
  });
}
