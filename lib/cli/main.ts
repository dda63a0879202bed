// lib/cli — the face: the `hermes-sim` command line (this file) and one file per command
// (commands/). May import every other part; nothing in lib/ imports it.
//
// The `hermes-sim` command line. Exit codes: 0 ok, 1 failure, 2 bad usage.
// With --json exactly one JSON document goes to stdout; human text otherwise.

import { Command, CommanderError, InvalidArgumentError } from "commander";
import { readFileSync } from "node:fs";
import { chipInfo, formatInfo } from "../chip/info.ts";
import { characterizeCommand } from "./commands/characterize.ts";
import { benchCommand } from "./commands/bench.ts";
import { costCommand } from "./commands/cost.ts";
import { driftCommand } from "./commands/drift.ts";
import { workerCommand } from "./commands/worker.ts";
import { mapCommand } from "./commands/map.ts";
import { runCommand } from "./commands/run.ts";
import { programCommand } from "./commands/program.ts";
import { serveCommand } from "./commands/serve.ts";
import { shutdownPool } from "../runtime/pool.ts";
import { packageFile } from "../runtime/files.ts";

const pkg = JSON.parse(readFileSync(packageFile("package.json"), "utf8")) as { version: string };

export class UsageError extends Error {
  override name = "UsageError";
}

export function parseIntArg(name: string, lo: number, hi: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^-?\d+$/.test(v.trim()) || n < lo || n > hi) {
      throw new InvalidArgumentError(`${name} must be an integer in ${lo}..${hi}, got ${JSON.stringify(v)}`);
    }
    return n;
  };
}

/** `--host-activations` of run, map, cost and drift. */
const HOST_ACTIVATIONS_HELP =
  "with an ONNX CNN --model: run LeakyRelu, PRelu, HardSwish, SiLU, Sigmoid, Tanh, ... between layers on the host, off-chip, on the INT8 values (the chip has no unit for them; default: such a model is refused naming the node)";

