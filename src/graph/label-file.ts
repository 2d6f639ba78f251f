import type { Readable } from 'node:stream';
import { BulwarkError } from '../errors.ts';
import { splitDelimited } from '../banks/import-formats.ts';
import { contentLines } from '../ingest/text-lines.ts';
import { findUnstorable } from '../validation/edge.ts';
import { ACCOUNT_LABELS, type AccountLabel, type AccountDirectory } from './accounts.ts';

export interface LabelLine {
  line: number;
  account: string;
  label: AccountLabel;
  note?: string;
}

export interface LabelFileResult {
  applied: number;
  bad: number;
  /** Bad lines (the first 1000), by their number in the file; the good lines around them are applied. */
  problems: { line: number; message: string }[];
}

const MAX_NOTE = 2000;
const MAX_REPORTED = 1000;

/** Splits one CSV record with the bank lists' parser, or null if a quote is left open. */
function csvFields(text: string, line: number): string[] | null {
  try {
    return splitDelimited(text, ',', line, { spaceBeforeQuote: true });
  } catch {
    return null;
  }
}

/**
 * One line of a label file: JSON ({"account", "label", "note"}) or CSV (account, label,
 * note). Returns the entry or a message saying what is wrong with the line.
 */
export function parseLabelLine(line: number, text: string): LabelLine | { line: number; message: string } {
  let account: unknown;
  let label: unknown;
  let note: unknown;
  if (text.trimStart().startsWith('{')) {
    let parsed: { account?: unknown; account_id?: unknown; label?: unknown; note?: unknown };
    try {
      parsed = JSON.parse(text);
    } catch {
      return { line, message: 'not valid JSON' };
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return { line, message: 'a JSON line is an object' };
    ({ label, note } = parsed);
    account = parsed.account ?? parsed.account_id;
  } else {
    const fields = csvFields(text, line);
    if (!fields) return { line, message: 'a quoted field is not closed' };
    if (fields.length < 2 || fields.length > 3) return { line, message: `expected account,label[,note], found ${fields.length} field${fields.length === 1 ? '' : 's'}` };
    [account, label, note] = fields;
    if (note === '') note = undefined;
  }
  if (typeof account !== 'string' || account === '') return { line, message: 'no account id' };
  if (typeof label !== 'string' || !ACCOUNT_LABELS.includes(label as AccountLabel)) return { line, message: `label is one of ${ACCOUNT_LABELS.join(', ')}` };
  if (note !== undefined && (typeof note !== 'string' || note.length > MAX_NOTE)) return { line, message: `note is text of at most ${MAX_NOTE} characters` };
  const unstorable = findUnstorable({ account, note });
  if (unstorable) return { line, message: `cannot be stored: ${unstorable.reason}` };
  return { line, account, label: label as AccountLabel, ...(note ? { note } : {}) };
}

const isHeader = (text: string) => /^\s*"?account(_id)?"?\s*,\s*"?label"?/i.test(text);

/**
 * Applies labels from a file (CSV or JSON lines; blank lines, # comments and a CSV header
 * are skipped), one account at a time: a bad line or an account the store refuses is
 * reported with its line number, and every good line is applied, so an operator fixes and
 * re-runs only the bad ones. Labelling again with the same label is harmless.
 */
export async function applyLabelFile(
  accounts: AccountDirectory,
  input: Readable,
  source: string,
  onProgress?: (lines: number) => void,
): Promise<LabelFileResult> {
  const result: LabelFileResult = { applied: 0, bad: 0, problems: [] };
  const problem = (entry: { line: number; message: string }) => {
    result.bad++;
    if (result.problems.length < MAX_REPORTED) result.problems.push(entry);
  };
  let first = true;
  for await (const { line, text } of contentLines(input)) {
    if (first && isHeader(text)) {
      first = false;
      continue;
    }
    first = false;
    const entry = parseLabelLine(line, text);
    if (!('label' in entry)) {
      problem(entry);
      continue;
    }
    try {
      await accounts.label(entry.account, entry.label, source, entry.note ? { note: entry.note } : {});
      result.applied++;
    } catch (error) {
      // The store's own refusals (a malformed account id) belong to the line; anything else stops the run.
      if (!(error instanceof BulwarkError) || error.kind !== 'invalid') throw error;
      problem({ line, message: error.message });
    }
    onProgress?.(line);
  }
  return result;
}
