// `hermes-sim characterize` (and `npm start`): Fig. 2 of the paper for a simulated chip.

import { writeFileAtomic } from "../../runtime/atomic.ts";
import { DEFAULT_TIMES, characterize, functionalFit, type CharacterizeResult } from "../../study/characterize.ts";
import { loadFit } from "../../chip/functional-fit.ts";
import { FIDELITIES, type Fidelity } from "../../chip/config.ts";
import { formatDuration, parseDurations } from "../../runtime/duration.ts";
import { defaultThreads } from "../../runtime/pool.ts";
import { progressBar, type Progress } from "../../runtime/progress.ts";
import { parsePhases } from "../../chip/readout.ts";
import { adcCurvesFigure } from "../../report/adc.ts";
import { fig2aDistributions, fig2aYield } from "../../report/fig2a.ts";
import { fig2bHistograms, fig2cWeightError, fig2dDrift } from "../../report/fig2.ts";
import { writeReport } from "../../report/html.ts";
import { table1Figure } from "../../report/table1.ts";
import { parseScheme, type Scheme } from "../../chip/targets.ts";
import { ArgumentError, oneOf, parseIntArg, parseSeedArg, parseThreadsArg } from "../../runtime/validate.ts";
import type { DeviceMeasurement } from "../../chip/devices.ts";

export interface CharacterizeCommandOptions {
  scheme: string;
  cores: string;
  inputs: string;
  times?: string;
  seed: string;
  phases: string;
  fidelity: string;
  json?: boolean;
  out?: string;
  threads?: string;
  fit?: string;
  fitOut?: string;
}

function parseSchemes(text: string): Scheme[] {
  const list = text === "both" ? ["odp", "tdp"] : text.split(",");
  return list.map((s, i) => parseScheme(s.trim(), `--scheme[${i}]`));
}

/** The JSON document: the result without per-core detail, numbers rounded. */
export function characterizeJson(r: CharacterizeResult): object {
  const round = (x: number, d = 6) => (Number.isFinite(x) ? Number(x.toPrecision(d)) : null);
  return {
    seed: r.seed,
    threads: r.threads,
    fidelity: r.fidelity,
    phases: r.phases,
    inputs: r.inputs,
    cores: r.cores,
    times: r.times,
    digitalEngine: r.digitalEngine.map((e) => round(e)),
    results: r.results.map((s) => ({
      scheme: s.scheme,
      gmax: s.gmax.map((g) => round(g)),
      yield: s.yield.map((y) => round(y)),
      errors: { total: round(s.errors.total), linear: round(s.errors.linear), residual: round(s.errors.residual) },
      weightError: s.weightError.map((w) => ({ target: round(w.target), error: round(w.error), std: round(w.std) })),
      equivalentBits: round(s.equivalentBits, 4),
      drift: s.drift.map((d) => ({
        t: d.t, total: round(d.total), linear: round(d.linear), residual: round(d.residual),
        totalNoCompensation: round(d.totalNoCompensation), alpha: round(d.alpha),
      })),
      digest: s.digest,
    })),
    digest: r.digest,
  };
}

