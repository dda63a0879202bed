// `hermes-sim map`: place a network's layers on the 8 × 8 cores and show where they land.

import { resnet9 } from "../graph.ts";
import { floorplan, mapNetwork, type Mapping } from "../mapper.ts";
import { networkCost } from "../network-cost.ts";
import { floorplanSvg } from "../report/floorplan.ts";
import { writeReport } from "../report/html.ts";
import { ArgumentError, parseSeedArg } from "../validate.ts";

export const NETWORKS = ["resnet9"] as const;

export function networkByName(name: string, seed: bigint) {
  if (name === "resnet9") return resnet9({ seed });
  throw new ArgumentError("--network", `one of ${NETWORKS.join(", ")} (ONNX models arrive with issue 10)`, name);
}

/** The mapping without its per-output affine arrays (for JSON). */
export function mappingJson(m: Mapping): object {
  return {
    ...m,
    layers: m.layers.map(({ affine, ...rest }) => ({ ...rest, affine: { outputs: affine.scale.length } })),
  };
}

export function mapCommand(opts: { network: string; seed: string; json?: boolean; out?: string }, out: (s: string) => void): void {
  const net = networkByName(opts.network, parseSeedArg(opts.seed, "--seed"));
  const m = mapNetwork(net);
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
      [{ file: "floorplan", caption: "Cores by layer; ★ receiving cores (LDPU: batch norm, ReLU, residual, bias); arrows: partial-sum routes over the links", svg: floorplanSvg(m) }],
      { mapping: mappingJson(m), cost: cost4 },
    );
  }
  if (opts.json) {
    out(JSON.stringify({ mapping: mappingJson(m), cost: cost4 }) + "\n");
    return;
  }
  const lines = [
    `${m.network}: ${m.cores} cores, ${m.weights.toLocaleString("en-US")} weights, ${m.biases} biases`,
    floorplan(m),
    `  layer    matrix        tiles  receiver  max hops`,
    ...m.layers.map((p) => `  ${p.layer.padEnd(7)}  ${`${p.matrix.rows}×${p.matrix.cols}`.padEnd(12)}  ${String(p.tiles.length).padEnd(5)}  ${String(p.receiver).padEnd(8)}  ${Math.max(...p.routeHops)}`),
    ...(report ? [`report: ${report}`] : []),
  ];
  out(lines.join("\n") + "\n");
}
