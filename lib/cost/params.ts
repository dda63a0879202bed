// The cost model's parameters (COST_PARAMETERS) and, kept apart, the paper's Table I
// (PAPER_TABLE1) that the free parameters were fitted to and the rest is compared with.
//
// Paper facts that lib/chip/config.ts already holds (PWM 1 ns/LSB, 8-bit inputs, 400 MHz
// digital clock, two convert-and-scale blocks, 8 link channels, one GDPU output per four
// clocks, MVM area per core, ...) are read from ARCH there, not repeated here.
//
// kind:
//   "paper"   – a number stated in the paper (section named in `source`);
//   "assumed" – a structural choice the paper does not state (no fit, no freedom used);
//   "fitted"  – a free parameter; `fittedTo` names the Table I entries that fix it.
//               lib/cost/fit.ts re-derives every fitted value from PAPER_TABLE1 and the
//               test suite checks the stored (rounded) values agree with that fit.

// The parameters themselves live in lib/chip/config.ts (COST), with every other chip constant.
export { COST as COST_PARAMETERS, type CostParam } from "../chip/config.ts";
import { COST as COST_PARAMETERS } from "../chip/config.ts";

/** The name of a cost-model parameter (a key of COST_PARAMETERS). */
export type CostParameterName = keyof typeof COST_PARAMETERS;

/** Number of free (fitted) parameters: must stay below the number of Table I entries. */
export const FREE_PARAMETER_COUNT = Object.values(COST_PARAMETERS).filter((p) => p.kind === "fitted").length;

// ---- Table I use cases and the paper's values --------------------------------------------

/** A Table I use case: one MVM on all cores, one ResNet-9 layer step, one LSTM time step. */
export type Workload = "mvm" | "resnet9-layer" | "lstm-timestep";
/** MVM read mode: 1-phase or 4-phase PWM. */
export type ReadMode = "1-phase" | "4-phase";
/** Every Workload, in Table I's order. */
export const WORKLOADS: readonly Workload[] = ["mvm", "resnet9-layer", "lstm-timestep"];
/** Every ReadMode. */
export const READ_MODES: readonly ReadMode[] = ["1-phase", "4-phase"];

/** One row of Table I (a use case in a read mode): throughput, efficiencies, energy and latency. */
export interface Table1Row {
  /** The use case: "mvm", "resnet9-layer" or "lstm-timestep". */
  readonly workload: Workload;
  /** The read mode. */
  readonly mode: ReadMode;
  /** Peak MVM throughput, TOPS (MVM ops only, 1 MAC = 2 OPs; Table I footnote b). */
  readonly tops: number;
  /** MVM energy efficiency, TOPS/W (MVM ops over MVM energy only; footnote b). */
  readonly topsPerW: number;
  /** MVM area efficiency, TOPS/mm² over the MVM area of the cores used (footnote b). */
  readonly topsPerMm2: number;
  /** Energy of the use case, µJ (MVM-only for "mvm"; MVM + links + LDPU (+ GDPU) otherwise). */
  readonly energyUj: number;
  /** Latency of the use case, ns (RTL-simulated in the paper, Methods 'Power measurements'). */
  readonly latencyNs: number;
}

/** A column of Table I. */
export type Table1Metric = "tops" | "topsPerW" | "topsPerMm2" | "energyUj" | "latencyNs";
/** Every Table1Metric, in Table I's order. */
export const TABLE1_METRICS: readonly Table1Metric[] = ["tops", "topsPerW", "topsPerMm2", "energyUj", "latencyNs"];

/** "workload/mode/metric", the id the `fittedTo` lists use. */
export function table1EntryId(workload: Workload, mode: ReadMode, metric: Table1Metric): string {
  return `${workload}/${mode}/${metric}`;
}

/**
 * Paper Table I, as printed (reference values for comparison and fitting; never returned as
 * model output). Use cases per Methods 'Power measurements' and 'Weight mapping onto cores'.
 */
export const PAPER_TABLE1: readonly Table1Row[] = [
  { workload: "mvm", mode: "1-phase", tops: 63.1, topsPerW: 9.76, topsPerMm2: 1.55, energyUj: 0.86, latencyNs: 133 },
  { workload: "mvm", mode: "4-phase", tops: 16.1, topsPerW: 2.48, topsPerMm2: 0.4, energyUj: 3.38, latencyNs: 520 },
  { workload: "resnet9-layer", mode: "1-phase", tops: 6.79, topsPerW: 6.88, topsPerMm2: 1.34, energyUj: 0.97, latencyNs: 1131 },
  { workload: "resnet9-layer", mode: "4-phase", tops: 1.74, topsPerW: 1.74, topsPerMm2: 0.34, energyUj: 1.51, latencyNs: 1518 },
  { workload: "lstm-timestep", mode: "1-phase", tops: 30.6, topsPerW: 9.34, topsPerMm2: 1.5, energyUj: 3.46, latencyNs: 1043 },
  { workload: "lstm-timestep", mode: "4-phase", tops: 7.82, topsPerW: 2.37, topsPerMm2: 0.38, energyUj: 5.24, latencyNs: 1430 },
];

/** Number of entries in Table I (5 metrics × 3 use cases × 2 read modes). */
export const TABLE1_ENTRY_COUNT = PAPER_TABLE1.length * TABLE1_METRICS.length;

/** The paper's Table I row of a use case and read mode (reference values). Throws for an unknown pair. */
export function paperTable1Row(workload: Workload, mode: ReadMode): Table1Row {
  const row = PAPER_TABLE1.find((r) => r.workload === workload && r.mode === mode);
  if (!row) throw new Error(`no Table I row for ${workload}/${mode}`);
  return row;
}
