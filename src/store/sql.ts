import { PgliteClient } from './pglite-client.ts';
import { PostgresClient } from './postgres-client.ts';

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
  /**
   * Work of a background stage (an outbox consumer's batch, an action dispatcher's claim and
   * records): on PostgreSQL it takes a connection from a pool of its own
   * (BULWARK_PG_BACKGROUND_POOL_SIZE, default 4), never waiting behind requests for one.
   */
  background?: boolean;
}

export { OUTBOX_WRITER_LOCK_CLASS, OUTBOX_WRITER_LOCK_KEY } from './outbox-lock.ts';

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
