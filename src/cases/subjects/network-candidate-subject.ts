import type { AccountDirectory } from '../../graph/accounts.ts';
import { edgesAmong } from './network-edges.ts';
import type { CandidateSummary } from '../../graph/seedless/candidate-description.ts';
import type { SqlClient } from '../../store/sql.ts';
import type { DecisionOption, NetworkSection } from '../types.ts';
import { type CaseSubjectType, type DecisionContext, type DecisionEffects, DISMISS, ESCALATE, noEffects } from './subject-type.ts';

/**
 * The strongest verdict on a candidate: its members become suspected, which seeds the next
 * detection run. Not confirmed and no enforcement: a candidate was found without any
 * confirmed account, and confirming is for a network case or an account case after this.
 */
const SUSPECT: DecisionOption = { verdict: 'suspect', label: 'Mark members suspected (seeds detection; confirms no one)', key: 's', actions: [] };

const MAX_NODES = 500;
const FEATURES_SHOWN = 10;

/** A candidate network from seedless discovery: the reviewer sees its structure and evidence, never media. */
export class NetworkCandidateSubject implements CaseSubjectType {
  readonly kind = 'network_candidate' as const;
  readonly options = [SUSPECT, DISMISS, ESCALATE];

  constructor(private readonly accounts: AccountDirectory) {}

  private async members(client: SqlClient, candidateId: number) {
    const result = await client.query<{ id: number; external_id: string; role: 'seller' | 'buyer' | 'member'; score: number; label: string | null; minor: boolean | null }>(
      `SELECT a.id, a.external_id, m.role, m.score, a.label, a.minor FROM network_candidate_members m JOIN accounts a ON a.id = m.account_id
       WHERE m.candidate_id = $1 ORDER BY CASE m.role WHEN 'seller' THEN 0 WHEN 'buyer' THEN 1 ELSE 2 END, m.score DESC, a.external_id`,
      [candidateId],
    );
    return result.rows;
  }

  async describe(client: SqlClient, id: string) {
    const candidateId = Number(id);
    const found = Number.isSafeInteger(candidateId)
      ? await client.query<{ status: string; score: number; summary: CandidateSummary }>('SELECT status, score, summary FROM network_candidates WHERE id = $1', [candidateId])
      : { rows: [] };
    const row = found.rows[0];
    if (!row) return { content: null, account: null, network: null };
    const members = await this.members(client, candidateId);
    const shown = members.slice(0, MAX_NODES);
    const edges = await edgesAmong(client, shown.map((member) => member.id));
    const summary = row.summary;
    const network: NetworkSection = {
      network_id: candidateId,
      size: members.length,
      sellers: summary.sellers,
      buyers: summary.buyers,
      minors_contacted: summary.minorContacts ?? 0,
      nodes: shown.map((member) => ({ id: member.external_id, role: member.role, label: member.label, score: member.score, minor: member.minor === true })),
      edges,
      candidate: {
        candidate_id: candidateId,
        status: row.status,
        score: Number(row.score),
        text: summary.text,
        features: summary.features.slice(0, FEATURES_SHOWN).map((f) => ({ kind: f.kind, value: f.value, origin: f.origin, members: f.members, accounts: f.accounts, weight: f.weight })),
      },
    };
    return { content: null, account: null, network };
  }

  async apply(context: DecisionContext): Promise<DecisionEffects> {
    const effects = noEffects();
    const candidateId = Number(context.subject.id);
    if (context.option.verdict === DISMISS.verdict) {
      await context.tx.query(`UPDATE network_candidates SET status = 'dismissed' WHERE id = $1`, [candidateId]);
    }
    if (context.option.verdict !== SUSPECT.verdict) return effects;
    await context.tx.query(`UPDATE network_candidates SET status = 'suspected' WHERE id = $1`, [candidateId]);
    for (const member of await this.members(context.tx, candidateId)) {
      // A reviewer's earlier confirmation or clearing stands; a candidate adds suspicion only where there was none.
      if (member.label !== null) continue;
      const detail = { case_id: context.caseId, decision_id: context.decisionId, candidate_id: candidateId };
      effects.published.push(await this.accounts.label(member.external_id, 'suspected', 'review', detail, context.tx));
    }
    return effects;
  }
}
