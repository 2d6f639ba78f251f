import type { AuditLog } from '../audit/audit-log.ts';
import type { CaseService } from '../cases/case-service.ts';
import { ensureBuiltInQueues, syncQueues } from '../cases/queues.ts';
import type { Policy as CasePolicy } from '../cases/types.ts';
import { DEFAULT_POLICIES } from '../cases/case-service.ts';
import type { DomainEvent, EventLog } from '../events/event-log.ts';
import { OutboxConsumer } from '../events/outbox-consumer.ts';
import type { SqlClient } from '../store/sql.ts';
import { evaluateRules } from './evaluate.ts';
import { SqlFactLookup } from './facts/sql-lookup.ts';
import type { FactProviderRegistry } from './facts/registry.ts';
import { parseRuleFile } from './parse.ts';
import type { RuleEvent, RuleSet } from './types.ts';

export const RULES_ACTIVATED_EVENT = 'rules.activated';
export const RULE_RUNNER = 'rules.runner';

export interface ActiveRuleSet {
  id: number;
  fileName: string;
  activatedBy: string;
  activatedAt: Date;
  ruleSet: RuleSet;
}

/**
 * The live rule set and the pipeline stage that applies it: every event a rule may listen
 * to is turned into facts, the rules are evaluated, and what fires opens cases and records
 * automated decisions in the same transaction that moves the stage's outbox position.
 */
export class RuleService {
  private active: ActiveRuleSet | undefined;
  readonly runner: OutboxConsumer;

  constructor(
    private readonly sql: SqlClient,
    private readonly events: EventLog,
    private readonly audit: AuditLog,
    private readonly providers: FactProviderRegistry,
    private readonly cases: CaseService,
  ) {
    this.runner = new OutboxConsumer(sql, events, RULE_RUNNER, providers.eventTypes, {
      batch: (tx, batch) => this.handleBatch(tx, batch),
    });
  }

  /** Loads the live rule set from the store and makes sure the built-in queues exist. */
  async load(): Promise<void> {
    await this.sql.transaction(async (tx) => {
      if (tx.driver === 'postgres') await tx.query('SELECT pg_advisory_xact_lock(7262389004)');
      await ensureBuiltInQueues(tx);
    });
    await this.refresh();
  }

  /** Picks up a rule set another process activated. */
  async refresh(): Promise<void> {
    const latest = await this.sql.query<{ id: number; file_name: string; source: string; activated_by: string; activated_at: Date }>(
      'SELECT id, file_name, source, activated_by, activated_at FROM rule_sets ORDER BY id DESC LIMIT 1',
    );
    const row = latest.rows[0];
    if (!row || Number(row.id) === this.active?.id) return;
    this.active = { id: Number(row.id), fileName: row.file_name, activatedBy: row.activated_by, activatedAt: row.activated_at, ruleSet: parseRuleFile(row.source, row.file_name, this.providers) };
  }

  current(): ActiveRuleSet | undefined {
    return this.active;
  }

  /** The policies decisions may cite: the rule file's, or Bulwark's defaults before one is active. */
  policies(): CasePolicy[] {
    const declared = this.active?.ruleSet.policies ?? [];
    if (declared.length === 0) return DEFAULT_POLICIES;
    return declared.map((policy) => ({ id: policy.id, title: policy.title, legal_ground: policy.legalGround ?? '', ...(policy.subjects ? { subjects: policy.subjects } : {}) }));
  }

