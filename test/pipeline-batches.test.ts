import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ActionService } from '../src/actions/action-service.ts';
import { ActionTargetRegistry } from '../src/actions/targets.ts';
import type { ActionTarget } from '../src/actions/types.ts';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { CONTENT_MATCHED_EVENT } from '../src/ingest/content.ts';
import type { DomainEvent } from '../src/events/event-log.ts';
import type { SqlClient } from '../src/store/sql.ts';
import { matchRuleFile } from './helpers/match-rules.ts';
import { storeTargets } from './helpers/stores.ts';

/** Fixed benign PDQ hashes (no media behind them). */
const pdq = (seed: number) => Buffer.from(Array.from({ length: 32 }, (_, i) => (seed * 131 + i * 29 + ((seed * i) % 13)) & 0xff)).toString('hex');

/** The client with its statements counted (a transaction's client included). */
function counted(sql: SqlClient): { client: SqlClient; statements: () => number } {
  let statements = 0;
  const wrap = (inner: SqlClient): SqlClient =>
    new Proxy(inner, {
      get(target, property) {
        if (property === 'query') {
          return (text: string, params?: unknown[]) => {
            statements++;
            return target.query(text, params);
          };
        }
        if (property === 'transaction') {
          return <T>(fn: (tx: SqlClient) => Promise<T>, options?: Parameters<SqlClient['transaction']>[1]) => target.transaction((tx) => fn(wrap(tx)), options);
        }
        const value = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  return { client: wrap(sql), statements: () => statements };
}

const BATCH = 10;

/** What a batch left behind, without ids and times: the same whether handled together or one by one. */
async function outcome(bulwark: Bulwark) {
  const rows = async (text: string) => (await bulwark.sql.query(text)).rows;
  return {
    cases: await rows(`SELECT queue, subject_kind, subject_id, status, severity, priority, jsonb_array_length(reasons) AS reasons FROM cases ORDER BY subject_id`),
    decisions: await rows(`SELECT d.verdict, d.decided_by, d.rule_id, c.subject_id FROM decisions d LEFT JOIN cases c ON c.id = d.case_id ORDER BY d.event_seq`),
    actions: await rows(`SELECT type, target_kind, target_id, status, rule_id FROM actions ORDER BY target_id, idempotency_key`),
    labels: await rows(`SELECT a.external_id, a.label, (SELECT count(*) FROM account_labels l WHERE l.account_id = a.id) AS records FROM accounts a ORDER BY external_id`),
    events: await rows(`SELECT type, count(*) AS n FROM events GROUP BY type ORDER BY type`),
    audit: await rows(`SELECT actor, action, count(*) AS n FROM audit_log WHERE action IN ('case.opened', 'case.reason_added', 'rule.acted') GROUP BY actor, action ORDER BY action`),
  };
}

for (const target of await storeTargets()) {
  describe(`pipeline stages handle a batch of events together (${target.name})`, () => {
    const opened: Bulwark[] = [];

    /** A store with a bank, the remove-and-review rule, and BATCH matched uploads (one content matched twice) whose events no stage has handled. */
    async function matchedUploads(): Promise<{ bulwark: Bulwark; events: DomainEvent[] }> {
      // An api process runs no stage: the test hands the events over itself.
      const bulwark = await openBulwark({ ...target.location(), hashing: { workers: 0 }, role: 'api', dispatchActions: false });
      opened.push(bulwark);
      await bulwark.banks.create('batch-list');
      for (let i = 1; i < BATCH; i++) await bulwark.banks.addEntry('batch-list', { signalType: 'pdq', value: pdq(i) });
      await bulwark.rules.activate(matchRuleFile({ bank: 'batch-list', remove: true }), 'batch-rules.yaml');
      await bulwark.matcher.refresh();
      // Three accounts for nine uploads: an account is labelled more than once in a batch.
      for (let i = 1; i < BATCH; i++) {
        await bulwark.content.submit({ contentId: `upload-${i}`, accountId: `account-${i % 3}`, contentType: 'photo', signals: [{ signalType: 'pdq', value: pdq(i) }] });
      }
      const first = (await bulwark.events.read({ types: [CONTENT_MATCHED_EVENT] }))[0];
      // The same content matched again (as retroactive matching may report it): its open case gets a second reason.
      await bulwark.sql.transaction((tx) => bulwark.events.append(tx, CONTENT_MATCHED_EVENT, first.subject, first.payload));
      const events = await bulwark.events.read({ types: [CONTENT_MATCHED_EVENT] });
      assert.equal(events.length, BATCH);
      return { bulwark, events };
    }

    after(async () => {
      for (const bulwark of opened) await bulwark.close();
      await target.cleanup();
    });

    it('the rule runner and the labeller do, for a batch in a few statements, what they do event by event', async () => {
      const together = await matchedUploads();
      const { client, statements } = counted(together.bulwark.sql);
      const published = await client.transaction(async (tx) => [
        ...(await together.bulwark.hashMatchLabeller.handleBatch(tx, together.events)),
        ...(await together.bulwark.rules.runner.handleBatch(tx, together.events)),
      ]);
      // A batch costs a fixed number of statements, not some per event.
      assert.ok(statements() <= 16, `${statements()} statements for a batch of ${BATCH}`);
      assert.equal(published.filter((event) => event.type === 'case.decided').length, BATCH);
      assert.equal(published.filter((event) => event.type === 'case.opened').length, BATCH);
      assert.equal(new Set(published.map((event) => event.seq)).size, published.length);

      const oneByOne = await matchedUploads();
      const byEvent = counted(oneByOne.bulwark.sql);
      await byEvent.client.transaction(async (tx) => {
        for (const event of oneByOne.events) {
          await oneByOne.bulwark.hashMatchLabeller.handle(tx, event);
          await oneByOne.bulwark.rules.runner.handle(tx, event);
        }
      });
      assert.ok(byEvent.statements() > 5 * statements(), `${byEvent.statements()} statements event by event, ${statements()} together`);
      const expected = await outcome(oneByOne.bulwark);
      assert.deepEqual(await outcome(together.bulwark), expected);
      assert.equal(expected.cases.length, BATCH - 1);
      assert.equal(expected.cases.find((row) => row.subject_id === 'upload-1')?.reasons, 2);
      assert.equal(expected.actions.length, BATCH);
      assert.deepEqual((await together.bulwark.audit.verify()).brokenAt, undefined);
    });

    it('a batch that fails leaves nothing behind, and the next attempt does it all', async () => {
      const { bulwark, events } = await matchedUploads();
      const broken = { ...events[3], payload: { content_id: 'upload-x' } };
      await assert.rejects(bulwark.sql.transaction((tx) => bulwark.rules.runner.handleBatch(tx, [...events.slice(0, 3), broken])), /bad payload/);
      assert.equal((await bulwark.sql.query('SELECT count(*)::int AS n FROM cases')).rows[0].n, 0);
      await bulwark.sql.transaction((tx) => bulwark.rules.runner.handleBatch(tx, events));
      assert.equal((await bulwark.sql.query('SELECT count(*)::int AS n FROM decisions')).rows[0].n, BATCH);
      assert.deepEqual((await bulwark.audit.verify()).brokenAt, undefined);
    });

    it('statements of reasons for a batch of decisions: read together, written in one insert, the same as one by one', async () => {
      const statementsOf = async (handleTogether: boolean) => {
        const { bulwark, events } = await matchedUploads();
        const decided = await bulwark.sql.transaction(async (tx) => (await bulwark.rules.runner.handleBatch(tx, events)).filter((event) => event.type === 'case.decided'));
        const { client, statements } = counted(bulwark.sql);
        await client.transaction(async (tx) => {
          if (handleTogether) await bulwark.dsa.consumer.handleBatch(tx, decided);
          else for (const event of decided) await bulwark.dsa.consumer.handle(tx, event);
        });
        const rows = (await bulwark.sql.query<{ subject_id: string; puid: string; status: string; content_type: string[] }>(
          `SELECT subject_id, regexp_replace(puid, '-decision-[0-9]+$', '-decision-N') AS puid, status, payload->'content_type' AS content_type
           FROM dsa_statements ORDER BY subject_id, puid`,
        )).rows;
        return { rows, statements: statements() };
      };
      const together = await statementsOf(true);
      const oneByOne = await statementsOf(false);
      assert.deepEqual(together.rows, oneByOne.rows);
      assert.equal(together.rows.length, BATCH);
      // The content matched twice has two decisions: the second statement's puid names its decision.
      assert.deepEqual(together.rows.filter((row) => row.subject_id === 'upload-1').map((row) => row.puid), ['upload-1', 'upload-1-decision-N']);
      assert.ok(together.rows.every((row) => row.status === 'pending_configuration' && row.content_type[0] === 'CONTENT_TYPE_IMAGE'));
      assert.ok(together.statements <= 5, `${together.statements} statements for ${BATCH} decisions`);
      assert.ok(oneByOne.statements >= 4 * BATCH, `${oneByOne.statements} statements one by one`);
    });

    it('deliveries of a turn are recorded together, each action finished once', async () => {
      const { bulwark, events } = await matchedUploads();
      await bulwark.sql.transaction((tx) => bulwark.rules.runner.handleBatch(tx, events));
      const delivered: string[] = [];
      const platform: ActionTarget = {
        deliver: async (delivery) => {
          delivered.push(delivery.idempotencyKey);
          return { kind: 'succeeded', statusCode: 200, result: { removed: delivery.target.id } };
        },
      };
      const { client, statements } = counted(bulwark.sql);
      const actions = new ActionService(client, bulwark.events, new ActionTargetRegistry({ fallback: platform }), { concurrency: 32 });
      assert.equal(await actions.dispatchDue(), BATCH);
      assert.equal(new Set(delivered).size, BATCH);
      // Claiming (three), recording (three: outcomes and locks, states, events) and the pass that finds nothing left.
      assert.ok(statements() <= 10, `${statements()} statements to deliver and record ${BATCH} actions`);
      const rows = (await bulwark.sql.query<{ status: string; result: unknown; outcome: string }>(
        `SELECT a.status, a.result, t.outcome FROM actions a JOIN action_attempts t ON t.action_id = a.id ORDER BY a.id`,
      )).rows;
      assert.equal(rows.length, BATCH);
      assert.ok(rows.every((row) => row.status === 'succeeded' && row.outcome === 'succeeded'));
      assert.deepEqual(rows[0].result, { removed: 'upload-1' });
      const finished = (await bulwark.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM events WHERE type = 'action.succeeded'`)).rows[0].n;
      assert.equal(finished, BATCH);
    });
  });
}
