/**
 * Round trips to the store per matched upload, on the request path and in each background
 * stage, next to those of an upload that matches nothing (issue 11). On two shared cores
 * every loopback round trip costs, so this count is what the content throughput rests on.
 *
 * Runs Bulwark in this process with the benchmark's rule (remove + case + webhook), submits
 * uploads, lets the pipeline catch up, and counts every statement (a PostgreSQL transaction's
 * BEGIN and COMMIT count as one round trip each), attributed to the stage that made it.
 *
 *   npm run bench:queries --  [--store postgres|embedded] [--uploads 200] [--detail]
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { parseArgs } from 'node:util';
import { ActionService } from '../src/actions/action-service.ts';
import { openBulwark } from '../src/app.ts';
import type { RawBankRow } from '../src/banks/import-formats.ts';
import { seededRandom } from '../src/demo/benign-images.ts';
import { OutboxConsumer } from '../src/events/outbox-consumer.ts';
import { ContentService } from '../src/ingest/content.ts';
import { countingWebhook } from './counting-webhook.ts';
import { matchRuleFile } from '../test/helpers/match-rules.ts';
import { scratchDatabase } from '../test/helpers/postgres-scratch.ts';

const { values } = parseArgs({
  options: {
    store: { type: 'string', default: 'postgres' },
    uploads: { type: 'string', default: '200' },
    detail: { type: 'boolean', default: false },
    'database-url': { type: 'string', default: process.env.BULWARK_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
  },
});
const uploads = Number(values.uploads);
const random = seededRandom(7);
const randomHex = (digits: number) => Array.from({ length: digits }, () => Math.floor(random() * 16).toString(16)).join('');

/** Which stage a statement belongs to: the consumer, the dispatcher or the request. */
const stage = new AsyncLocalStorage<string>();
const wrap = (proto: object, method: string, label: (self: Record<string, unknown>) => string) => {
  const target = proto as Record<string, (...args: unknown[]) => unknown>;
  const original = target[method];
  target[method] = function (this: Record<string, unknown>, ...args: unknown[]) {
    return stage.run(label(this), () => original.apply(this, args));
  };
};
wrap(OutboxConsumer.prototype, 'batch', (self) => `consumer ${String(self.name)}`);
wrap(ActionService.prototype, 'pass', () => 'action delivery');
wrap(ContentService.prototype, 'submit', () => 'request POST /v1/content');

