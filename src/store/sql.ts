import { createHash } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { createEmbeddedStoreApart } from './embedded-create.ts';
import { type EmbeddedStoreLock, lockEmbeddedStore } from './embedded-lock.ts';

export interface QueryResult<Row> {
  rows: Row[];
  rowCount: number;
}

/**
 * The one SQL surface the domain code sees. Both drivers speak the same PostgreSQL
 * dialect, so every query in the project runs unchanged on either.
 */
export interface SqlClient {
  readonly driver: 'pglite' | 'postgres';
  query<Row = Record<string, unknown>>(text: string, params?: unknown[]): Promise<QueryResult<Row>>;
  /** Runs several statements separated by semicolons, without parameters (migrations). */
  exec(text: string): Promise<void>;
  /** Runs fn in one transaction: committed when fn resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /** False inside a transaction opened with `writesEvents: false`, which may not append to the outbox. */
  readonly mayWriteEvents: boolean;
  /**
   * Runs callback once this transaction has committed (never if it rolls back); outside a
   * transaction, right away. For work that must see the transaction's writes, such as
   * delivering an action it enqueued.
   */
  afterCommit(callback: () => void): void;
  close(): Promise<void>;
}

export interface TransactionOptions {
  /**
   * False for long transactions that never append to the outbox (a bank import): on
   * PostgreSQL they then do not hold back outbox readers while they run. Default true.
   */
  writesEvents?: boolean;
}

/**
 * Every PostgreSQL transaction that may append to the outbox holds this shared advisory lock
 * (key: this number and the schema) from its first statement, before it has a transaction
 * id. Outbox readers wait only for running transactions that hold it (src/events/event-log.ts).
 */
export const OUTBOX_WRITER_LOCK_CLASS = 726238900;
export const OUTBOX_WRITER_LOCK_KEY = 'hashtext(current_schema()) & 2147483647';

export interface StoreLocation {
  /** postgres://… for a PostgreSQL server; absent for the embedded store. */
  databaseUrl?: string;
  /** Folder for the embedded store's files; absent means in memory (tests). */
  dataDir?: string;
  /** PostgreSQL schema to work in; lets tests share one database without colliding. */
  schema?: string;
}

