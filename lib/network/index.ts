// lib/network — networks on the chip: the IR (graph.ts) and its builders (builders.ts), ONNX
// in (onnx.ts, onnx-lstm.ts) and out (onnx-export.ts), the float references (graph-eval.ts
// in float64, onnx-float.ts with onnxruntime), the mapper (mapper.ts: tiling.ts,
// placement.ts, epilogue.ts, input-routes.ts, mapping.ts) and its text floorplan, LSTM
// mapping and execution (lstm-map.ts, lstm-run.ts), ONNX sequence models (onnx-sequence.ts, onnx-sequence-graph.ts,
// sequence-model.ts, sequence-run.ts, sequence-data.ts), network execution (run.ts →
// run-plan.ts → run-exec.ts, its task kind in tasks.ts), what a network needs of the chip
// (needs.ts) and test sets (test-set.ts over npy.ts and idx.ts; text.ts).
// May import: lib/runtime, lib/chip.

export { INPUT, ACTIVATION_FNS, weightCount, type Network, type Node, type Shape, type WeightNode } from "./graph.ts";
export { inferShapes } from "./graph-shapes.ts";
export type { NodeBase, Conv2dNode, DenseNode, BatchNormNode, ReluNode, AddNode, MaxPoolNode, AvgPoolNode, FlattenNode, PadNode, ConcatNode, ActivationNode, ActivationFn, Pads } from "./graph.ts";
export { activationValue, activationTable, ONNX_ACTIVATIONS } from "./activation.ts";
export { GraphBuilder, resnet9, RESNET9_WIDTHS, RESNET9_WEIGHTS, type Resnet9Options } from "./builders.ts";
export { OnnxError, loadOnnx, importOnnx, readOnnx, type HeadOp, type LowerOptions } from "./onnx.ts";
export type { ModelProto } from "./onnx-decode.ts";
export { loadOnnxLstm, type OnnxLstm } from "./onnx-lstm.ts";
export { exportOnnx, type ExportOptions } from "./onnx-export.ts";
export { evaluate, type Activations } from "./graph-eval.ts";
export { mapNetwork, MappingError, tileMatrix, type Mapping, type LayerPlacement, type Tile, type MapOptions, type Range, type RouteInfo, type LdpuOp, type InputRoute, type InputTileRoute } from "./mapper.ts";
export { floorplan } from "./floorplan-text.ts";
export { runOnChip, runNetwork, programNetwork, calibrateScales, argmax, type RunOptions, type RunResult } from "./run.ts";
export { mapLstm, mapLstmStack, lstmStackOf, LSTM_PTB, LSTM_CAPTION, type LstmSpec, type LstmStackSpec, type LstmMapping, type LstmLayer, type LstmTile, type LstmStackLayout, type LstmMapOptions } from "./lstm-map.ts";
export { loadSequenceModel, type ReadSequenceOptions } from "./onnx-sequence.ts";
export { sequenceForward, sequenceForwardBatch, type SequenceModel, type SequenceOutputs, type SequenceLstmLayer, type SequenceDense, type SequenceRanges } from "./sequence-model.ts";
export { runSequenceModel, runSequences, mapSequenceModel, programSequenceModel, type SequenceRunOptions, type SequenceRunResult, type SequenceScales, type SequenceMapOptions } from "./sequence-run.ts";
export { readSequenceSet, loadSequenceTestSet, sequenceFloatOutputs, sequenceAccuracy, type SequenceSet } from "./sequence-data.ts";
export { runLstmOnChip, runLstm, programLstm, randomLstm, lstmReference, type LstmWeights, type LstmRunResult } from "./lstm-run.ts";
export { readIdx, parseIdx, idxImages, type Idx } from "./idx.ts";
export { readNpy, parseNpy, encodeNpy, type Npy, type NpyDtype, type NpyData } from "./npy.ts";
export { loadTestSet, parseTransformFlags, LAYOUTS, type TestSet, type TestSetOptions, type InputTransform, type Layout, type FileSource, type FileBytes } from "./test-set.ts";
export { mappingNeeds, assertFits, ModelTooLargeError, type MappingNeeds, type LayerNeeds } from "./needs.ts";
export { onnxruntimeOutputs, onnxruntimeAccuracy, compareOutputs, accuracyOf, type FloatOutputs } from "./onnx-float.ts";
export { readVocabulary, encodeText, bitsPerCharacter, type Vocabulary } from "./text.ts";
