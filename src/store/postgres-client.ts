import { createHash } from 'node:crypto';
import pg from 'pg';
import { OUTBOX_WRITER_LOCK_CLASS, OUTBOX_WRITER_LOCK_KEY } from './outbox-lock.ts';
import type { QueryResult, SqlClient, TransactionOptions } from './sql.ts';
import { MAX_PREPARED_STATEMENTS, assertSchemaName, isStalePlan, runCommitted } from './sql-shared.ts';

// PostgreSQL's int8 (bigint, count(*)) arrives as a string from pg but as a number from
// PGlite; ids and counts here stay far below 2^53, so both are read as numbers.
const INT8_OID = 20;
const pgTypes = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

export class PostgresClient implements SqlClient {
  readonly driver = 'postgres' as const;

  private constructor(
    private readonly pool: pg.Pool,
    /** Connections for background stages' transactions (TransactionOptions.background). */
    private readonly backgroundPool: pg.Pool,
    private readonly connection?: pg.PoolClient,
    readonly mayWriteEvents = true,
  ) {}

  static async connect(databaseUrl: string, schema: string | undefined): Promise<PostgresClient> {
    if (schema) assertSchemaName(schema);
    const openPool = (max: number) => {
      const pool = new pg.Pool({ connectionString: databaseUrl, types: pgTypes, max, options: schema ? `-c search_path=${schema}` : undefined });
      // The server ending an idle connection (a restart, a failover, pg_terminate_backend) must not
      // end this process: the pool drops that connection and opens another for the next query.
      pool.on('error', (error) => process.stderr.write(`PostgreSQL closed an idle connection: ${error.message}\n`));
      return pool;
    };
    const pool = openPool(poolSize('BULWARK_PG_POOL_SIZE', 10));
    const backgroundPool = openPool(poolSize('BULWARK_PG_BACKGROUND_POOL_SIZE', 4));
    try {
      if (schema) await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      else await pool.query('SELECT 1');
    } catch (error) {
      await Promise.all([pool.end(), backgroundPool.end()]);
      throw error;
    }
    // Outside a transaction nothing holds the outbox writer lock, so events are appended only inside one.
    return new PostgresClient(pool, backgroundPool, undefined, false);
  }

  private get runner(): pg.Pool | pg.PoolClient {
    return this.connection ?? this.pool;
  }

  async query<Row>(text: string, params: unknown[] = []): Promise<QueryResult<Row>> {
    const run = () => this.runner.query({ name: statementName(text), text, values: params });
    let result: pg.QueryResult;
    try {
      result = await run();
    } catch (error) {
      // A migration by another process changed a table under a prepared statement: prepare it
      // anew. Inside a transaction the error has aborted it, so only the next attempt can.
      if (!isStalePlan(error)) throw error;
      renameStatement(text);
      if (this.connection) throw error;
      result = await run();
    }
    return { rows: result.rows as Row[], rowCount: result.rowCount ?? result.rows.length };
  }

  async exec(text: string): Promise<void> {
    await this.runner.query(text);
  }

  async transaction<T>(fn: (tx: SqlClient) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    if (this.connection) throw new Error('nested transactions are not supported');
    const writesEvents = options.writesEvents !== false;
    // A background stage's transaction does not queue behind requests for a connection (in a
    // surge of uploads that wait was most of its time, charged to its share of the time), nor hold one of theirs.
    const connection = await (options.background ? this.backgroundPool : this.pool).connect();
    // A connection lost while checked out fails its query; this keeps the error event from ending the process.
    let lost: Error | undefined;
    const onLost = (error: Error) => {
      lost = error;
    };
    connection.on('error', onLost);
    try {
      // One round trip for both: the lock must be held before the transaction writes anything.
      await connection.query(writesEvents ? `BEGIN; SELECT pg_advisory_xact_lock_shared(${OUTBOX_WRITER_LOCK_CLASS}, ${OUTBOX_WRITER_LOCK_KEY})` : 'BEGIN');
      const client = new PostgresClient(this.pool, this.backgroundPool, connection, writesEvents);
      const result = await fn(client);
      await connection.query('COMMIT');
      runCommitted(client.committed);
      return result;
    } catch (error) {
      await connection.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      connection.off('error', onLost);
      // A lost connection is destroyed instead of going back to the pool.
      connection.release(lost);
    }
  }

  private readonly committed: (() => void)[] = [];

  afterCommit(callback: () => void): void {
    if (this.connection) this.committed.push(callback);
    else queueMicrotask(callback);
  }

  async close(): Promise<void> {
    if (!this.connection) await Promise.all([this.pool.end(), this.backgroundPool.end()]);
  }
}

const statementNames = new Map<string, string>();

/**
 * Every query runs as a named prepared statement: each connection parses and plans a text
 * once instead of on every call, which on the upload path was a large share of the server's
 * work. Names come from the text, so the same query shares one name on every connection.
 */
function statementName(text: string): string | undefined {
  let name = statementNames.get(text);
  if (!name && statementNames.size >= MAX_PREPARED_STATEMENTS) return undefined;
  if (!name) {
    name = `b${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
    statementNames.set(text, name);
  }
  return name;
}

/** Gives a text a fresh statement name, which every connection prepares again on first use. */
function renameStatement(text: string): void {
  const name = statementName(text);
  if (name) statementNames.set(text, `${name}_`);
}

function poolSize(variable: string, fallback: number): number {
  const text = process.env[variable];
  if (text === undefined || text === '') return fallback;
  const size = Number(text);
  if (!Number.isSafeInteger(size) || size < 1) throw new Error(`${variable} must be a whole number of at least 1, got ${JSON.stringify(text)}`);
  return size;
}