export async function openSql(location: StoreLocation): Promise<SqlClient> {
  if (location.databaseUrl) return PostgresClient.connect(location.databaseUrl, location.schema);
  return PgliteClient.open(location.dataDir, location.schema);
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

function assertSchemaName(schema: string): void {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name ${JSON.stringify(schema)}`);
}

class PgliteClient implements SqlClient {
  readonly driver = 'pglite' as const;

  private constructor(
    private readonly db: Pick<PGlite, 'query' | 'exec'>,
    private readonly owner?: PGlite,
    private readonly lock?: EmbeddedStoreLock,
    readonly mayWriteEvents = true,
  ) {}

  static async open(dataDir: string | undefined, schema: string | undefined): Promise<PgliteClient> {
    // Taken before PGlite reads a file: a second process must not even load the store.
    const lock = dataDir ? lockEmbeddedStore(dataDir) : undefined;
    let db: PGlite | undefined;
    try {
      if (dataDir) createEmbeddedStoreApart(dataDir);
      db = new PGlite(dataDir);
      await db.waitReady;
      if (schema) {
        assertSchemaName(schema);
        await db.exec(`CREATE SCHEMA IF NOT EXISTS ${schema}; SET search_path TO ${schema}`);
      }
      return new PgliteClient(db, db, lock);
    } catch (error) {
      await db?.close().catch(() => undefined);
      lock?.release();
      throw error;
    }
  }

  async query<Row>(text: string, params: unknown[] = []): Promise<QueryResult<Row>> {
    const result = await this.db.query<Row>(text, params);
    return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
  }

  async exec(text: string): Promise<void> {
    await this.db.exec(text);
  }

  async transaction<T>(fn: (tx: SqlClient) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    if (!this.owner) throw new Error('nested transactions are not supported');
    let client: PgliteClient | undefined;
    const result = await this.owner.transaction((tx) => fn((client = new PgliteClient(tx, undefined, undefined, options.writesEvents !== false))));
    runCommitted(client!.committed);
    return result;
  }

  private readonly committed: (() => void)[] = [];

  afterCommit(callback: () => void): void {
    // Only the store's own client has an owner; outside a transaction there is nothing to wait for.
    if (this.owner) queueMicrotask(callback);
    else this.committed.push(callback);
  }

  async close(): Promise<void> {
    try {
      await this.owner?.close();
    } finally {
      // Only after PGlite has written its last page can another process safely open the files.
      this.lock?.release();
    }
  }
}

// PostgreSQL's int8 (bigint, count(*)) arrives as a string from pg but as a number from
// PGlite; ids and counts here stay far below 2^53, so both are read as numbers.
const INT8_OID = 20;
const pgTypes = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

class PostgresClient implements SqlClient {
  readonly driver = 'postgres' as const;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly connection?: pg.PoolClient,
    readonly mayWriteEvents = true,
  ) {}

  static async connect(databaseUrl: string, schema: string | undefined): Promise<PostgresClient> {
    if (schema) assertSchemaName(schema);
    const pool = new pg.Pool({
      connectionString: databaseUrl,
      types: pgTypes,
      max: Number(process.env.BULWARK_PG_POOL_SIZE ?? 10),
      options: schema ? `-c search_path=${schema}` : undefined,
    });
    // The server ending an idle connection (a restart, a failover, pg_terminate_backend) must not
    // end this process: the pool drops that connection and opens another for the next query.
    pool.on('error', (error) => process.stderr.write(`PostgreSQL closed an idle connection: ${error.message}\n`));
    if (schema) await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    else await pool.query('SELECT 1');
    // Outside a transaction nothing holds the outbox writer lock, so events are appended only inside one.
    return new PostgresClient(pool, undefined, false);
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
    const connection = await this.pool.connect();
    // A connection lost while checked out fails its query; this keeps the error event from ending the process.
    let lost: Error | undefined;
    const onLost = (error: Error) => {
      lost = error;
    };
    connection.on('error', onLost);
    try {
      // One round trip for both: the lock must be held before the transaction writes anything.
      await connection.query(writesEvents ? `BEGIN; SELECT pg_advisory_xact_lock_shared(${OUTBOX_WRITER_LOCK_CLASS}, ${OUTBOX_WRITER_LOCK_KEY})` : 'BEGIN');
      const client = new PostgresClient(this.pool, connection, writesEvents);
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
    if (!this.connection) await this.pool.end();
  }
}

const statementNames = new Map<string, string>();
const MAX_STATEMENT_NAMES = 2000;

/**
 * Every query runs as a named prepared statement: each connection parses and plans a text
 * once instead of on every call, which on the upload path was a large share of the server's
 * work. Names come from the text, so the same query shares one name on every connection.
 */
function statementName(text: string): string | undefined {
  let name = statementNames.get(text);
  // Texts built with values inlined would prepare without end on every connection: past this many, run unnamed.
  if (!name && statementNames.size >= MAX_STATEMENT_NAMES) return undefined;
  if (!name) {
    name = `b${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
    statementNames.set(text, name);
  }
  return name;
}

const isStalePlan = (error: unknown) =>
  (error as { code?: string }).code === '0A000' && /cached plan must not change result type/.test((error as Error).message);

/** Gives a text a fresh statement name, which every connection prepares again on first use. */
function renameStatement(text: string): void {
  const name = statementName(text);
  if (name) statementNames.set(text, `${name}_`);
}

/** Callbacks are the caller's fire-and-forget work: one that throws must not undo a commit already made. */
function runCommitted(callbacks: (() => void)[]): void {
  for (const callback of callbacks) {
    try {
      callback();
    } catch (error) {
      process.stderr.write(`a callback after commit failed: ${error instanceof Error ? error.message : String(error)}\n`);
    }
  }
}
