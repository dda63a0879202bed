// Read times on the command line: seconds, or a number with a unit.

import { ArgumentError } from "./validate.ts";

/** Seconds per unit. A month is 30 days, a year 365 days. */
export const UNITS: Record<string, number> = {
  s: 1, m: 60, min: 60, h: 3600, d: 86400, w: 7 * 86400, mo: 30 * 86400, y: 365 * 86400,
};

/**
 * Parse a duration: `"25"`, `"25s"`, `"1h"`, `"1.5d"`, `"1w"`, `"1mo"`, `"1y"` → seconds (\> 0).
 * Units: s, m or min, h, d, w, mo (30 days), y (365 days); no unit means seconds.
 * @param argument - the name the error gives the text
 * @defaultValue argument: `"time"`
 * @throws {@link ArgumentError} when `text` is not a positive finite time
 */
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

/**
 * Parse a comma-separated list of durations (see {@link parseDuration}) → seconds, in increasing order.
 * @defaultValue argument: `"--times"`
 * @throws {@link ArgumentError} on a bad item (named `argument[i]`) or when the times do not increase
 */
export function parseDurations(text: string, argument = "--times"): number[] {
  const out = text.split(",").map((s, i) => parseDuration(s, `${argument}[${i}]`));
  out.forEach((t, i) => {
    if (i > 0 && !(t > out[i - 1]!)) throw new ArgumentError(argument, "increasing times", text);
  });
  return out;
}

/** Format seconds with the largest unit that divides them: 2592000 → `"1mo"`, 3600 → `"1h"`, 25 → `"25s"`. */
export function formatDuration(s: number): string {
  for (const [u, k] of [["y", UNITS["y"]!], ["mo", UNITS["mo"]!], ["w", UNITS["w"]!], ["d", UNITS["d"]!], ["h", 3600], ["min", 60]] as const) {
    if (s >= k && Number.isInteger(s / k)) return `${s / k}${u}`;
  }
  return `${s}s`;
}
