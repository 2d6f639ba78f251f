import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import { invalid } from '../errors.ts';
import { contentLines } from '../ingest/text-lines.ts';
import { unstorableText } from '../validation/edge.ts';

/** One row of a hash list, as read from a file, before validation of its value. */
export interface RawBankRow {
  line: number;
  signalType: string;
  value: string;
  source?: string;
  tags: string[];
}

/**
 * csv, tsv and jsonl hold one entry per line; vpdq is one whole vPDQ frame list (a reference
 * hash file, `frameNumber,quality,pdqHex,timestamp` per line) that is a single entry.
 */
export type ImportFormat = 'csv' | 'tsv' | 'jsonl' | 'vpdq';

export const IMPORT_FORMATS: readonly ImportFormat[] = ['csv', 'tsv', 'jsonl', 'vpdq'];

/** A vPDQ file is read whole; larger ones (about 150,000 frames) are refused. */
export const MAX_VPDQ_FILE_BYTES = 16 * 1024 * 1024;

export function formatFromFileName(fileName: string): ImportFormat | undefined {
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.tsv') || lower.endsWith('.txt')) return 'tsv';
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson') || lower.endsWith('.json')) return 'jsonl';
  return undefined;
}

export interface ParseOptions {
  format: ImportFormat;
  /** For lists that hold only values (one column): the signal type of every row. */
  signalType?: string;
  /** Source recorded on rows that do not name their own. */
  defaultSource?: string;
  /**
   * Tags given to every row besides its own, e.g. `demo` for a list the demo's rules should
   * act on (rules select entries by tag with the `match.tags` fact).
   */
  tags?: string[];
}

const COLUMN_ALIASES: Record<string, keyof Omit<RawBankRow, 'line'>> = {
  signal_type: 'signalType',
  type: 'signalType',
  value: 'value',
  hash: 'value',
  signal: 'value',
  source: 'source',
  tags: 'tags',
};

/** Thrown for a row that cannot be read; carries its 1-based line number. */
export function rowError(line: number, reason: string) {
  return invalid(`line ${line}: ${reason}`, { line, reason });
}

/**
 * Splits one delimited line, honouring double quotes with "" as an escaped quote
 * (RFC 4180). Quoted fields may not span lines: hash lists never need that, and
 * refusing it keeps line numbers in errors true. With `spaceBeforeQuote`, spaces between a
 * delimiter and an opening quote are not part of the field (`a, "b, c"`), as people write
 * label files by hand; hash lists keep RFC 4180's strict reading.
 */
export function splitDelimited(text: string, delimiter: string, line: number, options: { spaceBeforeQuote?: boolean } = {}): string[] {
  const fields: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else {
        field += c;
      }
    } else if (c === '"' && (field.length === 0 || (options.spaceBeforeQuote === true && field.trim() === ''))) {
      quoted = true;
      field = '';
    } else if (c === delimiter) {
      fields.push(field);
      field = '';
    } else {
      field += c;
    }
    i++;
  }
  if (quoted) throw rowError(line, 'unterminated quoted field');
  fields.push(field);
  return fields.map((f) => f.trim());
}

/** Tags as a list's tags column, a query or a command line gives them: separated by , ; | or spaces. */
export function parseTags(raw: string | undefined): string[] {
  if (!raw) return [];
  return raw
    .split(/[;|,\s]+/)
    .map((tag) => tag.trim())
    .filter((tag) => tag.length > 0);
}

type ColumnMap = Partial<Record<keyof Omit<RawBankRow, 'line'>, number>>;

function headerColumns(fields: string[]): ColumnMap | undefined {
  const map: ColumnMap = {};
  for (const [index, name] of fields.entries()) {
    const key = COLUMN_ALIASES[name.toLowerCase()];
    if (key) map[key] = index;
  }
  return map.value === undefined ? undefined : map;
}

function rowFromFields(fields: string[], columns: ColumnMap, line: number, options: ParseOptions): RawBankRow {
  const at = (key: keyof ColumnMap) => (columns[key] === undefined ? undefined : fields[columns[key]!]);
  const signalType = at('signalType') || options.signalType;
  const value = at('value');
  if (fields.length === 1 && columns.value !== 0) {
    throw rowError(line, 'only one column: add a signal_type column or give the signal type for the whole file');
  }
  if (!signalType) throw rowError(line, 'no signal type: add a signal_type column or give the signal type for the whole file');
  if (!value) throw rowError(line, 'empty value');
  return { line, signalType: signalType.toLowerCase(), value, source: at('source') || options.defaultSource, tags: parseTags(at('tags')) };
}

