import { progressBar } from './output.ts';

export interface ProgressLineOptions {
  /** A line at least every this many items... */
  everyItems?: number;
  /** ...or every this many milliseconds of a long stretch, whichever comes first. */
  everyMs?: number;
  now?: () => number;
  write?: (line: string) => void;
  /** Whether a person is watching stderr: then a redrawn bar, else plain lines. */
  terminal?: boolean;
}

/**
 * Progress for long commands whose stderr may go to a log file or a pipe (a batch job, a
 * container): a bar on a terminal, elsewhere a plain line now and then, so a long import is
 * never silent. Lines go to stderr and leave stdout (and --json output) alone.
 */
export function progressLines(label: string, unit: string, options: ProgressLineOptions = {}): { update(n: number): void; stop(): void } {
  if (options.terminal ?? process.stderr.isTTY) return progressBar(label, undefined, unit);
  const everyItems = options.everyItems ?? 100_000;
  const everyMs = options.everyMs ?? 10_000;
  const now = options.now ?? Date.now;
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const started = now();
  let lastItems = 0;
  let lastAt = started;
  let latest = 0;
  const line = (n: number) => {
    const seconds = (now() - started) / 1000;
    write(`${label}: ${n} ${unit}${seconds > 0 ? ` (${Math.round(n / seconds)} ${unit}/s)` : ''}\n`);
  };
  return {
    update(n) {
      latest = n;
      if (n - lastItems >= everyItems || now() - lastAt >= everyMs) {
        line(n);
        lastItems = n;
        lastAt = now();
      }
    },
    stop() {
      if (latest > lastItems) line(latest);
    },
  };
}