function program(out: (s: string) => void): Command {
  const cmd = new Command("hermes-sim")
    .description("Simulator of the IBM HERMES 64-core PCM analog in-memory computing chip")
    .version(pkg.version)
    .option("--debug", "print stack traces on errors")
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: (s) => process.stderr.write(s) });

  cmd
    .command("info")
    .description("print the chip's configuration: every modelled constant with its unit and source")
    .option("--json", "print one JSON document")
    .addHelpText("after", "\nExamples:\n  hermes-sim info\n  hermes-sim info --json | jq .architecture.cores")
    .action((opts: { json?: boolean }) => {
      const info = chipInfo();
      out(opts.json ? JSON.stringify(info, null, 2) + "\n" : formatInfo(info));
    });

  cmd
    .command("program")
    .description("program uniform random weights on all 64 cores by iterative program-and-verify")
    .option("--scheme <scheme>", "odp | tdp | tdp-maxfill", "tdp")
    .option("--seed <n>", "chip and workload seed (non-negative integer)", "1")
    .option("--sparsity <f>", "fraction of zero weights", "0.3")
    .option("--json", "print one JSON document")
    .option("--out <dir>", "write a report folder (index.html, SVG figures, report.json)")
    .option("--threads <n>", "worker threads (default: all cores; results do not depend on it)")
    .addHelpText(
      "after",
      "\nExamples:\n  hermes-sim program --scheme odp\n  hermes-sim program --scheme tdp --seed 7 --json\n  hermes-sim program --out report/",
    )
    .action(async (opts) => programCommand(opts, out));

  cmd
    .command("characterize")
    .description("Fig. 2 of the paper: program random weights on every core (ODP and TDP), read 2,048 inputs at several times, report MVM errors, weight errors, equivalent bits and drift")
    .option("--scheme <list>", "odp, tdp, tdp-maxfill, a comma-separated list, or both", "both")
    .option("--cores <n>", "characterise cores 0..n−1 (1..64)", "64")
    .option("--inputs <n>", "input vectors per core (256..65536)", "2048")
    .option("--times <list>", "read times since programming: seconds or with a unit (s, min, h, d, w, mo, y)", "25,1h,1d,1w,1mo")
    .option("--phases <n>", "read mode: 4 (4-phase, the paper's) or 1 (1-phase)", "4")
    .option("--fidelity <level>", "physical, or functional (the paper's Methods model: weight noise fitted from the physical level, quantisation only)", "physical")
    .option("--fit <file>", "functional fit to use (default: lib/chip/functional-fit.json, the default chip's)")
    .option("--fit-out <file>", "write the functional model's fit from this physical run")
    .option("--seed <n>", "chip and workload seed (non-negative integer)", "1")
    .option("--json", "print one JSON document")
    .option("--out <dir>", "write a report folder (index.html, SVG figures, report.json)")
    .option("--threads <n>", "worker threads (default: all cores; results do not depend on it)")
    .addHelpText(
      "after",
      "\nExamples:\n  hermes-sim characterize --out report/\n  hermes-sim characterize --scheme tdp --cores 8 --times 25,1d,1mo --json\n  hermes-sim characterize --phases 1 --inputs 1024",
    )
    .action(async (opts) => characterizeCommand(opts, out));

  cmd
    .command("drift")
    .description("Monte Carlo drift study: N simulated chips (independent seeds) × read times, the characterisation workload on each (mean, std and percentiles of the MVM errors with and without drift compensation), or with --model an ONNX classifier on a test set (accuracy against time)")
    .option("--trials <n>", "simulated chips (default 8)")
    .option("--chips <n>", "the same as --trials")
    .option("--times <list>", "read times since programming: seconds or with a unit (s, min, h, d, w, mo, y)", "25,1h,1d,1w,1mo")
    .option("--scheme <scheme>", "odp | tdp | tdp-maxfill", "tdp")
    .option("--cores <n>", "characterisation: cores per chip in the workload, 1..64 (default 8)")
    .option("--inputs <n>", "characterisation: input vectors per core, 256..65536 (default 1024)")
    .option("--phases <n>", "characterisation: read mode, 4 or 1 (default 4)")
    .option("--model <file>", "an ONNX classifier (CNN, or sequence model with an LSTM node: see docs/models.md) instead of the characterisation workload: accuracy against time")
    .option("--images <file>", "with --model: test images, .npy (uint8 or float32; N×C×H×W, N×H×W, N×H×W×C with --layout nhwc) or IDX, gzip or plain; for a sequence model N×T×F sequences or N×T token ids")
    .option("--labels <file>", "with --model: test labels, integer .npy or IDX (a sequence model: N, or N×T when it predicts every step)")
    .option("--limit <n>", "with --model: the first n test images (or sequences), run on every chip at every time (default 100)")
    .option("--input-scale <f>", "with --model: input = stored value × f, before --mean/--std (default 1/255 for uint8, 1 for float)")
    .option("--mean <list>", "with --model: then (input − mean) / std per channel: one value or one per channel, comma-separated (default 0)")
    .option("--std <list>", "with --model: see --mean (default 1)")
    .option("--layout <l>", "with --model: nchw (default; also N×H×W) or nhwc (N×H×W×C images)")
    .option("--host-activations", HOST_ACTIVATIONS_HELP)
    .option("--fidelity <level>", "physical or functional", "physical")
    .option("--fit <file>", "functional fit (default lib/chip/functional-fit.json)")
    .option("--seed <n>", "study seed; chip i gets a seed derived from (seed, i)", "1")
    .option("--checkpoint <file>", "JSONL checkpoint of finished (chip, time) results (default <out>/checkpoint.jsonl with --out)")
    .option("--resume", "skip what the checkpoint already holds (same settings required)")
    .option("--json", "print one JSON document")
    .option("--out <dir>", "write a report folder (index.html, SVG, report.json) and the checkpoint")
    .option("--threads <n>", "worker threads (default: all cores; results do not depend on it)")
    .option("--queue <url>", "run the chips on `hermes-sim worker`s through a BullMQ queue on Redis (redis://:PASSWORD@HOST:PORT, redis://USER:PASSWORD@HOST:PORT/DB, or rediss://… for TLS; the password may instead be in HERMES_QUEUE_PASSWORD); same results as a local run; not for sequence models yet")
    .option("--tls-ca <file>", "with a rediss:// --queue: the certificate authority (PEM) of the Redis server's certificate (or HERMES_QUEUE_TLS_CA, NODE_EXTRA_CA_CERTS)")
    .option("--job-images <n>", "with --model and --queue: test images per job (default: all, one job per chip and read time)")
    .addHelpText(
      "after",
      "\nExamples:\n  hermes-sim drift --trials 16 --out drift-report/\n  hermes-sim drift --trials 100 --fidelity functional --times 1h,1d,1mo,1y --json\n  hermes-sim drift --trials 50 --checkpoint study.jsonl --resume   # after an interruption\n  hermes-sim drift --trials 500 --queue rediss://:PASSWORD@queue-host:6380 --tls-ca ca.crt --out drift-report/   # on several machines\n  hermes-sim drift --model data/resnet9-fmnist.onnx --images data/t10k-images-idx3-ubyte.gz --labels data/t10k-labels-idx1-ubyte.gz --limit 200 --chips 4 --times 25,1d,1mo --out drift-model/",
    )
    .action(async (opts) => driftCommand(opts, out));

  cmd
    .command("worker")
    .description("run the jobs of `drift --queue`, `drift --model --queue` and `run --model --queue` from a BullMQ queue on Redis until stopped (SIGINT/SIGTERM finish the jobs in flight); start one per machine")
    .requiredOption("--queue <url>", "the Redis of the queue: redis://:PASSWORD@HOST:PORT, redis://USER:PASSWORD@HOST:PORT/DB, or rediss://… for TLS; the password may instead be in HERMES_QUEUE_PASSWORD")
    .option("--tls-ca <file>", "with a rediss:// --queue: the certificate authority (PEM) of the Redis server's certificate (or HERMES_QUEUE_TLS_CA, NODE_EXTRA_CA_CERTS)")
    .option("--threads <n>", "worker threads, and jobs in flight (default: all cores; results do not depend on it)")
    .addHelpText("after", "\nExamples:\n  HERMES_QUEUE_PASSWORD=… hermes-sim worker --queue rediss://queue-host:6380 --tls-ca ca.crt\n  hermes-sim worker --queue rediss://:PASSWORD@queue-host:6380 --tls-ca ca.crt --threads 8")
    .action(async (opts) => workerCommand(opts));

  cmd
    .command("map")
    .description("place a network's layers on the 8 × 8 cores: tiles, receiving cores, partial-sum routes over the links")
    .option("--network <name>", "resnet9, lstm-ptb or lstm-caption (the paper's three networks)", "resnet9")
    .option("--model <file>", "an ONNX CNN or sequence (LSTM) model (see docs/models.md) instead of --network")
    .option("--replicas <n>", "with --model: copies of each layer's weights on free cores: auto (default) or 1..64 (see run --help)")
    .option("--host-activations", HOST_ACTIVATIONS_HELP)
    .option("--steps <n>", "with a sequence --model whose sequence axis is free: timesteps per sequence, for the cost per sequence")
    .option("--seed <n>", "network weight seed", "1")
    .option("--json", "print one JSON document")
    .option("--out <dir>", "write a report folder with the floorplan")
    .addHelpText("after", "\nExamples:\n  hermes-sim map\n  hermes-sim map --network resnet9 --out map-report/\n  hermes-sim map --model data/resnet9-fmnist.onnx")
    .action((opts) => mapCommand(opts, out));

  cmd
    .command("run")
    .description("run a network on the simulated chip (mapped, programmed, INT8 between layers, partial sums over the links) against its float64 reference")
    .option("--network <name>", "resnet9, lstm-ptb or lstm-caption (random weights from --seed; --model for an ONNX file)", "resnet9")
    .option("--inputs <n>", "random input images (resnet9) or timesteps (LSTMs)", "4")
    .option("--model <file>", "an ONNX model (CNN subset: see README) instead of --network")
    .option("--images <file>", "with --model: test images, .npy (uint8 or float32; N×C×H×W, N×H×W, N×H×W×C with --layout nhwc; N×T×F sequences) or IDX, gzip or plain")
    .option("--labels <file>", "with --model: test labels, integer .npy or IDX")
    .option("--limit <n>", "with --model: images to run (default 100)")
    .option("--runs <n>", "with --model: repeated inference runs (other read noise, or weight noise at functional fidelity); mean and std")
    .option("--input-scale <f>", "with --model: input = stored value × f, before --mean/--std (default 1/255 for uint8, 1 for float)")
    .option("--mean <list>", "with --model: then (input − mean) / std per channel: one value or one per channel, comma-separated (default 0)")
    .option("--std <list>", "with --model: see --mean (default 1)")
    .option("--layout <l>", "with --model: nchw (default; also N×H×W) or nhwc (N×H×W×C images)")
    .option("--replicas <n>", "with --model: copies of each layer's weights on the cores the model leaves free, averaged on the chip (1/√n of the analog error, n × the reads and MVM energy): auto (default: as many as fit, at most 8) or 1..64")
    .option("--host-activations", HOST_ACTIVATIONS_HELP)
    .option("--text <file>", "with an LSTM --model: a text to predict character by character (reports bits per character)")
    .option("--vocab <file>", "with --text: the model's vocabulary (JSON, see README)")
    .option("--scheme <scheme>", "odp | tdp | tdp-maxfill", "tdp")
    .option("--fidelity <level>", "physical or functional", "physical")
    .option("--time <t>", "read time since programming (s, or with a unit: 1h, 1d, 1mo)", "25")
    .option("--seed <n>", "chip, network and input seed", "1")
    .option("--threads <n>", "worker threads for programming (default: all cores)")
    .option("--json", "print one JSON document")
    .option("--out <dir>", "write a report folder (accuracy and cost summary, floorplan, per-layer cost)")
    .option("--queue <url>", "with --model and a test set: run the images × runs on `hermes-sim worker`s through a BullMQ queue on Redis (redis://:PASSWORD@HOST:PORT, redis://USER:PASSWORD@HOST:PORT/DB, or rediss://… for TLS; the password may instead be in HERMES_QUEUE_PASSWORD); same results as a local run")
    .option("--tls-ca <file>", "with a rediss:// --queue: the certificate authority (PEM) of the Redis server's certificate (or HERMES_QUEUE_TLS_CA, NODE_EXTRA_CA_CERTS)")
    .option("--job-images <n>", "with --queue: test images per job (default 64)")
    .option("--checkpoint <file>", "with --queue: JSONL checkpoint of the results taken so far")
    .option("--resume", "with --queue and --checkpoint: continue from the checkpoint (same settings required)")
    .addHelpText("after", "\nExamples:\n  hermes-sim run\n  hermes-sim run --scheme odp --time 1mo --json\n  hermes-sim run --model data/resnet9-fmnist.onnx --images data/t10k-images-idx3-ubyte.gz --labels data/t10k-labels-idx1-ubyte.gz --limit 200\n  hermes-sim run --model data/resnet9-fmnist.onnx --images data/t10k-images-idx3-ubyte.gz --labels data/t10k-labels-idx1-ubyte.gz --limit 10000 --runs 10 --queue rediss://:PASSWORD@queue-host:6380 --tls-ca ca.crt --checkpoint run.jsonl\n  hermes-sim run --network lstm-ptb --inputs 1000 --fidelity functional")
    .action(async (opts) => runCommand(opts, out));

  cmd
    .command("cost")
    .description("latency, energy and throughput model: Table I of the paper recomputed (model vs paper, fitted vs predicted entries)")
    .option("--table1", "the three Table I use cases in 1-phase and 4-phase mode")
    .option("--network <name>", "per-layer latency, energy and utilisation of a mapped network: resnet9 (per image), lstm-ptb or lstm-caption (per timestep)")
    .option("--model <file>", "the same for an ONNX CNN (per image) or sequence model (per timestep and per sequence)")
    .option("--replicas <n>", "with --model: copies of each layer's weights on free cores: auto (default) or 1..64 (see run --help)")
    .option("--host-activations", HOST_ACTIVATIONS_HELP)
    .option("--steps <n>", "with a sequence --model whose sequence axis is free: timesteps per sequence (default: the model's own)")
    .option("--phases <n>", "read mode for --network: 4 or 1", "4")
    .option("--seed <n>", "network weight seed (does not change costs)", "1")
    .option("--json", "print one JSON document")
    .addHelpText("after", "\nExamples:\n  hermes-sim cost --table1\n  hermes-sim cost --table1 --json | jq .rows\n  hermes-sim cost --network resnet9 --phases 1\n  hermes-sim cost --model data/resnet9-fmnist.onnx")
    .action((opts) => costCommand(opts, out));

  cmd
    .command("bench")
    .description("run the benchmark suites (MVM kernel, full pipelines, programming, characterisation and Monte Carlo at 1 and 2 threads); ratios against numpy and the f32 kernel measured in the same run")
    .option("--quick", "smaller sizes and fewer repetitions (CI)")
    .option("--suites <list>", "mvm, pipeline, program, characterize (default all)")
    .option("--check <baseline>", "fail (exit 1) when a ratio falls below the baseline's tolerance or an accuracy figure differs")
    .option("--write-baseline <file>", "write a baseline from this run")
    .option("--json", "print one JSON document")
    .addHelpText("after", "\nExamples:\n  hermes-sim bench --quick\n  hermes-sim bench --quick --check bench/baseline.json\n  hermes-sim bench --suites mvm,pipeline --json")
    .action((opts) => {
      const code = benchCommand(opts, out);
      if (code !== 0) throw new BenchRegression();
    });

  cmd
    .command("serve")
    .description("the browser playground: drop an ONNX model, see where it lands on the cores, what it costs and its accuracy on the chip against float, in a browser tab")
    .option("--port <n>", "port (0: any free port)", "8321")
    .option("--host <address>", "address to listen on (another machine can connect only if you give its interface, e.g. 0.0.0.0)", "127.0.0.1")
    .option("--data <dir>", "a folder whose files (models, test sets) the page offers, served under /data/")
    .addHelpText("after", "\nExamples:\n  hermes-sim serve --data data          # in a checkout: the ResNet-9 Fashion-MNIST demo is one click away\n  hermes-sim serve --port 9000 --data ~/models")
    .action(async (opts) => serveCommand(opts, out));

  return cmd;
}

