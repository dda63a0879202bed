// Every constant that models the chip, with the place it came from.
//
// "Paper" is Le Gallo et al., "A 64-core mixed-signal in-memory compute chip based on
// phase-change memory for deep neural network inference", Nature Electronics 2023
// (../shared/reference/hermes-chip-paper.txt). "EDT I" is its Extended Data Table I,
// "EDF n" its Extended Data Figure n. Conductances are in ADC counts, the unit the
// paper uses for G (Fig. 2a, Eq. 1): one count is the conductance that moves the ADC
// output by one LSB in the verify read.
//
// A number here without a source is a bug. Model parameters that the paper does not
// give (they are fitted or assumed) say so in `source`.

/** One modelled constant: its value, unit and source (the paper, a fit, or an assumption, said in `source`). */
export interface Param<T = number> {
  /** The value, in `unit`. */
  readonly value: T;
  /** Its unit, e.g. "ns", "µA", "ADC counts", "relative". */
  readonly unit: string;
  /** Where it comes from: "Paper §…", "EDT I", "Methods", "Fit: …" or "Assumed: …". */
  readonly source: string;
}

function p<T>(value: T, unit: string, source: string): Param<T> {
  return { value, unit, source };
}

/** The chip's architecture: sizes, clocks, formats. */
export const ARCH = {
  gridRows: p(8, "cores", "Paper §I: 64 cores placed in eight rows and eight columns"),
  gridCols: p(8, "cores", "Paper §I: eight rows and eight columns of cores"),
  cores: p(64, "cores", "EDT I: Number of cores"),
  crossbarRows: p(256, "unit cells", "EDT I: 256 × 256 unit cells per core"),
  crossbarCols: p(256, "unit cells", "EDT I: 256 × 256 unit cells per core"),
  devicesPerCell: p(4, "PCM devices", "EDT I; EDF 2a: G = (g1+ + g2+) − (g1− + g2−)"),
  weightsPerChip: p(4_194_304, "weights", "Paper §I: up to 4,194,304 weights on chip"),
  adcsPerCore: p(256, "ADCs", "EDT I: 1 ADC per row"),
  adcBits: p(12, "bit", "EDT I: ADC output 2 × 12 bit (positive and negative current)"),
  adcCounters: p(2, "counters", "Paper §II: two 12-bit unsigned integers per ADC"),
  inputBits: p(8, "bit", "EDT I: resolution of the time-encoded inputs, 8 bit"),
  pwmLsbNs: p(1, "ns/LSB", "EDT I: 8 bit (1 ns/LSB)"),
  outputBits: p(8, "bit", "Paper §II: LDPU output converted to INT8"),
  mvmClockHz: p(1e9, "Hz", "EDT I: maximum MVM clock frequency 1 GHz"),
  digitalClockHz: p(400e6, "Hz", "EDT I: maximum LDPU/GDPU clock frequency 400 MHz"),
  ldpuConvertScaleBlocks: p(2, "blocks", "Paper §II: two ADC-convert-and-scale blocks, outputs every second clock"),
  gdpuSlices: p(8, "slices", "Paper §I, §III: eight GDPU slices between rows four and five"),
  gdpuInputsPerSlice: p(256, "inputs", "Paper §III: up to 256 serial inputs (64 each of I, A, F, O)"),
  gdpuCellStates: p(64, "values", "Paper §III: cell-state memory for up to 64 elements"),
  gdpuClocksPerOutput: p(4, "clocks", "Paper §III: one output every four clock cycles"),
  gdpuTanhBins: p(18, "bins", "Paper §III: 17 comparators, 18 bins"),
  links: p(418, "links", "Paper §I: 418 physical communication links (5 Parallel Prism)"),
  linkMaxNeighbours: p(6, "cores", "Paper §II: transmission to and reception from at most six neighbouring cores"),
  linkChannels: p(8, "channels", "Paper §II: eight parallel channels, one bit per clock each"),
  linkDataRateBps: p(3.2e9, "bit/s", "EDT I: maximum link data-rate 3.2 Gbit/s (8 × 400 MHz)"),
  writeHeadsPerCore: p(32, "IDACs", "EDT I; Methods: 32 parallel IDACs"),
  slsPerWriteHead: p(8, "source lines", "Methods: each IDAC is assigned to 8 consecutive SLs"),
  maxWriteCurrentUa: p(800, "µA", "EDT I: max supported write current per write head"),
  chipAreaMm2: p(144, "mm²", "EDT I: 12 mm × 12 mm"),
  coreAreaMm2: p(1.392, "mm²", "EDT I: 1.2 mm × 1.16 mm"),
  mvmAreaPerCoreMm2: p(0.635, "mm²", "EDT I: 0.870 mm × 0.730 mm"),
  gdpuAreaMm2: p(0.281, "mm²", "EDT I: GDPU macro 0.809 mm × 0.347 mm"),
  supplyVoltageV: p([0.85, 0.95] as const, "V", "EDT I: supply voltage 0.85 – 0.95 V"),
  readVoltageRangeMv: p([100, 400] as const, "mV", "EDT I: read voltage range"),
  pcmResistanceRangeOhm: p([1e5, 1e7] as const, "Ω", "EDT I: nominal PCM resistance range per device"),
} as const;

