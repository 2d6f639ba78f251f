import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { type SqlClient, openSql } from '../src/store/sql.ts';
import { type StoreTarget, storeTargets } from './helpers/stores.ts';

const postgres = (await storeTargets()).find((target): target is StoreTarget => target.name === 'postgres');

describe('the PostgreSQL client', { skip: postgres ? false : 'PostgreSQL is not reachable' }, () => {
  let sql: SqlClient;
  let location: ReturnType<StoreTarget['location']>;

  before(async () => {
    location = postgres!.location();
    sql = await openSql(location);
    await sql.exec('CREATE TABLE prepared_probe (id int PRIMARY KEY)');
    await sql.query('INSERT INTO prepared_probe (id) VALUES ($1)', [1]);
  });
  after(async () => {
    await sql.close();
    await postgres!.cleanup();
  });

  it('keeps answering after another process adds a column under a prepared statement', async () => {
    // The pool has one idle connection that has prepared this text: the same one answers again.
    const text = 'SELECT * FROM prepared_probe ORDER BY id';
    assert.deepEqual((await sql.query(text)).rows, [{ id: 1 }]);
    const other = new pg.Client({ connectionString: location.databaseUrl, options: `-c search_path=${location.schema}` });
    await other.connect();
    try {
      await other.query("ALTER TABLE prepared_probe ADD COLUMN note text NOT NULL DEFAULT 'added'");
    } finally {
      await other.end();
    }
    assert.deepEqual((await sql.query(text)).rows, [{ id: 1, note: 'added' }]);
    assert.deepEqual((await sql.query(text)).rows, [{ id: 1, note: 'added' }]);
  });

  it('runs the same text with different values as one statement', async () => {
    for (const id of [2, 3, 4]) await sql.query('INSERT INTO prepared_probe (id) VALUES ($1)', [id]);
    const counted = await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM prepared_probe WHERE id > $1', [1]);
    assert.equal(counted.rows[0].n, 3);
  });

  it('survives the server ending its connections, idle or in a transaction, and answers the next query', async () => {
    const admin = new pg.Client({ connectionString: location.databaseUrl });
    await admin.connect();
    const endMine = () => admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND query LIKE $1', ['%prepared_probe%']);
    try {
      await sql.query('SELECT count(*) FROM prepared_probe');
      await endMine();
      await sql.query('SELECT 1 AS one FROM prepared_probe LIMIT 1').catch(() => undefined);
      assert.equal((await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM prepared_probe')).rows[0].n, 4);
      const inTransaction = sql.transaction(async (tx) => {
        await tx.query('SELECT count(*) FROM prepared_probe');
        await endMine();
        await tx.query('SELECT count(*) FROM prepared_probe');
      });
      await assert.rejects(inTransaction);
      assert.equal((await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM prepared_probe')).rows[0].n, 4);
    } finally {
      await admin.end();
    }
  });

  it('gives background stages connections of their own, so they never wait behind requests for one', async () => {
    const saved = process.env.BULWARK_PG_POOL_SIZE;
    process.env.BULWARK_PG_POOL_SIZE = '1';
    const narrow = await openSql(location);
    try {
      const pid = async (client: SqlClient) => (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      // The pool for requests has one connection; a background transaction is not on it.
      const request = await pid(narrow);
      assert.equal(await narrow.transaction((tx) => pid(tx)), request);
      assert.notEqual(await narrow.transaction((tx) => pid(tx), { background: true }), request);
    } finally {
      await narrow.close();
      if (saved === undefined) delete process.env.BULWARK_PG_POOL_SIZE;
      else process.env.BULWARK_PG_POOL_SIZE = saved;
    }
  });
});
