// The cost model's parameters (COST_PARAMETERS) and, kept apart, the paper's Table I
// (PAPER_TABLE1) that the free parameters were fitted to and the rest is compared with.
//
// Paper facts that lib/config.ts already holds (PWM 1 ns/LSB, 8-bit inputs, 400 MHz
// digital clock, two convert-and-scale blocks, 8 link channels, one GDPU output per four
// clocks, MVM area per core, ...) are read from ARCH there, not repeated here.
//
// kind:
//   "paper"   – a number stated in the paper (section named in `source`);
//   "assumed" – a structural choice the paper does not state (no fit, no freedom used);
//   "fitted"  – a free parameter; `fittedTo` names the Table I entries that fix it.
//               lib/cost/fit.ts re-derives every fitted value from PAPER_TABLE1 and the
//               test suite checks the stored (rounded) values agree with that fit.

export interface CostParam {
  readonly value: number;
  readonly unit: string;
  readonly kind: "paper" | "assumed" | "fitted";
  readonly source: string;
  /** For kind "fitted": the Table I entries (see `table1EntryId`) the value is fitted to. */
  readonly fittedTo?: readonly string[];
}

function paper(value: number, unit: string, source: string): CostParam {
  return { value, unit, kind: "paper", source };
}
function assumed(value: number, unit: string, source: string): CostParam {
  return { value, unit, kind: "assumed", source };
}
function fitted(value: number, unit: string, fittedTo: readonly string[], source: string): CostParam {
  return { value, unit, kind: "fitted", source, fittedTo };
}

export const COST_PARAMETERS = {
  // ---- timing: paper facts not (yet) in lib/config.ts ----------------------------------
  ldpuBlockClocksPerOutput: paper(
    2,
    "clocks",
    "Paper §II: the two ADC-convert-and-scale blocks each produce an output every second clock cycle (so the LDPU passes one value per clock)",
  ),
  // ---- timing: assumptions ---------------------------------------------------------------
  pwmFullScaleLsb: assumed(
    128,
    "LSB",
    "Longest PWM pulse of a signed 8-bit input: |−128| = 2^(bits−1) LSB at 1 ns/LSB (EDT I) → up to 128 ns per read; a layer's peak latency assumes a full-scale input",
  ),
  gdpuDrainClocks: assumed(
    4,
    "clocks",
    "After its last input, a GDPU slice needs one output period (Paper §III: one output every four clocks) to emit the last hidden unit",
  ),
  // ---- timing: fitted --------------------------------------------------------------------
  mvmPhaseOverheadNs: fitted(
    1,
    "ns per read phase",
    ["mvm/1-phase/latencyNs", "mvm/4-phase/latencyNs"],
    "Per-read ADC start/latch overhead added to each PWM window (one 1 GHz MVM clock); with mvmFixedOverheadNs solves 133 = 1·(128+a)+b and 520 = 4·(128+a)+b",
  ),
  mvmFixedOverheadNs: fitted(
    4,
    "ns per MVM",
    ["mvm/1-phase/latencyNs", "mvm/4-phase/latencyNs"],
    "Per-MVM overhead (command decode, ADC counters to the register array; four 1 GHz MVM clocks)",
  ),
  ldpuFillNs: fitted(
    46,
    "ns per layer",
    ["resnet9-layer/1-phase/latencyNs", "lstm-timestep/1-phase/latencyNs"],
    "LDPU pipeline fill (register array → convert-and-scale → activation → TX) paid once per layer step; solved with digitalHopNs from the two 1-phase layer latencies minus the model's MVM latency",
  ),
  digitalHopNs: fitted(
    56,
    "ns per hop",
    ["resnet9-layer/1-phase/latencyNs", "lstm-timestep/1-phase/latencyNs"],
    "Per cascade hop: link preamble (Paper §II: the TX prepends a routing preamble) + RX sampling + the receiving LDPU's activation pipeline. Table I cannot separate the preamble from the pipeline depth",
  ),
  // ---- power and energy: fitted ----------------------------------------------------------
  mvmChipPowerW: fitted(
    0.326,
    "W",
    ["mvm/1-phase/topsPerW", "resnet9-layer/1-phase/topsPerW"],
    "MVM power that does not scale with the cores in use (static and shared bias/clock of the ADC and digital supplies, Methods 'Power measurements'); drawn for the MVM duration",
  ),
  mvmCorePowerW: fitted(
    0.0959,
    "W per fully used core",
    ["mvm/1-phase/topsPerW", "resnet9-layer/1-phase/topsPerW"],
    "Crossbar + ADC + PWM power of one core, scaled by the fraction of its unit cells in use (rows × cols / 256²); drawn for the MVM duration",
  ),
  digitalChipPowerW: fitted(
    0.119,
    "W",
    ["resnet9-layer/1-phase/energyUj", "resnet9-layer/4-phase/energyUj", "lstm-timestep/1-phase/energyUj", "lstm-timestep/4-phase/energyUj"],
    "Digital (LDPU/link/GDPU supply) power independent of the cores in use, drawn for the whole layer latency; least-squares fit (relative error) with digitalCorePowerW and digitalEnergyPerValuePj",
  ),
  digitalCorePowerW: fitted(
    0.0366,
    "W per active core",
    ["resnet9-layer/1-phase/energyUj", "resnet9-layer/4-phase/energyUj", "lstm-timestep/1-phase/energyUj", "lstm-timestep/4-phase/energyUj"],
    "Clocked power of an active core's LDPU and link controller, drawn for the whole layer latency (it is what makes a 4-phase layer cost more than its extra MVM energy)",
  ),
  digitalEnergyPerValuePj: fitted(
    208,
    "pJ per value",
    ["resnet9-layer/1-phase/energyUj", "resnet9-layer/4-phase/energyUj", "lstm-timestep/1-phase/energyUj", "lstm-timestep/4-phase/energyUj"],
    "Dynamic energy of one value through an LDPU (INT12 → FP16 convert-and-scale, activation, INT8) and out on one link hop; Table I cannot separate LDPU from link energy, and leaves no residual for GDPU dynamic energy (counted as 0)",
  ),
} as const satisfies Record<string, CostParam>;

export type CostParameterName = keyof typeof COST_PARAMETERS;

/** Number of free (fitted) parameters: must stay below the number of Table I entries. */
export const FREE_PARAMETER_COUNT = Object.values(COST_PARAMETERS).filter((p) => p.kind === "fitted").length;

// ---- Table I use cases and the paper's values --------------------------------------------

export type Workload = "mvm" | "resnet9-layer" | "lstm-timestep";
export type ReadMode = "1-phase" | "4-phase";
export const WORKLOADS: readonly Workload[] = ["mvm", "resnet9-layer", "lstm-timestep"];
export const READ_MODES: readonly ReadMode[] = ["1-phase", "4-phase"];

export interface Table1Row {
  readonly workload: Workload;
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

export type Table1Metric = "tops" | "topsPerW" | "topsPerMm2" | "energyUj" | "latencyNs";
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

export function paperTable1Row(workload: Workload, mode: ReadMode): Table1Row {
  const row = PAPER_TABLE1.find((r) => r.workload === workload && r.mode === mode);
  if (!row) throw new Error(`no Table I row for ${workload}/${mode}`);
  return row;
}
