import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { BulwarkError } from '../src/errors.ts';
import type { DomainEvent } from '../src/events/event-log.ts';
import type { PlatformEventInput } from '../src/ingest/platform-events.ts';
import {
  type FactLookup,
  type Facts,
  type RuleEvent,
  type RuleFileError,
  RuleEngine,
  SqlFactLookup,
  defaultFactProviders,
  evaluateRules,
  loadRuleFile,
  parseRuleFile,
} from '../src/rules/index.ts';
import { storeTargets } from './helpers/stores.ts';

const repoRoot = resolve(import.meta.dirname, '..');
const fixtures = join(repoRoot, 'test', 'fixtures', 'rules');

/** The errors a rule file is refused with (fails the test if it is accepted). */
function errorsOf(text: string, file = 'rules.yaml'): RuleFileError[] {
  try {
    parseRuleFile(text, file);
  } catch (error) {
    assert.ok(error instanceof BulwarkError, String(error));
    assert.equal(error.kind, 'invalid');
    const errors = (error.details as { errors: RuleFileError[] }).errors;
    const first = errors[0];
    assert.deepEqual(
      { file: error.details!.file, line: error.details!.line, column: error.details!.column, path: error.details!.path },
      { file: first.file, line: first.line, column: first.column, path: first.path },
      'details name the first error',
    );
    for (const found of errors) assert.ok(error.message.includes(`${found.file}:${found.line}:${found.column}: ${found.message}`), `message lists ${found.message}`);
    return errors;
  }
  assert.fail('the rule file was accepted');
}

/** The one error of a file, as "line:column path: message". */
function oneError(text: string): string {
  const errors = errorsOf(text);
  assert.equal(errors.length, 1, errors.map((e) => e.message).join('\n'));
  return `${errors[0].line}:${errors[0].column} ${errors[0].path}: ${errors[0].message}`;
}

const HEADER = `version: 1
queues:
  - { name: review, sla_minutes: 60 }
rules:
`;

