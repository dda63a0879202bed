// ADC transfer curves of one core before and after the calibration run (paper §II).

import { adcCurvesBeforeAfter } from "../chip/adc.ts";
import { lineChart, type Series } from "./svg.ts";

export function adcCurvesFigure(seed: bigint, core = 0, rows = 16): string {
  const { x, before, after } = adcCurvesBeforeAfter(seed, core, rows);
  const series: Series[] = [
    ...before.map((y, r) => ({ name: `ADC ${r} before`, x, y, color: "#d9534f", opacity: 0.6 })),
    ...after.map((y, r) => ({ name: `ADC ${r} after`, x, y, color: "#3a7bd5", opacity: 0.8 })),
    { name: "ideal", x, y: x, color: "#000", dashed: true },
  ];
  return lineChart(series, {
    title: `ADC transfer curves of core ${core} (${rows} of 256 rows) before and after calibration`,
    xLabel: "input charge (ideal ADC counts; 4095 = ~100 µA for the longest pulse)",
    yLabel: "12-bit counter output (counts)",
    xMin: 0,
    xMax: 4095,
    yMin: 0,
    yMax: 4200,
    legend: [
      { name: "before calibration", color: "#d9534f" },
      { name: "after calibration", color: "#3a7bd5" },
      { name: "ideal", color: "#000", dashed: true },
    ],
  });
}
