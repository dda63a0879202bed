// `hermes-sim run`: a network on the simulated chip against its float64 reference. Built-in
// networks with random weights (--network), ONNX models over test sets (.npy or IDX, see
// lib/network/test-set.ts) or texts (--model).

import { Chip } from "../../chip/chip.ts";
import { FIDELITIES, type Fidelity } from "../../chip/config.ts";
import { formatDuration, parseDuration } from "../../runtime/duration.ts";
import { INPUT } from "../../network/graph.ts";
import { inferShapes } from "../../network/graph-shapes.ts";
import { mapNetwork } from "../../network/mapper.ts";
import { loadOnnxLstm } from "../../network/onnx-lstm.ts";
import { bitsPerCharacter, encodeText, readVocabulary } from "../../network/text.ts";
import { readFileSync } from "node:fs";
import { runOnChip } from "../../network/run.ts";
import { lstmCost, networkCost } from "../../cost/network.ts";
import { defaultThreads } from "../../runtime/pool.ts";
import { sparseUniform } from "../../chip/workload.ts";
import { CHIP_CORE, Purpose } from "../../chip/rng.ts";
import { parseScheme } from "../../chip/targets.ts";
import { ArgumentError, oneOf, parseIntArg, parseSeedArg, parseThreadsArg } from "../../runtime/validate.ts";
import { networkByName } from "./map.ts";
import { runModelCommand } from "./run-model.ts";
import { writeReport } from "../../report/html.ts";
import { networkFigures } from "../../report/model-run.ts";
import { LSTM_CAPTION, LSTM_PTB, type LstmSpec } from "../../network/lstm-map.ts";
import { randomLstm, runLstmOnChip } from "../../network/lstm-run.ts";
import { isSequenceModelFile, runSequenceCommand } from "./run-sequence.ts";
import { hostActivationsFlag } from "./model-flags.ts";

export interface RunCommandOptions {
  network: string;
  model?: string;
  /** With --model and a test set: copies of each layer's weights (MapOptions.replicas, SequenceMapOptions.replicas; default "auto"). */
  replicas?: string;
  images?: string;
  labels?: string;
  limit?: string;
  inputScale?: string;
  mean?: string;
  std?: string;
  layout?: string;
  /** With a CNN --model: activations without a unit on the chip run on the host (LowerOptions.hostActivations). */
  hostActivations?: boolean;
  text?: string;
  vocab?: string;
  runs?: string;
  inputs: string;
  scheme: string;
  fidelity: string;
  time: string;
  seed: string;
  threads?: string;
  json?: boolean;
  out?: string;
  /** With --model and a test set: run on queue workers (lib/study/queue/). */
  queue?: string;
  tlsCa?: string;
  jobImages?: string;
  checkpoint?: string;
  resume?: boolean;
}

const MODEL_QUEUE_ONLY = [["queue", "--queue"], ["tlsCa", "--tls-ca"], ["jobImages", "--job-images"], ["checkpoint", "--checkpoint"], ["resume", "--resume"]] as const;

