// Shared by the benchmark suites: where results go and how they are written (atomically).
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";

export const RESULTS_DIR = fileURLToPath(new URL("./results/", import.meta.url));

/** Write `name`.json under bench/results/ via a temp file and rename. Returns the path. */
export function writeResult(name: string, data: object): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = `${RESULTS_DIR}${name}.json`;
  const tmp = `${path}.${process.pid}.tmp`;
  const doc = { name, date: new Date().toISOString(), machine: machine(), ...data };
  writeFileSync(tmp, JSON.stringify(doc, null, 2) + "\n");
  renameSync(tmp, path);
  return path;
}

export function machine(): { cpu: string; cores: number; node: string } {
  const c = cpus();
  return { cpu: c[0]?.model ?? "unknown", cores: c.length, node: process.version };
}
