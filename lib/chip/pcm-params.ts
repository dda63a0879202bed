// The PCM model's parameter block (layout shared with assembly/pcm.ts, P_* indices) and
// the per-core device statistics of a chip (Fig. 2a: cores differ), both drawn from the
// chip's seed through Philox so that they are the same for any thread count.

import { PCM, PROGRAMMING } from "./config.ts";
import type { Scheme } from "./targets.ts";
import { CHIP_CORE, Purpose } from "./rng.ts";
import { WasmRuntime } from "../runtime/wasm.ts";

/** Indices of the f64 parameter block; must match assembly/pcm.ts. */
export const P = {
  SEED_LO: 0, SEED_HI: 1, CORE: 2, SET_MEAN: 3, SET_SIGMA: 4, FLOOR_MEAN: 5, FLOOR_SIGMA: 6,
  STUCK_RESET: 7, STUCK_SET: 8, IMID_MEAN: 9, IMID_SIGMA: 10, WIDTH_MEAN: 11, WIDTH_SIGMA: 12,
  JITTER_UA: 13, SET_C2C: 14, READ_A: 15, READ_B: 16, READ_C: 17, MARGIN: 18, MAX_ITER: 19,
  I_MIN: 20, I_MAX: 21, I_RESET: 22, GAIN: 23, SCHEME: 24, GMAX_ODP: 25, COUNT: 26,
} as const;

const CHIP_STREAM_CORE = CHIP_CORE;
const PURPOSE_CORE_STATS = Purpose.CORE_STATS;
const PURPOSE_OUTLIER = Purpose.OUTLIER_CORES;

export const SCHEME_CODE: Record<Scheme, number> = { odp: 0, tdp: 1, "tdp-maxfill": 2 };

/** Per-core device statistics of the PCM model (drawn from the chip's seed; lib/chip/config.ts PCM gives the sources). */
export interface CoreDeviceStats {
  /** Mean SET conductance of the core's devices, counts. */
  setMean: number;
  /** Device-to-device σ of SET conductance, counts. */
  setSigma: number;
  /** Probability a device is stuck RESET (cannot be SET). */
  stuckReset: number;
  /** Probability a device is stuck SET (cannot be RESET). */
  stuckSet: number;
  /** True for the chip's outlier core(s) (paper §IV: one core at 98.4 % yield). */
  outlier: boolean;
}

/** Four u32 words of Philox4x32-10 for a counter and the 64-bit seed (via the wasm kernel). */
export function philoxWords(seed: bigint, c0: number, c1: number, c2: number, c3: number): Uint32Array {
  const rt = WasmRuntime.get();
  const ptr = rt.alloc(16);
  try {
    rt.kernels.philoxBlock(Number(seed & 0xffffffffn) | 0, Number(seed >> 32n) | 0, c0 | 0, c1 | 0, c2 | 0, c3 | 0, ptr);
    return rt.u32(ptr, 4).slice();
  } finally {
    rt.free(ptr);
  }
}

function toUniform(u: number): number {
  return ((u >>> 8) + 0.5) * 2 ** -24;
}

function toNormals(w: Uint32Array): [number, number] {
  const rad = Math.sqrt(-2 * Math.log(toUniform(w[0]!)));
  const ang = 2 * Math.PI * toUniform(w[1]!);
  return [rad * Math.cos(ang), rad * Math.sin(ang)];
}

/** The device statistics of every core of a chip with this seed. */
export function coreDeviceStats(seed: bigint, cores = 64): CoreDeviceStats[] {
  const outliers = new Set<number>();
  for (let k = 0; outliers.size < Math.min(PCM.outlierCores.value, cores); k++) {
    const w = philoxWords(seed, k, 0, CHIP_STREAM_CORE | (PURPOSE_OUTLIER << 8), 0);
    outliers.add(Math.floor(toUniform(w[0]!) * cores));
  }
  const out: CoreDeviceStats[] = [];
  for (let core = 0; core < cores; core++) {
    const w = philoxWords(seed, core, 0, CHIP_STREAM_CORE | (PURPOSE_CORE_STATS << 8), 0);
    const [za, zb] = toNormals(w);
    const [zc] = toNormals(w.subarray(2));
    const outlier = outliers.has(core);
    const defect = Math.exp(PCM.defectCoreSpread.value * zc) * (outlier ? PCM.outlierDefectFactor.value : 1);
    out.push({
      setMean: PCM.setMeanCounts.value + PCM.setCoreSigmaCounts.value * za,
      setSigma: PCM.setDeviceSigmaCounts.value * (1 + PCM.setDeviceSigmaCoreSpread.value * zb),
      stuckReset: PCM.stuckResetProb.value * defect,
      stuckSet: PCM.stuckSetProb.value * defect,
      outlier,
    });
  }
  return out;
}

/** The parameter block for one core's kernels. */
export function packParams(
  seed: bigint,
  core: number,
  stats: CoreDeviceStats,
  scheme: Scheme = "odp",
  odpGmax: number = PROGRAMMING.gmaxOdp.value,
): Float64Array {
  const b = new Float64Array(P.COUNT);
  b[P.SEED_LO] = Number(seed & 0xffffffffn);
  b[P.SEED_HI] = Number((seed >> 32n) & 0xffffffffn);
  b[P.CORE] = core;
  b[P.SET_MEAN] = stats.setMean;
  b[P.SET_SIGMA] = stats.setSigma;
  b[P.FLOOR_MEAN] = PCM.floorMeanCounts.value;
  b[P.FLOOR_SIGMA] = PCM.floorSigmaCounts.value;
  b[P.STUCK_RESET] = stats.stuckReset;
  b[P.STUCK_SET] = stats.stuckSet;
  b[P.IMID_MEAN] = PCM.curveMidUa.value;
  b[P.IMID_SIGMA] = PCM.curveMidSigmaUa.value;
  b[P.WIDTH_MEAN] = PCM.curveWidthUa.value;
  b[P.WIDTH_SIGMA] = PCM.curveWidthSigmaUa.value;
  b[P.JITTER_UA] = PCM.pulseJitterUa.value;
  b[P.SET_C2C] = PCM.setCycleSigma.value;
  b[P.READ_A] = PCM.readNoiseBaseCounts.value;
  b[P.READ_B] = PCM.readNoisePerCount.value;
  b[P.READ_C] = PCM.readNoisePerCount2.value;
  b[P.MARGIN] = PROGRAMMING.marginCounts.value;
  b[P.MAX_ITER] = PROGRAMMING.maxIterations.value;
  b[P.I_MIN] = PROGRAMMING.programCurrentMinUa.value;
  b[P.I_MAX] = PROGRAMMING.programCurrentMaxUa.value;
  b[P.I_RESET] = PROGRAMMING.resetCurrentUa.value;
  b[P.GAIN] = PCM.updateGain.value;
  b[P.SCHEME] = SCHEME_CODE[scheme];
  b[P.GMAX_ODP] = odpGmax;
  return b;
}
