import { OPERATORS, describeTest } from './operators.ts';
import type { Condition, Facts, Firing, Rule, RuleEvent, RuleSet, Subject, SubjectKind } from './types.ts';

interface Outcome {
  holds: boolean;
  /** How the parts that decided the outcome read, for the summary. */
  reasons: string[];
}

/** How a condition reads as written, for a `not` whose inside did not hold. */
function describeCondition(condition: Condition): string {
  if ('all' in condition) return condition.all.map(describeCondition).join(' and ');
  if ('any' in condition) return `(${condition.any.map(describeCondition).join(' or ')})`;
  if ('not' in condition) return `not (${describeCondition(condition.not)})`;
  return OPERATORS.get(condition.op)!.written(condition);
}

function test(condition: Condition, facts: Facts): Outcome {
  if ('all' in condition) {
    const parts = condition.all.map((part) => test(part, facts));
    const holds = parts.every((part) => part.holds);
    return { holds, reasons: holds ? parts.flatMap((part) => part.reasons) : [] };
  }
  if ('any' in condition) {
    // Every branch that held is named, not just the first: a reviewer sees all the reasons.
    const held = condition.any.map((part) => test(part, facts)).filter((part) => part.holds);
    return { holds: held.length > 0, reasons: held.flatMap((part) => part.reasons) };
  }
  if ('not' in condition) {
    const inner = test(condition.not, facts);
    return { holds: !inner.holds, reasons: inner.holds ? [] : [`not (${describeCondition(condition.not)})`] };
  }
  const operator = OPERATORS.get(condition.op)!;
  const actual = facts[condition.fact] ?? null;
  const holds = operator.holds(actual, condition.value);
  return { holds, reasons: holds ? [describeTest(condition, actual)] : [] };
}

/** The id of the event's content, account or network, if the event names one. */
function subjectOfKind(event: RuleEvent, kind: SubjectKind): Subject | undefined {
  if (event.subject.kind === kind) return event.subject;
  const id = event.facts[`${kind}.id`];
  return typeof id === 'string' || typeof id === 'number' ? { kind, id: String(id) } : undefined;
}

function fire(rule: Rule, event: RuleEvent, reasons: string[]): Firing {
  const actions: Firing['actions'] = [];
  const skipped: NonNullable<Firing['skipped']> = [];
  for (const action of rule.then.actions) {
    const target = subjectOfKind(event, action.target);
    if (target) actions.push({ type: action.type, target });
    else skipped.push({ type: action.type, target: action.target, reason: `this ${event.type} event names no ${action.target}` });
  }
  const spec = rule.then.case;
  // A case is never lost for want of its subject: it falls back to what the event is about.
  const caseSubject = spec ? (spec.subject && subjectOfKind(event, spec.subject)) || event.subject : undefined;
  return {
    rule: rule.id,
    ...(event.seq !== undefined ? { eventSeq: event.seq } : {}),
    eventType: event.type,
    subject: event.subject,
    ...(spec && caseSubject ? { case: { queue: spec.queue, severity: spec.severity, priority: spec.priority, subject: caseSubject } } : {}),
    actions,
    ...(skipped.length ? { skipped } : {}),
    summary: reasons.length ? reasons.join('; ') : `any ${event.type} (the rule has no conditions)`,
  };
}

/**
 * The rules of the set that fire on one event, in the order the file lists them. Pure and
 * synchronous: the facts were gathered beforehand, so the same event always gives the same firings.
 */
export function evaluateRules(ruleSet: RuleSet, event: RuleEvent): Firing[] {
  const firings: Firing[] = [];
  for (const rule of ruleSet.rules) {
    if (!rule.on.includes(event.type)) continue;
    const outcome = rule.when ? test(rule.when, event.facts) : { holds: true, reasons: [] };
    if (outcome.holds) firings.push(fire(rule, event, outcome.reasons));
  }
  return firings;
}
