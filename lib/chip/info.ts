// `hermes-sim info`: the chip's configuration as data and as a short table.

import { CONFIG_GROUPS, type Param } from "./config.ts";
import { statSync } from "node:fs";
import { WasmRuntime, wasmPath } from "../runtime/wasm.ts";

export interface ChipInfo {
  [group: string]: unknown;
  runtime: { wasmBytes: number; memoryMaxBytes: number; node: string; simd: true; sharedMemory: true };
}

export function chipInfo(): ChipInfo {
  const out: Record<string, unknown> = {};
  for (const [group, params] of Object.entries(CONFIG_GROUPS)) {
    const g: Record<string, Param<unknown>> = {};
    for (const [name, param] of Object.entries(params)) g[name] = param as Param<unknown>;
    out[group] = g;
  }
  const rt = WasmRuntime.get();
  return {
    ...out,
    runtime: {
      wasmBytes: statSync(wasmPath()).size,
      memoryMaxBytes: rt.maxBytes,
      node: process.version,
      simd: true,
      sharedMemory: true,
    },
  };
}

function fmt(v: unknown): string {
  if (Array.isArray(v)) return v.map(fmt).join(" – ");
  if (typeof v === "number") {
    if (Number.isInteger(v) && Math.abs(v) < 1e7) return v.toLocaleString("en-US");
    return Math.abs(v) >= 1e5 ? v.toExponential(3).replace("e+", "e") : String(v);
  }
  if (v !== null && typeof v === "object") {
    return Object.entries(v).map(([k, x]) => `${k}=${fmt(x)}`).join(" ");
  }
  return String(v);
}

export function formatInfo(info: ChipInfo): string {
  const lines: string[] = [];
  for (const [group, params] of Object.entries(info)) {
    if (group === "runtime") continue;
    lines.push(`${group}:`);
    const rows = Object.entries(params as Record<string, Param<unknown>>);
    const w1 = Math.max(...rows.map(([n]) => n.length));
    const w2 = Math.max(...rows.map(([, p]) => `${fmt(p.value)} ${p.unit}`.length));
    for (const [name, p] of rows) {
      lines.push(`  ${name.padEnd(w1)}  ${`${fmt(p.value)} ${p.unit}`.padEnd(w2)}  ${p.source}`);
    }
  }
  const r = info.runtime;
  lines.push(
    `runtime: node ${r.node}, wasm ${(r.wasmBytes / 1024).toFixed(1)} KiB (SIMD), shared memory up to ${r.memoryMaxBytes / 2 ** 20} MiB`,
  );
  return lines.join("\n") + "\n";
}
