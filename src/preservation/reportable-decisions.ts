import { CASE_DECIDED_EVENT } from '../cases/case-service.ts';
import type { EventLog } from '../events/event-log.ts';
import { OutboxConsumer } from '../events/outbox-consumer.ts';
import type { SqlClient } from '../store/sql.ts';
import type { PreservationService } from './preservation-service.ts';

export const REPORTABLE_DECISION_PRESERVER = 'preservation.reportable-decisions';

/**
 * Reported material must be preserved (18 U.S.C. 2258A(h)): a decision that makes its case
 * reportable (a reportable verdict under a reported policy) preserves the case, when a
 * preservation key is configured.
 */
export function reportableDecisionPreserver(
  sql: SqlClient,
  events: EventLog,
  preservation: PreservationService,
  reportable: { verdicts: string[]; policies: string[] },
): OutboxConsumer {
  return new OutboxConsumer(sql, events, REPORTABLE_DECISION_PRESERVER, [CASE_DECIDED_EVENT], async (tx, event) => {
    const decided = event.payload as { case_id: number | null; verdict: string; policy: string | null };
    if (!preservation.configured || decided.case_id === null || !decided.policy) return;
    if (!reportable.verdicts.includes(decided.verdict) || !reportable.policies.includes(decided.policy)) return;
    await preservation.preserve(tx, { caseId: decided.case_id, reason: 'ncmec_report', requestedBy: 'system' });
  });
}
