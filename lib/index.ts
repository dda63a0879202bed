/// <reference types="long" preserve="true" />
// (onnx-proto's declarations, which lib/network/onnx.ts's types pull in, use the global Long
// of @types/long without referencing it: this reference makes the package's types check in
// a consumer's project without skipLibCheck.)
// hermes-sim's public API: `import { Chip, runOnChip, … } from "hermes-sim"`. Everything a
// user's code needs, re-exported from each part's index (lib/<part>/index.ts says what the
// part owns); nothing else in lib/ is part of the API. Parts, and the one direction of
// their imports (an arrow points at what is used):
//   runtime ← chip ← network / cost ← study ← cli / report
// See docs/architecture.md for the data path of one MVM and of one network inference.

export * from "./runtime/index.ts";
export * from "./chip/index.ts";
export * from "./network/index.ts";
export { OrtMissingError } from "./network/ort.ts";
export * from "./cost/index.ts";
export type { MvmOptions } from "./chip/index.ts"; // chip.at(t).mvm options; the cost model's are MvmCostOptions
export type { MvmOptions as MvmCostOptions } from "./cost/model.ts";
export { networkCost, lstmCost, sequenceCost, type NetworkCost, type LayerCost } from "./cost/network.ts";
export { inputLinkCost, type InputLinkCost } from "./cost/input-links.ts";
export * from "./study/index.ts";
export type { StudyRunOptions, DriftWorkload } from "./study/drift-study.ts"; // what DriftStudyOptions is made of
