import { invalid, notFound } from '../errors.ts';
import type { SignalRegistry } from '../signals/registry.ts';
import type { SqlClient } from '../store/sql.ts';
import type { BankService } from './banks.ts';

/**
 * A piece of banked content as HMA sees it: the hashes of one media item (at most one per
 * signal type), a note and user metadata, under one id. Bulwark keeps one entry per hash; a
 * content's id is the id of its first entry, and entries added elsewhere (imports, /v1,
 * exchanges) are each a content of their own, so every entry id a match reports is a content
 * id or belongs to one (see bank_content_details).
 */
export interface BankContent {
  id: number;
  bankName: string;
  /** Signal type to value. */
  signals: Record<string, string>;
  entryIds: number[];
  note: string | null;
  metadata: Record<string, unknown> | null;
  addedAt: Date;
}

export interface NewBankContent {
  /** Signal type to value; validated and normalized here. */
  signals: Record<string, string>;
  note?: string | null;
  metadata?: Record<string, unknown> | null;
  /** Recorded as each entry's source. */
  source?: string;
}

interface ContentRow {
  entry_id: number;
  content_id: number | null;
  signal_type: string;
  value: string;
  note: string | null;
  metadata: Record<string, unknown> | null;
  added_at: Date;
  bank_name: string;
}

export class BankContentService {
  constructor(private readonly sql: SqlClient, private readonly banks: BankService, private readonly signals: SignalRegistry) {}

  /**
   * Adds the content's hashes to the bank in one transaction. A hash the bank already holds is
   * not added twice (Bulwark keeps each hash once per bank): the content then is the one that
   * holds it, and the other hashes join it.
   */
  async add(bankName: string, content: NewBankContent): Promise<BankContent> {
    await this.banks.get(bankName);
    const signals = Object.entries(content.signals).map(([type, value]) => this.signals.normalize(type, value));
    if (signals.length === 0) throw invalid('no signals given');
    const types = signals.map((signal) => signal.signalType);
    if (new Set(types).size !== types.length) throw invalid('one signal per signal type');
    const { contentId, published } = await this.sql.transaction(async (tx) => {
      const added = await this.banks.addEntriesIn(tx, bankName, signals.map((signal) => ({ ...signal, source: content.source })));
      const rows = await tx.query<{ id: number; signal_type: string; content_id: number | null }>(
        `SELECT e.id, e.signal_type, d.content_id FROM bank_entries e JOIN banks b ON b.id = e.bank_id
         LEFT JOIN bank_content_details d ON d.entry_id = e.id
         JOIN jsonb_to_recordset($2::jsonb) AS r(signal_type text, value text) ON r.signal_type = e.signal_type AND r.value = e.value
         WHERE b.name = $1 ORDER BY e.id`,
        [bankName, JSON.stringify(signals.map((signal) => ({ signal_type: signal.signalType, value: signal.value })))],
      );
      const existing = rows.rows.find((row) => row.content_id !== null);
      const id = Number(existing?.content_id ?? rows.rows[0].id);
      await tx.query(
        `INSERT INTO bank_content_details (entry_id, content_id, note, metadata)
         SELECT unnest($1::bigint[]), $2, $3, $4::jsonb ON CONFLICT (entry_id) DO NOTHING`,
        [rows.rows.map((row) => Number(row.id)), id, content.note ?? null, content.metadata ? JSON.stringify(content.metadata) : null],
      );
      return { contentId: id, published: added.published };
    });
    await published();
    return this.get(bankName, contentId);
  }

  private async rows(bankName: string | null, contentId: number): Promise<ContentRow[]> {
    const result = await this.sql.query<ContentRow>(
      `SELECT e.id AS entry_id, d.content_id, e.signal_type, e.value, d.note, d.metadata, e.added_at, b.name AS bank_name
       FROM bank_entries e JOIN banks b ON b.id = e.bank_id LEFT JOIN bank_content_details d ON d.entry_id = e.id
       WHERE ($1::text IS NULL OR b.name = $1) AND (d.content_id = $2 OR (e.id = $2 AND d.content_id IS NULL))
       ORDER BY e.id`,
      [bankName, contentId],
    );
    return result.rows;
  }

  /** The content of that id in that bank; not found when it is in another bank or none. */
  async get(bankName: string, contentId: number): Promise<BankContent> {
    const rows = await this.rows(bankName, contentId);
    if (rows.length === 0) throw notFound(`content '${contentId}' not found`, { bank: bankName, content_id: contentId });
    return {
      id: contentId,
      bankName: rows[0].bank_name,
      signals: Object.fromEntries(rows.map((row) => [row.signal_type, row.value])),
      entryIds: rows.map((row) => Number(row.entry_id)),
      note: rows[0].note,
      metadata: rows[0].metadata,
      addedAt: rows[0].added_at,
    };
  }

  /** Changes the note (null clears it). */
  async setNote(bankName: string, contentId: number, note: string | null): Promise<BankContent> {
    const content = await this.get(bankName, contentId);
    await this.sql.query(
      `INSERT INTO bank_content_details (entry_id, content_id, note) SELECT unnest($1::bigint[]), $2, $3
       ON CONFLICT (entry_id) DO UPDATE SET note = EXCLUDED.note`,
      [content.entryIds, contentId, note],
    );
    return { ...content, note };
  }

  /** Removes every hash of the content from the bank in one transaction; returns how many entries went (0 when none). */
  async remove(bankName: string, contentId: number): Promise<number> {
    const rows = await this.rows(bankName, contentId);
    return this.banks.removeEntriesById(bankName, rows.map((row) => Number(row.entry_id)));
  }

  /** The content id of each entry id (an entry without details is its own content). */
  async contentIds(entryIds: number[]): Promise<Map<number, number>> {
    const ids = new Map(entryIds.map((id) => [id, id]));
    if (entryIds.length === 0) return ids;
    const result = await this.sql.query<{ entry_id: number; content_id: number }>(
      'SELECT entry_id, content_id FROM bank_content_details WHERE entry_id = ANY($1::bigint[])',
      [entryIds],
    );
    for (const row of result.rows) ids.set(Number(row.entry_id), Number(row.content_id));
    return ids;
  }
}
