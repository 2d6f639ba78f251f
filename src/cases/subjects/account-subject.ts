import type { AccountDirectory } from '../../graph/accounts.ts';
import type { SqlClient } from '../../store/sql.ts';
import type { DecisionOption } from '../types.ts';
import { describeAccount, identifiersOf } from './account-section.ts';
import { type CaseSubjectType, type DecisionContext, type DecisionEffects, DISMISS, ESCALATE, noEffects, request } from './subject-type.ts';

const SUSPEND: DecisionOption = { verdict: 'suspend', label: 'Suspend and block re-registration', key: 's', actions: ['suspend_account', 'block_identifier'] };
const RESTRICT: DecisionOption = { verdict: 'restrict', label: 'Restrict (no reach, no messages)', key: 'r', actions: ['restrict_account'] };

/** An account: one flagged by network detection, ban evasion, terms or reports. */
export class AccountSubject implements CaseSubjectType {
  readonly kind = 'account' as const;
  readonly options = [SUSPEND, RESTRICT, DISMISS, ESCALATE];

  constructor(private readonly accounts: AccountDirectory) {}

  async describe(client: SqlClient, accountId: string) {
    return { content: null, account: await describeAccount(client, accountId), network: null };
  }

  async apply(context: DecisionContext): Promise<DecisionEffects> {
    const effects = noEffects();
    const target = { kind: 'account' as const, id: context.subject.id };
    const detail = { case_id: context.caseId, decision_id: context.decisionId };
    switch (context.option.verdict) {
      case SUSPEND.verdict:
        effects.actions.push(request(context, 'suspend_account', target));
        effects.actions.push(request(context, 'block_identifier', target, { identifiers: await identifiersOf(context.tx, context.subject.id) }));
        effects.published.push(await this.accounts.label(context.subject.id, 'confirmed', 'review', detail, context.tx));
        break;
      case RESTRICT.verdict:
        effects.actions.push(request(context, 'restrict_account', target));
        effects.published.push(await this.accounts.label(context.subject.id, 'suspected', 'review', detail, context.tx));
        break;
      case DISMISS.verdict:
        // A reviewer's "not violating" keeps the account out of seed sets and guardrails.
        effects.published.push(await this.accounts.label(context.subject.id, 'cleared', 'review', detail, context.tx));
        break;
    }
    return effects;
  }
}
