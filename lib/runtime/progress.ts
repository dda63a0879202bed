// A progress bar on stderr: drawn only on a TTY, never under --json or CI.

/** A progress callback: `done` of `total` units of the current phase (0 ≤ done ≤ total). */
export type OnProgress = (done: number, total: number) => void;

export interface Progress {
  /** Report progress of the current phase. */
  update: OnProgress;
  /** Finish the bar (clears the line). */
  done(): void;
}

const SILENT: Progress = { update: () => {}, done: () => {} };

export function progressBar(label: string, opts: { json?: boolean; stream?: NodeJS.WriteStream } = {}): Progress {
  const stream = opts.stream ?? process.stderr;
  if (opts.json || !stream.isTTY || process.env["CI"]) return SILENT;
  const start = Date.now();
  let last = 0;
  return {
    update(done, total) {
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      const f = total ? done / total : 1;
      const width = 30;
      const fill = Math.round(f * width);
      const elapsed = (now - start) / 1000;
      const eta = f > 0 ? (elapsed * (1 - f)) / f : 0;
      stream.write(`\r${label} [${"#".repeat(fill)}${"-".repeat(width - fill)}] ${done}/${total} ETA ${eta.toFixed(1)} s `);
    },
    done() {
      stream.write("\r\x1b[2K");
    },
  };
}
