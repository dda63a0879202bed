// Latency and energy building blocks of the HERMES chip, and a layer step composed of them.
//
// A layer step (one input vector through a layer mapped on `chains` cascades of
// `chainLength` cores, as the paper maps ResNet-9 and the LSTMs):
//   1. MVM on all cores at once: per read phase a PWM window (2^(bits−1) ns at 1 ns/LSB)
//      plus a per-phase overhead, plus a per-MVM overhead; 4-phase = four reads.
//   2. The cores' LDPUs stream their outputs one per 400 MHz clock (two convert-and-scale
//      blocks, each one value per two clocks), cascading partial sums core to core over the
//      links (8 bits per clock) — pipelined, so a chain costs the stream once plus a fixed
//      delay per hop (preamble + RX→TX pipeline) plus one pipeline fill.
//   3. Optionally the last core of each chain feeds a GDPU slice (one input per clock, one
//      hidden unit per four clocks), which drains one output period after its last input.
// Energy: MVM power (chip part + per-core part ∝ cells used) for the MVM time; digital
// background power (chip part + per-active-core part) for the whole step; a dynamic energy
// per value an LDPU passes on.
//
// Units: latency in ns, energy in nJ, power in W, unless a name says otherwise.

import { ARCH } from "../chip/config.ts";
import { ArgumentError, intInRange, oneOf } from "../runtime/validate.ts";
import { COST_PARAMETERS as P, READ_MODES, type ReadMode } from "./params.ts";

const ROWS = ARCH.crossbarRows.value;
const COLS = ARCH.crossbarCols.value;
const CELLS = ROWS * COLS;
const CORES = ARCH.cores.value;
/** One LDPU/GDPU/link clock, ns (EDT I: 400 MHz). */
export const DIGITAL_CLOCK_NS = 1e9 / ARCH.digitalClockHz.value;
/** LDPU throughput: values per digital clock (two blocks, one output per two clocks each). */
export const LDPU_VALUES_PER_CLOCK = ARCH.ldpuConvertScaleBlocks.value / P.ldpuBlockClocksPerOutput.value;
/** Link payload rate: bytes per digital clock (eight channels, one bit each per clock). */
export const LINK_BYTES_PER_CLOCK = ARCH.linkChannels.value / 8;

/** PWM phases of a read mode: 4 or 1. */
export function phasesOf(mode: ReadMode): number {
  return mode === "4-phase" ? 4 : 1;
}

function parseMode(mode: unknown, argument = "mode"): ReadMode {
  return oneOf(mode, READ_MODES, argument);
}

function nonNegInt(value: unknown, argument: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new ArgumentError(argument, "a non-negative integer", value);
  }
  return value;
}

function nonNegFinite(value: unknown, argument: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new ArgumentError(argument, "a finite number ≥ 0", value);
  }
  return value;
}

/** Latency (ns) and energy (nJ) of a piece of work. */
export interface Cost {
  /** Latency, ns. */
  readonly latencyNs: number;
  /** Energy, nJ. */
  readonly energyNj: number;
}

/** Duration of one PWM read window for full-scale `inputBits`-bit signed inputs (1..8, default 8), ns. @throws {@link ArgumentError} on another `inputBits` */
export function pwmWindowNs(inputBits: number = ARCH.inputBits.value): number {
  intInRange(inputBits, 1, ARCH.inputBits.value, "inputBits");
  const fullScale = P.pwmFullScaleLsb.value / 2 ** (ARCH.inputBits.value - inputBits);
  return fullScale * ARCH.pwmLsbNs.value;
}

/** MVM latency (all cores in parallel), ns: phases × (PWM window + phase overhead) + fixed overhead. @throws {@link ArgumentError} on a bad mode or `inputBits` (1..8, default 8) */
export function mvmLatencyNs(mode: ReadMode, inputBits: number = ARCH.inputBits.value): number {
  const phases = phasesOf(parseMode(mode));
  return phases * (pwmWindowNs(inputBits) + P.mvmPhaseOverheadNs.value) + P.mvmFixedOverheadNs.value;
}

/** What `mvmCost` prices (exported from the package as MvmCostOptions). `mvmCost` throws ArgumentError on values out of range. */
export interface MvmOptions {
  /** Cores computing at once, 1..64. */
  readonly cores: number;
  /** Inputs (crossbar source lines driven by PWM) used per core, 1..256 (default 256). */
  readonly inputs?: number;
  /** Outputs (ADC rows read) used per core, 1..256 (default 256). */
  readonly outputs?: number;
  /** The read mode: "4-phase" (four PWM reads) or "1-phase". */
  readonly mode: ReadMode;
  /** Input precision, 1..8 bit (default 8): the PWM window is 2^(bits−1) ns. */
  readonly inputBits?: number;
}

