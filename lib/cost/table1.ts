// Table I computed by the model from the paper's three use cases (Methods 'Power
// measurements'; mappings from Methods 'Weight mapping onto cores' and Figs. 3b, 5b).
// Definitions (Table I footnote b and Methods):
//   tops       = MVM ops / MVM latency (MVM only; 1 MAC = 2 OPs)
//   topsPerW   = MVM ops / MVM energy (crossbar + ADCs + PWMs only)
//   topsPerMm2 = tops / (cores used × MVM area per core, EDT I 0.635 mm²)
//   energyUj   = energy of the whole use case (MVM; + links, LDPUs, GDPU for the layers)
//   latencyNs  = latency of the whole use case (MVM; + LDPU, links, GDPU for the layers)

import { ARCH } from "../chip/config.ts";
import { layerStepCost, mvmCost, type LayerStepSpec } from "./model.ts";
import {
  PAPER_TABLE1,
  READ_MODES,
  TABLE1_METRICS,
  WORKLOADS,
  paperTable1Row,
  table1EntryId,
  type ReadMode,
  type Table1Metric,
  type Table1Row,
  type Workload,
} from "./params.ts";

/**
 * The three use cases as layer steps (without the read mode):
 * - "mvm": all 64 cores, full 256 × 256, MVM only.
 * - "resnet9-layer": one input of a deep ResNet-9 layer, the 2016×224 weight matrix split
 *   into 8 sub-matrices of 252 inputs × 224 outputs on one row of 8 cores (Methods; Fig. 3b),
 *   partial sums cascaded over the row (7 hops); 86 % utilisation.
 * - "lstm-timestep": one timestep of the captioning LSTM unit, (504 input + 504 hidden) ×
 *   2016 gate pre-activations on rows 1–4 (32 cores, 252 × 252 each, 97 %), cascaded down
 *   each column (3 hops) and on to the column's GDPU slice (1 hop), 63 hidden units per slice.
 */
export const TABLE1_USE_CASES: Readonly<Record<Workload, Omit<LayerStepSpec, "mode"> & { mvmOnly: boolean }>> = {
  mvm: { chains: 64, chainLength: 1, inputs: 256, outputs: 256, gdpu: false, mvmOnly: true },
  "resnet9-layer": { chains: 1, chainLength: 8, inputs: 252, outputs: 224, gdpu: false, mvmOnly: false },
  "lstm-timestep": { chains: 8, chainLength: 4, inputs: 252, outputs: 252, gdpu: true, mvmOnly: false },
};

/** The model's value of one Table I column. */
export function table1Row(workload: Workload, mode: ReadMode): Table1Row {
  const uc = TABLE1_USE_CASES[workload];
  const cores = uc.chains * uc.chainLength;
  const mvm = mvmCost({ cores, inputs: uc.inputs, outputs: uc.outputs, mode });
  const step = uc.mvmOnly ? { latencyNs: mvm.latencyNs, energyNj: mvm.energyNj } : layerStepCost({ ...uc, mode });
  const tops = mvm.ops / mvm.latencyNs / 1e3; // ops/ns = 1e9 ops/s; TOPS = 1e12 ops/s
  return {
    workload,
    mode,
    tops,
    topsPerW: mvm.ops / mvm.energyNj / 1e3, // ops/nJ = 1e9 ops/J
    topsPerMm2: tops / (cores * ARCH.mvmAreaPerCoreMm2.value),
    energyUj: step.energyNj / 1e3,
    latencyNs: step.latencyNs,
  };
}

/** Table I as computed by the model, in the paper's order (see PAPER_TABLE1 for the paper's values). */
export function table1Rows(): Table1Row[] {
  const rows: Table1Row[] = [];
  for (const w of WORKLOADS) for (const m of READ_MODES) rows.push(table1Row(w, m));
  return rows;
}

/** One Table I entry, model against paper (`compareTable1()`). */
export interface Table1Comparison {
  /** The entry's id, "workload/mode/metric" (e.g. "mvm/4-phase/tops"). */
  readonly id: string;
  /** The use case. */
  readonly workload: Workload;
  /** The read mode. */
  readonly mode: ReadMode;
  /** The column: "tops", "topsPerW", "topsPerMm2", "energyUj" or "latencyNs". */
  readonly metric: Table1Metric;
  /** The model's value, in the metric's unit (see {@link Table1Row}). */
  readonly model: number;
  /** The paper's value, same unit. */
  readonly paper: number;
  /** (model − paper) / paper. */
  readonly relError: number;
  /** True if a free parameter was fitted to this entry (see COST_PARAMETERS.fittedTo). */
  readonly fitted: boolean;
}

/** Every Table I entry: model vs paper, relative error, and whether the entry was used in a fit. */
export function compareTable1(fittedIds: ReadonlySet<string>): Table1Comparison[] {
  const out: Table1Comparison[] = [];
  for (const row of table1Rows()) {
    const ref = paperTable1Row(row.workload, row.mode);
    for (const metric of TABLE1_METRICS) {
      const id = table1EntryId(row.workload, row.mode, metric);
      out.push({
        id,
        workload: row.workload,
        mode: row.mode,
        metric,
        model: row[metric],
        paper: ref[metric],
        relError: (row[metric] - ref[metric]) / ref[metric],
        fitted: fittedIds.has(id),
      });
    }
  }
  return out;
}

export { PAPER_TABLE1 };
