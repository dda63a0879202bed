// `hermes-sim cost --table1`: the latency, energy and throughput model (lib/cost/index.ts) against
// the paper's Table I; which entries fitted the model's free parameters and which it predicts.

import { COST_PARAMETERS, FREE_PARAMETER_COUNT, PAPER_TABLE1, compareTable1, table1Rows } from "../../cost/index.ts";
import { mapNetwork } from "../../network/mapper.ts";
import { LSTM_CAPTION, LSTM_PTB, mapLstm, type LstmSpec } from "../../network/lstm-map.ts";
import { lstmCost, networkCost } from "../../cost/network.ts";
import { parsePhases } from "../../chip/readout.ts";
import { ArgumentError, parseSeedArg } from "../../runtime/validate.ts";
import { modelReplicas, networkOf } from "./map.ts";
import { hostActivationsFlag } from "./model-flags.ts";
import { assertFits } from "../../network/needs.ts";
import { costSequenceCommand } from "./map-sequence.ts";
import { isSequenceModelFile } from "./run-sequence.ts";

export interface CostCommandOptions {
  table1?: boolean;
  network?: string;
  /** An ONNX CNN (instead of --network). */
  model?: string;
  phases?: string;
  seed?: string;
  /** With --model: copies of each layer's weights (MapOptions.replicas; default "auto"). */
  replicas?: string;
  /** With a sequence --model: timesteps per sequence (default: the model's own). */
  steps?: string;
  /** With a CNN --model: activations without a unit on the chip run on the host (LowerOptions.hostActivations). */
  hostActivations?: boolean;
  json?: boolean;
}

export async function costCommand(opts: CostCommandOptions, out: (s: string) => void): Promise<void> {
  if (opts.network !== undefined || opts.model !== undefined) return networkCostCommand(opts, out);
  if (!opts.table1) throw new ArgumentError("--table1, --network or --model", "one of them", undefined);
  const rows = table1Rows();
  const cmp = compareTable1();
  const maxErr = Math.max(...cmp.map((c) => Math.abs(c.relError)));
  const maxPredicted = Math.max(...cmp.filter((c) => !c.fitted).map((c) => Math.abs(c.relError)));
  if (opts.json) {
    out(
      JSON.stringify({
        rows,
        paper: PAPER_TABLE1,
        entries: cmp,
        freeParameters: FREE_PARAMETER_COUNT,
        entriesTotal: cmp.length,
        entriesFitted: cmp.filter((c) => c.fitted).length,
        maxRelError: maxErr,
        maxRelErrorPredicted: maxPredicted,
        parameters: COST_PARAMETERS,
      }) + "\n",
    );
    return;
  }
  const f = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
  const lines = [
    `Table I: model (paper) — ${FREE_PARAMETER_COUNT} free parameters fitted to ${cmp.filter((c) => c.fitted).length} of ${cmp.length} entries; max error ${(100 * maxErr).toFixed(2)} %, ${(100 * maxPredicted).toFixed(2)} % on predicted entries`,
    `  use case          mode      TOPS           TOPS/W         TOPS/mm²       energy µJ      latency ns`,
  ];
  for (const r of rows) {
    const p = PAPER_TABLE1.find((q) => q.workload === r.workload && q.mode === r.mode)!;
    const cell = (k: "tops" | "topsPerW" | "topsPerMm2" | "energyUj" | "latencyNs") => `${f(r[k])} (${f(p[k])})`.padEnd(15);
    lines.push(`  ${r.workload.padEnd(16)}  ${r.mode.padEnd(8)}  ${cell("tops")}${cell("topsPerW")}${cell("topsPerMm2")}${cell("energyUj")}${cell("latencyNs")}`);
  }
  out(lines.join("\n") + "\n");
}

async function networkCostCommand(opts: CostCommandOptions, out: (s: string) => void): Promise<void> {
  const phases = parsePhases(opts.phases ?? "4", "--phases");
  const mode = phases === 4 ? "4-phase" : "1-phase";
  const sequence = opts.model !== undefined && isSequenceModelFile(opts.model);
  if (opts.steps !== undefined && !sequence) throw new ArgumentError("--steps", "given only with a sequence (LSTM) --model", opts.steps);
  hostActivationsFlag(opts, sequence);
  if (sequence) return costSequenceCommand(opts, mode, out);
  const replicas = modelReplicas(opts);
  const lstm = opts.model === undefined ? ({ "lstm-ptb": LSTM_PTB, "lstm-caption": LSTM_CAPTION } as Record<string, LstmSpec>)[opts.network!] : undefined;
  const c = lstm ? lstmCost(mapLstm(lstm), mode) : await (async () => {
    const net = await networkOf(opts);
    assertFits(net, opts.model ?? net.name);
    return networkCost(net, mapNetwork(net, { replicas }), mode);
  })();
  if (opts.json) {
    out(JSON.stringify(c) + "\n");
    return;
  }
  out(
    [
      `${c.network} (${c.mode}, ${c.cores} cores): ${c.latencyUs.toFixed(2)} µs and ${c.energyUj.toFixed(2)} µJ per ${lstm ? "timestep" : "inference"} (${c.inferencesPerS.toFixed(0)} /s, ${c.inferencesPerJ.toFixed(0)} /J), layers one after another`,
      `  layer          cores  steps  util.   ns/step  nJ/step   µs      µJ`,
      ...c.layers.map(
        (l) =>
          `  ${l.layer.padEnd(13)}  ${String(l.cores).padEnd(5)}  ${String(l.steps).padEnd(5)}  ${(100 * l.utilisation).toFixed(0).padStart(3)} %  ${l.latencyNsPerStep.toFixed(0).padStart(7)}  ${l.energyNjPerStep.toFixed(0).padStart(7)}  ${l.latencyUs.toFixed(1).padStart(6)}  ${l.energyUj.toFixed(2).padStart(6)}`,
      ),
    ].join("\n") + "\n",
  );
}