const counts = new Map<string, Map<string, number>>();
/** Milliseconds from each statement's start to its answer, per stage and origin (on the embedded store: the store's one thread, and waits for it). */
const millis = new Map<string, Map<string, number>>();
let counting = false;
Error.stackTraceLimit = 40;
/** The innermost frame outside the store's own code: where a statement comes from. */
function origin(): string {
  const frames = (new Error().stack ?? '').split('\n').slice(1);
  const frame = frames.find((line) => line.includes('/src/') && !line.includes('/src/store/sql.ts') && !line.includes('bench/pipeline-queries'));
  return frame ? frame.trim().replace(/^at (async )?/, '').replace(/\(.*\/src\//, '(').replace(/:\d+\)$/, ')') : '(unknown)';
}
function count(n: number): (ms: number) => void {
  if (!counting) return () => undefined;
  const owner = stage.getStore() ?? 'other';
  const byOrigin = counts.get(owner) ?? new Map<string, number>();
  counts.set(owner, byOrigin);
  const where = origin();
  byOrigin.set(where, (byOrigin.get(where) ?? 0) + n);
  return (ms) => {
    const timed = millis.get(owner) ?? new Map<string, number>();
    millis.set(owner, timed);
    timed.set(where, (timed.get(where) ?? 0) + ms);
  };
}

/** The platform's webhook endpoint: counts deliveries and answers 200 at once. */
const webhook = await countingWebhook();
const webhookUrl = webhook.url;

const scratch = values.store === 'postgres' ? await scratchDatabase(values['database-url']) : undefined;
const bulwark = await openBulwark({
  ...(scratch ? { databaseUrl: scratch.url } : {}),
  hashing: { workers: 0 },
  webhooks: { webhookUrl, secret: 'bench-webhook-signing-secret' },
  actionDispatchIntervalMs: 60_000,
});
try {
  const bank = Array.from({ length: 1000 }, () => randomHex(64));
  await bulwark.banks.create('bench', 'random PDQ hashes');
  await bulwark.banks.importRows('bench', bank.map((value, i): RawBankRow => ({ line: i + 1, signalType: 'pdq', value, tags: [] })), { sourceName: 'bench', format: 'generated' });
  await bulwark.rules.activate(matchRuleFile({ bank: 'bench', remove: true }), 'bench-rules.yaml');
  await bulwark.matcher.refresh();

  const proto = Object.getPrototypeOf(bulwark.sql) as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const query = proto.query;
  proto.query = function (this: unknown, ...args: unknown[]) {
    const done = count(1);
    const started = performance.now();
    return query.apply(this, args).finally(() => done(performance.now() - started));
  };
  const transaction = proto.transaction;
  // PostgreSQL: BEGIN (with the outbox lock) and COMMIT are a round trip each; PGlite's are calls on its one thread.
  proto.transaction = function (this: unknown, ...args: unknown[]) {
    count(2);
    return transaction.apply(this, args);
  };

  const submit = (n: number, value: string) =>
    bulwark.content.submit({ contentId: `q-${n}`, accountId: `acct-${n % 50}`, contentType: 'image', signals: [{ signalType: 'pdq', value, quality: 90 }] });
  const settle = async () => {
    for (;;) {
      await bulwark.wake();
      await bulwark.floodQuarantine.flush();
      const status = await bulwark.events.status();
      if (status.every((consumer) => consumer.behind === 0)) break;
    }
  };
  // Warm-up: prepared statements and caches, outside the count.
  for (let i = 0; i < 10; i++) await submit(-1 - i, bank[i]);
  await settle();

  const report = (title: string, per: number) => {
    console.log(`\n${title} (${values.store}; per upload: round trips, and ms from statement to answer)`);
    let total = 0;
    for (const [owner, byOrigin] of [...counts].sort()) {
      const sum = [...byOrigin.values()].reduce((a, b) => a + b, 0);
      total += sum;
      const timed = millis.get(owner) ?? new Map<string, number>();
      const ms = [...timed.values()].reduce((a, b) => a + b, 0);
      console.log(`  ${owner.padEnd(44)} ${(sum / per).toFixed(2).padStart(7)} ${(ms / per).toFixed(2).padStart(9)}`);
      if (values.detail) for (const [where, n] of [...byOrigin].sort((a, b) => b[1] - a[1])) console.log(`      ${(n / per).toFixed(2).padStart(7)} ${((timed.get(where) ?? 0) / per).toFixed(2).padStart(9)}  ${where}`);
    }
    console.log(`  ${'total'.padEnd(44)} ${(total / per).toFixed(2).padStart(7)}`);
    counts.clear();
    millis.clear();
  };

  counting = true;
  for (let i = 0; i < uploads; i++) await submit(i, randomHex(64));
  await settle();
  report('no match', uploads);

  const delivered = webhook.deliveries;
  counting = true;
  // Submitted concurrently, as under load, so the stages see batches of events.
  await Promise.all(Array.from({ length: uploads }, (_, i) => submit(uploads + i, bank[10 + (i % (bank.length - 10))])));
  await settle();
  for (let i = 0; webhook.deliveries - delivered < uploads && i < 1000; i++) {
    await bulwark.actions.dispatchDue();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  report('all match, rule → case → remove_content webhook', uploads);
  console.log(`\nwebhooks delivered: ${webhook.deliveries - delivered}/${uploads}`);
} finally {
  counting = false;
  await bulwark.close();
  webhook.close();
  await scratch?.drop();
}
