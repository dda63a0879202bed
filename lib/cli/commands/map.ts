// `hermes-sim map`: place a network's layers on the 8 × 8 cores and show where they land.

import { resnet9 } from "../../network/builders.ts";
import { LSTM_CAPTION, LSTM_PTB, mapLstm, type LstmSpec } from "../../network/lstm-map.ts";
import { floorplan } from "../../network/floorplan-text.ts";
import { MODEL_REPLICAS, mapNetwork, type Mapping } from "../../network/mapper.ts";
import { parseReplicas } from "../../network/replicas.ts";
import { isSequenceModelFile } from "./run-sequence.ts";
import { hostActivationsFlag } from "./model-flags.ts";
import { lstmGridText, mapSequenceCommand } from "./map-sequence.ts";
import { readModel } from "../../network/onnx.ts";
import { mappingNeeds, ModelTooLargeError, needsLines, tooLargeMessage, type MappingNeeds } from "../../network/needs.ts";
import { networkCost } from "../../cost/network.ts";
import { floorplanSvg } from "../../report/floorplan.ts";
import { writeReport } from "../../report/html.ts";
import { ArgumentError, parseSeedArg } from "../../runtime/validate.ts";

export const NETWORKS = ["resnet9", "lstm-ptb", "lstm-caption"] as const;

export function networkByName(name: string, seed: bigint) {
  if (name === "resnet9") return resnet9({ seed });
  throw new ArgumentError("--network", `one of ${NETWORKS.join(", ")} (the built-in networks; --model for an ONNX file)`, name);
}

const LSTMS: Record<string, LstmSpec> = { "lstm-ptb": LSTM_PTB, "lstm-caption": LSTM_CAPTION };

/** The network of `--model` (an ONNX CNN; sequence models go to map-sequence.ts first) or else the built-in `--network`. */
export async function networkOf(opts: { network?: string; model?: string; seed?: string; hostActivations?: boolean }) {
  const hostActivations = hostActivationsFlag(opts, false);
  if (opts.model !== undefined) return (await readModel(opts.model, undefined, { hostActivations })).net;
  return networkByName(opts.network ?? "resnet9", parseSeedArg(opts.seed ?? "1", "--seed"));
}

/** `--replicas` of map / cost: given only with --model (default MODEL_REPLICAS there, 1 for the built-in networks, the paper's layouts). */
export function modelReplicas(opts: { model?: string; replicas?: string }): number | "auto" {
  if (opts.model === undefined) {
    if (opts.replicas !== undefined) throw new ArgumentError("--replicas", "given only with --model", opts.replicas);
    return 1;
  }
  return parseReplicas(opts.replicas ?? MODEL_REPLICAS, "--replicas");
}

/** The mapping without its per-output affine arrays (for JSON); each layer also as {name,
 * cores (the core ids), coresNeeded (their number, lib/network/needs.ts)}. */
export function mappingJson(m: Mapping, needs?: MappingNeeds): object {
  return {
    ...m,
    fits: true,
    layers: m.layers.map(({ affine, rowScale, ...rest }, i) => ({
      name: rest.layer, cores: rest.tiles.map((t) => t.core), coresNeeded: needs?.layers[i]?.cores ?? rest.tiles.length, ...rest, affine: { outputs: affine.scale.length },
    })),
  };
}

/** What a network too large for the chip needs (no placement): the JSON's `mapping`. */
export function needsJson(needs: MappingNeeds): object {
  return {
    network: needs.network, fits: false, cores: needs.cores, weights: needs.weights, chip: needs.chip,
    layers: needs.layers.map(({ cores, ...l }) => ({ name: l.layer, ...l, coresNeeded: cores })),
  };
}

function mapLstmCommand(spec: LstmSpec, opts: { json?: boolean; out?: string }, out: (s: string) => void): void {
  const m = mapLstm(spec);
  const doc = { ...m, layers: m.layers.map((l) => ({ name: l.layer, cores: l.tiles.map((t) => t.core), ...l })) };
  let report: string | undefined;
  if (opts.out) {
    report = writeReport(
      opts.out,
      `hermes-sim: ${m.network} mapped on the chip`,
      [["cores", `${m.cores} of 64`], ["weights / biases", `${m.weights.toLocaleString("en-US")} / ${m.biases}`], ["GDPU slices", `${m.gdpuSlices.length}`]],
      [{ file: "floorplan", caption: "Gate tiles stacked per column, summed down into row 4's LDPUs (★), which feed the GDPU slices; the output layer below", svg: floorplanSvg(m) }],
      doc,
    );
  }
  if (opts.json) {
    out(JSON.stringify(doc) + "\n");
    return;
  }
  out(
    [
      `${m.network}: ${m.cores} cores, ${m.weights.toLocaleString("en-US")} weights, ${m.biases} biases; gates feed ${m.gdpuSlices.length} GDPU slices`,
      ...lstmGridText(m),
      ...(report ? [`report: ${report}`] : []),
    ].join("\n") + "\n",
  );
}