/** A failed regression check (already reported on stdout): exit code 1, no extra message. */
class BenchRegression extends Error {
  override name = "BenchRegression";
}

/** Run the CLI; returns the exit code. */
export async function main(argv: string[], out: (s: string) => void = (s) => void process.stdout.write(s)): Promise<number> {
  const cmd = program(out);
  try {
    await cmd.parseAsync(argv, { from: "user" });
    return 0;
  } catch (e) {
    return reportError(e, argv);
  } finally {
    await shutdownPool();
  }
}

/** Print an error (stack only with --debug); exit code 2 for bad usage, 1 otherwise. */
function reportError(e: unknown, argv: string[]): number {
  if (e instanceof CommanderError) {
    // --help and --version end here too, with exit code 0.
    return e.exitCode === 0 ? 0 : 2;
  }
  if (e instanceof Error && e.name === "BenchRegression") return 1;
  const debug = argv.includes("--debug");
  const err = e as Error;
  process.stderr.write(`hermes-sim: ${debug ? (err.stack ?? err.message) : err.message}\n`);
  // A run stopped by SIGINT/SIGTERM (its checkpoint kept): the shell's 128 + SIGINT.
  if (err.name === "StudyAbortedError" || err.name === "AbortError") return 130;
  return e instanceof UsageError || e instanceof RangeError ? 2 : 1;
}
