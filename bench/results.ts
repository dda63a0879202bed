// Shared by the benchmark suites: where results go and how they are written (atomically).
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { writeFileAtomic } from "../lib/runtime/atomic.ts";

export const RESULTS_DIR = fileURLToPath(new URL("./results/", import.meta.url));

/** Write `name`.json under bench/results/ via a temp file and rename. Returns the path. */
export function writeResult(name: string, data: object): string {
  const path = `${RESULTS_DIR}${name}.json`;
  const doc = { name, date: new Date().toISOString(), machine: machine(), ...data };
  writeFileAtomic(path, JSON.stringify(doc, null, 2) + "\n");
  return path;
}

export function machine(): { cpu: string; cores: number; node: string } {
  const c = cpus();
  return { cpu: c[0]?.model ?? "unknown", cores: c.length, node: process.version };
}
