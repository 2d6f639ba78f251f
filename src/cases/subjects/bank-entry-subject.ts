import type { BankService } from '../../banks/banks.ts';
import type { SqlClient } from '../../store/sql.ts';
import type { BankEntrySection, DecisionOption } from '../types.ts';
import { type CaseSubjectType, type DecisionContext, type DecisionEffects, ESCALATE, noEffects } from './subject-type.ts';

const KEEP_DISABLED: DecisionOption = { verdict: 'keep_disabled', label: 'Keep disabled: a false-positive list entry', key: 'k', actions: [] };
const RE_ENABLE: DecisionOption = { verdict: 're_enable', label: 'Re-enable: its matches are right', key: 'r', actions: [] };

/** Uploads shown to the reviewer as examples of what the entry matched. */
const SAMPLE = 20;

/**
 * A bank entry taken out of matching, by the flood guard (banks/flood-quarantine.ts). The
 * reviewer keeps it out (a meme or a logo on a list) or puts it back, exempt from the flood
 * guard from then on (content that truly spreads widely). Nothing is enforced on users either way.
 */
export class BankEntrySubject implements CaseSubjectType {
  readonly kind = 'bank_entry' as const;
  readonly options = [KEEP_DISABLED, RE_ENABLE, ESCALATE];

  constructor(private readonly banks: BankService) {}

  async describe(client: SqlClient, id: string) {
    return { content: null, account: null, network: null, bank_entry: await this.section(client, Number(id)) };
  }

  private async section(client: SqlClient, entryId: number): Promise<BankEntrySection | null> {
    if (!Number.isSafeInteger(entryId)) return null;
    const [entry] = await this.banks.entriesByIds([entryId], client);
    if (!entry) return null;
    const hours = await client.query<{ hour: Date; uploads: number }>('SELECT hour, uploads FROM bank_entry_hourly_counts WHERE entry_id = $1 ORDER BY hour DESC', [entryId]);
    const samples = await client.query<{ content_id: string }>(
      'SELECT content_id FROM bank_entry_hourly_uploads WHERE entry_id = $1 ORDER BY hour DESC, content_id LIMIT $2',
      [entryId, SAMPLE],
    );
    return {
      entry_id: entry.id,
      bank: entry.bankName,
      signal_type: entry.signalType,
      value: entry.value,
      source: entry.source,
      tags: entry.tags,
      disabled_until: entry.disabledUntil === 'infinity' ? 'infinity' : (entry.disabledUntil?.toISOString() ?? null),
      disabled_reason: entry.disabledReason,
      uploads_by_hour: hours.rows.map((row) => ({ hour: new Date(row.hour).toISOString(), uploads: Number(row.uploads) })),
      sample_content_ids: samples.rows.map((row) => row.content_id),
    };
  }

  async apply(context: DecisionContext): Promise<DecisionEffects> {
    const effects = noEffects();
    const entryId = Number(context.subject.id);
    if (context.option.verdict === KEEP_DISABLED.verdict) {
      const reason = `false positive (case ${context.caseId})`;
      const kept = await this.banks.disableEntryIn(context.tx, entryId, { reason });
      effects.afterCommit.push(() => void kept.published());
    } else if (context.option.verdict === RE_ENABLE.verdict) {
      const enabled = await this.banks.enableEntryIn(context.tx, entryId, { floodExempt: true });
      effects.afterCommit.push(() => void enabled.published());
    }
    return effects;
  }
}
