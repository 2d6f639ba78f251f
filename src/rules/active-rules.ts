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
import type { Firing, RuleEvent, RuleSet } from './types.ts';

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
    this.runner = new OutboxConsumer(sql, events, RULE_RUNNER, providers.eventTypes, (tx, event) => this.handle(tx, event));
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

  private async handle(tx: SqlClient, event: DomainEvent): Promise<DomainEvent[]> {
    const ruleSet = this.active?.ruleSet;
    if (!ruleSet || !ruleSet.rules.some((rule) => rule.on.includes(event.type))) return [];
    const provider = this.providers.get(event.type);
    if (!provider) return [];
    const ruleEvent = await provider.toRuleEvent(event, new SqlFactLookup(tx));
    const published: DomainEvent[] = [];
    for (const firing of evaluateRules(ruleSet, ruleEvent)) published.push(...(await this.apply(tx, firing, ruleEvent)));
    return published;
  }

  private async apply(tx: SqlClient, firing: Firing, ruleEvent: RuleEvent): Promise<DomainEvent[]> {
    const published: DomainEvent[] = [];
    const actor = `rule:${firing.rule}`;
    let caseId: number | undefined;
    if (firing.case) {
      const facts = ruleEvent.facts;
      const opened = await this.cases.openIn(
        tx,
        {
          queue: firing.case.queue,
          subject: firing.case.subject,
          severity: firing.case.severity,
          priority: firing.case.priority,
          reason: { rule: firing.rule, summary: firing.summary, eventSeq: firing.eventSeq },
          trustedFlagger: facts['report.trusted_flagger'] === true,
          minorInvolved: facts['account.minor'] === true || Number(facts['network.minors_contacted'] ?? 0) > 0,
          networkSize: numberOrNull(facts['network.size']) ?? numberOrNull(facts['account.network_size']),
        },
        actor,
      );
      caseId = opened.view.id;
      published.push(opened.event);
    }
    if (firing.actions.length > 0) {
      const acted = await this.cases.decideAutomatically(tx, { ruleId: firing.rule, eventSeq: firing.eventSeq, caseId, subject: firing.subject, actions: firing.actions, summary: firing.summary });
      published.push(acted.event);
    }
    return published;
  }
}

const numberOrNull = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);