/** The cost of one MVM (`mvmCost`). */
export interface MvmCost extends Cost {
  /** Arithmetic operations (1 MAC = 2 OPs, Table I footnote b). */
  readonly ops: number;
  /** Fraction of the used cores' unit cells that hold weights. */
  readonly utilisation: number;
  /** MVM power during the MVM (chip part + per-core part), W. */
  readonly powerW: number;
  /** Part of energyNj that does not scale with the cores (count it once if MVMs overlap). */
  readonly chipEnergyNj: number;
  /** Part of energyNj that scales with the cores and the cells used, nJ. */
  readonly coreEnergyNj: number;
}

/**
 * One MVM on `cores` cores, each using `inputs` × `outputs` of its 256 × 256 cells (in the
 * paper's notation a 2016×224 layer split over 8 cores has 252 inputs × 224 outputs per core).
 * Energy is the Table I "MVM energy": crossbar, ADCs and PWMs (Methods 'Power measurements').
 * @throws {@link ArgumentError} on an option out of range (named)
 */
export function mvmCost(options: MvmOptions): MvmCost {
  if (options === null || typeof options !== "object") throw new ArgumentError("options", "an object", options);
  const cores = intInRange(options.cores, 1, CORES, "cores");
  const inputs = intInRange(options.inputs ?? COLS, 1, COLS, "inputs");
  const outputs = intInRange(options.outputs ?? ROWS, 1, ROWS, "outputs");
  const mode = parseMode(options.mode);
  const latencyNs = mvmLatencyNs(mode, options.inputBits ?? ARCH.inputBits.value);
  const utilisation = (inputs * outputs) / CELLS;
  const chipPower = P.mvmChipPowerW.value;
  const corePower = cores * utilisation * P.mvmCorePowerW.value;
  const chipEnergyNj = chipPower * latencyNs;
  const coreEnergyNj = corePower * latencyNs;
  return {
    latencyNs,
    energyNj: chipEnergyNj + coreEnergyNj,
    ops: 2 * cores * inputs * outputs,
    utilisation,
    powerW: chipPower + corePower,
    chipEnergyNj,
    coreEnergyNj,
  };
}

/**
 * One LDPU pass over `n` outputs: pipeline fill plus one value per clock. Energy: the dynamic
 * energy of `n` values through the LDPU and out on its TX link (one hop); background power
 * is separate (digitalBackgroundCost).
 * @param n - outputs, a non-negative integer
 * @throws {@link ArgumentError} when `n` is not a non-negative integer
 */
export function ldpuCost(n: number): Cost {
  nonNegInt(n, "n");
  return {
    latencyNs: n === 0 ? 0 : P.ldpuFillNs.value + (n / LDPU_VALUES_PER_CLOCK) * DIGITAL_CLOCK_NS,
    energyNj: n * P.digitalEnergyPerValuePj.value * 1e-3,
  };
}

/**
 * A transfer of `bytes` INT8 values over `hops` links (neighbour to neighbour, relayed by the
 * intermediate cores' LDPUs; pipelined): a fixed delay per hop (preamble + RX→TX) plus one
 * byte per clock. Energy: the relays' dynamic energy, (hops − 1) × bytes × per-value energy —
 * the first hop's TX is part of the ldpuCost of the LDPU that produced the values.
 * @param bytes - INT8 values sent, a non-negative integer
 * @param hops - links crossed, 0..63
 * @throws {@link ArgumentError} on a value out of range
 */
export function linkCost(bytes: number, hops: number): Cost {
  nonNegInt(bytes, "bytes");
  intInRange(hops, 0, CORES - 1, "hops");
  if (bytes === 0 || hops === 0) return { latencyNs: 0, energyNj: 0 };
  return {
    latencyNs: hops * P.digitalHopNs.value + (bytes / LINK_BYTES_PER_CLOCK) * DIGITAL_CLOCK_NS,
    energyNj: (hops - 1) * bytes * P.digitalEnergyPerValuePj.value * 1e-3,
  };
}

/**
 * One GDPU slice processing `hiddenUnits` LSTM hidden units (4 × hiddenUnits gate inputs,
 * one per clock; one output per four clocks), from first input to last output. Dynamic
 * energy is 0: Table I leaves no residual for it (see COST_PARAMETERS.digitalEnergyPerValuePj).
 * @param hiddenUnits - 0..64
 * @throws {@link ArgumentError} when `hiddenUnits` is not an integer in 0..64
 */
export function gdpuCost(hiddenUnits: number): Cost {
  intInRange(hiddenUnits, 0, ARCH.gdpuCellStates.value, "hiddenUnits");
  if (hiddenUnits === 0) return { latencyNs: 0, energyNj: 0 };
  const inputClocks = 4 * hiddenUnits; // I, A, F, O pre-activations, one per clock
  const outputClocks = hiddenUnits * ARCH.gdpuClocksPerOutput.value;
  const clocks = Math.max(inputClocks, outputClocks) + P.gdpuDrainClocks.value;
  return { latencyNs: clocks * DIGITAL_CLOCK_NS, energyNj: 0 };
}

/**
 * Digital background energy of `activeCores` cores' LDPUs/links (and the shared part) over `latencyNs`.
 * @param activeCores - 0..64
 * @param latencyNs - duration, ns (≥ 0)
 * @returns the cost (latency = `latencyNs`) and the background power, W
 * @throws {@link ArgumentError} on a value out of range
 */
