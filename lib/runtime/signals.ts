// Clean stops for long runs: SIGINT / SIGTERM abort an AbortSignal on first delivery (the
// run finishes what is in flight and keeps its checkpoint); a second SIGINT exits at once
// with code 130 (a second SIGTERM with 143). Handlers are removed when `fn` settles.

export interface SignalHandlingOptions {
  /** Where the one-line notice goes (default process.stderr). */
  stream?: { write(text: string): unknown };
  /** What is being stopped, for the notice (default "run"). */
  what?: string;
}

const EXIT_CODE: Record<"SIGINT" | "SIGTERM", number> = { SIGINT: 130, SIGTERM: 143 };

export async function withSignalHandling<T>(fn: (signal: AbortSignal) => Promise<T>, opts: SignalHandlingOptions = {}): Promise<T> {
  const stream = opts.stream ?? process.stderr;
  const what = opts.what ?? "run";
  const ac = new AbortController();
  const handler = (sig: "SIGINT" | "SIGTERM"): void => {
    if (!ac.signal.aborted) {
      stream.write(`hermes-sim: ${sig}: stopping the ${what} after the work in flight; checkpoint kept (Ctrl-C again to quit at once)\n`);
      const err = new Error(`interrupted by ${sig}`);
      err.name = "AbortError";
      ac.abort(err);
    } else {
      process.exit(EXIT_CODE[sig]);
    }
  };
  const onInt = (): void => handler("SIGINT");
  const onTerm = (): void => handler("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  try {
    return await fn(ac.signal);
  } finally {
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
  }
}
