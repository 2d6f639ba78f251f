/** What both drivers share: schema names and callbacks after commit. */

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function assertSchemaName(schema: string): void {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name ${JSON.stringify(schema)}`);
}

/** Callbacks are the caller's fire-and-forget work: one that throws must not undo a commit already made. */
export function runCommitted(callbacks: (() => void)[]): void {
  for (const callback of callbacks) {
    try {
      callback();
    } catch (error) {
      process.stderr.write(`a callback after commit failed: ${error instanceof Error ? error.message : String(error)}\n`);
    }
  }
}

/** A prepared statement whose result columns a migration changed: it must be prepared anew. */
export const isStalePlan = (error: unknown) =>
  (error as { code?: string }).code === '0A000' && /cached plan must not change result type/.test((error as Error).message);

/**
 * How many query texts a process prepares at most. Texts built with values inlined would
 * prepare without end: past this many, a text runs unnamed (parsed and planned each time).
 */
export const MAX_PREPARED_STATEMENTS = 2000;
