import { REMOVED_ENTRY_COLUMNS, type RemovedEntryRow, bumpRevision, toRemovedEntry } from '../banks/change-log.ts';
import type { CaseService } from '../cases/case-service.ts';
import { REVIEWER_CONFIRMED_BANK } from '../cases/subjects/content-subject.ts';
import { type CaseSubjectType, type DecisionContext, type DecisionEffects, ESCALATE, noEffects, request } from '../cases/subjects/subject-type.ts';
import type { DecisionOption, EnforcementRequest } from '../cases/types.ts';
import { conflict } from '../errors.ts';
import type { EventLog } from '../events/event-log.ts';
import type { AccountDirectory } from '../graph/accounts.ts';
import type { SqlClient } from '../store/sql.ts';
import { APPEAL_RESOLVED_EVENT, affectedAccounts, appealedSubject } from './appeals.ts';

const UPHOLD: DecisionOption = { verdict: 'uphold', label: 'Uphold the decision', key: 'u', actions: [] };
const REVERSE: DecisionOption = { verdict: 'reverse', label: 'Reverse: undo its actions', key: 'r', actions: ['restore_content', 'reinstate_account', 'unblock_identifier'] };

/** What undoes each action a reversed decision fired. */
const UNDO: Record<string, EnforcementRequest['type'] | undefined> = {
  remove_content: 'restore_content',
  restrict_account: 'reinstate_account',
  suspend_account: 'reinstate_account',
  block_identifier: 'unblock_identifier',
};

/** An appeal against a decision: its reviewer sees what was decided about, and upholds or reverses it. */
export class AppealSubject implements CaseSubjectType {
  readonly kind = 'appeal' as const;
  readonly options = [UPHOLD, REVERSE, ESCALATE];

  constructor(
    private readonly cases: CaseService,
    private readonly accounts: AccountDirectory,
    private readonly events: EventLog,
  ) {}

  async describe(client: SqlClient, id: string) {
    const appealed = await appealedSubject(client, Number(id));
    if (!appealed?.subject) return { content: null, account: null, network: null };
    return this.cases.subjectSections(client, appealed.subject);
  }

  async mediaContentId(client: SqlClient, id: string): Promise<string | undefined> {
    const appealed = await appealedSubject(client, Number(id));
    return appealed?.subject?.kind === 'content' ? appealed.subject.id : undefined;
  }

  async apply(context: DecisionContext): Promise<DecisionEffects> {
    const effects = noEffects();
    if (context.option.verdict === ESCALATE.verdict) return effects;
    const appealId = Number(context.subject.id);
    const found = await context.tx.query<{ decision_id: number; case_id: number | null; status: string }>('SELECT decision_id, case_id, status FROM appeals WHERE id = $1 FOR UPDATE', [appealId]);
    const appeal = found.rows[0];
    if (!appeal) throw conflict(`appeal ${appealId} does not exist`);
    if (appeal.status !== 'pending') throw conflict(`appeal ${appealId} is already ${appeal.status}`);
    const reversed = context.option.verdict === REVERSE.verdict;
    if (reversed) {
      // Every action of the decision, network members included, undone once each.
      const fired = await context.tx.query<{ type: string; target_kind: 'content' | 'account'; target_id: string; identifiers: { kind: string; hash: string }[] | null }>(
        'SELECT type, target_kind, target_id, identifiers FROM actions WHERE decision_id = $1 ORDER BY id',
        [appeal.decision_id],
      );
      const seen = new Set<string>();
      for (const action of fired.rows) {
        const undo = UNDO[action.type];
        if (!undo || seen.has(`${undo}:${action.target_id}`)) continue;
        seen.add(`${undo}:${action.target_id}`);
        effects.actions.push(request(context, undo, { kind: action.target_kind, id: action.target_id }, undo === 'unblock_identifier' ? { identifiers: action.identifiers ?? [] } : {}));
      }
      const detail = { appeal_id: appealId, decision_id: Number(appeal.decision_id) };
      for (const account of await affectedAccounts(context.tx, Number(appeal.decision_id))) {
        effects.published.push(await this.accounts.label(account, 'cleared', 'appeal', detail, context.tx));
      }
      // Media confirmed in error must stop matching.
      if (appeal.case_id !== null) {
        const removed = await context.tx.query<RemovedEntryRow & { bank_id: number }>(
          `DELETE FROM bank_entries WHERE source = $1 AND bank_id = (SELECT id FROM banks WHERE name = $2) RETURNING bank_id, ${REMOVED_ENTRY_COLUMNS}`,
          [`case:${appeal.case_id}`, REVIEWER_CONFIRMED_BANK],
        );
        if (removed.rows.length > 0) await bumpRevision(context.tx, removed.rows[0].bank_id, { removed: removed.rows.map(toRemovedEntry) });
      }
    }
    await context.tx.query('UPDATE appeals SET status = $2, resolved_at = now(), resolved_by = $3, outcome_note = $4 WHERE id = $1', [
      appealId,
      reversed ? 'reversed' : 'upheld',
      context.decidedBy,
      context.note ?? null,
    ]);
    effects.published.push(
      await this.events.append(context.tx, APPEAL_RESOLVED_EVENT, `appeal:${appealId}`, {
        appeal_id: appealId,
        decision_id: Number(appeal.decision_id),
        outcome: reversed ? 'reversed' : 'upheld',
        resolved_by: context.decidedBy,
        review_decision_id: context.decisionId,
      }),
    );
    return effects;
  }
}
