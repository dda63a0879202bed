// Studies and runs on several machines: BullMQ jobs on Redis (`hermes-sim drift --queue URL`,
// `drift --model … --queue URL`, `run --model … --queue URL`; `hermes-sim worker --queue URL`).
//
// Jobs (./jobs.ts; one queue, "hermes-sim", two kinds, checked by the worker before anything
// runs: another protocol or hermes-sim version, an unknown kind, malformed data or a blob that
// does not hash to the job's hash is refused with one log line, failed without retry):
// - drift-trial: one chip of a characterisation drift study (seed, trial, times, workload);
//   the worker runs driftTrial (lib/study/drift-study.ts), the function of a local run.
// - infer: images first..first+count−1 of a test set through an ONNX model on one programmed
//   chip (seed, scheme, fidelity, fit) at one read point (t, draw), with the submitter's INT8
//   scales; the worker runs inferImages (lib/study/model-run.ts), the function of a local run,
//   and returns the INT8 outputs. `run --model` cuts its images × runs into such jobs,
//   `drift --model` its chips × read times (× image chunks with --job-images).
//
// Files travel once (./blobs.ts): the model, the images file and a functional fit are stored in
// Redis under their SHA-256 (in chunks of 4 MiB), jobs carry the hashes, workers check them.
// A worker keeps what jobs share: the model and images it has read, and programmed chips per
// (model hash, chip seed, scheme, fidelity) with their reads (./worker-infer.ts).
//
// Ids. A job id is a hash of everything that determines its result (protocol, hermes-sim
// version, what it computes) plus its index (trial; run and images): adding a job whose id
// exists is a no-op in BullMQ, so submitting twice, or again after an interruption, never
// duplicates work, and completed jobs (kept 7 days) are reused.
//
// Results. The submitter (./collector.ts) polls the jobs it waits for, in order; a job run
// twice (a worker killed mid-job leaves a stalled job, which BullMQ gives to another worker
// once its lock expires) counts once. Drift studies hand each chip's metrics to runStudy
// (lib/study/montecarlo.ts: checkpoint, ordering, statistics, digest of a local run);
// `run --model` takes job outputs in order into the RunTally of a local run (./submit-run.ts).
// Model submitters queue their jobs before the float reference (onnxruntime) is computed, so
// workers start at once. A submitter that stops (signal, failed job, failed reference) removes
// the jobs no worker has started (Submission.removeWaiting); completed jobs stay for a resume.
//
// Connections (./connection.ts) fail fast: no Redis, an unknown host, a wrong password, an
// untrusted TLS certificate or a dead link end with one clear line (the URL's password is
// never printed), never a hang; a link lost during a run is retried for a few seconds
// (HERMES_QUEUE_RECONNECT_MS), then the command stops. rediss:// is TLS (--tls-ca FILE).
//
// The code: jobs.ts (job data, ids, checks), blobs.ts (files in Redis), connection.ts (URLs,
// TLS, timings, connections), collector.ts (adding jobs, collecting results), submit.ts
// (driftStudyOnQueue), submit-model.ts (modelDriftStudyOnQueue, the model jobs' set-up),
// submit-run.ts (modelRunOnQueue), worker.ts (runWorker), worker-infer.ts (infer jobs).

export * from "./connection.ts";
export * from "./jobs.ts";
export * from "./blobs.ts";
export * from "./collector.ts";
export * from "./submit.ts";
export * from "./submit-model.ts";
export * from "./submit-run.ts";
export * from "./worker.ts";