describe('rule files', () => {
  it('reads the example in YAML and its JSON twin to the same rule set', async () => {
    const fromYaml = await loadRuleFile(join(fixtures, 'example.yaml'));
    const fromJson = await loadRuleFile(join(fixtures, 'example.json'));
    assert.deepEqual(fromJson, fromYaml);
    assert.equal(fromYaml.rules.length, 6);
    assert.deepEqual(fromYaml.queues[0], { name: 'known-media', description: 'Exact or near matches of verified banks', slaMinutes: 60, team: 'known-media-specialists' });
    assert.deepEqual(fromYaml.policies[0], { id: 'known-media', title: 'Known illegal media', legalGround: '18 U.S.C. 2258A; DSA Art. 16 illegal content' });
    assert.deepEqual(fromYaml.rules[0], {
      id: 'verified-exact-remove',
      description: 'An exact hash match on a verified bank is removed at once and reviewed',
      on: ['content.matched'],
      when: {
        all: [
          { fact: 'match.banks', op: 'contains', value: 'verified-hashes' },
          { fact: 'match.exact', op: 'equals', value: true },
        ],
      },
      then: {
        case: { queue: 'known-media', severity: 'critical', priority: 90 },
        actions: [
          { type: 'remove_content', target: 'content' },
          { type: 'suspend_account', target: 'account' },
        ],
      },
    });
    const defaults = fromYaml.rules.find((rule) => rule.id === 'flagged-report')!;
    assert.deepEqual(defaults.then, { case: { queue: 'reports', severity: 'medium', priority: 75 }, actions: [] }, 'severity defaults to medium');
  });

  it('parses the example of docs/rules.md to the fixture’s rule set', async () => {
    const docs = readFileSync(join(repoRoot, 'docs', 'rules.md'), 'utf8');
    const example = /```yaml\n([\s\S]*?)```/.exec(docs);
    assert.ok(example, 'docs/rules.md has a yaml example');
    assert.deepEqual(parseRuleFile(example[1], 'docs/rules.md'), await loadRuleFile(join(fixtures, 'example.yaml')));
  });

  it('documents every fact and operator in docs/rules.md', () => {
    const docs = readFileSync(join(repoRoot, 'docs', 'rules.md'), 'utf8');
    const providers = defaultFactProviders();
    for (const type of providers.eventTypes) {
      assert.ok(docs.includes(`\`${type}\``), `docs name ${type}`);
      for (const fact of providers.facts(type)!.keys()) assert.ok(docs.includes(`\`${fact}\``), `docs name the fact ${fact}`);
    }
    for (const operator of ['equals', 'not_equals', 'in', 'contains', 'contains_any', 'gt', 'gte', 'lt', 'lte', 'exists']) assert.ok(docs.includes(`\`${operator}\``), `docs name ${operator}`);
  });

  it('reports an unknown operator at its key', () => {
    const text = `${HEADER}  - id: r1
    on: content.matched
    when:
      all:
        - { fact: match.banks, contians: verified-hashes }
    then: { case: { queue: review } }
`;
    assert.equal(
      oneError(text),
      '9:32 rules[0].when.all[0].contians: unknown operator "contians"; expected one of equals, not_equals, in, contains, contains_any, gt, gte, lt, lte, exists',
    );
  });

  it('reports a fact its event type does not provide, with the facts it does', () => {
    const text = `${HEADER}  - id: r1
    on: content.matched
    when: { fact: match.bankz, contains: verified-hashes }
    then: { case: { queue: review } }
`;
    const error = oneError(text);
    assert.match(error, /^7:19 rules\[0\]\.when\.fact: fact `match\.bankz` is not provided for content\.matched; known facts: event\.type, .*match\.banks, /);
    // A fact of one listed event type but not the other is refused too.
    const both = `${HEADER}  - id: r1
    on: [content.matched, account.term_matched]
    when: { fact: match.exact, equals: true }
    then: { case: { queue: review } }
`;
    assert.match(oneError(both), /^7:19 .*fact `match\.exact` is not provided for account\.term_matched/);
  });

  it('reports an operator that does not fit the fact’s type, and a value that does not fit the operator', () => {
    const text = `${HEADER}  - id: r1
    on: content.matched
    when:
      any:
        - { fact: match.banks, gt: 3 }
        - { fact: match.min_distance, lte: "10" }
        - { fact: match.exact, equals: "true" }
        - { fact: account.label, in: [confirmed, confirmd] }
        - { fact: content.type, in: [] }
    then: { case: { queue: review } }
`;
    const errors = errorsOf(text).map((e) => `${e.line}:${e.column} ${e.message}`);
    assert.deepEqual(errors, [
      '9:32 operator "gt" does not apply to match.banks, a list fact; use one of contains, contains_any, exists',
      '10:44 lte: expected a number, got string "10"',
      '11:40 equals: match.exact is a boolean; got string "true"',
      '12:38 in: "confirmd" is not a value of account.label; expected one of confirmed, suspected, cleared',
      '13:37 in: expected a non-empty list, got a list',
    ]);
  });

  it('reports an undeclared queue, a bad severity and priority, and a duplicate rule id', () => {
    const text = `${HEADER}  - id: r1
    on: content.matched
    then:
      case: { queue: elsewhere, severity: urgent, priority: 101 }
  - id: r1
    on: network.detected
    then: { case: { queue: review } }
`;
    assert.deepEqual(
      errorsOf(text).map((e) => `${e.line}:${e.column} ${e.path}: ${e.message}`),
      [
        '8:22 rules[0].then.case.queue: queue "elsewhere" is not declared in queues; declared: review',
        '8:43 rules[0].then.case.severity: unknown severity "urgent"; expected one of low, medium, high, critical',
        '8:61 rules[0].then.case.priority: priority must be from 0 to 100',
        '9:9 rules[1].id: duplicate rule id "r1" (first at line 5)',
      ],
    );
  });

  it('reports duplicate queues and policies, unknown keys and a wrong version', () => {
    const text = `version: 2
queues:
  - { name: review, sla_minutes: 60 }
  - { name: review, sla_minutes: 30, colour: red }
policies:
  - { id: p1, title: One }
  - { id: p1, title: Again }
rules:
  - id: r1
    on: content.matched
    then: { case: { queue: review } }
    whne: { fact: match.exact, equals: true }
`;
    assert.deepEqual(
      errorsOf(text).map((e) => `${e.line}:${e.column} ${e.message}`),
      [
        '1:10 version must be 1, the only version of this format; got 2',
        '4:13 duplicate queue "review" (first at line 3)',
        '4:38 unknown key "colour" in a queue; expected name, description, sla_minutes, team',
        '7:11 duplicate policy id "p1" (first at line 6)',
        '12:5 unknown key "whne" in a rule; expected id, description, on, when, then',
      ],
    );
  });

  it('reads the subjects a policy is for, and refuses a subject kind that does not exist', () => {
    const rules = `  - { id: r1, on: content.matched, then: { case: { queue: review } } }\n`;
    const parsed = parseRuleFile(`${HEADER}${rules}policies:\n  - { id: net, title: Networks, subjects: [network] }\n  - { id: any, title: Anything }\n`, 'rules.yaml');
    assert.deepEqual(parsed.policies, [{ id: 'net', title: 'Networks', subjects: ['network'] }, { id: 'any', title: 'Anything' }]);
    assert.match(oneError(`${HEADER}${rules}policies:\n  - { id: net, title: Networks, subjects: [networks] }\n`), /unknown subject "networks"; expected one of/);
    assert.match(oneError(`${HEADER}${rules}policies:\n  - { id: net, title: Networks, subjects: [] }\n`), /subjects must name at least one subject kind/);
  });

  it('reports a missing then at the rule, and a then that does nothing', () => {
    const missing = `${HEADER}  - id: r1
    on: content.matched
    when: { fact: match.exact, equals: true }
`;
    assert.equal(oneError(missing), '5:5 rules[0].then: missing "then": a rule needs a case, actions or both');
    const empty = `${HEADER}  - id: r1
    on: content.matched
    then: { actions: [] }
`;
    assert.equal(oneError(empty), '7:11 rules[0].then: then needs a case, actions or both');
  });

  it('reports YAML syntax errors with their line', () => {
    const errors = errorsOf(`version: 1\nrules:\n  - id: r1\n    on: content.matched\n    then: { case: { queue: review }\n  - id: r2\n`);
    assert.ok(errors.length >= 1);
    assert.equal(errors[0].line, 6);
    assert.match(errors[0].message, /^YAML syntax: /);
    assert.deepEqual(errorsOf('version: 1\nversion: 1\nrules: []\n').map((e) => [e.line, e.message]), [[2, 'YAML syntax: Map keys must be unique']]);
  });

  it('reports actions and case subjects the event cannot name, unknown event types and action types', () => {
    const text = `${HEADER}  - id: r1
    on: network.detected
    then:
      actions: [takedown_network, suspend_account, { type: remove_content, target: network }, { type: explode }]
      case: { queue: review, subject: content }
  - id: r2
    on: [content.matched, content.matchd]
    then: { actions: [remove_content] }
`;
    assert.deepEqual(
      errorsOf(text).map((e) => `${e.line}:${e.column} ${e.path}: ${e.message}`),
      [
        '8:35 rules[0].then.actions[1]: suspend_account acts on account, and network.detected events name no account; they name network',
        '8:103 rules[0].then.actions[3].type: unknown action type "explode"; expected one of remove_content, restrict_account, suspend_account, takedown_network, block_identifier',
        '9:39 rules[0].then.case.subject: network.detected events name no content for a case; they name network',
        '11:27 rules[1].on[1]: unknown event type "content.matchd"; rules can listen to content.matched, network.detected, account.evasion_suspected, account.term_matched, report.received',
      ],
    );
  });

  it('collects every error of a file, sorted by line, and keeps line numbers in JSON files', () => {
    const text = `${HEADER}  - id: r1
    on: content.matched
    then: { case: { queue: nowhere, severity: urgent } }
  - id: Bad_Id
    on: content.matched
    when: { all: [{ fact: match.banks, contians: x }, { fact: match.bankz, exists: true }] }
    then: { actions: [remove_content] }
  - id: r3
    on: account.term_matched
`;
    const errors = errorsOf(text);
    assert.deepEqual(errors.map((e) => e.line), [7, 7, 8, 10, 10, 12]);
    assert.deepEqual(
      errors.map((e) => e.path),
      ['rules[0].then.case.queue', 'rules[0].then.case.severity', 'rules[1].id', 'rules[1].when.all[0].contians', 'rules[1].when.all[1].fact', 'rules[2].then'],
    );

    const json = `{
  "version": 1,
  "queues": [{ "name": "review", "sla_minutes": 60 }],
  "rules": [
    {
      "id": "r1",
      "on": "content.matched",
      "when": { "fact": "match.exact", "equals": "yes" },
      "then": { "case": { "queue": "review" } }
    }
  ]
}
`;
    const [error] = errorsOf(json, 'rules.json');
    assert.deepEqual([error.file, error.line, error.column, error.path], ['rules.json', 8, 50, 'rules[0].when.equals']);
  });

  it('refuses a rule file it cannot read', async () => {
    await assert.rejects(loadRuleFile(join(fixtures, 'no-such-file.yaml')), (error: unknown) => error instanceof BulwarkError && error.kind === 'invalid' && /no such file/.test(error.message));
  });
});

