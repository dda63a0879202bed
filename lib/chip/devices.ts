// The Fig. 2a measurement of a chip: every core's unit-cell RESET and SET conductance
// distributions, its yield, and the ODP/TDP Gmax derived from them (paper §IV).

import { ARCH, PROGRAMMING } from "./config.ts";
import { coreDeviceStats, packParams, type CoreDeviceStats } from "./pcm-params.ts";
import { WasmRuntime } from "../runtime/wasm.ts";

const CELLS = ARCH.crossbarRows.value * ARCH.crossbarCols.value;

/** Histogram bins: 1 count wide from HIST_MIN to HIST_MAX (counts). */
export const HIST_MIN = -20;
export const HIST_MAX = 260;

/** One core's Fig. 2a measurement: yield, SET/RESET percentiles and histograms (ADC counts). */
export interface CoreDeviceMeasurement {
  /** Core index 0..63. */
  core: number;
  /** Unit cells with |G_RESET| \< 5 and G_SET \> 50, percent. */
  yieldPct: number;
  /** SET distribution: 10th percentile (counts). */
  setP10: number;
  /** SET distribution: median (counts). */
  setMedian: number;
  /** RESET distribution: median of |G_RESET| (counts). */
  resetMedianAbs: number;
  /** SET conductances: devices per 1-count bin from −20 to 260 counts (281 bins); values outside are clamped into the end bins. */
  setHistogram: number[];
  /** RESET conductances, binned like `setHistogram`. */
  resetHistogram: number[];
  /** True for the chip's outlier core(s) (paper §IV: one core at 98.4 % yield). */
  outlier: boolean;
}

/** The Fig. 2a measurement of a chip (`chip.devices()`, `chip.measure()`): every core, and the ODP/TDP Gmax derived from them. */
export interface DeviceMeasurement {
  /** Per core, in core order. */
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

/** The q-quantile of a histogram of integer values (bin i holds value HIST_MIN + i). */
export function histogramQuantile(h: readonly number[], q: number): number {
  const total = h.reduce((a, b) => a + b, 0);
  const rank = Math.min(total - 1, Math.floor(q * total));
  let seen = 0;
  for (let i = 0; i < h.length; i++) {
    seen += h[i]!;
    if (seen > rank) return HIST_MIN + i;
  }
  return HIST_MAX;
}

/** The wasm regions one measurement needs (see `measureBuffers`). */
export interface MeasureBuffers {
  params: number;
  reset: number;
  set: number;
  slot: number;
}
export const MEASURE_BYTES = { params: 8 * 32, reset: CELLS * 4, set: CELLS * 4, slot: 160 } as const;

/**
 * Measure one core into the given buffers (the kernel does not touch the core's state).
 * Runs on the main thread or in a worker: it only reads and writes the buffers.
 */
export function measureCoreInto(seed: bigint, core: number, stats: CoreDeviceStats, buf: MeasureBuffers): CoreDeviceMeasurement {
  const rt = WasmRuntime.get();
  const block = packParams(seed, core, stats);
  rt.f64(buf.params, block.length).set(block);
  rt.kernels.measureSetReset(buf.params, buf.reset, buf.set, buf.slot);
  const r = rt.f32(buf.reset, CELLS);
  const s = rt.f32(buf.set, CELLS);
  let ok = 0;
  for (let i = 0; i < CELLS; i++) {
    if (Math.abs(r[i]!) < PROGRAMMING.yieldResetMax.value && s[i]! > PROGRAMMING.yieldSetMin.value) ok++;
  }
  // Verify reads are whole counts, so quantiles of the 1-count histograms are exact
  // (as long as they fall inside HIST_MIN..HIST_MAX, which the p10 and medians do).
  const setHistogram = histogram(s);
  const resetHistogram = histogram(r);
  const absReset = new Array<number>(resetHistogram.length).fill(0);
  resetHistogram.forEach((n, i) => (absReset[Math.abs(HIST_MIN + i) - HIST_MIN]! += n));
  return {
    core,
    yieldPct: (100 * ok) / CELLS,
    setP10: histogramQuantile(setHistogram, 0.1),
    setMedian: histogramQuantile(setHistogram, 0.5),
    resetMedianAbs: histogramQuantile(absReset, 0.5),
    setHistogram,
    resetHistogram,
    outlier: stats.outlier,
  };
}

/** Measure one core on the main thread (reusable scratch buffers). */
export function measureCore(seed: bigint, core: number, stats: CoreDeviceStats): CoreDeviceMeasurement {
  const rt = WasmRuntime.get();
  return measureCoreInto(seed, core, stats, {
    params: rt.scratch("devices.params", MEASURE_BYTES.params),
    reset: rt.scratch("devices.reset", MEASURE_BYTES.reset),
    set: rt.scratch("devices.set", MEASURE_BYTES.set),
    slot: rt.scratch("devices.slot", MEASURE_BYTES.slot),
  });
}

/** The ODP/TDP Gmax from per-core measurements (paper §IV). */
export function summariseDevices(cores: CoreDeviceMeasurement[], stats: CoreDeviceStats[]): DeviceMeasurement {
  const odpGmax = Math.floor(Math.min(...cores.map((c) => c.setP10)));
  return { cores, odpGmax, tdpGmax: 2 * odpGmax, stats };
}

/** Measure every core of a chip with this seed; derive the ODP and TDP Gmax. */
export function measureDevices(seed: bigint, onCore?: (done: number, total: number) => void): DeviceMeasurement {
  const stats = coreDeviceStats(seed, ARCH.cores.value);
  const cores: CoreDeviceMeasurement[] = [];
  for (let c = 0; c < stats.length; c++) {
    cores.push(measureCore(seed, c, stats[c]!));
    onCore?.(c + 1, stats.length);
  }
  return summariseDevices(cores, stats);
}
