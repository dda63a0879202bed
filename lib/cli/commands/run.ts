// `hermes-sim run`: a network on the simulated chip against its float64 reference. Built-in
// networks with random weights (--network), ONNX models over test sets (.npy or IDX, see
// lib/network/test-set.ts) or texts (--model).

import { Chip } from "../../chip/chip.ts";
import { FIDELITIES, type Fidelity } from "../../chip/config.ts";
import { formatDuration, parseDuration } from "../../runtime/duration.ts";
import { inferShapes, INPUT, outputShape } from "../../network/graph.ts";
import { mapNetwork } from "../../network/mapper.ts";
import { applyHead, readModel } from "../../network/onnx.ts";
import { loadTestSet, parseTransformFlags } from "../../network/test-set.ts";
import { assertFits } from "../../network/needs.ts";
import { loadOnnxLstm } from "../../network/onnx-lstm.ts";
import { bitsPerCharacter, encodeText, readVocabulary } from "../../network/text.ts";
import { readFileSync } from "node:fs";
import { progressBar } from "../../runtime/progress.ts";
import { programNetwork, runNetwork, runOnChip } from "../../network/run.ts";
import { accuracyOf, compareOutputs, onnxruntimeOutputs } from "../../network/onnx-float.ts";
import { lstmCost, networkCost } from "../../cost/network.ts";
import { defaultThreads } from "../../runtime/pool.ts";
import { sparseUniform } from "../../chip/workload.ts";
import { CHIP_CORE, Purpose } from "../../chip/rng.ts";
import { parseScheme } from "../../chip/targets.ts";
import { ArgumentError, oneOf, parseIntArg, parseSeedArg, parseThreadsArg } from "../../runtime/validate.ts";
import { networkByName } from "./map.ts";
import { writeReport } from "../../report/html.ts";
import { modelRunReport, networkFigures } from "../../report/model-run.ts";
import { LSTM_CAPTION, LSTM_PTB, type LstmSpec } from "../../network/lstm-map.ts";
import { randomLstm, runLstmOnChip } from "../../network/lstm-run.ts";

export interface RunCommandOptions {
  network: string;
  model?: string;
  images?: string;
  labels?: string;
  limit?: string;
  inputScale?: string;
  mean?: string;
  std?: string;
  layout?: string;
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
}

export async function runCommand(opts: RunCommandOptions, out: (s: string) => void): Promise<void> {
  const seed = parseSeedArg(opts.seed, "--seed");
  if (opts.model !== undefined && opts.text !== undefined) return runTextCommand(seed, opts, out);
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

/** An ONNX model over a test set (.npy or IDX): accuracy on the chip and in float (onnxruntime),
 * and how closely the chip's outputs follow the float model's (agreement, outputError). */
async function runModelCommand(seed: bigint, opts: RunCommandOptions, out: (s: string) => void): Promise<void> {
  if (!opts.images || !opts.labels) throw new ArgumentError(opts.images ? "--labels" : "--images", "given with --model (test images and labels: .npy or IDX, gzip or plain)", undefined);
  // Every flag is checked before any file is read or anything is written.
  const limit = opts.limit === undefined ? 100 : Number(opts.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new ArgumentError("--limit", "a positive integer (images to run)", opts.limit);
  const transform = parseTransformFlags(opts);
  const scheme = parseScheme(opts.scheme, "--scheme");
  const fidelity: Fidelity = oneOf(opts.fidelity, FIDELITIES, "--fidelity");
  const t = parseDuration(opts.time, "--time");
  const threads = opts.threads === undefined ? defaultThreads() : parseThreadsArg(opts.threads);
  const runs = opts.runs === undefined ? 1 : Number(opts.runs);
  if (!Number.isInteger(runs) || runs < 1 || runs > 100) throw new ArgumentError("--runs", "an integer in 1..100 (repeated inference runs)", opts.runs);
  const { net, head } = await readModel(opts.model!);
  assertFits(net, opts.model!);
  const classes = outputShape(net).reduce((a, b) => a * b, 1);
  const set = loadTestSet({ images: opts.images, labels: opts.labels, limit, classes, ...transform }, net.inputShape);
  const { images, labels } = set;
  const t0 = performance.now();
  // The float reference first: a model onnxruntime cannot run fails before the chip's work.
  const float = await onnxruntimeOutputs(opts.model!, net.inputShape, images);
  const floatAccuracy = accuracyOf(float.outputs, labels);
  const mapping = mapNetwork(net);
  const chip = Chip.create({ seed, fidelity });
  try {
    await programNetwork(chip, net, mapping, scheme, threads);
    const accuracies: number[] = [];
    const agreements: number[] = [];
    const outputErrors: number[] = [];
    let scales: Record<string, number> | undefined;
    const bar = progressBar(`run: images${runs > 1 ? ` × ${runs} runs` : ""}`, { json: opts.json });
    for (let draw = 0; draw < runs; draw++) {
      const r = await runNetwork(chip, net, mapping, images, {
        t, threads, reference: false, calibration: images.slice(0, 16), draw, ...(scales ? { scales } : {}),
        onProgress: (done) => bar.update(draw * images.length + done, runs * images.length),
      });
      scales = r.scales;
      accuracies.push(accuracyOf(r.outputs, labels));
      // The ONNX model's own output: final activations the chip graph dropped (applyHead) applied on the host.
      const c = compareOutputs(head.length ? r.outputs.map((y) => applyHead(head, y)) : r.outputs, float.outputs);
      agreements.push(c.agreement);
      outputErrors.push(c.outputError);
    }
    bar.done();
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    const accuracy = mean(accuracies);
    const accuracyStd = runs > 1 ? Math.sqrt(accuracies.reduce((a, b) => a + (b - accuracy) ** 2, 0) / (runs - 1)) : 0;
    const cost = networkCost(net, mapping, "4-phase");
    const { format, dtype, shape, layout, inputScale, mean: m, std } = set.info;
    const doc = {
      model: opts.model, fidelity, scheme, t, n: images.length, cores: mapping.cores, seed: seed.toString(),
      accuracy, accuracyStd, runs, accuracies, floatAccuracy,
      agreement: mean(agreements), outputError: mean(outputErrors),
      ...(runs > 1 ? { agreements, outputErrors } : {}),
      input: { format, dtype, shape, layout, inputScale, mean: m, std },
      cost: { latencyUs: cost.latencyUs, energyUj: cost.energyUj },
      wallS: Number(((performance.now() - t0) / 1000).toFixed(2)),
    };
    const report = opts.out ? modelRunReport(opts.out, { ...doc, model: opts.model! }, formatDuration(t), mapping, cost) : undefined;
    if (opts.json) {
      out(JSON.stringify(doc) + "\n");
      return;
    }
    out(
      [
        ...(report ? [`report: ${report}`] : []),
        `${opts.model} on ${mapping.cores} cores (${fidelity}, ${scheme}, read ${formatDuration(t)} after programming), ${images.length} images:`,
        `  accuracy ${(100 * accuracy).toFixed(2)} %${runs > 1 ? ` ± ${(100 * accuracyStd).toFixed(2)} (std over ${runs} runs)` : ""} on the chip, ${(100 * floatAccuracy).toFixed(2)} % in float (onnxruntime)`,
        `  top-1 agreement with float ${(100 * doc.agreement).toFixed(2)} %; ‖chip − float‖ / ‖float‖ of the outputs ${doc.outputError.toFixed(4)}`,
        `  cost model: ${cost.latencyUs.toFixed(1)} µs, ${cost.energyUj.toFixed(1)} µJ per image (4-phase); ${doc.wallS} s of simulation`,
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
