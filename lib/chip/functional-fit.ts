// The functional model's parameters (paper Methods: "we fit the experimental weight error
// data points as a function of target weight with a polynomial function for each core"),
// fitted from this simulator's own physical level: per scheme, per core and per read time,
// σ(W − Ŵ)/Wmax = c0 + c1·u + c2·u² (u = |W|/Wmax) and the global drift compensation
// factor α. `hermes-sim characterize --fit-out FILE` writes one; lib/chip/functional-fit.json is
// the default chip's (seed 1), used by `--fidelity functional`.

import { readFileSync } from "node:fs";
import type { Scheme } from "./targets.ts";
import { ArgumentError } from "../runtime/validate.ts";

/** The functional model's parameters for one weight-programming scheme. */
export interface SchemeFit {
  /** Times after programming the fit was measured at, s, increasing. */
  times: number[];
  /** Per core: the Gmax used, counts. */
  gmax: number[];
  /** Per core: unit-cell yield, percent. */
  yield: number[];
  /**
   * Per core: `poly[k]` = [c0, c1, c2] of the weight-noise polynomial at `times[k]`
   * (σ/Wmax = c0 + c1·u + c2·u², u = |W|/Wmax), and `alpha[k]`, the global drift
   * compensation factor there.
   */
  cores: { poly: number[][]; alpha: number[] }[];
}

/** The functional model's parameters, per scheme and core (written by `hermes-sim characterize --fit-out`). */
export interface FunctionalFit {
  /** File tag, always "hermes-sim-functional-fit". */
  kind: "hermes-sim-functional-fit";
  /** Format version, 1. */
  version: 1;
  /** Seed of the physical chip the fit was measured on, decimal. */
  seed: string;
  /** Read mode (1 or 4) of the characterisation the fit comes from. */
  phases: number;
  /** The measured chip's ODP Gmax, counts. */
  odpGmax: number;
  /** The fit per weight-programming scheme (those that were characterised). */
  schemes: Partial<Record<Scheme, SchemeFit>>;
}

export const DEFAULT_FIT_PATH = new URL("./functional-fit.json", import.meta.url);

/** Read a functional fit (default: the default chip's, lib/chip/functional-fit.json). Throws ArgumentError when the file cannot be read or is not a fit. */
export function loadFit(path: string | URL = DEFAULT_FIT_PATH): FunctionalFit {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new ArgumentError("fit", `a readable functional-fit JSON file (${(e as Error).message})`, String(path));
  }
  const f = doc as FunctionalFit;
  if (f?.kind !== "hermes-sim-functional-fit" || f.version !== 1 || typeof f.schemes !== "object") {
    throw new ArgumentError("fit", "a file written by `hermes-sim characterize --fit-out` (kind hermes-sim-functional-fit, version 1)", String(path));
  }
  return f;
}

/** The fit of one core at time t: linear in ln t between fitted times, held constant outside. */
export function fitAt(f: SchemeFit, core: number, t: number): { poly: number[]; alpha: number } {
  const c = f.cores[core % f.cores.length]!;
  const lt = Math.log(t);
  const ts = f.times.map(Math.log);
  if (lt <= ts[0]!) return { poly: c.poly[0]!, alpha: c.alpha[0]! };
  for (let k = 1; k < ts.length; k++) {
    if (lt <= ts[k]!) {
      const a = (lt - ts[k - 1]!) / (ts[k]! - ts[k - 1]!);
      const mix = (p: number, q: number) => p + a * (q - p);
      return { poly: c.poly[k - 1]!.map((v, i) => mix(v, c.poly[k]![i]!)), alpha: mix(c.alpha[k - 1]!, c.alpha[k]!) };
    }
  }
  const n = ts.length - 1;
  return { poly: c.poly[n]!, alpha: c.alpha[n]! };
}
