/** Progress of a load run and the two ways to show it: a one-line bar on a TTY, a quiet line in CI. */
export interface LoadProgress {
  done: number;
  /** Planned requests (closed model) or arrivals (open model). */
  total: number;
  errors: number;
  inFlight: number;
  dropped: number;
  elapsedMs: number;
  /** Completed requests per second so far. */
  rate: number;
  final?: boolean;
}

export function formatProgressBar(p: LoadProgress, width = 24): string {
  const frac = p.total > 0 ? Math.min(1, p.done / p.total) : 0;
  const filled = Math.round(frac * width);
  const dropped = p.dropped > 0 ? ` · ${p.dropped} dropped` : '';
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${p.done}/${p.total} · ${p.errors} errors${dropped} · ${p.rate.toFixed(1)} req/s`;
}

export function formatProgressLine(p: LoadProgress): string {
  const dropped = p.dropped > 0 ? `, ${p.dropped} dropped` : '';
  return `load: ${p.done}/${p.total} done, ${p.errors} errors${dropped}, ${p.rate.toFixed(1)} req/s, ${(p.elapsedMs / 1000).toFixed(1)} s`;
}

interface Sink {
  isTTY?: boolean;
  write(text: string): unknown;
}

/**
 * A progress callback for `runLoad`: redraws one line on a TTY; elsewhere prints a plain line at most every
 * `everyMs` (and the final one).
 */
export function consoleProgress(stream: Sink = process.stderr, everyMs = 5000): (p: LoadProgress) => void {
  let lastPlain = 0;
  return (p) => {
    if (stream.isTTY) {
      stream.write(`\r\x1b[2K${formatProgressBar(p)}${p.final ? '\n' : ''}`);
      return;
    }
    if (p.final || p.elapsedMs - lastPlain >= everyMs) {
      lastPlain = p.elapsedMs;
      stream.write(`${formatProgressLine(p)}\n`);
    }
  };
}