/** Program-and-verify, as the Methods ("Weight programming") describe it. */
export const PROGRAMMING = {
  resetPulseNs: p(125, "ns", "Methods: RESET pulse width 125 ns"),
  resetCurrentUa: p(700, "µA", "Methods: RESET amplitude 700 µA"),
  setPulseNs: p(250, "ns", "Methods: SET pulse width 250 ns"),
  setTrailingEdgeNs: p(50, "ns", "Methods: SET trailing edge 50 ns"),
  setCurrentUa: p(125, "µA", "Methods: SET amplitude 125 µA"),
  programPulseNs: p(125, "ns", "Methods: programming pulses are square, 125 ns"),
  programCurrentMinUa: p(125, "µA", "Methods: amplitude between 125 µA and 700 µA"),
  programCurrentMaxUa: p(700, "µA", "Methods: amplitude between 125 µA and 700 µA"),
  verifyReadV: p(0.2, "V", "Methods: verify read with 0.2 V PWM pulses"),
  verifyPwmNs: p(512, "ns", "Methods: 512 ns width"),
  verifyPrechargeNs: p(256, "ns", "Methods: 256 ns precharge"),
  marginCounts: p(5, "ADC counts", "Methods: margin of 5 ADC counts"),
  maxIterations: p(30, "iterations", "Methods: maximum number of iterations (30)"),
  cyclesPerDiagonal: p(8, "cycles", "Methods: 8 programming cycles per diagonal, polarity and device"),
  gmaxOdp: p(80, "ADC counts", "Paper §IV: ODP Gmax = 80, 10th percentile of the least conductive core's SET"),
  gmaxTdp: p(160, "ADC counts", "Paper §IV: TDP Gmax = 160"),
  yieldResetMax: p(5, "ADC counts", "Paper §IV / Fig. 2a: yield needs |G_RESET| < 5"),
  yieldSetMin: p(50, "ADC counts", "Paper §IV / Fig. 2a: yield needs G_SET > 50"),
  adcMaxCurrentUa: p(100, "µA", "Methods: maximum current supported by the ADC (approximately 100 µA)"),
} as const;

/**
 * The PCM device model (assembly/pcm.ts). The paper gives the procedure and the targets
 * (Fig. 2a yield and Gmax, EDF 3a's curve shape); the values below are this model's
 * parameters, chosen so that the default chip reproduces those targets. "Fit:" says
 * what each was fitted to; "Assumed:" marks a choice the paper does not constrain.
 */