export async function characterizeCommand(opts: CharacterizeCommandOptions, out: (s: string) => void): Promise<void> {
  const seed = parseSeedArg(opts.seed, "--seed");
  const schemes = parseSchemes(opts.scheme);
  const cores = parseIntArg(opts.cores, 1, 64, "--cores");
  const inputs = parseIntArg(opts.inputs, 256, 65536, "--inputs");
  const times = opts.times ? parseDurations(opts.times, "--times") : DEFAULT_TIMES;
  const phases = parsePhases(opts.phases, "--phases");
  const fidelity: Fidelity = oneOf(opts.fidelity, FIDELITIES, "--fidelity");
  if (opts.fitOut && fidelity !== "physical") throw new ArgumentError("--fit-out", "a physical run (--fidelity physical): the fit comes from it", opts.fitOut);
  const fit = opts.fit ? loadFit(opts.fit) : undefined;
  const threads = opts.threads === undefined ? defaultThreads() : parseThreadsArg(opts.threads);
  const t0 = performance.now();
  let bar: Progress | undefined;
  let stage = "";
  let devices: DeviceMeasurement | undefined;
  const r = await characterize({
    seed, schemes, cores, inputs, times, phases, threads, fidelity, ...(fit ? { fit } : {}),
    onDevices: (d) => (devices = d),
    onProgress: (s, done, total) => {
      if (s !== stage) {
        bar?.done();
        bar = progressBar(s, { json: opts.json });
        stage = s;
      }
      bar!.update(done, total);
    },
  });
  bar?.done();
  const wallS = (performance.now() - t0) / 1000;
  const doc = { ...characterizeJson(r), wallS: Number(wallS.toFixed(2)) };
  if (opts.fitOut) writeFileAtomic(opts.fitOut, JSON.stringify(functionalFit(r), null, 1) + "\n");
  let reportPath: string | undefined;
  if (opts.out) reportPath = writeCharacterizeReport(opts.out, r, devices, wallS, doc);
  if (opts.json) {
    out(JSON.stringify(doc) + "\n");
    return;
  }
  const lines = [
    `characterised ${r.cores} cores (${r.fidelity}), ${r.inputs} inputs, ${r.phases}-phase reads, seed ${r.seed}, ${wallS.toFixed(1)} s on ${threads} thread${threads === 1 ? "" : "s"}`,
    `  scheme  Gmax     ε_total  ε_linear ε_resid  eq. bits  ε_total at ${formatDuration(r.times[r.times.length - 1]!)} (no comp.)`,
    ...r.results.map((s) => {
      const last = s.drift[s.drift.length - 1]!;
      const lo = Math.min(...s.gmax).toFixed(0);
      const hi = Math.max(...s.gmax).toFixed(0);
      const g = lo === hi ? lo : `${lo}–${hi}`;
      return `  ${s.scheme.padEnd(6)}  ${g.padEnd(7)}  ${s.errors.total.toFixed(4)}   ${s.errors.linear.toFixed(4)}   ${s.errors.residual.toFixed(4)}   ${s.equivalentBits.toFixed(2).padEnd(8)}  ${last.total.toFixed(4)} (${last.totalNoCompensation.toFixed(4)})`;
    }),
    `  errors: ‖ε‖₂/‖y_fp‖₂ at ${formatDuration(r.times[0]!)}, mean over cores; digest ${r.digest.slice(0, 16)}…`,
    ...(reportPath ? [`report: ${reportPath}`] : []),
  ];
  out(lines.join("\n") + "\n");
}

function writeCharacterizeReport(dir: string, r: CharacterizeResult, dev: DeviceMeasurement | undefined, wallS: number, doc: object): string {
  const summary: [string, string][] = [
    ["seed, fidelity, read mode", `${r.seed}, ${r.fidelity}, ${r.phases}-phase`],
    ["cores × inputs", `${r.cores} × ${r.inputs} (uniform, 30 % zeros, 8 bit)`],
    ["ODP / TDP Gmax (counts)", `${r.devices.odpGmax} / ${r.devices.tdpGmax}`],
    ...r.results.map((s): [string, string] => [
      `${s.scheme.toUpperCase()}: ε_total / ε_linear / ε_residual at ${formatDuration(r.times[0]!)}`,
      `${s.errors.total.toFixed(4)} / ${s.errors.linear.toFixed(4)} / ${s.errors.residual.toFixed(4)} (${s.equivalentBits.toFixed(2)} equivalent bits)`,
    ]),
    ["simulation wall time", `${wallS.toFixed(1)} s on ${r.threads} thread${r.threads === 1 ? "" : "s"}`],
  ];
  return writeReport(
    dir,
    `hermes-sim: characterisation of a simulated chip (seed ${r.seed})`,
    summary,
    [
      ...(dev
        ? [
            { file: "fig2a-distributions", caption: "SET and RESET distributions per core; dashed: ODP Gmax", svg: fig2aDistributions(dev) },
            { file: "fig2a-yield", caption: "Unit-cell yield per core (red: below 99 %)", svg: fig2aYield(dev) },
          ]
        : []),
      { file: "fig2b-errors", caption: "Distributions of ε_total, ε_linear (dashed) and ε_residual (faint) in LDPU INT8 units, all cores, first read time", svg: fig2bHistograms(r) },
      { file: "fig2c-weight-error", caption: "Weight error against target weight, mean over cores (dashed: ± one standard deviation over cores)", svg: fig2cWeightError(r) },
      { file: "fig2d-drift", caption: "Normalised errors against time with global drift compensation (grey: ε_total without it); dashed black: the 8-bit-I/O digital engine with 3- and 4-bit weights", svg: fig2dDrift(r) },
      { file: "adc-curves", caption: "ADC transfer curves before and after the calibration run at chip creation (independent of the weights)", svg: adcCurvesFigure(BigInt(r.seed)) },
      { file: "table1", caption: "The latency/energy model against the paper's Table I (hermes-sim cost --table1): 9 parameters fitted to the grey entries, the blue ones predicted", svg: table1Figure() },
    ],
    { ...doc, ...(dev ? { devices: dev.cores } : {}) },
  );
}

