// Table I of the paper against the cost model (lib/cost/index.ts): each entry's relative error,
// fitted entries in grey, predicted ones in blue.

import { compareTable1 } from "../cost/index.ts";
import { barChart } from "./svg.ts";

export function table1Figure(): string {
  const short: Record<string, string> = { mvm: "MVM", "resnet9-layer": "RN9", "lstm-timestep": "LSTM" };
  const metric: Record<string, string> = { tops: "TOPS", topsPerW: "TOPS/W", topsPerMm2: "TOPS/mm²", energyUj: "µJ", latencyNs: "ns" };
  const c = compareTable1();
  return barChart(
    c.map((e) => ({
      label: `${short[e.workload]} ${e.mode[0]}φ ${metric[e.metric]}`,
      value: 100 * e.relError,
      color: e.fitted ? "#aaa" : "#3a7bd5",
    })),
    {
      title: "Cost model vs Table I: (model − paper)/paper per entry (grey: fitted, blue: predicted)",
      xLabel: "Table I entry (use case, read mode, metric)",
      yLabel: "relative error (%)",
      yMin: -2,
      yMax: 2,
      width: 900,
      height: 420,
      barLabels: true,
    },
  );
}
