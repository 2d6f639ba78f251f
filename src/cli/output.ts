import { BulwarkError, type ErrorKind } from '../errors.ts';

export interface OutputOptions {
  json?: boolean;
}

const EXIT_BY_KIND: Record<ErrorKind, number> = {
  invalid: 2,
  not_found: 3,
  conflict: 4,
  unsupported_media: 2,
  too_large: 2,
  unauthenticated: 5,
  forbidden: 5,
  unavailable: 6,
};

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Prints an error for a person (stderr) or a script (--json: a JSON object on stdout) and sets the exit code. */
export function reportError(error: unknown, options: OutputOptions): void {
  const known = error instanceof BulwarkError;
  const message = error instanceof Error ? error.message : String(error);
  if (options.json) {
    printJson({ error: { kind: known ? error.kind : 'internal', message, ...(known && error.details ? { details: error.details } : {}) } });
  }
  process.stderr.write(`bulwark: ${message}\n`);
  if (!known && process.env.BULWARK_DEBUG) process.stderr.write(`${(error as Error)?.stack ?? ''}\n`);
  process.exitCode = known ? EXIT_BY_KIND[error.kind] : 1;
}

export function table(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return '(none)\n';
  const columns = Object.keys(rows[0]);
  const cells = rows.map((row) => columns.map((column) => String(row[column] ?? '')));
  const widths = columns.map((column, i) => Math.max(column.length, ...cells.map((cell) => cell[i].length)));
  const line = (values: string[]) => values.map((value, i) => value.padEnd(widths[i])).join('  ').trimEnd();
  return `${[line(columns), ...cells.map(line)].join('\n')}\n`;
}
