import { Presets, SingleBar } from 'cli-progress';

export interface Progress {
  update(n: number): void;
  stop(): void;
}

export interface ProgressOptions {
  /** Off a terminal, a line at least every this many items... */
  everyItems?: number;
  /** ...or every this many milliseconds of a long stretch, whichever comes first. */
  everyMs?: number;
  now?: () => number;
  write?: (line: string) => void;
  /** Whether a person is watching stderr: then a redrawn bar, else plain lines. */
  terminal?: boolean;
}

/**
 * Progress of a long command on stderr, leaving stdout (and --json output) alone: a redrawn
 * bar when a person is watching, elsewhere (a pipe, a log file, a container, CI) a plain line
 * now and then, so no long command is silent for minutes in a log.
 */
export function progress(label: string, total: number | undefined, unit = 'items', options: ProgressOptions = {}): Progress {
  return (options.terminal ?? process.stderr.isTTY) ? progressBar(label, total, unit) : progressLines(label, total, unit, options);
}

function progressBar(label: string, total: number | undefined, unit: string): Progress {
  const bar = new SingleBar(
    {
      format: total ? `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | {eta_formatted} left` : `${label} {value} ${unit}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
    },
    Presets.shades_classic,
  );
  bar.start(total ?? 0, 0);
  return { update: (n) => bar.update(n), stop: () => bar.stop() };
}

function progressLines(label: string, total: number | undefined, unit: string, options: ProgressOptions): Progress {
  // With a known total a line every tenth of it: a 2 GB import says where it is ten times.
  const everyItems = options.everyItems ?? (total ? Math.max(1, Math.ceil(total / 10)) : 100_000);
  const everyMs = options.everyMs ?? 10_000;
  const now = options.now ?? Date.now;
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const started = now();
  let lastItems = 0;
  let lastAt = started;
  let latest = 0;
  const line = (n: number) => {
    const seconds = (now() - started) / 1000;
    const of = total ? `/${total} ${unit} (${Math.floor((100 * n) / total)}%)` : ` ${unit}`;
    write(`${label}: ${n}${of}${seconds > 0 ? `, ${Math.round(n / seconds)} ${unit}/s` : ''}\n`);
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
