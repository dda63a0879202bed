// `hermes-sim cost --table1`: the latency, energy and throughput model (lib/cost.ts) against
// the paper's Table I; which entries fitted the model's free parameters and which it predicts.

import { COST_PARAMETERS, FREE_PARAMETER_COUNT, PAPER_TABLE1, compareTable1, table1Rows } from "../cost.ts";
import { ArgumentError } from "../validate.ts";

export interface CostCommandOptions {
  table1?: boolean;
  network?: string;
  json?: boolean;
}

export function costCommand(opts: CostCommandOptions, out: (s: string) => void): void {
  if (opts.network !== undefined) {
    throw new ArgumentError("--network", "omitted for now (per-network costs need the network mapper of issue 7); use --table1", opts.network);
  }
  if (!opts.table1) throw new ArgumentError("--table1", "given (the only cost report so far)", undefined);
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
