import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { StoreLocation } from '../../src/store/sql.ts';

export const POSTGRES_URL = process.env.BULWARK_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface StoreTarget {
  name: 'pglite' | 'postgres';
  /** A fresh, empty location: PGlite in memory, or a new schema on the PostgreSQL server. */
  location(): StoreLocation;
  /** Removes what location() created. */
  cleanup(): Promise<void>;
}

async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * The stores every store test runs against. PostgreSQL is required in CI (CI=true): there
 * an unreachable server fails the run instead of quietly testing PGlite alone.
 */
export async function storeTargets(): Promise<StoreTarget[]> {
  const targets: StoreTarget[] = [{ name: 'pglite', location: () => ({}), cleanup: async () => undefined }];
  if (await postgresReachable()) {
    const schemas: string[] = [];
    targets.push({
      name: 'postgres',
      location: () => {
        const schema = `t_${randomBytes(6).toString('hex')}`;
        schemas.push(schema);
        return { databaseUrl: POSTGRES_URL, schema };
      },
      cleanup: async () => {
        const client = new pg.Client({ connectionString: POSTGRES_URL });
        await client.connect();
        for (const schema of schemas.splice(0)) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await client.end();
      },
    });
  } else if (process.env.CI === 'true') {
    throw new Error(`PostgreSQL at ${POSTGRES_URL} is required in CI but is not reachable`);
  } else {
    process.stderr.write(`note: PostgreSQL at ${POSTGRES_URL} not reachable; store tests run on PGlite only\n`);
  }
  return targets;
}