  /**
   * Validates a rule file and makes it live: its queues are created or updated, queues it no
   * longer declares are retired. A file with errors changes nothing.
   */
  async activate(source: string, fileName: string, actor = 'system'): Promise<ActiveRuleSet> {
    const ruleSet = parseRuleFile(source, fileName, this.providers);
    const { active, event } = await this.sql.transaction(async (tx) => {
      const inserted = await tx.query<{ id: number; activated_at: Date }>(
        'INSERT INTO rule_sets (file_name, source, activated_by) VALUES ($1, $2, $3) RETURNING id, activated_at',
        [fileName, source, actor],
      );
      await syncQueues(tx, ruleSet.queues.map((queue) => ({ name: queue.name, description: queue.description, team: queue.team ?? null, sla_minutes: queue.slaMinutes })));
      const id = Number(inserted.rows[0].id);
      const summary = { rule_set_id: id, file: fileName, rules: ruleSet.rules.map((rule) => rule.id), queues: ruleSet.queues.map((queue) => queue.name) };
      await this.audit.append(tx, { actor, action: 'rules.activated', subject: `rule_set:${id}`, detail: summary });
      const event = await this.events.append(tx, RULES_ACTIVATED_EVENT, `rule_set:${id}`, summary);
      return { active: { id, fileName, activatedBy: actor, activatedAt: inserted.rows[0].activated_at, ruleSet }, event };
    });
    this.active = active;
    this.cases.forgetQueues();
    this.events.published([event]);
    return active;
  }

  /**
   * Turns a batch of events into facts (each account and content read once for the batch), and
   * applies every firing set-based: the cases in one statement, then the decisions and their
   * actions. The same cases, decisions and actions as firing by firing in turn (issue 11: a
   * firing made eight statements; a batch of them now makes about as many).
   */
  private async handleBatch(tx: SqlClient, events: DomainEvent[]): Promise<DomainEvent[]> {
    const ruleSet = this.active?.ruleSet;
    if (!ruleSet) return [];
    const lookup = new SqlFactLookup(tx);
    const listened = events.filter((event) => this.providers.get(event.type) && ruleSet.rules.some((rule) => rule.on.includes(event.type)));
    // Settled, not Promise.all: a failed lookup must not leave others running on the transaction while it rolls back.
    const read = await Promise.allSettled(listened.map((event) => this.providers.get(event.type)!.toRuleEvent(event, lookup)));
    // On PostgreSQL one failed lookup aborts the transaction and fails the rest with 25P02: throw the cause.
    const failed = read.filter((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failed.length > 0) throw (failed.find((outcome) => (outcome.reason as { code?: unknown })?.code !== '25P02') ?? failed[0]).reason;
    const ruleEvents = read.map((outcome) => (outcome as PromiseFulfilledResult<RuleEvent>).value);
    const firings = ruleEvents.flatMap((ruleEvent) => evaluateRules(ruleSet, ruleEvent).map((firing) => ({ firing, facts: ruleEvent.facts })));
    const withCase = firings.filter(({ firing }) => firing.case);
    const opened = await this.cases.openManyIn(
      tx,
      withCase.map(({ firing, facts }) => ({
        actor: `rule:${firing.rule}`,
        input: {
          queue: firing.case!.queue,
          subject: firing.case!.subject,
          severity: firing.case!.severity,
          priority: firing.case!.priority,
          reason: { rule: firing.rule, summary: firing.summary, eventSeq: firing.eventSeq },
          trustedFlagger: facts['report.trusted_flagger'] === true,
          minorInvolved: facts['account.minor'] === true || Number(facts['network.minors_contacted'] ?? 0) > 0,
          networkSize: numberOrNull(facts['network.size']) ?? numberOrNull(facts['account.network_size']),
        },
      })),
    );
    const caseOf = new Map(withCase.map(({ firing }, i) => [firing, opened[i].view.id]));
    const acting = firings.filter(({ firing }) => firing.actions.length > 0);
    const acted = await this.cases.decideManyAutomatically(
      tx,
      acting.map(({ firing }) => ({ ruleId: firing.rule, eventSeq: firing.eventSeq, caseId: caseOf.get(firing), subject: firing.subject, actions: firing.actions, summary: firing.summary })),
    );
    return [...opened.map((open) => open.event), ...acted.map((decided) => decided.event)];
  }
}

const numberOrNull = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);
