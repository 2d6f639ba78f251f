import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

/** One line of a text file that holds something: its 1-based number in the file and its text. */
export interface ContentLine {
  line: number;
  text: string;
}

/**
 * The lines of a line-based import file (hash lists, platform event JSON lines) that hold
 * something: a UTF-8 byte order mark at the start of the file is dropped, and blank lines
 * and lines starting with # (comments) are skipped. Line numbers stay those of the file, so
 * errors name the line an operator sees in an editor. CRLF and LF endings are both read.
 */
export async function* contentLines(input: Readable): AsyncGenerator<ContentLine> {
  let line = 0;
  for await (const rawLine of createInterface({ input, crlfDelay: Infinity })) {
    line++;
    const text = line === 1 ? rawLine.replace(/^\uFEFF/, '') : rawLine;
    if (text.trim() === '' || text.startsWith('#')) continue;
    yield { line, text };
  }
}
