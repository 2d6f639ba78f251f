/**
 * The review stage under load: how fast the rule runner turns match events into cases, and
 * how long a reviewer waits for the next case and for a decision to be recorded when a queue
 * holds many cases. Figures beside each: the pure rule evaluation (no store), and a bare
 * round trip to the same store.
 *
 *   npm run bench:review [-- --cases 100000 --database-url postgres://…]
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { openBulwark } from '../src/app.ts';
import { evaluateRules } from '../src/rules/evaluate.ts';
import { parseRuleFile } from '../src/rules/parse.ts';
import type { RuleEvent } from '../src/rules/types.ts';

const { values } = parseArgs({ options: { cases: { type: 'string', default: '20000' }, 'database-url': { type: 'string' }, decisions: { type: 'string', default: '300' } } });
const caseCount = Number(values.cases);
const decisionCount = Number(values.decisions);

const RULES = `version: 1
queues:
  - { name: known-media, description: bench, sla_minutes: 60 }
policies:
  - { id: known-media, title: Known illegal media, legal_ground: "18 U.S.C. 2258A" }
rules:
  - id: near-match-review
    on: content.matched
    when:
      all:
        - { fact: match.banks, contains: bench-bank }
        - { fact: match.min_distance, lte: 31 }
    then:
      case: { queue: known-media, severity: high, priority: 70 }
`;

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const summary = (samples: number[]) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return `p50 ${percentile(sorted, 50).toFixed(2)} ms, p99 ${percentile(sorted, 99).toFixed(2)} ms`;
};

const schema = values['database-url'] ? `bench_review_${randomBytes(4).toString('hex')}` : undefined;
const bulwark = await openBulwark({ ...(values['database-url'] ? { databaseUrl: values['database-url'], schema } : {}), dispatchActions: false });
const store = values['database-url'] ? 'PostgreSQL' : 'PGlite (embedded)';
try {
  await bulwark.rules.activate(RULES, 'bench.yaml', 'bench');
  const ruleSet = parseRuleFile(RULES, 'bench.yaml');

  // Reference: the rules alone, on facts already computed.
  const event: RuleEvent = {
    type: 'content.matched',
    at: new Date(),
    subject: { kind: 'content', id: 'c-1' },
    facts: { 'event.type': 'content.matched', 'subject.kind': 'content', 'subject.id': 'c-1', 'match.banks': ['bench-bank'], 'match.min_distance': 12, 'match.exact': false },
  };
  const pureStart = performance.now();
  for (let i = 0; i < 200_000; i++) evaluateRules(ruleSet, event);
  const pureRate = 200_000 / ((performance.now() - pureStart) / 1000);

  // The runner: match events appended to the outbox, then drained into cases.
  const append = performance.now();
  for (let start = 0; start < caseCount; start += 1000) {
    await bulwark.sql.transaction(async (tx) => {
      for (let i = start; i < Math.min(caseCount, start + 1000); i++) {
        await bulwark.events.append(tx, 'content.matched', `content:c-${i}`, {
          content_id: `c-${i}`,
          account_id: `acct-${i % 5000}`,
          content_type: 'photo',
          matches: [{ bank: 'bench-bank', signal_type: 'pdq', value: '0'.repeat(64), distance: i % 30, entry_id: 1, tags: [] }],
        });
      }
    });
  }
  const appendSeconds = (performance.now() - append) / 1000;
  const drainStart = performance.now();
  await bulwark.rules.runner.drain();
  const drainSeconds = (performance.now() - drainStart) / 1000;
  const opened = (await bulwark.sql.query<{ n: number }>('SELECT count(*) AS n FROM cases')).rows[0].n;
  if (Number(opened) !== caseCount) throw new Error(`expected ${caseCount} cases, found ${opened}`);

  // A reviewer working through the queue while it holds caseCount cases.
  const reviewer = await bulwark.reviewers.create({ username: 'bench-reviewer', password: 'bench password 1234', role: 'reviewer' });
  const claims: number[] = [];
  const decisions: number[] = [];
  for (let i = 0; i < decisionCount; i++) {
    const t0 = performance.now();
    const next = await bulwark.cases.claimNext(reviewer, 'known-media');
    const t1 = performance.now();
    await bulwark.cases.decide(next!.id, reviewer, { verdict: 'dismiss' });
    decisions.push(performance.now() - t1);
    claims.push(t1 - t0);
  }
  const floor: number[] = [];
  for (let i = 0; i < decisionCount; i++) {
    const t0 = performance.now();
    await bulwark.sql.query('SELECT 1');
    floor.push(performance.now() - t0);
  }

  console.log(`review pipeline on ${store}, ${caseCount.toLocaleString()} match events, one process`);
  console.log('');
  console.log('| measure | Bulwark | reference beside it |');
  console.log('| --- | --- | --- |');
  console.log(`| rule runner: outbox events to cases | ${Math.round(caseCount / drainSeconds).toLocaleString()} events/s (${drainSeconds.toFixed(1)} s) | rules alone on computed facts: ${Math.round(pureRate).toLocaleString()} events/s; appending the events: ${Math.round(caseCount / appendSeconds).toLocaleString()} events/s |`);
  console.log(`| next case for a reviewer (claim + case detail), ${caseCount.toLocaleString()} cases queued | ${summary(claims)} | store round trip \`SELECT 1\`: ${summary(floor)} |`);
  console.log(`| decision recorded (decision, audit entry, event, case detail) | ${summary(decisions)} | |`);
} finally {
  if (schema) await bulwark.sql.query(`DROP SCHEMA ${schema} CASCADE`);
  await bulwark.close();
}
