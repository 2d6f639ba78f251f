import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { POSTGRES_URL } from './stores.ts';

async function reachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** PostgreSQL for tests that need it alone (several processes on one store): required in CI, else skipped. */
export async function postgresAvailable(): Promise<boolean> {
  if (await reachable()) return true;
  if (process.env.CI === 'true') throw new Error(`PostgreSQL at ${POSTGRES_URL} is required in CI but is not reachable`);
  process.stderr.write(`note: PostgreSQL at ${POSTGRES_URL} not reachable; these tests are skipped\n`);
  return false;
}

/** A new database on the test server (or the one adminUrl names), for child processes that take only a URL; drop() removes it. */
export async function scratchDatabase(adminUrl = POSTGRES_URL): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `bw_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** Waits for a condition by asking again after a short yield; the test's own timeout ends a wait that never comes. */
export async function until(condition: () => Promise<boolean> | boolean): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 25));
}
