// Entry point of build/hermes.wasm: re-exports every kernel module.
// Kernels are pure functions over raw pointers into the imported shared memory.
export { heapBase } from "./layout";
export { programCore, programWorkBytes } from "./program";
export { measureSetReset } from "./setreset";
export { sparseUniform } from "./workload";
export { devicePropsAt } from "./pcm";
export { normalOfWord } from "./philox";
export { philoxX4At } from "./philox";
export * from "./rng";
export { adcCurve, calibrateAdcs, drawAdcs } from "./adc";
export { driftExponentOf, noiseQOf, readCellsAt } from "./drift";
export * from "./fp16";
export { mvmF32, mvmI16, paddedCols } from "./mvm";
export { ldpuBatch, ldpuTable } from "./ldpu";
export { functionalReadoutRows, readoutBatch } from "./readout";
export { prepareInputs, quantisePlane } from "./read-inputs";
export { functionalLdpuFormula, functionalPackedLdpu, functionalPackedTable, functionalReadout, functionalReadoutTable, functionalWeights, widenInputs } from "./functional";
export { mvmI16Packed, packI16Quads, packedI16Bytes } from "./mvm-packed";
export { gdpuLut, gdpuSigmoid, gdpuStep, gdpuTanh } from "./gdpu";
export { normalTable } from "./normal-table";
export { conv2dF64, gatherPatches } from "./conv-f64";