// ---- Evaluation ----------------------------------------------------------------------------

const AT = new Date('2026-06-01T12:00:00Z');

function contentEvent(facts: Facts, seq = 1): RuleEvent {
  return {
    seq,
    type: 'content.matched',
    at: AT,
    subject: { kind: 'content', id: 'content-7' },
    facts: {
      'event.type': 'content.matched',
      'subject.kind': 'content',
      'subject.id': 'content-7',
      'content.id': 'content-7',
      'content.type': 'photo',
      'match.banks': ['verified-hashes', 'bank-b'],
      'match.signal_types': ['md5'],
      'match.exact': true,
      'match.min_distance': 0,
      'match.tags': [],
      'match.retroactive': false,
      'account.id': 'acct-1',
      'account.minor': null,
      'account.label': 'suspected',
      'account.risk': 0.4,
      'account.in_network': false,
      'account.network_size': null,
      'account.evasion_suspected': false,
      'account.age_days': 12,
      'account.verified': null,
      ...facts,
    },
  };
}

/** A one-rule set listening to content.matched with the given condition. */
function ruleWhen(condition: string, then = '{ case: { queue: review } }'): ReturnType<typeof parseRuleFile> {
  return parseRuleFile(`${HEADER}  - id: r\n    on: content.matched\n    when: ${condition}\n    then: ${then}\n`, 'rules.yaml');
}

const fires = (condition: string, facts: Facts = {}) => evaluateRules(ruleWhen(condition), contentEvent(facts)).length === 1;

