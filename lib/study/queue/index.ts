// Drift studies on several machines: BullMQ jobs on Redis (`hermes-sim drift --queue URL`,
// `hermes-sim worker --queue URL`).
//
// Jobs. One job per trial (simulated chip), carrying everything a worker needs: the study
// seed, the trial index, the read times and the workload (scheme, cores, inputs, phases,
// fidelity; a functional fit given with --fit is stored once in Redis under its SHA-256 and
// the job carries the hash). A worker derives the chip's seed with trialSeed(seed, trial)
// and runs driftTrial (lib/study/drift-study.ts), the very function of a local run, and the job's
// return value is the trial's metrics, one object per time.
//
// Ids. jobId = "drift-<key>-<trial>" where key is the SHA-256 of everything that determines a
// trial's result (protocol, hermes-sim version, seed, times, workload, fit hash): adding a
// job whose id exists is a no-op in BullMQ, so submitting a study twice (or resubmitting
// after an interruption) never duplicates work, and a longer study with the same settings
// reuses the trials already done (a trial's result does not depend on the trial count).
//
// Results. The submitter polls the jobs of the trials it still needs; a completed job's
// return value is handed to runStudy (lib/study/montecarlo.ts) as that trial's result, so the
// checkpoint, the ordering by trial, the statistics and the digest are those of a local run
// bit for bit. Results are keyed by trial: a job run twice (a worker killed mid-job leaves a
// stalled job, which BullMQ gives to another worker once its lock expires) counts once.
//
// Connections fail fast: no Redis, an unknown host or a dead link end with one clear line
// (the URL's user and password are never printed), never a hang; a link lost during a run
// is retried for a few seconds (HERMES_QUEUE_RECONNECT_MS), then the command stops.
//
// The code: lib/study/queue/jobs.ts (job data and ids), lib/study/queue/connection.ts (URLs, timings,
// connections), lib/study/queue/submit.ts (driftStudyOnQueue), lib/study/queue/worker.ts (runWorker).

export * from "./connection.ts";
export * from "./jobs.ts";
export * from "./submit.ts";
export * from "./worker.ts";
