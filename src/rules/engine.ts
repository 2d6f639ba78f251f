import { BulwarkError } from '../errors.ts';
import type { DomainEvent } from '../events/event-log.ts';
import { evaluateRules } from './evaluate.ts';
import type { FactProviderRegistry } from './facts/registry.ts';
import type { FactLookup, Firing, RuleEvent, RuleSet } from './types.ts';

/**
 * A rule set ready for the pipeline: turns a domain event into facts (reading the store
 * only for event types some rule listens to) and says which rules fire.
 */
export class RuleEngine {
  private readonly listened: ReadonlySet<string>;

  constructor(
    readonly ruleSet: RuleSet,
    private readonly providers: FactProviderRegistry,
    private readonly lookup: FactLookup,
  ) {
    this.listened = new Set(ruleSet.rules.flatMap((rule) => rule.on));
    for (const type of this.listened) {
      if (!providers.get(type)) throw new BulwarkError('invalid', `the rule set listens to ${type}, which these fact providers do not know`, { type });
    }
  }

  /** The event types some rule listens to: what an outbox consumer of this engine needs to read. */
  get eventTypes(): string[] {
    return [...this.listened];
  }

  /** The event as rules see it, or undefined when no rule listens to its type. */
  async toRuleEvent(event: DomainEvent): Promise<RuleEvent | undefined> {
    if (!this.listened.has(event.type)) return undefined;
    return this.providers.get(event.type)!.toRuleEvent(event, this.lookup);
  }

  /** The firings for one event ([] when no rule listens to its type; the store is then not read). */
  async evaluate(event: DomainEvent): Promise<Firing[]> {
    return (await this.explain(event)).firings;
  }

  /** The firings with the facts they were decided on, for callers that rank or record cases by them. */
  async explain(event: DomainEvent): Promise<{ ruleEvent?: RuleEvent; firings: Firing[] }> {
    const ruleEvent = await this.toRuleEvent(event);
    if (!ruleEvent) return { firings: [] };
    return { ruleEvent, firings: evaluateRules(this.ruleSet, ruleEvent) };
  }
}