function rowFromJson(text: string, line: number, options: ParseOptions): RawBankRow {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw rowError(line, 'not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw rowError(line, 'expected a JSON object');
  const record = parsed as Record<string, unknown>;
  const signalType = record.signal_type ?? record.type ?? options.signalType;
  const value = record.value ?? record.hash ?? record.signal;
  if (typeof signalType !== 'string' || signalType === '') throw rowError(line, 'missing "signal_type"');
  if (typeof value !== 'string' || value === '') throw rowError(line, 'missing "value"');
  const source = record.source ?? options.defaultSource;
  if (source !== undefined && typeof source !== 'string') throw rowError(line, '"source" must be a string');
  const tags = record.tags ?? [];
  if (!Array.isArray(tags) || tags.some((tag) => typeof tag !== 'string')) throw rowError(line, '"tags" must be an array of strings');
  return { line, signalType: signalType.toLowerCase(), value: value.trim(), source, tags: tags as string[] };
}

/** Refuses a row with text the store cannot hold (NUL, a lone surrogate), naming the line and the field. */
export function checkStorableRow(row: RawBankRow): RawBankRow {
  const fields: [string, string | undefined][] = [
    ['signal_type', row.signalType],
    ['value', row.value],
    ['source', row.source],
    ...row.tags.map((tag, i): [string, string] => [`tags[${i}]`, tag]),
  ];
  for (const [name, text] of fields) {
    const reason = text === undefined ? undefined : unstorableText(text);
    if (reason) throw rowError(row.line, `${name} ${reason}`);
  }
  return row;
}

/**
 * Reads a hash list row by row. Delimited files may start with a header naming their
 * columns (signal_type, value, source, tags); without one, the columns are taken in that
 * order, or as a single value column when a signal type is given for the whole file.
 * Blank lines and lines starting with # are skipped.
 */
export async function* parseBankRows(input: Readable, options: ParseOptions): AsyncGenerator<RawBankRow> {
  const tagged = (row: RawBankRow): RawBankRow => (options.tags?.length ? { ...row, tags: [...row.tags, ...options.tags] } : row);
  if (options.format === 'vpdq') {
    yield tagged(checkStorableRow(await wholeVpdqRow(input, options)));
    return;
  }
  const readRow = bankRowReader(options);
  for await (const { line, text } of contentLines(input)) {
    const row = readRow(line, text);
    if (row) yield tagged(row);
  }
}

/**
 * Reads the content lines of a csv, tsv or jsonl list one at a time: a row, or undefined for
 * a header line; a bad line throws its rowError. For callers that skip bad lines and go on
 * (an exchange's list) where parseBankRows refuses the whole file.
 */
export function bankRowReader(options: ParseOptions): (line: number, text: string) => RawBankRow | undefined {
  if (options.format === 'vpdq') throw invalid('the vpdq format is one whole file, not lines');
  const delimiter = options.format === 'csv' ? ',' : '\t';
  let columns: ColumnMap | undefined;
  return (line, text) => {
    if (options.format === 'jsonl') return checkStorableRow(rowFromJson(text, line, options));
    const fields = splitDelimited(text, delimiter, line);
    if (columns === undefined) {
      const fromHeader = headerColumns(fields);
      if (fromHeader) {
        columns = fromHeader;
        return undefined;
      }
      columns = options.signalType && fields.length === 1 ? { value: 0 } : { signalType: 0, value: 1, source: 2, tags: 3 };
    }
    return checkStorableRow(rowFromFields(fields, columns, line, options));
  };
}

function vpdqRow(text: string, options: { signalType?: string; defaultSource?: string }): RawBankRow {
  if (options.signalType && options.signalType.toLowerCase() !== 'vpdq') throw invalid(`the vpdq format holds vpdq values, not ${options.signalType}`);
  const value = text.replace(/^\uFEFF/, '');
  if (value.trim() === '') throw rowError(1, 'empty vPDQ file: expected one line per frame, frameNumber,quality,pdqHex,timestamp');
  return { line: 1, signalType: 'vpdq', value, source: options.defaultSource, tags: [] };
}

async function wholeVpdqRow(input: Readable, options: ParseOptions): Promise<RawBankRow> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of input) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_VPDQ_FILE_BYTES) throw invalid(`a vPDQ file larger than ${MAX_VPDQ_FILE_BYTES} bytes is refused`);
    chunks.push(buffer);
  }
  return vpdqRow(Buffer.concat(chunks).toString('utf8'), options);
}

/**
 * One entry per vPDQ file (Meta's reference hash files, NAME.txt), each recorded with its file
 * name as source. A file that is not a valid frame list aborts the import naming the file.
 */
export async function* vpdqRowsFromFiles(
  files: readonly string[],
  normalize: (value: string) => string,
  options: { source?: string; tags?: string[] } = {},
): AsyncGenerator<RawBankRow> {
  for (const [i, file] of files.entries()) {
    if ((await stat(file)).size > MAX_VPDQ_FILE_BYTES) throw invalid(`${basename(file)}: a vPDQ file larger than ${MAX_VPDQ_FILE_BYTES} bytes is refused`);
    const row = vpdqRow(await readFile(file, 'utf8'), { defaultSource: options.source ?? basename(file) });
    try {
      normalize(row.value);
    } catch (error) {
      throw invalid(`${basename(file)}: ${error instanceof Error ? error.message : String(error)}`, { file: basename(file) });
    }
    yield checkStorableRow({ ...row, line: i + 1, tags: options.tags ?? [] });
  }
}