describe('rule evaluation', () => {
  it('tests every operator, and null facts satisfy none but exists: false', () => {
    const cases: [string, Facts, boolean][] = [
      ['{ fact: content.type, equals: photo }', {}, true],
      ['{ fact: content.type, equals: video }', {}, false],
      ['{ fact: match.exact, equals: true }', {}, true],
      ['{ fact: match.min_distance, equals: 0 }', {}, true],
      ['{ fact: content.type, not_equals: video }', {}, true],
      ['{ fact: content.type, not_equals: photo }', {}, false],
      ['{ fact: content.type, in: [video, photo] }', {}, true],
      ['{ fact: content.type, in: [video, audio] }', {}, false],
      ['{ fact: match.min_distance, in: [0, 1] }', {}, true],
      ['{ fact: match.banks, contains: bank-b }', {}, true],
      ['{ fact: match.banks, contains: bank-c }', {}, false],
      ['{ fact: match.banks, contains_any: [bank-c, bank-b] }', {}, true],
      ['{ fact: match.banks, contains_any: [bank-c, bank-d] }', {}, false],
      ['{ fact: match.tags, contains_any: [tag-a] }', {}, false],
      ['{ fact: account.risk, gt: 0.4 }', {}, false],
      ['{ fact: account.risk, gte: 0.4 }', {}, true],
      ['{ fact: account.risk, lt: 0.4 }', {}, false],
      ['{ fact: account.risk, lte: 0.4 }', {}, true],
      ['{ fact: account.age_days, gt: 7 }', {}, true],
      ['{ fact: account.age_days, lt: 7 }', {}, false],
      ['{ fact: account.label, exists: true }', {}, true],
      ['{ fact: account.label, exists: false }', {}, false],
      ['{ fact: match.tags, exists: true }', {}, true],
      // Null facts: no comparison holds, not even the "negative" ones; only exists: false does.
      ['{ fact: account.verified, equals: false }', {}, false],
      ['{ fact: account.verified, not_equals: true }', {}, false],
      ['{ fact: account.minor, exists: true }', {}, false],
      ['{ fact: account.minor, exists: false }', {}, true],
      ['{ fact: account.network_size, lt: 100 }', {}, false],
      ['{ fact: account.network_size, gte: 0 }', {}, false],
      ['{ fact: account.label, in: [suspected] }', { 'account.label': null }, false],
      ['{ fact: match.banks, contains: bank-b }', { 'match.banks': null }, false],
      ['{ fact: match.banks, contains_any: [bank-b] }', { 'match.banks': null }, false],
      ['{ fact: content.type, not_equals: video }', { 'content.type': null }, false],
    ];
    for (const [condition, facts, expected] of cases) assert.equal(fires(condition, facts), expected, `${condition} with ${JSON.stringify(facts)}`);
  });

  it('combines conditions with all, any and not', () => {
    assert.equal(fires('{ all: [{ fact: match.exact, equals: true }, { fact: content.type, equals: photo }] }'), true);
    assert.equal(fires('{ all: [{ fact: match.exact, equals: true }, { fact: content.type, equals: video }] }'), false);
    assert.equal(fires('{ any: [{ fact: match.exact, equals: false }, { fact: content.type, equals: photo }] }'), true);
    assert.equal(fires('{ any: [{ fact: match.exact, equals: false }, { fact: content.type, equals: video }] }'), false);
    assert.equal(fires('{ not: { fact: content.type, equals: video } }'), true);
    assert.equal(fires('{ not: { fact: content.type, equals: photo } }'), false);
    // not inverts: a null fact fails equals, so "not equals" holds. Write exists: true beside it to require the fact.
    assert.equal(fires('{ not: { fact: account.verified, equals: true } }'), true);
    assert.equal(fires('{ all: [{ fact: account.verified, exists: true }, { not: { fact: account.verified, equals: true } }] }'), false);
    assert.equal(fires('{ all: [{ any: [{ fact: account.minor, equals: true }, { not: { all: [{ fact: match.exact, equals: true }, { fact: match.min_distance, gt: 0 }] } }] }] }'), true);
  });

  it('says in the summary which facts made a rule fire', () => {
    const summary = (condition: string, facts: Facts = {}) => evaluateRules(ruleWhen(condition), contentEvent(facts))[0].summary;
    assert.equal(summary('{ all: [{ fact: match.banks, contains: verified-hashes }, { fact: match.exact, equals: true }] }'), 'match.banks contains verified-hashes; match.exact = true');
    assert.equal(
      summary('{ any: [{ fact: account.risk, gte: 0.3 }, { fact: content.type, in: [video] }, { fact: match.banks, contains_any: [bank-c, bank-b] }] }'),
      'account.risk >= 0.3 (0.4); match.banks contains any of [bank-c, bank-b] (bank-b)',
      'every branch of an any that held is named, with the fact values',
    );
    assert.equal(summary('{ not: { any: [{ fact: account.label, equals: confirmed }, { fact: account.age_days, lt: 7 }] } }'), 'not ((account.label = confirmed or account.age_days < 7))');
    assert.equal(summary('{ all: [{ fact: account.minor, exists: false }, { fact: content.type, not_equals: video }] }'), 'account.minor is unknown; content.type != video (photo)');
    const always = parseRuleFile(`${HEADER}  - id: r\n    on: content.matched\n    then: { case: { queue: review } }\n`, 'rules.yaml');
    assert.equal(evaluateRules(always, contentEvent({}))[0].summary, 'any content.matched (the rule has no conditions)');
  });

  it('resolves each action’s target and the case subject from the event', () => {
    const ruleSet = ruleWhen(
      '{ fact: match.exact, equals: true }',
      '{ actions: [remove_content, restrict_account, suspend_account, block_identifier, { type: remove_content, target: account }], case: { queue: review, severity: high, priority: 80, subject: account } }',
    );
    const [firing] = evaluateRules(ruleSet, contentEvent({}, 42));
    assert.deepEqual(firing, {
      rule: 'r',
      eventSeq: 42,
      eventType: 'content.matched',
      subject: { kind: 'content', id: 'content-7' },
      case: { queue: 'review', severity: 'high', priority: 80, subject: { kind: 'account', id: 'acct-1' } },
      actions: [
        { type: 'remove_content', target: { kind: 'content', id: 'content-7' } },
        { type: 'restrict_account', target: { kind: 'account', id: 'acct-1' } },
        { type: 'suspend_account', target: { kind: 'account', id: 'acct-1' } },
        { type: 'block_identifier', target: { kind: 'account', id: 'acct-1' } },
        { type: 'remove_content', target: { kind: 'account', id: 'acct-1' } },
      ],
      summary: 'match.exact = true',
    });

    const networkRules = parseRuleFile(`${HEADER}  - id: n\n    on: network.detected\n    then: { actions: [takedown_network], case: { queue: review } }\n`, 'rules.yaml');
    const networkEvent: RuleEvent = { type: 'network.detected', at: AT, subject: { kind: 'network', id: '12' }, facts: { 'network.id': 12 } };
    const [takedown] = evaluateRules(networkRules, networkEvent);
    assert.deepEqual(takedown.actions, [{ type: 'takedown_network', target: { kind: 'network', id: '12' } }]);
    assert.deepEqual(takedown.case, { queue: 'review', severity: 'medium', priority: 50, subject: { kind: 'network', id: '12' } }, 'defaults: medium, 50, the event’s subject');
    assert.equal(takedown.eventSeq, undefined);

    // A report about an account alone names no content: the removal is skipped, with the reason.
    const reportRules = parseRuleFile(`${HEADER}  - id: rep\n    on: report.received\n    then: { actions: [remove_content, suspend_account] }\n`, 'rules.yaml');
    const report: RuleEvent = { type: 'report.received', at: AT, subject: { kind: 'account', id: 'acct-3' }, facts: { 'content.id': null, 'account.id': 'acct-3' } };
    const [reported] = evaluateRules(reportRules, report);
    assert.deepEqual(reported.actions, [{ type: 'suspend_account', target: { kind: 'account', id: 'acct-3' } }]);
    assert.deepEqual(reported.skipped, [{ type: 'remove_content', target: 'content', reason: 'this report.received event names no content' }]);
  });

  it('fires every matching rule in file order and ignores rules of other event types', async () => {
    const ruleSet = await loadRuleFile(join(fixtures, 'example.yaml'));
    const firings = evaluateRules(ruleSet, contentEvent({ 'match.banks': ['verified-hashes'], 'match.exact': true }));
    assert.deepEqual(firings.map((f) => f.rule), ['verified-exact-remove']);
    const both = parseRuleFile(`${HEADER}  - { id: a, on: content.matched, then: { case: { queue: review } } }\n  - { id: b, on: network.detected, then: { case: { queue: review } } }\n  - { id: c, on: [network.detected, content.matched], then: { case: { queue: review } } }\n`, 'rules.yaml');
    assert.deepEqual(evaluateRules(both, contentEvent({})).map((f) => f.rule), ['a', 'c']);
  });

  it('engine: no store read for event types no rule listens to', async () => {
    const ruleSet = ruleWhen('{ fact: account.label, equals: confirmed }');
    const calls: string[] = [];
    const lookup: FactLookup = {
      account: async (id) => {
        calls.push(id);
        return { minor: null, label: 'confirmed', risk: null, networkId: null, networkSize: null, evasionSuspected: false, since: new Date('2026-05-01T00:00:00Z'), verified: null };
      },
      network: async () => assert.fail('no network is read'),
    };
    const engine = new RuleEngine(ruleSet, defaultFactProviders(), lookup);
    assert.deepEqual(engine.eventTypes, ['content.matched']);
    const other: DomainEvent = { seq: 1, type: 'network.detected', subject: 'network:1', payload: { network_id: 1, summary: { size: 3, sellers: 1, buyers: 2 } }, occurredAt: AT };
    assert.deepEqual(await engine.evaluate(other), []);
    assert.deepEqual(await engine.evaluate({ ...other, type: 'account.labelled' }), []);
    assert.deepEqual(calls, []);
    const matched: DomainEvent = {
      seq: 2,
      type: 'content.matched',
      subject: 'content:content-9',
      payload: { content_id: 'content-9', account_id: 'acct-9', content_type: 'photo', matches: [{ bank: 'b', signal_type: 'pdq', value: 'x', distance: 9, entry_id: 1, tags: [] }] },
      occurredAt: AT,
    };
    const [firing] = await engine.evaluate(matched);
    assert.equal(firing.summary, 'account.label = confirmed');
    assert.deepEqual(calls, ['acct-9']);
    await assert.rejects(engine.evaluate({ ...matched, payload: { content_id: 'content-9' } }), /content\.matched event 2 has a bad payload: account_id: missing/);
  });
});

