// `hermes-sim worker --queue redis://HOST:PORT`: run the jobs of queued studies and runs from a BullMQ queue
// until stopped (lib/study/queue/index.ts). Status lines go to stderr.

import { defaultThreads } from "../../runtime/pool.ts";
import { runWorker } from "../../study/queue/index.ts";
import { ArgumentError, parseThreadsArg } from "../../runtime/validate.ts";

export interface WorkerCommandOptions {
  queue?: string;
  tlsCa?: string;
  threads?: string;
}

export async function workerCommand(opts: WorkerCommandOptions): Promise<void> {
  if (!opts.queue) throw new ArgumentError("--queue", "a Redis URL redis://HOST:PORT", undefined);
  const threads = opts.threads === undefined ? defaultThreads() : parseThreadsArg(opts.threads);
  await runWorker({ queue: opts.queue, ...(opts.tlsCa !== undefined ? { tlsCa: opts.tlsCa } : {}), threads, log: (line) => void process.stderr.write(`hermes-sim ${line}\n`) });
}