export async function mapCommand(
  opts: { network: string; model?: string; seed: string; replicas?: string; steps?: string; hostActivations?: boolean; json?: boolean; out?: string }, out: (s: string) => void,
): Promise<void> {
  const sequence = opts.model !== undefined && isSequenceModelFile(opts.model);
  hostActivationsFlag(opts, sequence);
  if (opts.steps !== undefined && !sequence) throw new ArgumentError("--steps", "given only with a sequence (LSTM) --model", opts.steps);
  if (sequence) return mapSequenceCommand(opts, out);
  const replicas = modelReplicas(opts);
  const lstm = opts.model === undefined ? LSTMS[opts.network] : undefined;
  if (lstm) return mapLstmCommand(lstm, opts, out);
  const net = await networkOf(opts);
  const needs = mappingNeeds(net);
  if (!needs.fits) {
    // Too large: the cores each layer needs and the total, then one line (exit 1).
    const line = tooLargeMessage(opts.model ?? net.name, needs);
    out(opts.json ? JSON.stringify({ mapping: needsJson(needs), error: line }) + "\n" : [`${net.name}: does not fit on the chip`, ...needsLines(needs)].join("\n") + "\n");
    throw new ModelTooLargeError(line, needs);
  }
  const m = mapNetwork(net, { replicas });
  const cost4 = networkCost(net, m, "4-phase");
  let report: string | undefined;
  if (opts.out) {
    report = writeReport(
      opts.out,
      `hermes-sim: ${m.network} mapped on the chip`,
      [
        ["cores", `${m.cores} of 64`],
        ["weights / biases", `${m.weights.toLocaleString("en-US")} / ${m.biases}`],
        ["latency / energy per inference (4-phase)", `${cost4.latencyUs.toFixed(1)} µs / ${cost4.energyUj.toFixed(1)} µJ`],
      ],
      [{ file: "floorplan", caption: "Cores by layer; ★ receiving cores (LDPU: batch norm, ReLU, residual, bias); arrows: partial-sum routes over the links; dashed: a Concat's producers sending to the next layer", svg: floorplanSvg(m) }],
      { mapping: mappingJson(m, needs), cost: cost4 },
    );
  }
  if (opts.json) {
    out(JSON.stringify({ mapping: mappingJson(m, needs), cost: cost4 }) + "\n");
    return;
  }
  const lines = [
    `${m.network}: ${m.cores} cores, ${m.weights.toLocaleString("en-US")} weights, ${m.biases} biases`,
    floorplan(m),
    `  layer    matrix        tiles  receiver  max hops`,
    ...m.layers.map((p) => `  ${p.layer.padEnd(7)}  ${`${p.matrix.rows}×${p.matrix.cols}`.padEnd(12)}  ${String(p.tiles.length).padEnd(5)}  ${String(p.receiver).padEnd(8)}  ${Math.max(...p.routeHops)}`),
    ...concatLines(m),
    ...(report ? [`report: ${report}`] : []),
  ];
  out(lines.join("\n") + "\n");
}

/** The layers that read a Concat's producers over the links (InputRoute.priced): one line
 * each, "layer ← producer (core c, channels a–b), …: n routes, h–H hops". */
function concatLines(m: Mapping): string[] {
  const lines = m.layers.flatMap((p) => {
    const priced = p.inputRoutes.filter((s) => s.priced);
    if (priced.length === 0) return [];
    const hops = priced.flatMap((s) => s.tiles.map((t) => t.route.hops));
    const from = priced.map((s) => `${s.from} (core ${s.sender}, channels ${s.channels[0]}–${s.channels[1] - 1})`).join(", ");
    const [lo, hi] = [Math.min(...hops), Math.max(...hops)];
    return [`  ${p.layer} ← ${from}: ${hops.length} route${hops.length === 1 ? "" : "s"}, ${lo === hi ? lo : `${lo}–${hi}`} hop${hi === 1 ? "" : "s"}`];
  });
  return lines.length === 0 ? [] : ["  concat inputs over the links (priced in the cost):", ...lines];
}