// ---- Facts from a real store ----------------------------------------------------------------

const at = (day: number, minute = 0) => new Date(Date.UTC(2026, 0, 1 + day, 0, minute)).toISOString();
const DAY_MS = 86_400_000;

/** Two sellers, six buyers who follow and message them, a few minors some of them contact, and ordinary accounts around. */
function planted(): { events: PlatformEventInput[]; minors: string[]; edges: [string, string][] } {
  const events: PlatformEventInput[] = [];
  const edges: [string, string][] = [];
  let n = 0;
  const push = (event: PlatformEventInput) => events.push({ ...event, event_id: `r-${n++}` });
  const interact = (type: 'follow' | 'message', actor: string, target: string, day: number, minute = 0) => {
    push({ type, occurred_at: at(day, minute), actor, target });
    edges.push([actor, target]);
  };
  const sellers = ['seller-0', 'seller-1'];
  const buyers = Array.from({ length: 6 }, (_, i) => `buyer-${i}`);
  const ordinary = Array.from({ length: 24 }, (_, i) => `user-${i}`);
  const minors = ['user-3', 'user-13', 'user-23'];
  for (const account of [...sellers, ...buyers, ...ordinary, 'uploader-1']) push({ type: 'account_created', occurred_at: at(0), account });
  for (const minor of minors) push({ type: 'account_attributes', occurred_at: at(1), account: minor, minor: true, minor_basis: 'declared' });
  push({ type: 'account_attributes', occurred_at: at(1), account: 'uploader-1', verified: true });
  ordinary.forEach((account, i) => {
    for (const step of [1, 5, 7]) interact('follow', account, ordinary[(i + step) % ordinary.length], 2, step);
  });
  buyers.forEach((buyer, i) => {
    for (const seller of sellers) {
      interact('follow', buyer, seller, 3, i);
      interact('message', buyer, seller, 3, i + 10);
    }
    interact('follow', buyer, buyers[(i + 1) % buyers.length], 3, 30);
    push({ type: 'hashtag', occurred_at: at(3), actor: buyer, hashtag: '#tag-net-1' });
  });
  interact('follow', 'seller-0', 'user-3', 4);
  interact('message', 'user-13', 'buyer-2', 4);
  return { events, minors, edges };
}

const targets = await storeTargets();

