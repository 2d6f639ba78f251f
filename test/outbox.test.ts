import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EventLog, OUTBOX_START, comparePositions, formatPosition, parsePosition } from '../src/events/event-log.ts';
import { OutboxConsumer } from '../src/events/outbox-consumer.ts';
import { forgetOldDeliveries } from '../src/events/pipeline-deliveries.ts';
import { migrate } from '../src/store/migrate.ts';
import { type SqlClient, openSql } from '../src/store/sql.ts';
import { type StoreTarget, storeTargets } from './helpers/stores.ts';

/** A promise with its resolve function outside, for gates a test opens itself. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

const targets = await storeTargets();

describe('outbox positions', () => {
  it('formats and parses positions, and orders them by transaction id before sequence', () => {
    const position = { txId: '18446744073709551000', seq: 42 };
    assert.deepEqual(parsePosition(formatPosition(position)), position);
    assert.equal(parsePosition('12'), undefined);
    assert.equal(parsePosition('1-2-3'), undefined);
    assert.ok(comparePositions({ txId: '9', seq: 900 }, { txId: '10', seq: 1 }) < 0);
    assert.ok(comparePositions({ txId: '10', seq: 2 }, { txId: '10', seq: 1 }) > 0);
    assert.equal(comparePositions({ txId: '10', seq: 2 }, { txId: '10', seq: 2 }), 0);
  });
});

for (const target of targets) {
  describe(`outbox on ${target.name}`, () => {
    let sql: SqlClient;
    let events: EventLog;
    const location = target.location();

    before(async () => {
      sql = await openSql(location);
      await migrate(sql);
      events = new EventLog(sql);
    });
    after(async () => {
      await sql.close();
      await target.cleanup();
    });

    it('hands every event to a consumer once, in order, and resumes from its stored position', async () => {
      for (let i = 0; i < 250; i++) await sql.transaction((tx) => events.append(tx, 'test.resume', `item:${i}`, { i }));
      const seen: number[] = [];
      const consumer = () => new OutboxConsumer(sql, events, 'test.resume-reader', ['test.resume'], async (_tx, event) => void seen.push((event.payload as { i: number }).i));
      assert.equal(await consumer().drain(), 250);
      await sql.transaction((tx) => events.append(tx, 'test.resume', 'item:250', { i: 250 }));
      assert.equal(await consumer().drain(), 1, 'a new consumer of the same name resumes where the last one stopped');
      assert.deepEqual(seen, Array.from({ length: 251 }, (_, i) => i));
      const status = (await events.status()).find((entry) => entry.name === 'test.resume-reader');
      assert.equal(status?.behind, 0);
    });

    it('a stage that records deliveries skips events another transport already handled, and records what it handles', async () => {
      const appended = [];
      for (let i = 0; i < 3; i++) appended.push(await sql.transaction((tx) => events.append(tx, 'test.recorded', `item:${i}`, { i })));
      // As a JetStream worker would have: the middle event handled and recorded under the stage's name.
      await sql.query(`INSERT INTO pipeline_deliveries (stage, event_seq, worker) VALUES ('test.recording-stage', $1, 'elsewhere')`, [appended[1].seq]);
      const seen: number[] = [];
      const consumer = new OutboxConsumer(sql, events, 'test.recording-stage', ['test.recorded'], async (_tx, event) => void seen.push((event.payload as { i: number }).i));
      consumer.recordDeliveries();
      assert.equal(await consumer.drain(), 3, 'the position moves past all three');
      assert.deepEqual(seen, [0, 2], 'the event handled elsewhere is not handled again');
      const rows = await sql.query<{ event_seq: string; worker: string }>(`SELECT event_seq, worker FROM pipeline_deliveries WHERE stage = 'test.recording-stage' ORDER BY event_seq`);
      assert.deepEqual(rows.rows.map((row) => Number(row.event_seq)), appended.map((event) => event.seq));
      assert.equal(rows.rows[1].worker, 'elsewhere');
    });

    it('forgets pipeline delivery rows only once no redelivery can need them', async () => {
      await sql.query(`INSERT INTO pipeline_deliveries (stage, event_seq, handled_at) VALUES ('test.stage', 1, now() - interval '8 days'), ('test.stage', 2, now() - interval '6 days'), ('test.stage', 3, now())`);
      assert.equal(await forgetOldDeliveries(sql), 1);
      const left = await sql.query<{ event_seq: string }>(`SELECT event_seq FROM pipeline_deliveries WHERE stage = 'test.stage' ORDER BY event_seq`);
      assert.deepEqual(left.rows.map((row) => Number(row.event_seq)), [2, 3]);
    });

    it('a page reports how far it read, and the position of each event', async () => {
      const page = await events.readPage({ types: ['test.resume'], limit: 10 });
      assert.equal(page.events.length, 10);
      assert.deepEqual(page.next, page.events[9].position);
      const rest = await events.readPage({ after: page.next, types: ['test.resume'], limit: 1000 });
      assert.equal(rest.events.length, 241);
      assert.equal(rest.heldBack, false);
      const seqs = [...page.events, ...rest.events].map((event) => event.seq);
      assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
      assert.ok(comparePositions(rest.next, rest.events.at(-1)!.position!) >= 0);
    });

    it('rolls back a failed batch whole: the position and the work stay where they were', async () => {
      await sql.exec('CREATE TABLE IF NOT EXISTS outbox_test_work (subject text PRIMARY KEY)');
      for (let i = 0; i < 3; i++) await sql.transaction((tx) => events.append(tx, 'test.failing', `item:${i}`, {}));
      let failOn = 'item:1';
      const consumer = new OutboxConsumer(sql, events, 'test.failing-reader', ['test.failing'], async (tx, event) => {
        if (event.subject === failOn) throw new Error('handler failed');
        await tx.query('INSERT INTO outbox_test_work (subject) VALUES ($1)', [event.subject]);
      });
      await assert.rejects(consumer.drain(), /handler failed/);
      assert.equal((await sql.query('SELECT 1 FROM outbox_test_work')).rows.length, 0);
      failOn = '';
      assert.equal(await consumer.drain(), 3);
      assert.equal((await sql.query('SELECT 1 FROM outbox_test_work')).rows.length, 3);
    });

    if (target.name !== 'postgres') return;

    it('never reads past a transaction that is still running, even when a later one has committed', async () => {
      const reader = new OutboxConsumer(sql, events, 'test.horizon-reader', ['test.horizon'], async (_tx, event) => void seen.push(event.subject));
      const seen: string[] = [];
      await reader.drain();
      const firstAppended = gate();
      const mayCommit = gate();
      // The first writer takes its transaction id, appends and then waits; a second writer commits meanwhile.
      const slow = sql.transaction(async (tx) => {
        await events.append(tx, 'test.horizon', 'first', {});
        firstAppended.open();
        await mayCommit.opened;
      });
      await firstAppended.opened;
      await sql.transaction((tx) => events.append(tx, 'test.horizon', 'second', {}));
      const page = await events.readPage({ after: OUTBOX_START, types: ['test.horizon'] });
      assert.equal(page.events.length, 0, 'the second event waits behind the first, still running');
      assert.equal(page.heldBack, true);
      // A drain started now handles everything committed before it: it waits for the first writer.
      const draining = reader.drain();
      mayCommit.open();
      await slow;
      assert.equal(await draining, 2);
      assert.deepEqual(seen, ['first', 'second'], 'read in the order of the writing transactions');
    });

    it('a long transaction that appends no events (a bank import) holds no reader back, and may not append', async () => {
      const writing = gate();
      const mayEnd = gate();
      const importing = sql.transaction(
        async (tx) => {
          await tx.query("INSERT INTO outbox_test_work (subject) VALUES ('import-row')");
          writing.open();
          await mayEnd.opened;
          await assert.rejects(events.append(tx, 'test.unblocked', 'from-an-import', {}), /outbox writer lock/);
        },
        { writesEvents: false },
      );
      await writing.opened;
      await sql.transaction((tx) => events.append(tx, 'test.unblocked', 'from-an-upload', {}));
      const page = await events.readPage({ types: ['test.unblocked'] });
      mayEnd.open();
      await importing;
      assert.deepEqual(page.events.map((event) => event.subject), ['from-an-upload']);
      assert.equal(page.heldBack, false);
    });

    it('writers of events never wait for a consumer in the middle of its batch', async () => {
      for (let i = 0; i < 3; i++) await sql.transaction((tx) => events.append(tx, 'test.busy', `item:${i}`, {}));
      const inHandler = gate();
      const mayFinish = gate();
      const consumer = new OutboxConsumer(sql, events, 'test.busy-reader', ['test.busy'], async (tx, event) => {
        // The handler emits an event of its own, as the rule runner and case service do, and then blocks.
        await events.append(tx, 'test.busy-followup', event.subject, {});
        inHandler.open();
        await mayFinish.opened;
      });
      const draining = consumer.drain();
      await inHandler.opened;
      const writerStarted = gate();
      let writerPid = 0;
      const writer = sql.transaction(async (tx) => {
        writerPid = (await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
        writerStarted.open();
        await events.append(tx, 'test.busy', 'from-an-upload', {});
      });
      await writerStarted.opened;
      const outcome = await Promise.race([writer.then(() => 'committed' as const), waitingForALock(sql, writerPid).then(() => 'blocked' as const)]);
      mayFinish.open();
      const handled = (await draining) + (await consumer.drain());
      await writer;
      assert.equal(outcome, 'committed');
      assert.equal(handled, 4, 'the upload’s event is handled in a later batch');
    });

    it('hands each event to exactly one of two processes draining the same consumer', async () => {
      const other = await openSql(location);
      await sql.exec('CREATE TABLE IF NOT EXISTS outbox_test_handled (subject text PRIMARY KEY, by text NOT NULL)');
      for (let i = 0; i < 400; i++) await sql.transaction((tx) => events.append(tx, 'test.shared', `item:${i}`, {}));
      const consumerIn = (client: SqlClient, by: string) =>
        new OutboxConsumer(client, new EventLog(client), 'test.shared-reader', ['test.shared'], async (tx, event) => {
          await tx.query('INSERT INTO outbox_test_handled (subject, by) VALUES ($1, $2)', [event.subject, by]);
        });
      try {
        const [a, b] = await Promise.all([consumerIn(sql, 'a').drain(), consumerIn(other, 'b').drain()]);
        assert.equal(a + b, 400);
        const handled = await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox_test_handled');
        assert.equal(handled.rows[0].n, 400);
      } finally {
        await other.close();
      }
    });
  });
}

/** Resolves once the session with this pid waits for a lock: a writer stuck behind a consumer. */
async function waitingForALock(sql: SqlClient, pid: number): Promise<void> {
  for (;;) {
    const waiting = await sql.query('SELECT 1 FROM pg_locks WHERE pid = $1 AND NOT granted', [pid]);
    if (waiting.rows.length > 0) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('a stage handed over to another transport', () => {
  it('settles only once the other transport says nothing is left, and refuses when it cannot finish or cannot say', async () => {
    // A handed-over stage never touches the store: one that throws on use proves it.
    const sql = new Proxy({}, { get: () => { throw new Error('the store was used'); } }) as SqlClient;
    const events = new EventLog(sql);
    const handled: number[] = [];
    const consumer = new OutboxConsumer(sql, events, 'settle-test', ['test.settle'], async (_tx, event) => void handled.push(event.seq));
    const answers = [3, 1, 0];
    let asked = 0;
    consumer.handOver(async () => answers[asked++]);
    await consumer.settled();
    assert.equal(asked, 3, 'settled asks until the other transport reports nothing left');
    assert.equal(await consumer.drain(), 0, 'a handed-over stage never reads the outbox itself');

    let clock = 0;
    consumer.handOver(async () => {
      clock += 1000;
      return 7;
    });
    await assert.rejects(consumer.settled(2500, () => clock), (error: Error & { kind?: string; details?: Record<string, unknown> }) => {
      assert.equal(error.kind, 'unavailable');
      assert.equal(error.details?.remaining, 7);
      return true;
    });
    consumer.handOver(async () => undefined);
    await assert.rejects(consumer.settled(0), /cannot be read from this process/);
    assert.deepEqual(handled, []);
  });
});
