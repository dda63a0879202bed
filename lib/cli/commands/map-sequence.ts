// `hermes-sim map --model M.onnx` and `cost --model M.onnx` for a sequence model (an ONNX model
// with an LSTM node, lib/network/onnx-sequence.ts): the mapping of its LSTM layers and dense
// head (lib/network/sequence-run.ts mapSequenceModel, copies of the weights by default), the
// cores per matrix, and the cost per timestep and per sequence (lib/cost/network.ts sequenceCost).
// A model the chip cannot hold: exit 1 with the one line of its MappingError (cores and weights
// it needs); more fixed copies than fit: exit 2 naming --replicas.

import { readFileSync } from "node:fs";
import { sequenceCost } from "../../cost/network.ts";
import type { ReadMode } from "../../cost/index.ts";
import { lstmStackOf, type LstmMapping } from "../../network/lstm-map.ts";
import { MappingError } from "../../network/mapping.ts";
import { MODEL_REPLICAS } from "../../network/mapper.ts";
import { loadSequenceModel, sequenceModelInput, sequenceAxis } from "../../network/onnx-sequence.ts";
import { decodeOnnx } from "../../network/onnx-decode.ts";
import { parseReplicas } from "../../network/replicas.ts";
import { mapSequenceModel } from "../../network/sequence-run.ts";
import type { SequenceModel } from "../../network/sequence-model.ts";
import { floorplanSvg } from "../../report/floorplan.ts";
import { writeReport } from "../../report/html.ts";
import { ArgumentError } from "../../runtime/validate.ts";

/** The model read for mapping: at its own sequence length, or `--steps`, or (free axis, no
 * --steps) one step: the mapping does not depend on it. */
async function loadForMap(path: string, steps: string | undefined): Promise<{ model: SequenceModel; stepsKnown: boolean }> {
  const bytes = readFileSync(path);
  let own: number | undefined;
  const input = sequenceModelInput(bytes, path);
  const axis = sequenceAxis(decodeOnnx(bytes, path), input.name);
  if (axis !== undefined) own = input.dims[axis];
  let T: number | undefined;
  if (steps !== undefined) {
    T = Number(steps);
    if (!Number.isInteger(T) || T < 1) throw new ArgumentError("--steps", "a positive integer (timesteps per sequence)", steps);
    if (own !== undefined && own !== T) throw new ArgumentError("--steps", `the model's own sequence length ${own} (or absent)`, steps);
  }
  const model = await loadSequenceModel(bytes, { steps: own ?? T ?? 1, name: path });
  return { model, stepsKnown: own !== undefined || T !== undefined };
}

/** The mapping of `model` with `--replicas`. When it does not fit, the plain layout (one
 * copy) tells whose fault it is: the model's (too large: exit 1) or the flag's (exit 2). */
export function mapSequenceOrFail(model: SequenceModel, replicasFlag: string | undefined): LstmMapping {
  const replicas = parseReplicas(replicasFlag ?? MODEL_REPLICAS, "--replicas");
  try {
    return mapSequenceModel(model, { replicas });
  } catch (e) {
    if (!(e instanceof MappingError)) throw e;
    if (replicas === 1) throw Object.assign(new Error(e.message), { name: "ModelTooLargeError" });
    try {
      mapSequenceModel(model, { replicas: 1 });
    } catch (plain) {
      // Too large is the model's fault, not the command line's: exit 1.
      if (plain instanceof MappingError) throw Object.assign(new Error(plain.message), { name: "ModelTooLargeError" });
      throw plain;
    }
    throw new ArgumentError("--replicas", `copies that fit on the chip (${e.message})`, replicasFlag);
  }
}

/** Copies per LSTM layer (its gates) and per dense layer, in that order. */
export function sequenceReplicas(m: LstmMapping): number[] {
  const s = lstmStackOf(m);
  return [...s.lstm.map(({ input }) => m.layers[input]!.replicas), ...s.dense.map((d) => m.layers[d]!.replicas)];
}

/** The mapping as JSON: each matrix with its core ids, copies and the cores it needs without copies. */
export function sequenceMappingJson(m: LstmMapping): object {
  return {
    ...m,
    fits: true,
    layers: m.layers.map(({ rowScale: _rowScale, ...l }) => ({
      name: l.layer, cores: l.tiles.map((t) => t.core), coresNeeded: l.tiles.filter((t) => t.replica === 0).length, ...l,
    })),
  };
}

/** The 8 × 8 grid as text: ih / hh / dense tiles, * on receivers, the GDPU row marked. */
export function lstmGridText(m: LstmMapping): string[] {
  const cell = new Array<string>(64).fill(".");
  const stack = lstmStackOf(m);
  const kind = new Map<number, string>();
  stack.lstm.forEach(({ input, hidden }) => (kind.set(input, "ih"), kind.set(hidden, "hh")));
  stack.dense.forEach((d, k) => kind.set(d, k === stack.dense.length - 1 ? "out" : `d${k}`));
  m.layers.forEach((l, i) => {
    for (const t of l.tiles) cell[t.core] = kind.get(i)! + (l.receivers.includes(t.core) ? "*" : "");
  });
  return Array.from({ length: 8 }, (_, r) => cell.slice(r * 8, r * 8 + 8).map((c) => c.padEnd(4)).join(" ").trimEnd() + (r === 3 ? "   ── GDPU slices below" : ""));
}