for (const target of targets) {
  describe(`rule facts from the store on ${target.name}`, () => {
    let bulwark: Bulwark;
    let lookup: SqlFactLookup;
    const providers = defaultFactProviders();
    const facts = async (event: DomainEvent) => (await providers.get(event.type)!.toRuleEvent(event, lookup)).facts;

    before(async () => {
      bulwark = await openBulwark({ ...target.location(), guardrailRefreshMs: 60_000, identifierKey: 'test-key' });
      lookup = new SqlFactLookup(bulwark.sql);
    });
    after(async () => {
      await bulwark.close();
      await target.cleanup();
    });

    it('computes content.matched facts for exact and near matches, with the uploader’s account', async () => {
      await bulwark.platformEvents.ingest(planted().events);
      await bulwark.banks.create('verified-hashes');
      await bulwark.banks.create('bank-b');
      const nearPdq = 'f'.repeat(64);
      await bulwark.banks.addEntry('verified-hashes', { signalType: 'md5', value: 'a'.repeat(32), tags: ['tag-a'] });
      await bulwark.banks.addEntry('bank-b', { signalType: 'pdq', value: nearPdq, tags: ['tag-b'] });
      await bulwark.content.submit({ contentId: 'content-exact', accountId: 'uploader-1', contentType: 'photo', signals: [{ signalType: 'md5', value: 'a'.repeat(32) }] });
      // Four bits away from the bank's PDQ value.
      await bulwark.content.submit({ contentId: 'content-near', accountId: 'stranger-1', contentType: 'video', signals: [{ signalType: 'pdq', value: `${'f'.repeat(63)}0` }] });
      await bulwark.hashMatchLabeller.drain();

      const [exact, near] = await bulwark.events.read({ types: ['content.matched'] });
      const exactFacts = await facts(exact);
      const uploader = await bulwark.accounts.get('uploader-1');
      const expectedAge = Math.floor((exact.occurredAt.getTime() - uploader.createdAt!.getTime()) / DAY_MS);
      assert.deepEqual(exactFacts, {
        'event.type': 'content.matched',
        'subject.kind': 'content',
        'subject.id': 'content-exact',
        'content.id': 'content-exact',
        'content.type': 'photo',
        'match.banks': ['verified-hashes'],
        'match.signal_types': ['md5'],
        'match.exact': true,
        'match.min_distance': 0,
        'match.tags': ['tag-a'],
        'match.suppressed_by': [],
        'match.retroactive': false,
        'account.id': 'uploader-1',
        'account.minor': null,
        'account.label': 'confirmed',
        'account.risk': null,
        'account.in_network': false,
        'account.network_size': null,
        'account.evasion_suspected': false,
        'account.age_days': expectedAge,
        'account.verified': true,
      });
      assert.ok(expectedAge > 100, 'the uploader was created in January');

      const nearFacts = await facts(near);
      assert.deepEqual(
        { banks: nearFacts['match.banks'], types: nearFacts['match.signal_types'], exact: nearFacts['match.exact'], distance: nearFacts['match.min_distance'], tags: nearFacts['match.tags'], type: nearFacts['content.type'] },
        { banks: ['bank-b'], types: ['pdq'], exact: false, distance: 4, tags: ['tag-b'], type: 'video' },
      );
      // The labeller created the stranger's account when it labelled it; it has no attributes.
      assert.deepEqual(
        { minor: nearFacts['account.minor'], label: nearFacts['account.label'], verified: nearFacts['account.verified'], age: nearFacts['account.age_days'] },
        { minor: null, label: 'confirmed', verified: null, age: 0 },
      );
    });

    it('computes network.detected and account.evasion_suspected facts from a detection run', async () => {
      const { minors, edges } = planted();
      await bulwark.accounts.label('buyer-0', 'confirmed', 'review');
      await bulwark.accounts.label('buyer-1', 'confirmed', 'review');
      const summary = await bulwark.detection.run({ randomSeed: 3, minNetworkSize: 3 });
      assert.ok(summary.networks.length >= 1, 'detection finds the planted network');
      const detected = await bulwark.events.read({ types: ['network.detected'] });
      assert.equal(detected.length, summary.networks.length);
      for (const event of detected) {
        const networkId = (event.payload as { network_id: number }).network_id;
        const stored = await bulwark.detection.network(networkId);
        const members = new Set(stored.members.map((m) => m.account));
        const labels = await Promise.all(stored.members.map((m) => bulwark.accounts.get(m.account)));
        const risks = labels.map((a) => a.risk).filter((r): r is number => r !== null);
        const contacted = new Set(edges.filter(([a, b]) => members.has(a) || members.has(b)).flatMap((pair) => pair).filter((account) => minors.includes(account)));
        const got = await facts(event);
        assert.deepEqual(
          { ...got, 'network.mean_risk': undefined },
          {
            'event.type': 'network.detected',
            'subject.kind': 'network',
            'subject.id': String(networkId),
            'network.id': networkId,
            'network.size': stored.members.length,
            'network.sellers': stored.members.filter((m) => m.role === 'seller').length,
            'network.buyers': stored.members.filter((m) => m.role === 'buyer').length,
            'network.confirmed_members': labels.filter((a) => a.label === 'confirmed').length,
            'network.minors_contacted': contacted.size,
            'network.mean_risk': undefined,
          },
        );
        if (risks.length === 0) assert.equal(got['network.mean_risk'], null);
        else assert.ok(Math.abs((got['network.mean_risk'] as number) - risks.reduce((a, b) => a + b, 0) / risks.length) < 1e-6);
      }
      // The planted group: both labelled buyers are members; seller-0 follows one minor and another minor messages buyer-2.
      const seller0 = await bulwark.accounts.get('seller-0');
      assert.ok(seller0.networkId !== null, 'seller-0 is in a network');
      const plantedFacts = await facts(detected.find((event) => (event.payload as { network_id: number }).network_id === seller0.networkId)!);
      assert.equal(plantedFacts['network.confirmed_members'], 2);
      assert.equal(plantedFacts['network.minors_contacted'], 2, 'contacts in either direction count');

      // An account in a network carries its network facts.
      const member = await facts({ seq: 0, type: 'account.term_matched', subject: 'account:seller-0', payload: { account_id: 'seller-0', matches: [] }, occurredAt: new Date() });
      const seller = await bulwark.accounts.get('seller-0');
      assert.equal(member['account.in_network'], seller.networkId !== null);
      if (seller.networkId !== null) assert.equal(member['account.network_size'], (await bulwark.detection.network(seller.networkId)).members.length);
      assert.equal(member['account.risk'], seller.risk);

      const evasion: DomainEvent = { seq: 99, type: 'account.evasion_suspected', subject: 'account:buyer-3', payload: { account_id: 'buyer-3', removed_account_id: 'buyer-9', score: 0.75 }, occurredAt: new Date(at(10)) };
      const evasionFacts = await facts(evasion);
      assert.equal(evasionFacts['evasion.score'], 0.75);
      assert.equal(evasionFacts['evasion.removed_account'], 'buyer-9');
      assert.equal(evasionFacts['account.id'], 'buyer-3');
      assert.equal(evasionFacts['account.age_days'], 10);
    });

    it('computes report and term facts, with nulls for accounts the graph does not know', async () => {
      const report = (payload: object): DomainEvent => ({ seq: 5, type: 'report.received', subject: 'report:1', payload, occurredAt: new Date(at(30)) });
      const onContent = await facts(report({ report_id: 1, reporter_kind: 'trusted_flagger', flagger: 'flagger-a', category: 'child-safety', subject: { kind: 'content', id: 'content-exact' } }));
      assert.deepEqual(
        {
          kind: onContent['report.reporter_kind'],
          trusted: onContent['report.trusted_flagger'],
          flagger: onContent['report.flagger'],
          category: onContent['report.category'],
          content: onContent['content.id'],
          type: onContent['content.type'],
          account: onContent['account.id'],
          verified: onContent['account.verified'],
          age: onContent['account.age_days'],
          subject: onContent['subject.kind'],
        },
        { kind: 'trusted_flagger', trusted: true, flagger: 'flagger-a', category: 'child-safety', content: 'content-exact', type: 'photo', account: 'uploader-1', verified: true, age: 30, subject: 'content' },
        'a report on stored content brings its uploader',
      );
      const onStranger = await facts(report({ report_id: 2, reporter_kind: 'user', reporter_id: 'user-1', category: 'spam', subject: { kind: 'account', id: 'never-seen' } }));
      assert.deepEqual(
        [onStranger['report.trusted_flagger'], onStranger['report.flagger'], onStranger['content.id'], onStranger['account.id'], onStranger['account.label'], onStranger['account.in_network'], onStranger['account.age_days']],
        [false, null, null, 'never-seen', null, null, null],
      );

      const terms = await facts({
        seq: 6,
        type: 'account.term_matched',
        subject: 'account:user-3',
        payload: { account_id: 'user-3', matches: [{ list: 'list-a', term_id: 't1', surface: 'bio' }, { list: 'list-b', term_id: 't2', surface: 'comment' }, { list: 'list-a', term_id: 't3', surface: 'comment' }] },
        occurredAt: new Date(at(2)),
      });
      assert.deepEqual(
        [terms['terms.lists'], terms['terms.count'], terms['terms.surfaces'], terms['account.minor'], terms['account.age_days']],
        [['list-a', 'list-b'], 3, ['bio', 'comment'], true, 2],
      );
    });

    it('runs the example rules over the real outbox', async () => {
      const engine = new RuleEngine(await loadRuleFile(join(fixtures, 'example.yaml')), providers, lookup);
      const events = await bulwark.events.read({ types: engine.eventTypes, limit: 1000 });
      const firings = (await Promise.all(events.map((event) => engine.evaluate(event)))).flat();
      const exact = firings.find((f) => f.rule === 'verified-exact-remove');
      assert.ok(exact);
      assert.deepEqual(exact.actions, [
        { type: 'remove_content', target: { kind: 'content', id: 'content-exact' } },
        { type: 'suspend_account', target: { kind: 'account', id: 'uploader-1' } },
      ]);
      assert.equal(firings.find((f) => f.rule === 'near-match-review')?.subject.id, 'content-near');
      const network = firings.find((f) => f.rule === 'network-near-minors');
      assert.ok(network, 'the planted network contacts minors');
      assert.match(network.summary, /^network\.size >= 3 \(\d+\); network\.minors_contacted >= 1 \(\d+\)/);
    });
  });
}

