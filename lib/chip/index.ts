// lib/chip — the chip and its cores: every modelled constant with its source (config.ts),
// PCM device statistics (pcm-params.ts, devices.ts), program-and-verify (program.ts,
// targets.ts), the CCO ADCs (adc.ts), drift and read noise (drift.ts), the physical and
// functional reads `chip.at(t)` (analog.ts, its options and result types in read-options.ts, readout.ts, functional-*.ts), FP16 (fp16.ts),
// the counter-based RNG (rng.ts, rng-twin.ts), the GDPU (gdpu.ts), the links and their
// timing (links.ts, link-timing.ts), the MVM kernels' TypeScript side (mvm-kernels.ts),
// the characterisation workload (workload.ts) and the chip's task kinds (tasks.ts).
// May import: lib/runtime.

export { Chip, DEFAULT_SEED, type ChipOptions, type ChipProgramResult, type ProgramOptions } from "./chip.ts";
export { ChipAtTime, defaultOutputScale } from "./analog.ts";
export type { AtOptions, MvmOptions, MvmResult, ReadableChip } from "./read-options.ts";
export type { Phases, LdpuSettings } from "./readout.ts";
export { Core } from "./core.ts";
export type { CoreAdcs, AdcRecord } from "./adc.ts";
export { ARCH, PROGRAMMING, PCM, ADC, DRIFT, MVM, LINKS, COST, FIDELITIES, CONFIG_GROUPS, type Fidelity, type Param } from "./config.ts";
export { SCHEMES, type Scheme } from "./targets.ts";
export type { CoreProgramResult, ProgrammedCore, ErrorSummary } from "./program.ts";
export type { DeviceMeasurement, CoreDeviceMeasurement } from "./devices.ts";
export type { CoreDeviceStats } from "./pcm-params.ts";
export { loadFit, type FunctionalFit, type SchemeFit } from "./functional-fit.ts";
export { GdpuSlice, gdpuTanh, gdpuSigmoid, type GdpuParams } from "./gdpu.ts";
export { toHalf, fromHalf } from "./fp16.ts";
export { route, type Link, type Route, type RouteOptions, type LinkKind } from "./links.ts";
export { characterisationWeights } from "./workload.ts";
export type { Seed } from "./rng.ts";