export function digitalBackgroundCost(activeCores: number, latencyNs: number): Cost & { powerW: number } {
  intInRange(activeCores, 0, CORES, "activeCores");
  nonNegFinite(latencyNs, "latencyNs");
  const powerW = P.digitalChipPowerW.value + activeCores * P.digitalCorePowerW.value;
  return { latencyNs, energyNj: powerW * latencyNs, powerW };
}

// ---- a layer step ---------------------------------------------------------------------------

/** A layer mapped as cascades of cores, for `layerStepCost`. Throws ArgumentError on values out of range. */
export interface LayerStepSpec {
  /** Independent cascades (they run in parallel). */
  readonly chains: number;
  /** Cores per cascade; partial sums travel chainLength − 1 hops. */
  readonly chainLength: number;
  /** Inputs used per core (1..256). */
  readonly inputs: number;
  /** Outputs used per core (1..256); every core of a chain streams this many partial sums. */
  readonly outputs: number;
  /** The last core of each chain sends its outputs one more hop to a GDPU slice (LSTM). */
  readonly gdpu?: boolean;
  /** The read mode: "4-phase" or "1-phase". */
  readonly mode: ReadMode;
  /** Input precision, 1..8 bit (default 8). */
  readonly inputBits?: number;
}

/** The cost of one input vector through a layer (`layerStepCost`). */
export interface LayerStepCost extends Cost {
  /** Cores used: chains × chainLength. */
  readonly cores: number;
  /** The MVM part (all cores at once). */
  readonly mvm: MvmCost;
  /** Latency after the MVM: LDPU stream, cascade hops, GDPU. */
  readonly digitalLatencyNs: number;
  /** Dynamic LDPU/link energy. */
  readonly valueEnergyNj: number;
  /** Digital background energy of the active cores over the whole step, nJ. */
  readonly backgroundEnergyNj: number;
  /** Link hops of each chain's partial sums: chainLength − 1, plus 1 into a GDPU slice. */
  readonly hopsPerChain: number;
  /** Values the LDPUs pass on: cores × outputs. */
  readonly valuesProcessed: number;
}

/**
 * One input vector through a layer mapped as `chains` cascades of `chainLength` cores.
 * @throws {@link ArgumentError} on a value out of range (named), more than 64 cores, more
 *   than 8 chains with a GDPU, or a GDPU layer whose outputs are not a multiple of 4
 */
export function layerStepCost(spec: LayerStepSpec): LayerStepCost {
  if (spec === null || typeof spec !== "object") throw new ArgumentError("spec", "an object", spec);
  const chains = intInRange(spec.chains, 1, CORES, "chains");
  const chainLength = intInRange(spec.chainLength, 1, CORES, "chainLength");
  const cores = chains * chainLength;
  if (cores > CORES) throw new ArgumentError("chains × chainLength", `at most ${CORES} cores`, cores);
  const gdpu = spec.gdpu ?? false;
  if (typeof gdpu !== "boolean") throw new ArgumentError("gdpu", "a boolean", gdpu);
  if (gdpu && chains > ARCH.gdpuSlices.value) throw new ArgumentError("chains", `at most ${ARCH.gdpuSlices.value} with a GDPU (one slice per chain)`, chains);
  const mvm = mvmCost({ cores, inputs: spec.inputs, outputs: spec.outputs, mode: spec.mode, inputBits: spec.inputBits ?? ARCH.inputBits.value });
  const n = spec.outputs;
  if (gdpu && n % 4 !== 0) throw new ArgumentError("outputs", "a multiple of 4 with a GDPU (I, A, F, O interleaved)", n);
  const hopsPerChain = chainLength - 1 + (gdpu ? 1 : 0);
  // Pipelined stream: the slowest stage sets the rate; fill, hops and GDPU drain add once.
  const streamClocks = Math.max(
    n / LDPU_VALUES_PER_CLOCK,
    hopsPerChain > 0 ? n / LINK_BYTES_PER_CLOCK : 0,
    gdpu ? (n / 4) * ARCH.gdpuClocksPerOutput.value : 0,
  );
  const digitalLatencyNs =
    P.ldpuFillNs.value + streamClocks * DIGITAL_CLOCK_NS + hopsPerChain * P.digitalHopNs.value + (gdpu ? P.gdpuDrainClocks.value * DIGITAL_CLOCK_NS : 0);
  const latencyNs = mvm.latencyNs + digitalLatencyNs;
  const valuesProcessed = cores * n;
  const valueEnergyNj = valuesProcessed * P.digitalEnergyPerValuePj.value * 1e-3;
  const backgroundEnergyNj = digitalBackgroundCost(cores, latencyNs).energyNj;
  return {
    cores,
    latencyNs,
    energyNj: mvm.energyNj + valueEnergyNj + backgroundEnergyNj,
    mvm,
    digitalLatencyNs,
    valueEnergyNj,
    backgroundEnergyNj,
    hopsPerChain,
    valuesProcessed,
  };
}