export async function runCommand(opts: RunCommandOptions, out: (s: string) => void): Promise<void> {
  const seed = parseSeedArg(opts.seed, "--seed");
  if (opts.model === undefined || opts.text !== undefined) {
    for (const [k, flag] of MODEL_QUEUE_ONLY) {
      if (opts[k] !== undefined) throw new ArgumentError(flag, "given only with --model and a test set (--images, --labels)", opts[k]);
    }
  }
  if (opts.replicas !== undefined && (opts.model === undefined || opts.text !== undefined)) {
    throw new ArgumentError("--replicas", "given only with --model and a test set (--images, --labels)", opts.replicas);
  }
  const sequence = opts.model !== undefined && opts.text === undefined && isSequenceModelFile(opts.model);
  hostActivationsFlag(opts, opts.text !== undefined || sequence);
  if (opts.model !== undefined && opts.text !== undefined) return runTextCommand(seed, opts, out);
  if (sequence) {
    for (const [k, flag] of MODEL_QUEUE_ONLY) {
      if (opts[k] !== undefined) throw new ArgumentError(flag, "given only with a CNN --model (sequence models run on this machine)", opts[k]);
    }
    return runSequenceCommand(seed, opts, out);
  }
  if (opts.model !== undefined) return runModelCommand(seed, opts, out);
  const lstm = ({ "lstm-ptb": LSTM_PTB, "lstm-caption": LSTM_CAPTION } as Record<string, LstmSpec>)[opts.network];
  if (lstm) return runLstmCommand(lstm, seed, opts, out);
  const net = networkByName(opts.network, seed);
  const n = parseIntArg(opts.inputs, 1, 10000, "--inputs");
  const scheme = parseScheme(opts.scheme, "--scheme");
  const fidelity: Fidelity = oneOf(opts.fidelity, FIDELITIES, "--fidelity");
  const t = parseDuration(opts.time, "--time");
  const threads = opts.threads === undefined ? defaultThreads() : parseThreadsArg(opts.threads);
  const size = inferShapes(net).get(INPUT)!.reduce((a, b) => a * b, 1);
  // Random inputs uniform in [0, 1) (images after 1/255 scaling), from the seed.
  const u = sparseUniform(seed, CHIP_CORE, Purpose.INPUTS, n * size, 0, 1);
  const inputs = Array.from({ length: n }, (_, i) => u.subarray(i * size, (i + 1) * size).map((v) => Math.abs(v)));
  const mapping = mapNetwork(net);
  const chip = Chip.create({ seed, fidelity });
  const t0 = performance.now();
  try {
    const r = await runOnChip(chip, net, inputs, { scheme, t, threads, mapping });
    const cost = networkCost(net, mapping, "4-phase");
    const doc = {
      network: mapping.network, fidelity, scheme, t, n, cores: mapping.cores, seed: seed.toString(),
      error: r.error, agreement: r.agreement,
      cost: { latencyUs: cost.latencyUs, energyUj: cost.energyUj },
      wallS: Number(((performance.now() - t0) / 1000).toFixed(2)),
    };
    const report = opts.out
      ? writeReport(
          opts.out,
          `hermes-sim run: ${doc.network} on the simulated chip (${fidelity}, ${scheme})`,
          [
            ["inputs", `${n} random image${n > 1 ? "s" : ""}, read ${formatDuration(t)} after programming`],
            ["‖chip − float64‖ / ‖float64‖ (outputs)", r.error.toFixed(4)],
            ["top-1 agreement with float64", `${(100 * r.agreement).toFixed(1)} %`],
            ["cores", `${doc.cores} of 64`],
            ["latency / energy per inference (4-phase)", `${cost.latencyUs.toFixed(1)} µs / ${cost.energyUj.toFixed(1)} µJ`],
          ],
          networkFigures(mapping, cost, "inference"),
          { ...doc, layers: cost.layers },
        )
      : undefined;
    if (opts.json) {
      out(JSON.stringify(doc) + "\n");
      return;
    }
    out(
      [
        ...(report ? [`report: ${report}`] : []),
        `${doc.network} on ${doc.cores} cores (${fidelity}, ${scheme}, read at ${opts.time}), ${n} random input${n > 1 ? "s" : ""}:`,
        `  ‖chip − float64‖ / ‖float64‖ of the outputs: ${r.error.toFixed(4)}; top-1 agreement with float64: ${(100 * r.agreement).toFixed(1)} %`,
        `  cost model: ${cost.latencyUs.toFixed(1)} µs, ${cost.energyUj.toFixed(1)} µJ per inference (4-phase); ${doc.wallS} s of simulation`,
      ].join("\n") + "\n",
    );
  } finally {
    chip.dispose();
  }
}

async function runLstmCommand(spec: LstmSpec, seed: bigint, opts: RunCommandOptions, out: (s: string) => void): Promise<void> {
  const T = Number(opts.inputs);
  if (!/^\s*\d+\s*$/.test(opts.inputs) || T < 1 || T > 100000) throw new ArgumentError("--inputs", "the number of timesteps, 1..100000", opts.inputs);
  const scheme = parseScheme(opts.scheme, "--scheme");
  const fidelity: Fidelity = oneOf(opts.fidelity, FIDELITIES, "--fidelity");
  const t = parseDuration(opts.time, "--time");
  const threads = opts.threads === undefined ? defaultThreads() : parseThreadsArg(opts.threads);
  const u = sparseUniform(seed, CHIP_CORE, Purpose.INPUTS, T * spec.inputs, 0, 2);
  const xs = Array.from({ length: T }, (_, i) => u.subarray(i * spec.inputs, (i + 1) * spec.inputs));
  const chip = Chip.create({ seed, fidelity });
  const t0 = performance.now();
  try {
    const r = await runLstmOnChip(chip, randomLstm(spec, seed), xs, { scheme, t, threads });
    const doc = {
      network: spec.name, fidelity, scheme, t, timesteps: T, cores: r.mapping.cores, seed: seed.toString(),
      error: r.error, maxHidden: r.maxHidden,
      cost: (({ latencyUs, energyUj }) => ({ latencyUsPerTimestep: latencyUs, energyUjPerTimestep: energyUj }))(lstmCost(r.mapping, "4-phase")),
      wallS: Number(((performance.now() - t0) / 1000).toFixed(2)),
    };
    if (opts.json) {
      out(JSON.stringify(doc) + "\n");
      return;
    }
    out(
      [
        `${spec.name} on ${doc.cores} cores and ${r.mapping.gdpuSlices.length} GDPU slices (${fidelity}, ${scheme}, read at ${opts.time}), ${T} timesteps of random inputs:`,
        `  ‖chip − float64‖ / ‖float64‖ of the outputs: ${r.error.toFixed(4)}; largest |h| ${r.maxHidden.toFixed(3)}; ${doc.wallS} s of simulation`,
        `  cost model: ${doc.cost.latencyUsPerTimestep.toFixed(2)} µs, ${doc.cost.energyUjPerTimestep.toFixed(2)} µJ per timestep (4-phase)`,
      ].join("\n") + "\n",
    );
  } finally {
    chip.dispose();
  }
}

