// node:os in the browser bundle (web/build.mjs maps it here).

/** The browser's logical processors (navigator.hardwareConcurrency), at least 1. */
export function availableParallelism(): number {
  return Math.max(1, globalThis.navigator?.hardwareConcurrency ?? 1);
}
export const cpus = (): unknown[] => Array.from({ length: availableParallelism() }, () => ({}));
export const tmpdir = (): string => "/tmp";
export const hostname = (): string => "browser";
export const EOL = "\n";
