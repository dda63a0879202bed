// The Fig. 2a measurement of a chip: every core's unit-cell RESET and SET conductance
// distributions, its yield, and the ODP/TDP Gmax derived from them (paper §IV).

import { ARCH, PROGRAMMING } from "./config.ts";
import { coreDeviceStats, packParams, type CoreDeviceStats } from "./pcm-params.ts";
import { WasmRuntime } from "./wasm.ts";

const CELLS = ARCH.crossbarRows.value * ARCH.crossbarCols.value;

/** Histogram bins: 1 count wide from HIST_MIN to HIST_MAX (counts). */
export const HIST_MIN = -20;
export const HIST_MAX = 260;

export interface CoreDeviceMeasurement {
  core: number;
  /** Unit cells with |G_RESET| < 5 and G_SET > 50, percent. */
  yieldPct: number;
  /** SET distribution percentiles (counts). */
  setP10: number;
  setMedian: number;
  /** RESET distribution: median of |G_RESET| (counts). */
  resetMedianAbs: number;
  /** Counts per 1-count bin from HIST_MIN; values outside are clamped into the end bins. */
  setHistogram: number[];
  resetHistogram: number[];
  outlier: boolean;
}

export interface DeviceMeasurement {
  cores: CoreDeviceMeasurement[];
  /** 10th percentile of the least conductive core's SET distribution, counts (floored). */
  odpGmax: number;
  /** Twice the ODP Gmax: the least conductive unit cell with both devices SET. */
  tdpGmax: number;
  /** The per-core model statistics the measurement was drawn from. */
  stats: CoreDeviceStats[];
}

function histogram(v: Float32Array): number[] {
  const h = new Array<number>(HIST_MAX - HIST_MIN + 1).fill(0);
  for (let i = 0; i < v.length; i++) {
    const b = Math.min(HIST_MAX, Math.max(HIST_MIN, Math.round(v[i]!))) - HIST_MIN;
    h[b]!++;
  }
  return h;
}

function quantile(sorted: Float32Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Measure one core (the kernel does not touch the core's state). */
export function measureCore(seed: bigint, core: number, stats: CoreDeviceStats): CoreDeviceMeasurement {
  const rt = WasmRuntime.get();
  const params = rt.alloc(8 * 32);
  const reset = rt.alloc(CELLS * 4);
  const set = rt.alloc(CELLS * 4);
  try {
    const block = packParams(seed, core, stats);
    rt.f64(params, block.length).set(block);
    rt.kernels.measureSetReset(params, reset, set);
    const r = rt.f32(reset, CELLS);
    const s = rt.f32(set, CELLS);
    let ok = 0;
    for (let i = 0; i < CELLS; i++) {
      if (Math.abs(r[i]!) < PROGRAMMING.yieldResetMax.value && s[i]! > PROGRAMMING.yieldSetMin.value) ok++;
    }
    const sSorted = s.slice().sort();
    const rAbs = r.map(Math.abs).sort();
    return {
      core,
      yieldPct: (100 * ok) / CELLS,
      setP10: quantile(sSorted, 0.1),
      setMedian: quantile(sSorted, 0.5),
      resetMedianAbs: quantile(rAbs, 0.5),
      setHistogram: histogram(s),
      resetHistogram: histogram(r),
      outlier: stats.outlier,
    };
  } finally {
    rt.free(set);
    rt.free(reset);
    rt.free(params);
  }
}

/** Measure every core of a chip with this seed; derive the ODP and TDP Gmax. */
export function measureDevices(seed: bigint, onCore?: (done: number, total: number) => void): DeviceMeasurement {
  const stats = coreDeviceStats(seed, ARCH.cores.value);
  const cores: CoreDeviceMeasurement[] = [];
  for (let c = 0; c < stats.length; c++) {
    cores.push(measureCore(seed, c, stats[c]!));
    onCore?.(c + 1, stats.length);
  }
  const odpGmax = Math.floor(Math.min(...cores.map((c) => c.setP10)));
  return { cores, odpGmax, tdpGmax: 2 * odpGmax, stats };
}
