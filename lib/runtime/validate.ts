// Argument checks shared by the public API: one clear error naming the argument
// and what was expected.

/** A bad argument or option value (a RangeError): the message names the argument, what was expected and what was given. */
export class ArgumentError extends RangeError {
  /** `argument` must be `expected`, got `got`. */
  constructor(
    /** The argument or option at fault, as the caller spells it (e.g. `"options.threads"`, `"--seed"`). */
    readonly argument: string,
    expected: string,
    got: unknown,
  ) {
    super(`${argument} must be ${expected}, got ${describe(got)}`);
    this.name = "ArgumentError";
  }
}

/** An options object with a key the function does not know (a RangeError); the message lists the known keys. */
export class UnknownOptionError extends RangeError {
  constructor(
    /** The unknown option, with its path (e.g. `"options.thread"`). */
    readonly argument: string,
    allowed: readonly string[],
  ) {
    super(`unknown option ${argument}; known options are ${allowed.join(", ")}`);
    this.name = "UnknownOptionError";
  }
}

export function describe(v: unknown): string {
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name} of length ${(v as unknown as ArrayLike<unknown>).length}`;
  if (v === null) return "null";
  if (typeof v === "object") return "an object";
  return String(v);
}

const U64_MAX = (1n << 64n) - 1n;

/** A seed: a non-negative safe integer or a bigint in [0, 2^64). */
export function seedToBigInt(value: unknown, argument = "seed"): bigint {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  if (typeof value === "bigint" && value >= 0n && value <= U64_MAX) return value;
  throw new ArgumentError(argument, "a non-negative safe integer or a bigint below 2^64", value);
}

export function intInRange(value: unknown, lo: number, hi: number, argument: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < lo || value > hi) {
    throw new ArgumentError(argument, `an integer in ${lo}..${hi}`, value);
  }
  return value;
}

export function oneOf<T extends string>(value: unknown, allowed: readonly T[], argument: string): T {
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    throw new ArgumentError(argument, `one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}`, value);
  }
  return value as T;
}

/** Reject option keys that are not known (typos should not be silently ignored). */
export function knownKeys(options: object, allowed: readonly string[], argument: string): void {
  for (const k of Object.keys(options)) {
    if (!allowed.includes(k)) {
      throw new UnknownOptionError(`${argument}.${k}`, allowed);
    }
  }
}

/** A seed given as text (a command-line flag): decimal digits, below 2^64. */
export function parseSeedArg(text: string, argument = "--seed"): bigint {
  if (!/^\d{1,20}$/.test(text.trim())) {
    throw new ArgumentError(argument, "a non-negative integer below 2^64", text);
  }
  return seedToBigInt(BigInt(text.trim()), argument);
}

/** An integer command-line flag in lo..hi (plain digits). */
export function parseIntArg(text: string, lo: number, hi: number, argument: string): number {
  const n = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || n < lo || n > hi) throw new ArgumentError(argument, `an integer in ${lo}..${hi}`, text);
  return n;
}

/** A thread count given as text (a command-line flag): an integer in 1..256. */
export function parseThreadsArg(text: string, argument = "--threads"): number {
  const n = Number(text);
  if (!/^\d{1,3}$/.test(text.trim()) || n < 1 || n > 256) throw new ArgumentError(argument, "an integer in 1..256", text);
  return n;
}
