import { PGlite, type Transaction } from '@electric-sql/pglite';
import { createEmbeddedStoreApart } from './embedded-create.ts';
import { type EmbeddedStoreLock, lockEmbeddedStore } from './embedded-lock.ts';
import { PgliteStatements } from './pglite-statements.ts';
import type { QueryResult, SqlClient, TransactionOptions } from './sql.ts';
import { assertSchemaName, runCommitted } from './sql-shared.ts';

/** The embedded store: PostgreSQL compiled to WebAssembly, in this process, one statement at a time. */
export class PgliteClient implements SqlClient {
  readonly driver = 'pglite' as const;

  private constructor(
    private readonly db: PGlite,
    private readonly statements: PgliteStatements,
    /** Set on the client of one transaction; absent on the store's own client. */
    private readonly tx?: Transaction,
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
      return new PgliteClient(db, new PgliteStatements(db), undefined, lock);
    } catch (error) {
      await db?.close().catch(() => undefined);
      lock?.release();
      throw error;
    }
  }

  async query<Row>(text: string, params: unknown[] = []): Promise<QueryResult<Row>> {
    if (this.tx?.closed) throw new Error('Transaction is closed');
    const prepared = this.statements.run<Row>(text, params, this.tx !== undefined);
    if (prepared) return prepared;
    const result = await (this.tx ?? this.db).query<Row>(text, params);
    return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
  }

  async exec(text: string): Promise<void> {
    await (this.tx ?? this.db).exec(text);
  }

  async transaction<T>(fn: (tx: SqlClient) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    if (this.tx) throw new Error('nested transactions are not supported');
    let client: PgliteClient | undefined;
    const result = await this.db.transaction((tx) => fn((client = new PgliteClient(this.db, this.statements, tx, undefined, options.writesEvents !== false))));
    runCommitted(client!.committed);
    return result;
  }

  private readonly committed: (() => void)[] = [];

  afterCommit(callback: () => void): void {
    // Outside a transaction there is nothing to wait for.
    if (!this.tx) queueMicrotask(callback);
    else this.committed.push(callback);
  }

  async close(): Promise<void> {
    if (this.tx) return;
    try {
      await this.db.close();
    } finally {
      // Only after PGlite has written its last page can another process safely open the files.
      this.lock?.release();
    }
  }
}
