import type { BankService } from '../../banks/banks.ts';
import type { AccountDirectory } from '../../graph/accounts.ts';
import type { MediaVault } from '../../media/media-vault.ts';
import type { SqlClient } from '../../store/sql.ts';
import type { ContentSection, DecisionOption } from '../types.ts';
import { describeAccount } from './account-section.ts';
import { type CaseSubjectType, type DecisionContext, type DecisionEffects, DISMISS, ESCALATE, noEffects, request } from './subject-type.ts';

/** Where hashes of media that reviewers confirmed are kept, so the same media is caught on its next upload. */
export const REVIEWER_CONFIRMED_BANK = 'reviewer-confirmed';

const CONFIRM: DecisionOption = { verdict: 'confirm', label: 'Confirm: remove and bank', key: 'c', actions: ['remove_content'] };

interface ContentRow {
  content_id: string;
  account_id: string;
  content_type: string;
  signals: { signalType: string; value: string; quality?: number }[];
  matches: { bank: string; signalType: string; distance: number; tags: string[]; provenance?: { exchange: string; member: string | null; itemKey: string; tags: string[] }[] }[];
}

/** A piece of uploaded content. */
export class ContentSubject implements CaseSubjectType {
  readonly kind = 'content' as const;
  readonly options = [CONFIRM, DISMISS, ESCALATE];

  constructor(
    private readonly banks: BankService,
    private readonly accounts: AccountDirectory,
    private readonly vault: MediaVault | undefined,
  ) {}

  private async content(client: SqlClient, contentId: string): Promise<ContentRow | undefined> {
    const result = await client.query<ContentRow>('SELECT content_id, account_id, content_type, signals, matches FROM content WHERE content_id = $1', [contentId]);
    return result.rows[0];
  }

  async describe(client: SqlClient, contentId: string) {
    const row = await this.content(client, contentId);
    if (!row) return { content: null, account: null, network: null };
    const content: ContentSection = {
      content_id: row.content_id,
      account_id: row.account_id,
      content_type: row.content_type,
      media_available: this.vault ? await this.vault.has(client, contentId) : false,
      signals: row.signals.map((signal) => ({ signal_type: signal.signalType, value: signal.value, ...(signal.quality !== undefined ? { quality: signal.quality } : {}) })),
      matches: row.matches.map((match) => ({
        bank: match.bank,
        signal_type: match.signalType,
        distance: match.distance,
        tags: match.tags,
        ...(match.provenance?.length ? { provenance: match.provenance.map((from) => ({ exchange: from.exchange, member: from.member, item_key: from.itemKey, tags: from.tags })) } : {}),
      })),
    };
    return { content, account: await describeAccount(client, row.account_id), network: null };
  }

  async mediaContentId(_client: SqlClient, contentId: string): Promise<string> {
    return contentId;
  }

  async apply(context: DecisionContext): Promise<DecisionEffects> {
    const effects = noEffects();
    if (context.option.verdict !== CONFIRM.verdict) return effects;
    const row = await this.content(context.tx, context.subject.id);
    effects.actions.push(request(context, 'remove_content', { kind: 'content', id: context.subject.id }));
    if (!row) return effects;
    // The confirmed media's own hashes go into the local bank: its next upload matches at once.
    const banked = await this.banks.addEntriesIn(
      context.tx,
      REVIEWER_CONFIRMED_BANK,
      row.signals.map((signal) => ({ signalType: signal.signalType, value: signal.value, source: `case:${context.caseId}`, tags: context.policy ? [context.policy.id] : [] })),
      'Hashes of media that reviewers confirmed',
    );
    effects.afterCommit.push(banked.published);
    effects.published.push(
      await this.accounts.label(row.account_id, 'confirmed', 'review', { case_id: context.caseId, decision_id: context.decisionId, content_id: row.content_id }, context.tx),
    );
    return effects;
  }
}
