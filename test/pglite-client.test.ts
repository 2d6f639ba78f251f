import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import { type SqlClient, openSql } from '../src/store/sql.ts';
import { MAX_PREPARED_STATEMENTS } from '../src/store/sql-shared.ts';

// The embedded store runs every query as a named prepared statement (src/store/pglite-statements.ts):
// its answers must be exactly what PGlite's own query() gives, in and out of transactions.
describe('the embedded store client', () => {
  let sql: SqlClient;
  let reference: PGlite;
  const schema = `
    CREATE TABLE probe (id bigserial PRIMARY KEY, name text UNIQUE, tags text[], doc jsonb, at timestamptz, n numeric, flag boolean);
    INSERT INTO probe (name, tags, doc, at, n, flag) VALUES
      ('alpha', '{a,b}', '{"k": [1, 2]}', '2026-01-02T03:04:05Z', 1.5, true),
      ('beta', '{}', 'null', NULL, NULL, false);`;

  before(async () => {
    sql = await openSql({});
    await sql.exec(schema);
    reference = new PGlite();
    await reference.exec(schema);
  });
  after(async () => {
    await sql.close();
    await reference.close();
  });

  const texts: [string, unknown[]][] = [
    ['SELECT * FROM probe ORDER BY id', []],
    ['SELECT id, name FROM probe WHERE id = ANY($1::bigint[]) ORDER BY id', [[1, 2]]],
    ['SELECT $1::timestamptz AS at, $2::jsonb AS doc, $3::text[] AS tags, $4::int8 AS big, $5::boolean AS flag', [new Date('2026-05-06T07:08:09Z'), { x: 'y' }, ['p', 'q'], 42, null]],
    ['SELECT count(*) AS n FROM probe WHERE name = $1', ['absent']],
    // Rows are read from the wire by pglite-wire.ts: text of every width, nulls, empty values,
    // repeated column names, bytes, and an answer long enough to arrive in several pieces.
    ["SELECT $1::text AS a, '' AS b, NULL::text AS c, 'é 漢字 🙂' AS d, 2 AS a, E'\\uFEFFmarked' AS bom", ['ünïcödé ✓']],
    ["SELECT '\\x00ff10'::bytea AS raw, '{\"nested\": {\"deep\": [null, \"ü\"]}}'::jsonb AS doc", []],
    ["SELECT g AS i, repeat('x', g % 300) AS filler, g::text || '€' AS label FROM generate_series(1, $1::int) g", [5000]],
  ];

  it('answers every query as PGlite query() does, the first time and when prepared', async () => {
    for (const [text, params] of texts) {
      const expected = (await reference.query(text, params)).rows;
      assert.deepEqual((await sql.query(text, params)).rows, expected, text);
      assert.deepEqual((await sql.query(text, params)).rows, expected, `${text} (prepared)`);
    }
  });

  it('reads the columns of a statement again once a migration changed them', async () => {
    // A store of its own: the stale statement stays prepared to the session's end.
    const own = await openSql({});
    try {
      await own.exec('CREATE TABLE reshaped (id int); INSERT INTO reshaped VALUES (1)');
      assert.deepEqual((await own.query('SELECT * FROM reshaped')).rows, [{ id: 1 }]);
      await own.exec("ALTER TABLE reshaped ADD COLUMN note text DEFAULT 'added'");
      assert.deepEqual((await own.query('SELECT * FROM reshaped')).rows, [{ id: 1, note: 'added' }]);
    } finally {
      await own.close();
    }
  });

  it('counts the rows a write touched, inside a transaction as outside', async () => {
    assert.equal((await sql.query('UPDATE probe SET flag = NOT flag WHERE id <= $1', [2])).rowCount, 2);
    const inside = await sql.transaction(async (tx) => (await tx.query('UPDATE probe SET flag = NOT flag WHERE name = $1', ['alpha'])).rowCount);
    assert.equal(inside, 1);
  });

  it('passes errors on with their code, rolls the transaction back, and keeps working after', async () => {
    // The same error PGlite's query() throws, with its code and detail.
    const expected = await reference.query('INSERT INTO probe (name) VALUES ($1)', ['alpha']).then(() => undefined, (error: Error) => error);
    await assert.rejects(sql.query('INSERT INTO probe (name) VALUES ($1)', ['alpha']), (error: Error & { code?: string; detail?: string }) => {
      assert.equal(error.constructor, expected?.constructor);
      assert.equal(error.code, '23505');
      assert.equal(error.detail, (expected as { detail?: string }).detail);
      return true;
    });
    await assert.rejects(
      sql.transaction(async (tx) => {
        await tx.query('INSERT INTO probe (name) VALUES ($1)', ['gamma']);
        await tx.query('INSERT INTO probe (name) VALUES ($1)', ['alpha']);
      }),
      (error: { code?: string }) => error.code === '23505',
    );
    // The statements prepared in the rolled-back transaction are the session's: they still run.
    assert.equal((await sql.query('SELECT count(*) AS n FROM probe WHERE name = $1', ['gamma'])).rows[0].n, 0);
    await sql.query('INSERT INTO probe (name) VALUES ($1)', ['gamma']);
    assert.equal((await sql.query('SELECT count(*) AS n FROM probe WHERE name = $1', ['gamma'])).rows[0].n, 1);
    await assert.rejects(sql.query('SELECT no_such_column FROM probe'), /no_such_column/);
  });

  it('refuses a query on a transaction that has ended', async () => {
    let kept: SqlClient | undefined;
    await sql.transaction(async (tx) => {
      kept = tx;
    });
    await assert.rejects(kept!.query('SELECT 1'), /closed/);
  });

  it('runs texts past the cache limit unprepared, with the same answers', async () => {
    // Texts with values inlined would each be prepared for good: past the limit they are not.
    for (let i = 0; i < MAX_PREPARED_STATEMENTS + 5; i++) {
      const rows = (await sql.query(`SELECT ${i}::int AS i, $1::text AS t`, ['x'])).rows;
      assert.deepEqual(rows, [{ i, t: 'x' }]);
    }
    const inside = await sql.transaction(async (tx) => (await tx.query(`SELECT ${MAX_PREPARED_STATEMENTS + 99}::int AS i`)).rows);
    assert.deepEqual(inside, [{ i: MAX_PREPARED_STATEMENTS + 99 }]);
    const held = (await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_prepared_statements')).rows[0].n;
    assert.equal(held, MAX_PREPARED_STATEMENTS, 'the store holds no more prepared statements than the limit');
  });

  it('says a closed store is closed', async () => {
    const closed = await openSql({});
    await closed.query('SELECT 1');
    await closed.close();
    await assert.rejects(closed.query('SELECT 1'), /closed/i);
  });
});
