import type { AccountDirectory } from '../../graph/accounts.ts';
import { storedMinorsContactedSql } from '../../graph/minor-contacts.ts';
import { edgesAmong } from './network-edges.ts';
import type { SqlClient } from '../../store/sql.ts';
import type { DecisionOption, NetworkSection } from '../types.ts';
import { type CaseSubjectType, type DecisionContext, type DecisionEffects, DISMISS, ESCALATE, noEffects, request } from './subject-type.ts';

const TAKEDOWN: DecisionOption = { verdict: 'takedown', label: 'Take down the network', key: 't', actions: ['takedown_network'] };

/** The console draws the network; past this many members it shows the strongest ones. */
const MAX_NODES = 500;

/** A network found by detection: reviewers see its structure, never its media. */
export class NetworkSubject implements CaseSubjectType {
  readonly kind = 'network' as const;
  readonly options = [TAKEDOWN, DISMISS, ESCALATE];

  constructor(private readonly accounts: AccountDirectory) {}

  private async members(client: SqlClient, networkId: number) {
    const result = await client.query<{ id: number; external_id: string; role: string; score: number; label: string | null; minor: boolean | null }>(
      `SELECT a.id, a.external_id, m.role, m.score, a.label, a.minor FROM network_members m JOIN accounts a ON a.id = m.account_id
       WHERE m.network_id = $1 ORDER BY CASE m.role WHEN 'seller' THEN 0 WHEN 'buyer' THEN 1 ELSE 2 END, m.score DESC, a.external_id`,
      [networkId],
    );
    return result.rows;
  }

  async describe(client: SqlClient, id: string) {
    const networkId = Number(id);
    const found = Number.isSafeInteger(networkId) ? await client.query('SELECT id FROM networks WHERE id = $1', [networkId]) : { rows: [] };
    if (found.rows.length === 0) return { content: null, account: null, network: null };
    const members = await this.members(client, networkId);
    const shown = members.slice(0, MAX_NODES);
    const ids = shown.map((member) => member.id);
    const edges = await edgesAmong(client, ids);
    const minors = await client.query<{ n: number }>(`SELECT ${storedMinorsContactedSql('n')} AS n FROM networks n WHERE n.id = $1`, [networkId]);
    const network: NetworkSection = {
      network_id: networkId,
      size: members.length,
      sellers: members.filter((member) => member.role === 'seller').length,
      buyers: members.filter((member) => member.role === 'buyer').length,
      minors_contacted: Number(minors.rows[0]?.n ?? 0),
      nodes: shown.map((member) => ({
        id: member.external_id,
        role: member.role === 'seller' || member.role === 'buyer' ? member.role : 'member',
        label: member.label,
        score: member.score,
        minor: member.minor === true,
      })),
      edges,
    };
    return { content: null, account: null, network };
  }

  async apply(context: DecisionContext): Promise<DecisionEffects> {
    const effects = noEffects();
    if (context.option.verdict !== TAKEDOWN.verdict) return effects;
    const members = await this.members(context.tx, Number(context.subject.id));
    effects.actions.push(request(context, 'takedown_network', { kind: 'network', id: context.subject.id }, { members: members.map((member) => member.external_id) }));
    for (const member of members) {
      effects.published.push(await this.accounts.label(member.external_id, 'confirmed', 'review', { case_id: context.caseId, decision_id: context.decisionId, network_id: Number(context.subject.id) }, context.tx));
    }
    return effects;
  }
}