export const PCM = {
  setMeanCounts: p(119, "ADC counts", "Fit: Fig. 2a, the least conductive core's 10th percentile of G_SET ≈ 80 (ODP Gmax) on the default chip"),
  setCoreSigmaCounts: p(6, "ADC counts", "Fit: Fig. 2a, core-to-core spread of the SET distributions (shades per core)"),
  setDeviceSigmaCounts: p(18, "ADC counts", "Fit: Fig. 2a, width of one core's SET distribution (~40 counts 10–90 %)"),
  setDeviceSigmaCoreSpread: p(0.1, "relative", "Assumed: cores differ in SET width by ~10 % (Fig. 2a shades)"),
  floorMeanCounts: p(0.3, "ADC counts", "Fit: Fig. 2a, RESET distributions centred near 0, |G_RESET| < 5 for yielding cells"),
  floorSigmaCounts: p(0.4, "ADC counts", "Fit: Fig. 2a, RESET distribution width (half-normal)"),
  stuckResetProb: p(0.0018, "per device", "Fit: Fig. 2a inset, unit-cell yield ~99.4 % typical (devices that cannot SET)"),
  stuckSetProb: p(0.0007, "per device", "Fit: Fig. 2a inset (devices that cannot RESET; a cell fails if any of its 4 is stuck SET)"),
  defectCoreSpread: p(0.12, "log-normal σ", "Fit: Fig. 2a inset, 63 of 64 cores above 99 % yield"),
  outlierCores: p(1, "cores", "Paper §IV: one outlier core with yield 98.4 %"),
  outlierDefectFactor: p(3.8, "×", "Fit: Paper §IV, the outlier core's 98.4 % yield"),
  curveMidUa: p(400, "µA", "Fit: EDF 3a, conductance halves around the middle of the 125–700 µA range"),
  curveMidSigmaUa: p(25, "µA", "Assumed: device-to-device spread of the programming curve (EDF 3a shows one device)"),
  curveWidthUa: p(45, "µA", "Fit: EDF 3a, SET level below ~250 µA, RESET level above ~600 µA"),
  curveWidthSigmaUa: p(5, "µA", "Assumed: device-to-device spread of the curve's width"),
  pulseJitterUa: p(6, "µA", "Fit: EDF 3a error bars (10 repetitions on one device), as current jitter"),
  setCycleSigma: p(0.03, "relative", "Assumed: cycle-to-cycle σ of a SET pulse"),
  readNoiseBaseCounts: p(0.5, "ADC counts", "Assumed: verify-read noise floor (512 ns read, Methods)"),
  readNoisePerCount: p(0.01, "counts/count", "Assumed: read noise σ grows ~1 % of G (1/f noise, aihwkit PCM fits)"),
  readNoisePerCount2: p(0, "counts/count²", "Assumed: no quadratic read-noise term"),
  updateGain: p(0.7, "fraction", "Assumed: proportional update uses 0.7 × the nominal inverse slope (Ref. 30 style)"),
  mvmReadVoltageV: p(0.2, "V", "Assumed: MVM read voltage as the verify read's 0.2 V (EDT I range 100–400 mV)"),
  countConductanceUs: p(0.05, "µS/count", "Assumed: 1 count = 0.05 µS so G_SET ≈ 6 µS (EDT I: 100 kΩ – 10 MΩ per device) and Fig. 2's workload fits TDP Gmax 160 under the 100 µA ADC limit"),
} as const;

/**
 * The CCO ADCs (assembly/adc.ts). The paper states the design (per-row CCO ADC, offset
 * DAC, gain and nonlinearity trim registers, calibration independent of the weights,
 * "tightly distributed and linear transfer curves" afterwards) but no figures for the
 * mismatch or register widths: those below are assumptions of this model.
 */
