// lib/study — what users run many times: the Fig. 2 characterisation (characterize.ts,
// characterize-core.ts and its task kind in tasks.ts), the paper's metrics (metrics.ts) and
// ideal digital engine (digital-engine.ts), the Monte Carlo engine with JSONL checkpoints
// (montecarlo.ts, checkpoint.ts), drift studies of the characterisation workload
// (drift-study.ts), of a model over a test set (drift-model.ts) and of a sequence (LSTM) model
// over a sequence test set (drift-sequence.ts), and the BullMQ queue
// that spreads a study over machines (queue/).
// May import: lib/runtime, lib/chip, lib/network, lib/cost.

export { characterize, DEFAULT_TIMES, type CharacterizeOptions, type CharacterizeResult, type SchemeResult } from "./characterize.ts";
export type { CoreCharacterization, TimeErrors } from "./characterize-core.ts";
export { mvmErrors, equivalentBits, type MvmErrors, type MatrixShape } from "./metrics.ts";
export { runStudy, summarize, StudyAbortedError, TrialError, type StudyOptions, type StudyResult, type SeriesPoint, type RunTrial } from "./montecarlo.ts";
export { openCheckpoint, CheckpointError, studyHash, type Checkpoint, type OpenOptions, type Study, type Metrics, type JsonValue } from "./checkpoint.ts";
export { driftStudy, DRIFT_METRICS, type DriftStudyOptions } from "./drift-study.ts";
export { modelDriftStudy, loadModelData, type ModelDriftStudyOptions, type ModelData, type ModelWorkload } from "./drift-model.ts";
export { sequenceDriftStudy, loadSequenceData, sequenceStudyScales, SEQUENCE_ACCURACY_METRIC, SEQUENCE_CALIBRATION, type SequenceDriftStudyOptions, type SequenceData, type SequenceWorkload } from "./drift-sequence.ts";
export { inferImages, modelScales, readAt, RunTally, CALIBRATION_IMAGES, type InferModel, type ReadPoint } from "./model-run.ts";
export { loadChipModel, prepareModelRun, prepareModelInputs, chipModelRun, modelRunDoc, type ChipModel, type ModelMapOptions, type PreparedModelRun, type ModelTestSet, type ChipRunOptions, type ModelRunDoc } from "./model-run-local.ts";
export { driftStudyOnQueue, modelDriftStudyOnQueue, modelRunOnQueue, runWorker as runQueueWorker, parseQueueUrl, QueueError, type QueueStudyOptions, type WorkerRunOptions } from "./queue/index.ts";
export type { QueueAccess, QueueTarget, ModelDriftQueueOptions, ModelRunQueueOptions } from "./queue/index.ts";
