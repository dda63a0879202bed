// Read times on the command line: seconds, or a number with a unit.

import { ArgumentError } from "./validate.ts";

/** Seconds per unit. A month is 30 days, a year 365 days. */
export const UNITS: Record<string, number> = {
  s: 1, m: 60, min: 60, h: 3600, d: 86400, w: 7 * 86400, mo: 30 * 86400, y: 365 * 86400,
};

/** "25", "25s", "1h", "1.5d", "1w", "1mo", "1y" → seconds (> 0). */
export function parseDuration(text: string, argument = "time"): number {
  const m = /^\s*(\d+(?:\.\d*)?(?:e[+-]?\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m?.[2]?.toLowerCase() ?? "";
  const k = unit === "" ? 1 : UNITS[unit];
  const v = m ? Number(m[1]) * (k ?? NaN) : NaN;
  if (!(v > 0) || !Number.isFinite(v)) {
    throw new ArgumentError(argument, `a time > 0: seconds or a number with a unit (${Object.keys(UNITS).join(", ")}), e.g. 25, 1h, 1mo`, text);
  }
  return v;
}

/** A comma-separated list of durations, in increasing order. */
export function parseDurations(text: string, argument = "--times"): number[] {
  const out = text.split(",").map((s, i) => parseDuration(s, `${argument}[${i}]`));
  out.forEach((t, i) => {
    if (i > 0 && !(t > out[i - 1]!)) throw new ArgumentError(argument, "increasing times", text);
  });
  return out;
}

/** 2592000 → "1mo", 3600 → "1h", 25 → "25s". */
export function formatDuration(s: number): string {
  for (const [u, k] of [["y", UNITS["y"]!], ["mo", UNITS["mo"]!], ["w", UNITS["w"]!], ["d", UNITS["d"]!], ["h", 3600], ["min", 60]] as const) {
    if (s >= k && Number.isInteger(s / k)) return `${s / k}${u}`;
  }
  return `${s}s`;
}