export const ADC = {
  fullScaleCounts: p(4095, "counts", "EDT I: 12-bit counters; full scale ↔ ~100 µA (Methods) for the longest PWM pulse"),
  gainSigma: p(0.05, "relative", "Assumed: ±5 % (1σ) gain mismatch between the ADCs of a core before trimming"),
  offsetSigmaCounts: p(6, "counts", "Assumed: 1σ offset before the offset DAC"),
  nonlinMean: p(0.08, "fraction of FS", "Assumed: compression towards the current limit loses ~8 % at full scale (paper §IV: 'the more nonlinear high-current range')"),
  nonlinSigma: p(0.03, "fraction of FS", "Assumed: ADC-to-ADC spread of the compression"),
  offsetStepCounts: p(0.5, "counts", "Assumed: offset DAC step (resistor ladder, paper §II)"),
  offsetBits: p(6, "bit", "Assumed: offset DAC range ±16 counts"),
  gainStep: p(0.005, "relative", "Assumed: gain trim step 0.5 % (current-mirror trim, paper §II)"),
  gainBits: p(6, "bit", "Assumed: gain trim range ±16 %"),
  nonlinStep: p(0.01, "fraction of FS", "Assumed: nonlinearity trim step"),
  nonlinBits: p(4, "bit", "Assumed: nonlinearity trim 0..0.15 of FS"),
  calibrationNoiseCounts: p(0.3, "counts", "Assumed: error of the calibration's reference measurement"),
  calibrationPoints: p(32, "points", "Assumed: reference charges per ADC in the calibration sweep"),
} as const;

/**
 * Drift, accumulated 1/f noise and read noise (assembly/drift.ts): aihwkit's
 * HermesNoiseModel, the statistical fit to this chip's PCM devices (Le Gallo et al. 2023;
 * Nandakumar et al., ICECS 2019 for the method), in its one-device form because every
 * device of a unit cell drifts on its own here. Each quantity is a function of the
 * device's programmed conductance relative to g_ref, g_rel = clamp(g/g_ref, 1e−7, 1):
 *   below a threshold  clamp(a·ln g_rel + b, lo, hi);  above it  c0 + c1·g + c2·g² + c3·g³.
 * ν = |ν_mean + ν_std·z|; G(t) = G_p·((t + t0)/t0)^−ν with t in seconds since programming;
 * accumulated 1/f noise since programming σ = |G(t)|·q_s·√ln((t + t0 + t_r)/(t0 + t_r)).
 */
const fit = (
  threshold: number, a: number, b: number, lo: number, hi: number, c0: number, c1: number, c2: number, c3: number, what: string,
) => p({ threshold, a, b, lo, hi, c0, c1, c2, c3 } as const, "dimensionless", `aihwkit HermesNoiseModel (num_devices = 1): ${what}`);
export type PiecewiseFit = ReturnType<typeof fit>["value"];

/** Drift and 1/f read-noise parameters (aihwkit's HERMES fit): t0, read time, and the piecewise fits of ν and the noise against conductance. */
export const DRIFT = {
  t0S: p(200, "s", "aihwkit HermesNoiseModel: t_0 = 200 s for one-device cells; G(t) = G_p·((t + t0)/t0)^−ν"),
  tReadS: p(512e-9, "s", "aihwkit HermesNoiseModel: t_read = 512 ns, the 1/f fit's read duration"),
  gRefCounts: p(80, "ADC counts", "Assumed: HermesNoiseModel's g_max (10.35 µS, one device) ↔ the ODP Gmax of 80 counts (paper §IV)"),
  gRelMin: p(1e-7, "relative", "aihwkit HermesNoiseModel: _ZERO_CLIP"),
  gRelMax: p(1, "relative", "Assumed: the fits are used inside their range; SET devices above g_ref use the value at g_ref"),
  nuMean: fit(0.0945, -0.0387, -0.0182, 0.072, 0.13, 0.0736, -0.0126, -0.0436, 0, "ν mean"),
  nuStd: fit(0.3039, -0.012, -0.0023, 0.0124, 0.04, 0.0104, 0.0116, -0.0165, 0, "ν std, one device"),
  noiseQ: fit(0.1591, -0.0078, 0.0038, 0.0179, 0.04, 0.0088, 0.0768, -0.1352, 0.0664, "1/f noise amplitude q_s, one device"),
  readNoiseFactor: p(1, "× q_s", "Assumed: the instantaneous read noise of one MVM is σ = |G(t)|·q_s·factor (1/f noise over about one decade of bandwidth per read)"),
} as const;

