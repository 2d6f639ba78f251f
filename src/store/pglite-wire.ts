import { protocol } from '@electric-sql/pglite';

/** A result column as a RowDescription names it: what the rows' keys and parsers are. */
export interface ResultField {
  name: string;
  dataTypeID: number;
}

export type TypeParser = (text: string, typeId: number) => unknown;

const DATA_ROW = 0x44; // 'D'
const COMMAND_COMPLETE = 0x43; // 'C'
const ERROR_RESPONSE = 0x45; // 'E'

/** Decodes as PGlite does: a value's leading byte-order mark is dropped (Buffer.toString would keep it). */
const utf8 = new TextDecoder();

/** Commands whose completion tag counts rows that PGlite adds up as affectedRows. */
const COUNTED_COMMANDS = new Set(['INSERT', 'UPDATE', 'DELETE', 'COPY', 'MERGE']);

/**
 * Reads the answer to one bind-execute-sync of a prepared statement, whose columns are known
 * from when it was prepared, straight from the wire bytes. PGlite's own parser copies every
 * value into a new ArrayBuffer before decoding it and parses the row description again on every
 * run; under a surge of matches that was about a tenth of the embedded store's time (issue 11).
 *
 * Rows and counts come out as PGlite's parseResults gives them: values through the same type
 * parsers, affectedRows summed over counted commands. An error in the answer is read by
 * PGlite's own parser and thrown as the same DatabaseError its query() throws.
 */
export function readExecuteResult(bytes: Buffer, fields: ResultField[], parsers: Record<number, TypeParser>): { rows: Record<string, unknown>[]; affectedRows: number } {
  const rows: Record<string, unknown>[] = [];
  const fieldParsers = fields.map((field) => parsers[field.dataTypeID]);
  let affectedRows = 0;
  let at = 0;
  while (at + 5 <= bytes.length) {
    const type = bytes[at];
    const end = at + 1 + bytes.readInt32BE(at + 1);
    let cursor = at + 5;
    if (type === DATA_ROW) {
      const count = bytes.readInt16BE(cursor);
      cursor += 2;
      if (count !== fields.length) throw new Error(`a row of ${count} columns where the statement described ${fields.length}`);
      const row: Record<string, unknown> = {};
      for (let i = 0; i < count; i++) {
        const length = bytes.readInt32BE(cursor);
        cursor += 4;
        if (length < 0) {
          row[fields[i].name] = null;
          continue;
        }
        const text = utf8.decode(bytes.subarray(cursor, cursor + length));
        cursor += length;
        const parse = fieldParsers[i];
        row[fields[i].name] = parse ? parse(text, fields[i].dataTypeID) : text;
      }
      rows.push(row);
    } else if (type === COMMAND_COMPLETE) {
      const tag = bytes.toString('utf8', cursor, end - 1).split(' ');
      const counted = Number.parseInt(tag[tag.length - 1], 10);
      if (COUNTED_COMMANDS.has(tag[0]) && !Number.isNaN(counted)) affectedRows += counted;
    } else if (type === ERROR_RESPONSE) {
      throw databaseError(bytes);
    }
    at = end;
  }
  return { rows, affectedRows };
}

/** The error PGlite's parser makes of an answer (a DatabaseError with code, detail, position…). */
function databaseError(bytes: Buffer): Error {
  let error: Error | undefined;
  new protocol.Parser().parse(bytes, (message) => {
    if (!error && message instanceof protocol.messages.DatabaseError) error = message;
  });
  return error ?? new Error('the embedded store answered with an error it could not read');
}

/** The columns a statement's RowDescription names (none for NoData), from a describe's messages. */
export function describedFields(messages: { name: string }[]): ResultField[] {
  const description = messages.find((message) => message.name === 'rowDescription') as { fields: ResultField[] } | undefined;
  return description ? description.fields.map((field) => ({ name: field.name, dataTypeID: field.dataTypeID })) : [];
}

