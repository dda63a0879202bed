// chip.at(t).mvm at functional fidelity without link inputs (lib/chip/analog.ts): the fused
// kernels of assembly/functional.ts (packed MVM → 12-bit count → LDPU by formula or table →
// INT8) with the LDPU table cached in wasm scratch memory, bit-identical to readTaskInto.

import { CHUNK, setLdpuGain, type LdpuSettings, type ReadoutBuffers, type ReadTemplate } from "./readout.ts";
import type { WasmRuntime } from "../runtime/wasm.ts";

const N = 256;
const CELLS = N * N;
/** The LDPU table (8,191 + 1 bytes) and its key (gain, flags, valid, formula K) as f64. */
const FTABLE_BYTES = 8224;
const FTABLE_KEY = 8192;

/** Functional fidelity without link inputs: per chunk, the inputs widened to int16, then one
 * fused kernel (assembly/functional.ts: packed MVM, count, LDPU by formula or table, INT8),
 * the same bits as readTaskInto's functionalChunk without the int32 dots in memory.
 * Undefined where that path must run (rows' LDPU parameters differ, |counts/unit| ≥ 1). */
export function functionalMvm(rt: WasmRuntime, task: ReadTemplate, x: Int8Array, batch: number, buf: ReadoutBuffers): Int8Array | undefined {
  const perUnit = task.functionalCountsPerUnit!;
  if (!(Math.abs(perUnit) < 1)) return undefined;
  const k = rt.kernels;
  const flags = task.read.ldpuFlags ?? 0;
  const t = functionalTable(rt, task.gain, flags, task.ldpu, buf);
  if (!t) return undefined;
  const xPtr = rt.scratch("at.x", CHUNK * N);
  const outPtr = rt.scratch("at.y", CHUNK * N);
  const packed = task.planes + CELLS * 2;
  const rows = task.read.rows ?? N; // only these rows convert; the others read 0
  if (rows < N) rt.i8(outPtr, CHUNK * N).fill(0);
  const y = new Int8Array(batch * N);
  for (let b0 = 0; b0 < batch; b0 += CHUNK) {
    const n = Math.min(CHUNK, batch - b0);
    rt.i8(xPtr, n * N).set(x.subarray(b0 * N, (b0 + n) * N));
    k.widenInputs(xPtr, n, buf.inputs);
    if (t.formula !== 0) k.functionalPackedLdpu(packed, rows, N, buf.inputs, n, perUnit, t.formula, flags, outPtr, N);
    else k.functionalPackedTable(packed, rows, N, buf.inputs, n, perUnit, t.table, outPtr, N);
    y.set(rt.i8(outPtr, n * N), b0 * N);
  }
  return y;
}

/** The LDPU table of the count (assembly/ldpu.ts ldpuTable) for this gain, flags and
 * settings, and the gain K if functionalLdpuFormula reproduces it (else 0); rebuilt only
 * when they change (the key beside it in wasm memory). Undefined if the rows' parameters
 * differ (no table). */
function functionalTable(rt: WasmRuntime, gain: number, flags: number, ldpu: LdpuSettings | undefined, buf: ReadoutBuffers): { table: number; formula: number } | undefined {
  const k = rt.kernels;
  const table = rt.scratch("at.ftable", FTABLE_BYTES);
  const key = rt.f64(table + FTABLE_KEY, 4);
  if (ldpu && Object.keys(ldpu).length === 0) ldpu = undefined; // { flags } alone: the default settings
  if (!ldpu && key[2] === 1 && key[0] === gain && key[1] === flags) return { table, formula: key[3]! };
  setLdpuGain(rt, buf, gain, ldpu);
  const ok = k.ldpuTable(buf.ldpu, N, flags, table) === 1;
  const K = k.f16ToF64(rt.u16(buf.ldpu, 1)[0]!);
  key[0] = ok && !ldpu ? gain : NaN;
  key[1] = flags;
  key[2] = 1;
  key[3] = ok && K !== 0 && k.functionalLdpuFormula(table, K, flags) === 1 ? K : 0;
  return ok ? { table, formula: key[3]! } : undefined;
}
