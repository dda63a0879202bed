// The report of `hermes-sim run --model … --out dir`: accuracy of every inference run on the
// chip beside the float accuracy (the paper's Fig. 3c shows 10 runs), where the layers run,
// and the cost model's latency per layer.

import type { Mapping } from "../network/mapper.ts";
import type { NetworkCost } from "../cost/network.ts";
import { floorplanSvg } from "./floorplan.ts";
import { writeReport, type Figure } from "./html.ts";
import { barChart } from "./svg.ts";

export interface ModelRunDoc {
  model: string;
  fidelity: string;
  scheme: string;
  t: number;
  n: number;
  runs: number;
  accuracies: number[];
  accuracy: number;
  accuracyStd: number;
  floatAccuracy: number;
  /** Top-1 agreement of the chip with the float model, and ‖y_chip − y_float‖ / ‖y_float‖ (run --model). */
  agreement?: number;
  outputError?: number;
}

/** Write the report folder; returns its index.html path. */
export function modelRunReport(dir: string, doc: ModelRunDoc & object, readTime: string, mapping: Mapping, cost: NetworkCost): string {
  const pct = (v: number) => 100 * v;
  const all = [...doc.accuracies, doc.floatAccuracy].map(pct);
  const lo = Math.max(0, Math.floor(Math.min(...all) - 1));
  const hi = Math.min(100, Math.ceil(Math.max(...all) + 0.5));
  return writeReport(
    dir,
    `hermes-sim run: ${doc.model} on the simulated chip (${doc.fidelity}, ${doc.scheme})`,
    [
      ["test images", `${doc.n}, read ${readTime} after programming`],
      ["accuracy on the chip", `${pct(doc.accuracy).toFixed(2)} %${doc.runs > 1 ? ` ± ${pct(doc.accuracyStd).toFixed(2)} (std over ${doc.runs} inference runs)` : ""}`],
      ["accuracy in float (onnxruntime)", `${pct(doc.floatAccuracy).toFixed(2)} %`],
      ...(doc.agreement === undefined ? [] : [["top-1 agreement with float", `${pct(doc.agreement).toFixed(2)} %`] as [string, string]]),
      ...(doc.outputError === undefined ? [] : [["‖chip − float‖ / ‖float‖ (outputs)", doc.outputError.toFixed(4)] as [string, string]]),
      ["cores", `${mapping.cores} of 64`],
      ["latency / energy per image (4-phase)", `${cost.latencyUs.toFixed(1)} µs / ${cost.energyUj.toFixed(1)} µJ`],
    ],
    [
      {
        file: "accuracy",
        caption: `Top-1 accuracy of each inference run (independent read noise on one programmed chip) and in float; axis from ${lo} %`,
        svg: barChart(
          [
            ...doc.accuracies.map((a, i) => ({ label: `run ${i + 1}`, value: pct(a), color: doc.scheme === "tdp" ? "#3a7bd5" : "#e07b39" })),
            { label: "float", value: pct(doc.floatAccuracy), color: "#555" },
          ],
          { title: `Accuracy per inference run (${doc.scheme.toUpperCase()}) and in float`, xLabel: "run", yLabel: "accuracy (%)", yMin: lo, yMax: hi, barLabels: true, height: 340 },
        ),
      },
      ...networkFigures(mapping, cost, "image"),
    ],
    { ...doc, layers: cost.layers },
  );
}

/** The figures every network run report has: where the layers run, and the cost model's
 * latency per layer (per `unit`: "image", "inference"). */
export function networkFigures(mapping: Mapping, cost: NetworkCost, unit: string): Figure[] {
  return [
    { file: "floorplan", caption: "Where the layers run; ★ receiving cores; arrows: partial-sum routes", svg: floorplanSvg(mapping) },
    {
      file: "layer-cost",
      caption: `Cost model: latency per ${unit} by layer (4-phase, layers one after another)`,
      svg: barChart(cost.layers.map((l) => ({ label: l.layer, value: l.latencyUs, color: "#3a7bd5" })), {
        title: `Latency per ${unit} by layer`, xLabel: "layer", yLabel: "µs", barLabels: true, height: 360,
      }),
    },
  ];
}