/**
 * The analog MVM read (assembly/readout.ts): PWM phases, bit-line charge, leakage, read
 * noise. Charge is counted in conductance counts × ns; the ADC's LSB per count·ns follows
 * from PCM.countConductanceUs, PCM.mvmReadVoltageV and the ADC full scale (100 µA for the
 * longest 128 ns pulse = 4095 LSB).
 */
export const MVM = {
  phases: p(4, "reads", "Paper §II: all experiments use the 4-phase mode (four reads, all with V−); 1 = the 1-phase mode"),
  polarityAsymmetry: p(0.05, "relative", "Assumed: devices read with V+ (1-phase mode, negative inputs) conduct 5 % more (paper ref. 29: current–voltage polarity dependence of PCM)"),
  leakage: p(1e-3, "fraction of G", "Assumed: a device whose source line is not driven leaks 0.1 % of its read current during a phase (paper §IV: leakage adds to ε_residual, more with TDP)"),
  fullScalePulseNs: p(128, "ns", "EDT I: 8-bit inputs at 1 ns/LSB; the ADC full scale is reached at ~100 µA (Methods) over the longest pulse"),
  outputRangeSigma: p(4, "σ", "Assumed: characterisation sets the LDPU scale so that INT8 127 = 4 × rms of the ideal outputs"),
  copyChargeFraction: p(
    1,
    "fraction of ADC full scale",
    "Assumed: column copies (lib/network/tiling.ts columnCopiesFor) stop where a row's counter could pass the ADC full scale (4,095 LSB, ~100 µA over the longest pulse, Methods) for a full-scale input of either sign at TDP Gmax, so no input can saturate it. Measured on the FMNIST fixtures (docs/onnx.md): 0.5 gave fewer copies and no better accuracy; no limit (⌊256/w⌋ copies) saturated the first layers",
  ),
  driftCalibrationInputs: p(32, "inputs", "Assumed: global drift compensation measures Σ|y| over 32 fixed random inputs (aihwkit GlobalDriftCompensation style, paper refs. 31, 34)"),
} as const;

/** The link network's model (lib/chip/links.ts); the topology itself is constructed there. */
export const LINKS = {
  preambleBytes: p(1, "bytes", "Assumed: the paper gives no preamble length; one byte is one clock of 8 channels and names 256 routes"),
  delayFixedNs: p(0.5, "ns", "Assumed: link delay at zero length (the paper characterises no bit errors); errors appear when the clock period is below the delay"),
  delayPerPitchNs: p(0.5, "ns per core pitch", "Assumed: link delay grows with Manhattan length; all links error-free at 400 MHz"),
  errorSpreadNs: p(0.1, "ns", "Assumed: width of the timing-error transition"),
} as const;

/**
 * The latency, energy and throughput model (lib/cost/). kind "paper": stated in the paper;
 * "assumed": a structural choice the paper does not state; "fitted": a free parameter,
 * `fittedTo` names the Table I entries that fix it (lib/cost/fit.ts re-derives them).
 */
export interface CostParam {
  /** The value, in `unit`. */
  readonly value: number;
  /** Its unit, e.g. "ns", "W", "pJ". */
  readonly unit: string;
  /** "paper": stated in the paper; "assumed": a structural choice; "fitted": fitted to Table I. */
  readonly kind: "paper" | "assumed" | "fitted";
  /** Where it comes from, or what it was fitted to and how. */
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

/** Parameters of the latency/energy model (lib/cost): the paper's timing and power facts and the values fitted to Table I, each with its source. */
export const COST = {
  // ---- timing facts of the paper used only by the cost model ------------------------------
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

/** 'physical': devices, program-and-verify, PWM phases, ADC counters; 'functional': the paper's Methods model (fitted weight noise, exact products, 12-bit ADC counts). */
export type Fidelity = "physical" | "functional";
/** Every Fidelity, in the order the CLI lists them. */
export const FIDELITIES: readonly Fidelity[] = ["physical", "functional"];

/** Every parameter group, for `hermes-sim info`. */
export const CONFIG_GROUPS = { architecture: ARCH, programming: PROGRAMMING, pcm: PCM, adc: ADC, drift: DRIFT, mvm: MVM, links: LINKS, cost: COST } as const;
