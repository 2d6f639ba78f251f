import { type PGlite, parse, protocol } from '@electric-sql/pglite';
import { type ResultField, type TypeParser, describedFields, readExecuteResult } from './pglite-wire.ts';
import type { QueryResult } from './sql.ts';
import { MAX_PREPARED_STATEMENTS, isStalePlan } from './sql-shared.ts';

interface Prepared {
  name: string;
  /** The parameters' type oids, which say how each value is written. */
  parameterTypes: number[];
  /** The columns of its rows, described once when prepared: a run does not describe them again. */
  fields: ResultField[];
}

const { serialize } = protocol;

/**
 * Named prepared statements on PGlite, as PostgresClient has them on a server. PGlite's own
 * query() parses and plans its text on every call, in six calls into the WebAssembly
 * module; planning was most of a small query's cost (a content lookup 0.18 ms against
 * 0.04 ms prepared; a matched upload's entries lookup 1.2 ms against 0.8 ms), and on the
 * embedded store every query of every request and stage shares the one thread.
 *
 * A text is prepared once (parse and describe, one call), then each run binds, executes and
 * syncs in one call. Values are written with PGlite's own serializers and read with its type
 * parsers (pglite-wire.ts reads the rows), so results are the same as query()'s. Prepared
 * statements outlive a rolled-back transaction (they are the session's, not the
 * transaction's), so the cache stays true.
 */
export class PgliteStatements {
  private readonly prepared = new Map<string, Prepared>();
  private counter = 0;

  constructor(private readonly db: PGlite) {}

  /**
   * Runs text; undefined when it is not to be prepared (past the cache's size), and the
   * caller runs it unprepared. Inside a transaction the caller already holds PGlite's
   * transaction lock; outside one this takes it, as query() does.
   */
  run<Row>(text: string, params: unknown[], inTransaction: boolean): Promise<QueryResult<Row>> | undefined {
    if (!this.prepared.has(text) && this.prepared.size >= MAX_PREPARED_STATEMENTS) return undefined;
    // As query() does first: a closed store says so, instead of failing inside the module.
    const run = async () => {
      await this.db._checkReady();
      return this.db._runExclusiveQuery(() => this.execute<Row>(text, params));
    };
    if (inTransaction) return run();
    return this.db._runExclusiveTransaction(async () => {
      let result: QueryResult<Row>;
      try {
        result = await run();
      } catch (error) {
        // A migration changed the columns under the statement; inside a transaction the error has
        // aborted it, so only a statement outside one is retried here.
        if (!isStalePlan(error)) throw error;
        result = await run();
      }
      await this.db.syncToFs();
      return result;
    });
  }

  private async execute<Row>(text: string, params: unknown[]): Promise<QueryResult<Row>> {
    const statement = this.prepared.get(text) ?? (await this.prepare(text));
    const values = params.map((value, i) => {
      if (value === null || value === undefined) return null;
      const write = this.db.serializers[statement.parameterTypes[i]];
      return write ? write(value) : String(value);
    });
    // The answer's bytes, copied out of the module's memory, which the next call reuses.
    const chunks: Buffer[] = [];
    await this.db.execProtocolRawStream(Buffer.concat([serialize.bind({ statement: statement.name, values }), serialize.execute({}), serialize.sync()]), {
      syncToFs: false,
      onRawData: (chunk) => chunks.push(Buffer.from(chunk)),
    });
    try {
      const result = readExecuteResult(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks), statement.fields, this.db.parsers as Record<number, TypeParser>);
      return { rows: result.rows as Row[], rowCount: result.affectedRows };
    } catch (error) {
      // Prepared again under a new name on the next run (the stale one is left to the session's end).
      if (isStalePlan(error)) this.prepared.delete(text);
      throw error;
    }
  }

  private async prepare(text: string): Promise<Prepared> {
    const name = `p${++this.counter}`;
    const messages = await this.db.execProtocolStream(
      Buffer.concat([serialize.parse({ name, text }), serialize.describe({ type: 'S', name }), serialize.sync()]),
      { syncToFs: false },
    );
    const statement = { name, parameterTypes: parse.parseDescribeStatementResults(messages), fields: describedFields(messages) };
    this.prepared.set(text, statement);
    return statement;
  }
}