// ---- Command line ---------------------------------------------------------------------------

describe('bulwark rules test', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'bulwark-rules-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const run = (...args: string[]) => {
    const result = spawnSync(process.execPath, [join(repoRoot, 'bin', 'bulwark.js'), ...args], { encoding: 'utf8', cwd: dir });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  };

  it('prints what the example rules would do to the example events, without a store', () => {
    const result = run('--json', 'rules', 'test', join(fixtures, 'example.yaml'), '--events', join(fixtures, 'events.jsonl'));
    assert.equal(result.code, 0, result.stderr);
    const output = JSON.parse(result.stdout);
    assert.deepEqual(output.rules, [
      { id: 'verified-exact-remove', fired: 1 },
      { id: 'near-match-review', fired: 1 },
      { id: 'network-near-minors', fired: 0 },
      { id: 'returning-account', fired: 1 },
      { id: 'signal-terms-in-network', fired: 1 },
      { id: 'flagged-report', fired: 1 },
    ]);
    assert.equal(output.events_read, 8);
    assert.deepEqual(
      output.firings.map((f: { rule: string; eventSeq: number; summary: string }) => [f.eventSeq, f.rule, f.summary]),
      [
        [1, 'verified-exact-remove', 'match.banks contains verified-hashes; match.exact = true'],
        [2, 'near-match-review', 'match.exact = false; match.min_distance <= 31 (12)'],
        [5, 'returning-account', 'evasion.score >= 0.5 (0.8); not (account.label = cleared)'],
        [6, 'signal-terms-in-network', 'terms.lists contains any of [signal-terms] (signal-terms); terms.count >= 3 (3)'],
        [7, 'flagged-report', 'report.trusted_flagger = true'],
      ],
    );
    assert.deepEqual(output.firings[0], {
      rule: 'verified-exact-remove',
      eventSeq: 1,
      eventType: 'content.matched',
      subject: { kind: 'content', id: 'content-1' },
      case: { queue: 'known-media', severity: 'critical', priority: 90, subject: { kind: 'content', id: 'content-1' } },
      actions: [
        { type: 'remove_content', target: { kind: 'content', id: 'content-1' } },
        { type: 'suspend_account', target: { kind: 'account', id: 'acct-1' } },
      ],
      summary: 'match.banks contains verified-hashes; match.exact = true',
      line: 1,
    });
    assert.ok(!existsSync(join(dir, '.bulwark')), 'no store was opened or created');

    const human = run('rules', 'test', join(fixtures, 'example.yaml'), '--events', join(fixtures, 'events.jsonl'));
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^6 rules, 8 events from .*events\.jsonl, 5 firings/);
    assert.match(human.stdout, /event 1 content\.matched content:content-1: verified-exact-remove\n {2}case {5}known-media, critical, priority 90, on content:content-1\n {2}actions {2}remove_content content:content-1, suspend_account account:acct-1\n {2}because {2}match\.banks contains verified-hashes; match\.exact = true\n/);
  });

  it('exits non-zero with line numbers for a broken rule file or events file', () => {
    writeFileSync(join(dir, 'broken.yaml'), `${HEADER}  - id: r1\n    on: content.matched\n    when: { fact: match.banks, contians: x }\n    then: { case: { queue: review } }\n`);
    const broken = run('rules', 'test', join(dir, 'broken.yaml'), '--events', join(fixtures, 'events.jsonl'));
    assert.equal(broken.code, 2);
    assert.match(broken.stderr, /broken\.yaml:7:32: unknown operator "contians"/);
    const json = run('--json', 'rules', 'test', join(dir, 'broken.yaml'));
    assert.equal(json.code, 2);
    assert.deepEqual(
      (({ line, column, path }) => ({ line, column, path }))(JSON.parse(json.stdout).error.details),
      { line: 7, column: 32, path: 'rules[0].when.contians' },
    );

    writeFileSync(join(dir, 'events.jsonl'), `${readFileSync(join(fixtures, 'events.jsonl'), 'utf8').split('\n')[0]}\n{"type": "content.matched"\n\n{"type": "x", "subject": "a:b"}\n`);
    const badEvents = run('rules', 'test', join(fixtures, 'example.yaml'), '--events', join(dir, 'events.jsonl'));
    assert.equal(badEvents.code, 2);
    assert.match(badEvents.stderr, /2 bad lines; nothing was evaluated:\n.*events\.jsonl:2: not valid JSON\n.*events\.jsonl:4: payload: missing/);
    writeFileSync(join(dir, 'payload.jsonl'), '{"type": "network.detected", "subject": "network:1", "payload": {"network_id": "one"}}\n');
    const badPayload = run('rules', 'test', join(fixtures, 'example.yaml'), '--events', join(dir, 'payload.jsonl'));
    assert.equal(badPayload.code, 2);
    assert.match(badPayload.stderr, /payload\.jsonl:1: network\.detected event has a bad payload: network_id/);
  });

  it('reads the store’s outbox when no events file is given', async () => {
    const dataDir = join(dir, 'data');
    const bulwark = await openBulwark({ dataDir });
    try {
      await bulwark.banks.create('verified-hashes');
      await bulwark.banks.addEntry('verified-hashes', { signalType: 'sha256', value: 'b'.repeat(64) });
      await bulwark.platformEvents.ingest([{ type: 'account_created', occurred_at: at(0), account: 'acct-1' }]);
      await bulwark.content.submit({ contentId: 'content-1', accountId: 'acct-1', contentType: 'photo', signals: [{ signalType: 'sha256', value: 'b'.repeat(64) }] });
      await bulwark.content.submit({ contentId: 'content-2', accountId: 'acct-2', contentType: 'photo', signals: [{ signalType: 'sha256', value: 'c'.repeat(64) }] });
      await bulwark.hashMatchLabeller.drain();
    } finally {
      await bulwark.close();
    }
    writeFileSync(
      join(dir, 'labelled.yaml'),
      `${HEADER}  - id: labelled-uploader\n    on: content.matched\n    when: { all: [{ fact: match.exact, equals: true }, { fact: account.label, equals: confirmed }] }\n    then: { actions: [suspend_account], case: { queue: review, severity: high } }\n`,
    );
    const result = run('--data-dir', dataDir, '--json', 'rules', 'test', join(dir, 'labelled.yaml'));
    assert.equal(result.code, 0, result.stderr);
    const output = JSON.parse(result.stdout);
    assert.deepEqual(output.rules, [{ id: 'labelled-uploader', fired: 1 }]);
    assert.equal(output.events_read, 1, 'only the one matched upload is a content.matched event');
    assert.deepEqual(output.firings[0].actions, [{ type: 'suspend_account', target: { kind: 'account', id: 'acct-1' } }]);
    assert.equal(output.firings[0].summary, 'match.exact = true; account.label = confirmed');
    assert.equal(typeof output.firings[0].eventSeq, 'number');

    // The same event from a file: with the store the account facts are known, without it they are null.
    const [event] = await (async () => {
      const reopened = await openBulwark({ dataDir });
      try {
        return await reopened.events.read({ types: ['content.matched'] });
      } finally {
        await reopened.close();
      }
    })();
    writeFileSync(join(dir, 'one.jsonl'), `${JSON.stringify({ seq: event.seq, type: event.type, subject: event.subject, payload: event.payload })}\n`);
    const withStore = JSON.parse(run('--data-dir', dataDir, '--json', 'rules', 'test', join(dir, 'labelled.yaml'), '--events', join(dir, 'one.jsonl')).stdout);
    assert.equal(withStore.rules[0].fired, 1);
    const withoutStore = JSON.parse(run('--json', 'rules', 'test', join(dir, 'labelled.yaml'), '--events', join(dir, 'one.jsonl')).stdout);
    assert.equal(withoutStore.rules[0].fired, 0);
  });
});