/** An ONNX character LSTM over a text: bits per character on the chip and in float64. */
async function runTextCommand(seed: bigint, opts: RunCommandOptions, out: (s: string) => void): Promise<void> {
  if (!opts.vocab) throw new ArgumentError("--vocab", "a vocabulary JSON with --text", undefined);
  const m = loadOnnxLstm(opts.model!, opts.model);
  if (!m.embedding) throw new ArgumentError("--model", "an LSTM with a Gather embedding for --text", opts.model);
  const vocab = readVocabulary(opts.vocab);
  let text: string;
  try {
    text = readFileSync(opts.text!, "utf8");
  } catch (e) {
    throw new ArgumentError("--text", `a readable text file (${(e as Error).message})`, opts.text);
  }
  const limit = opts.limit === undefined ? 2000 : Number(opts.limit);
  if (!Number.isInteger(limit) || limit < 2) throw new ArgumentError("--limit", "an integer ≥ 2 (characters)", opts.limit);
  const ids = encodeText(text, vocab).slice(0, limit);
  if (ids.length < 2) throw new ArgumentError("--text", "at least two characters of the vocabulary", opts.text);
  const dim = m.embedding.dim;
  const xs = ids.map((id) => {
    if (id >= m.embedding!.vocabulary) throw new ArgumentError("--vocab", `ids below the embedding's ${m.embedding!.vocabulary}`, id);
    return m.embedding!.table.subarray(id * dim, (id + 1) * dim);
  });
  const scheme = parseScheme(opts.scheme, "--scheme");
  const fidelity: Fidelity = oneOf(opts.fidelity, FIDELITIES, "--fidelity");
  const t = parseDuration(opts.time, "--time");
  const threads = opts.threads === undefined ? defaultThreads() : parseThreadsArg(opts.threads);
  const t0 = performance.now();
  const chip = Chip.create({ seed, fidelity });
  try {
    const r = await runLstmOnChip(chip, m.weights, xs, { scheme, t, threads });
    const bpc = bitsPerCharacter(r.outputs, ids);
    const floatBpc = bitsPerCharacter(r.reference, ids);
    const cost = lstmCost(r.mapping, "4-phase");
    const doc = {
      model: opts.model, fidelity, scheme, t, characters: ids.length, cores: r.mapping.cores, seed: seed.toString(),
      bpc, floatBpc, error: r.error, cost: { latencyUsPerCharacter: cost.latencyUs, energyUjPerCharacter: cost.energyUj },
      wallS: Number(((performance.now() - t0) / 1000).toFixed(2)),
    };
    if (opts.json) {
      out(JSON.stringify(doc) + "\n");
      return;
    }
    out(
      [
        `${opts.model} on ${r.mapping.cores} cores (${fidelity}, ${scheme}, read ${formatDuration(t)} after programming), ${ids.length} characters:`,
        `  ${bpc.toFixed(4)} bits per character on the chip, ${floatBpc.toFixed(4)} in float64 (output error ${r.error.toFixed(4)})`,
        `  cost model: ${cost.latencyUs.toFixed(2)} µs, ${cost.energyUj.toFixed(2)} µJ per character (4-phase); ${doc.wallS} s of simulation`,
      ].join("\n") + "\n",
    );
  } finally {
    chip.dispose();
  }
}