/** `map --model M.onnx` for a sequence model. */
export async function mapSequenceCommand(opts: { model?: string; replicas?: string; steps?: string; json?: boolean; out?: string }, out: (s: string) => void): Promise<void> {
  const path = opts.model!;
  const { model, stepsKnown } = await loadForMap(path, opts.steps);
  const m = mapSequenceOrFail(model, opts.replicas);
  const cost = sequenceCost(m, "4-phase", model.steps, model.outputs);
  const costDoc = { perTimestep: cost.perTimestep, ...(stepsKnown ? { steps: model.steps, latencyUsPerSequence: cost.latencyUs, energyUjPerSequence: cost.energyUj } : {}) };
  const doc = { mapping: sequenceMappingJson(m), replicas: sequenceReplicas(m), cost: costDoc };
  let report: string | undefined;
  if (opts.out) {
    report = writeReport(
      opts.out,
      `hermes-sim: ${path} mapped on the chip`,
      [
        ["cores (copies of each matrix)", `${m.cores} of 64 (${sequenceReplicas(m).join(", ")})`],
        ["weights / biases", `${m.weights.toLocaleString("en-US")} / ${m.biases}`],
        ["GDPU slices", `${m.gdpuSlices.length}`],
        ["latency / energy per timestep (4-phase)", `${cost.perTimestep.latencyUs.toFixed(2)} µs / ${cost.perTimestep.energyUj.toFixed(3)} µJ`],
      ],
      [{ file: "floorplan", caption: "Each LSTM layer's gate tiles per column, summed into row 4's LDPUs (★), which feed the GDPU slices; copies near their receivers; the dense head", svg: floorplanSvg(m) }],
      doc,
    );
  }
  if (opts.json) {
    out(JSON.stringify(doc) + "\n");
    return;
  }
  out(
    [
      `${path}: ${model.layers.length} LSTM layer${model.layers.length > 1 ? "s" : ""} (${model.layers.map((l) => l.hidden).join(", ")}) and ${model.dense.length} dense: ${m.cores} cores (copies ${sequenceReplicas(m).join(", ")}), ${m.weights.toLocaleString("en-US")} weights, ${m.biases} biases; gates feed ${m.gdpuSlices.length} GDPU slice${m.gdpuSlices.length > 1 ? "s" : ""}`,
      ...lstmGridText(m),
      `  ${cost.perTimestep.latencyUs.toFixed(2)} µs, ${cost.perTimestep.energyUj.toFixed(3)} µJ per timestep (4-phase)${stepsKnown ? `; ${cost.latencyUs.toFixed(1)} µs, ${cost.energyUj.toFixed(2)} µJ per sequence of ${model.steps}` : ""}`,
      ...(report ? [`report: ${report}`] : []),
    ].join("\n") + "\n",
  );
}

/** `cost --model M.onnx` for a sequence model: per timestep (the layers), and per sequence when its length is known. */
export async function costSequenceCommand(opts: { model?: string; replicas?: string; steps?: string; json?: boolean }, mode: ReadMode, out: (s: string) => void): Promise<void> {
  const path = opts.model!;
  const { model, stepsKnown } = await loadForMap(path, opts.steps);
  const m = mapSequenceOrFail(model, opts.replicas);
  const c = sequenceCost(m, mode, model.steps, model.outputs);
  const t = c.perTimestep;
  if (opts.json) {
    out(JSON.stringify({ ...t, per: "timestep", ...(stepsKnown ? { steps: model.steps, outputs: model.outputs, latencyUsPerSequence: c.latencyUs, energyUjPerSequence: c.energyUj } : {}) }) + "\n");
    return;
  }
  out(
    [
      `${path} (${mode}, ${t.cores} cores): ${t.latencyUs.toFixed(2)} µs and ${t.energyUj.toFixed(3)} µJ per timestep${stepsKnown ? `; ${c.latencyUs.toFixed(1)} µs and ${c.energyUj.toFixed(2)} µJ per sequence of ${model.steps} (head ${model.outputs === "all" ? "every step" : "at the last step"})` : " (the sequence length is free: --steps for the cost per sequence)"}`,
      `  layer                  cores  util.   ns/step  nJ/step`,
      ...t.layers.map((l) => `  ${l.layer.padEnd(21)}  ${String(l.cores).padEnd(5)}  ${(100 * l.utilisation).toFixed(0).padStart(3)} %  ${l.latencyNsPerStep.toFixed(0).padStart(7)}  ${l.energyNjPerStep.toFixed(0).padStart(7)}`),
    ].join("\n") + "\n",
  );
}
