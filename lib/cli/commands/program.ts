// `hermes-sim program`: program the characterisation workload (uniform random weights,
// 30 % zeros) on all 64 cores and report Gmax, yield, convergence and programming time.

import { Chip } from "../../chip/chip.ts";
import { progressBar } from "../../runtime/progress.ts";
import { adcCurvesFigure } from "../../report/adc.ts";
import { fig2aDistributions, fig2aYield } from "../../report/fig2a.ts";
import { writeReport } from "../../report/html.ts";
import { barChart } from "../../report/svg.ts";
import { parseScheme, type Scheme } from "../../chip/targets.ts";
import { characterisationWeights } from "../../chip/workload.ts";
import { defaultThreads } from "../../runtime/pool.ts";
import { ArgumentError, parseSeedArg, parseThreadsArg } from "../../runtime/validate.ts";

export interface ProgramCommandOptions {
  scheme: string;
  seed: string;
  sparsity: string;
  json?: boolean;
  out?: string;
  threads?: string;
}

export async function programCommand(opts: ProgramCommandOptions, out: (s: string) => void): Promise<void> {
  const scheme: Scheme = parseScheme(opts.scheme, "--scheme");
  const seed = parseSeedArg(opts.seed, "--seed");
  const sparsity = Number(opts.sparsity);
  if (!/^\s*[\d.]+\s*$/.test(opts.sparsity) || !(sparsity >= 0 && sparsity < 1)) {
    throw new ArgumentError("--sparsity", "a number in [0, 1)", opts.sparsity);
  }
  const threads = opts.threads === undefined ? defaultThreads() : parseThreadsArg(opts.threads);
  const t0 = performance.now();
  const chip = Chip.create({ seed });
  try {
    const bar = progressBar("measuring devices", { json: opts.json });
    const dev = await chip.measure({ threads, onCore: bar.update });
    bar.done();
    const bar2 = progressBar(`programming (${scheme})`, { json: opts.json });
    const r = await chip.programAll((c) => characterisationWeights(seed, c, sparsity), { scheme, threads }, bar2.update);
    bar2.done();
    const wallS = (performance.now() - t0) / 1000;
    const report = {
      scheme,
      seed: seed.toString(),
      threads,
      sparsity,
      gmax: r.gmax.map((g) => round(g, 3)),
      yield: r.yield.map((y) => round(y, 3)),
      converged: round(r.converged, 6),
      iterations: round(r.iterations, 4),
      programmingTimeS: round(r.programmingTimeS, 6),
      programmingTimeSerialS: round(r.programmingTimeSerialS, 6),
      errorCounts: {
        p50: round(median(r.cores.map((c) => c.error.p50)), 3),
        p90: round(median(r.cores.map((c) => c.error.p90)), 3),
        rmsOverGmax: round(median(r.cores.map((c) => c.error.rms / c.gmax)), 5),
      },
      wallS: round(wallS, 3),
    };
    let reportPath: string | undefined;
    if (opts.out) {
      const iters = r.cores.reduce((acc, c) => acc.map((v, k) => v + c.iterationsHistogram[k]!), new Array<number>(31).fill(0));
      reportPath = writeReport(
        opts.out,
        `hermes-sim: programming a simulated chip (${scheme}, seed ${report.seed})`,
        [
          ["scheme", scheme],
          ["ODP / TDP Gmax (counts)", `${dev.odpGmax} / ${dev.tdpGmax}`],
          ["cores above 99 % yield", `${r.yield.filter((y) => y > 99).length} of 64 (lowest ${Math.min(...r.yield).toFixed(2)} %)`],
          ["converged devices", `${(100 * r.converged).toFixed(2)} %`],
          ["pulses per iterated device", r.iterations.toFixed(2)],
          ["median |G − target|", `${report.errorCounts.p50} counts`],
          ["chip programming time", `${(r.programmingTimeS * 1e3).toFixed(1)} ms (cores in parallel)`],
          ["simulation wall time", `${report.wallS} s`],
        ],
        [
          { file: "fig2a-distributions", caption: "SET and RESET distributions per core; dashed: ODP Gmax", svg: fig2aDistributions(dev) },
          { file: "fig2a-yield", caption: "Unit-cell yield per core (red: below 99 %)", svg: fig2aYield(dev) },
          {
            file: "adc-curves",
            caption: "ADC transfer curves before and after the calibration run at chip creation (independent of the weights)",
            svg: adcCurvesFigure(seed),
          },
          {
            file: "iterations",
            caption: "Pulses per iterated device, all cores (30 = did not converge)",
            svg: barChart(iters.map((n, k) => ({ label: `${k} pulses`, value: n, color: k === 30 ? "#d9534f" : "#3a7bd5" })), {
              title: `Program-and-verify iterations (${scheme})`,
              xLabel: "pulses until within 5 counts",
              yLabel: "devices",
            }),
          },
        ],
        { ...report, devices: dev.cores },
      );
    }
    if (opts.json) {
      out(JSON.stringify(report) + "\n");
      return;
    }
    const ys = r.yield.slice().sort((a, b) => a - b);
    out(
      [
        `programmed 64 cores, scheme ${scheme}, seed ${report.seed}, ${Math.round(sparsity * 100)} % zeros`,
        `  Gmax (counts)        ${fmtRange(r.gmax)}`,
        `  unit-cell yield (%)  ${ys[0]!.toFixed(2)} (lowest), ${ys[1]!.toFixed(2)} (second), ${ys[63]!.toFixed(2)} (highest); ${r.yield.filter((y) => y > 99).length} of 64 cores above 99 %`,
        `  converged devices    ${(100 * r.converged).toFixed(2)} %, ${r.iterations.toFixed(2)} pulses per device on average`,
        `  |error| (counts)     median ${report.errorCounts.p50}, 90th percentile ${report.errorCounts.p90}; rms/Gmax ${report.errorCounts.rmsOverGmax}`,
        `  chip time            ${(r.programmingTimeS * 1e3).toFixed(1)} ms (cores in parallel), ${r.programmingTimeSerialS.toFixed(2)} s (one after another)`,
        `  simulation wall time ${wallS.toFixed(2)} s on ${threads} thread${threads === 1 ? "" : "s"}`,
        ...(reportPath ? [`report: ${reportPath}`] : []),
      ].join("\n") + "\n",
    );
  } finally {
    chip.dispose();
  }
}

function round(x: number, d: number): number {
  const k = 10 ** d;
  return Math.round(x * k) / k;
}
function median(a: number[]): number {
  const s = a.slice().sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)]!;
}
function fmtRange(a: number[]): string {
  const lo = Math.min(...a);
  const hi = Math.max(...a);
  return lo === hi ? `${lo}` : `${lo.toFixed(1)} – ${hi.toFixed(1)}`;
}
