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

export interface Param<T = number> {
  readonly value: T;
  readonly unit: string;
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
 * Drift and read noise (assembly/drift.ts). The functional forms are those of aihwkit's
 * PCM statistical model (PCMLikeNoiseModel, Nandakumar et al., ICECS 2019; Joshi et al.,
 * Nat. Commun. 2020): ν mean and spread linear in ln(g/g_ref) and clipped; read noise
 * relative σ a power law of g. g_ref maps that model's g_max onto this chip's typical SET
 * conductance. PROVISIONAL: to be replaced by the HERMES-specific fit
 * (aihwkit HermesNoiseModel) once it has been read.
 */
export const DRIFT = {
  t0S: p(20, "s", "aihwkit PCMLikeNoiseModel t_0 = 20 s: the programmed state is the conductance at t0"),
  gRefCounts: p(119, "ADC counts", "Assumed: aihwkit's g_max ↔ this chip's mean G_SET (PCM.setMeanCounts)"),
  nuMeanA: p(0.0244, "dimensionless", "aihwkit PCMLikeNoiseModel: ν_mean = −0.0155 ln(g/g_max) + 0.0244"),
  nuMeanB: p(-0.0155, "dimensionless", "aihwkit PCMLikeNoiseModel"),
  nuMeanMin: p(0.049, "dimensionless", "aihwkit PCMLikeNoiseModel: ν_mean clipped to [0.049, 0.1]"),
  nuMeanMax: p(0.1, "dimensionless", "aihwkit PCMLikeNoiseModel"),
  nuStdA: p(-0.0059, "dimensionless", "aihwkit PCMLikeNoiseModel: ν_std = −0.0125 ln(g/g_max) − 0.0059"),
  nuStdB: p(-0.0125, "dimensionless", "aihwkit PCMLikeNoiseModel"),
  nuStdMin: p(0.008, "dimensionless", "aihwkit PCMLikeNoiseModel: ν_std clipped to [0.008, 0.045]"),
  nuStdMax: p(0.045, "dimensionless", "aihwkit PCMLikeNoiseModel"),
  nuMax: p(0.2, "dimensionless", "Assumed: no device drifts faster than ν = 0.2"),
  readNoiseRel: p(0.01, "relative", "Assumed: per-MVM read noise σ = 1 % of g at g_ref (1/f noise over one read)"),
  readNoiseExponent: p(0.65, "dimensionless", "aihwkit PCMLikeNoiseModel: relative read noise ∝ g^−0.65"),
  readNoiseRelMax: p(0.2, "relative", "aihwkit PCMLikeNoiseModel: relative read noise clipped at 0.2"),
  gMinCounts: p(0.5, "ADC counts", "Assumed: ν and read noise of RESET devices evaluated at 0.5 counts"),
} as const;

export type Fidelity = "physical" | "functional";
export const FIDELITIES: readonly Fidelity[] = ["physical", "functional"];

/** Every parameter group, for `hermes-sim info`. */
export const CONFIG_GROUPS = { architecture: ARCH, programming: PROGRAMMING, pcm: PCM, adc: ADC, drift: DRIFT } as const;
