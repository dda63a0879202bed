// lib/cost — latency / energy / throughput (Table I) and the cost of a mapped network
// (network.ts). May import: lib/runtime, lib/chip, lib/network.
//
// Latency, energy and throughput model of the HERMES chip (issue 9): building blocks a
// network mapper can call, and Table I recomputed from the paper's timing and power facts.
//
//   lib/cost/params.ts  COST_PARAMETERS (value, unit, kind, source / fitted-to entries),
//                       PAPER_TABLE1 (the paper's values, reference only)
//   lib/cost/model.ts   mvmCost, ldpuCost, linkCost, gdpuCost, digitalBackgroundCost,
//                       layerStepCost
//   lib/cost/table1.ts  the three Table I use cases, table1Rows(), compareTable1()
//   lib/cost/fit.ts     fitCostParameters(): the fitted values re-derived from PAPER_TABLE1

export * from "./params.ts";
export * from "./model.ts";
export { TABLE1_USE_CASES, table1Row, table1Rows, type Table1Comparison } from "./table1.ts";
export { fitCostParameters } from "./fit.ts";

import { COST_PARAMETERS } from "./params.ts";
import { compareTable1 as compareWith } from "./table1.ts";

/** Ids of the Table I entries some free parameter was fitted to; the others are predictions. */
export const FITTED_TABLE1_ENTRIES: ReadonlySet<string> = new Set(
  Object.values(COST_PARAMETERS).flatMap((p) => [...(p.fittedTo ?? [])]),
);

/** Every Table I entry, model vs paper, marked fitted or predicted. */
export function compareTable1() {
  return compareWith(FITTED_TABLE1_ENTRIES);
}
