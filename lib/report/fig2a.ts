// Fig. 2a of the paper for a simulated chip: the unit-cell SET and RESET distributions
// of the 64 cores (shades per core), the ODP Gmax line, and the yield per core.

import type { DeviceMeasurement } from "../chip/devices.ts";
import { HIST_MIN } from "../chip/devices.ts";
import { barChart, coreColor, lineChart, type Series } from "./svg.ts";

export function fig2aDistributions(dev: DeviceMeasurement): string {
  const series: Series[] = [];
  dev.cores.forEach((c, i) => {
    const t = i / Math.max(1, dev.cores.length - 1);
    const total = c.setHistogram.reduce((a, b) => a + b, 0);
    const x = c.setHistogram.map((_, k) => HIST_MIN + k);
    series.push({ name: `SET core ${i}`, x, y: c.setHistogram.map((n) => n / total), color: coreColor(t, "blue"), opacity: 0.5 });
    series.push({ name: `RESET core ${i}`, x, y: c.resetHistogram.map((n) => n / total), color: coreColor(t, "green"), opacity: 0.5 });
  });
  return lineChart(series, {
    title: "Unit-cell SET and RESET distributions of the 64 cores (Fig. 2a)",
    xLabel: "unit-cell conductance G (ADC counts)",
    yLabel: "fraction of cells per 1-count bin (log)",
    xMin: -20,
    xMax: 220,
    logY: true,
    yMin: 1e-5,
    legend: [
      { name: "SET (one device SET)", color: coreColor(0.3, "blue") },
      { name: "RESET (all four RESET)", color: coreColor(0.3, "green") },
      { name: `ODP Gmax = ${dev.odpGmax}`, color: "#c00", dashed: true },
    ],
    vlines: [{ x: dev.odpGmax, label: `ODP Gmax ${dev.odpGmax}`, color: "#c00" }],
  });
}

export function fig2aYield(dev: DeviceMeasurement): string {
  return barChart(
    dev.cores.map((c) => ({ label: `core ${c.core}`, value: c.yieldPct, color: c.yieldPct > 99 ? "#3a7bd5" : "#d9534f" })),
    {
      title: "Unit-cell yield per core: |G_RESET| < 5 and G_SET > 50 (Fig. 2a inset)",
      xLabel: "core index",
      yLabel: "yield (%)",
      yMin: 97.5,
      yMax: 100,
      height: 260,
    },
  );
}
