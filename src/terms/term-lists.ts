import { conflict, invalid, notFound } from '../errors.ts';
import type { SqlClient } from '../store/sql.ts';
import { type TermAction, TermMatcher } from './term-matcher.ts';

export interface TermListSummary {
  name: string;
  action: TermAction;
  termCount: number;
  revision: number;
  updatedAt: Date;
}

export interface TermInput {
  id: string;
  term: string;
  mode?: 'word' | 'substring';
}

const LIST_NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
const ACTIONS: readonly TermAction[] = ['block', 'interstitial', 'signal'];

/**
 * Operator term lists, kept in the store and compiled into one matcher. The compiled
 * matcher is rebuilt when any list's revision moves, so every process sees the same lists.
 */
export class TermListService {
  private compiled: { key: string; matcher: TermMatcher; checkedAt: number } | undefined;

  /** refreshMs: how long a compiled matcher is trusted before the store is asked whether lists changed elsewhere. */
  constructor(private readonly sql: SqlClient, private readonly refreshMs = 1000) {}

  async list(): Promise<TermListSummary[]> {
    const result = await this.sql.query<{ name: string; action: TermAction; term_count: number; revision: number; updated_at: Date }>(
      `SELECT l.name, l.action, l.revision, l.updated_at, (SELECT count(*) FROM terms t WHERE t.list_id = l.id) AS term_count
       FROM term_lists l ORDER BY l.name`,
    );
    return result.rows.map((row) => ({ name: row.name, action: row.action, termCount: Number(row.term_count), revision: Number(row.revision), updatedAt: row.updated_at }));
  }

  /**
   * Creates the list or replaces its terms in one transaction; the whole list is checked by
   * compiling it first, so a bad term leaves the stored list as it was.
   */
  async replace(name: string, action: TermAction, terms: TermInput[]): Promise<TermListSummary> {
    if (!LIST_NAME.test(name)) throw invalid('a term list name is 1-64 of a-z 0-9 _ . - and starts with a letter or digit', { name });
    if (!ACTIONS.includes(action)) throw invalid(`a term list action is one of ${ACTIONS.join(', ')}`, { action });
    try {
      new TermMatcher([{ name, action, terms }]);
    } catch (error) {
      throw invalid((error as Error).message, { list: name });
    }
    await this.sql.transaction(async (tx) => {
      const upserted = await tx.query<{ id: number }>(
        `INSERT INTO term_lists (name, action) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET action = excluded.action, revision = term_lists.revision + 1, updated_at = now()
         RETURNING id`,
        [name, action],
      );
      const listId = upserted.rows[0].id;
      await tx.query('DELETE FROM terms WHERE list_id = $1', [listId]);
      await tx.query(
        `INSERT INTO terms (list_id, term_id, term, mode)
         SELECT $1, r.id, r.term, coalesce(r.mode, 'word') FROM jsonb_to_recordset($2::jsonb) AS r(id text, term text, mode text)`,
        [listId, JSON.stringify(terms)],
      );
    });
    this.compiled = undefined;
    const summary = (await this.list()).find((list) => list.name === name);
    if (!summary) throw conflict(`term list ${name} was removed while it was being written`);
    return summary;
  }

  async remove(name: string): Promise<void> {
    const result = await this.sql.query('DELETE FROM term_lists WHERE name = $1', [name]);
    if (result.rowCount === 0) throw notFound(`no term list named ${JSON.stringify(name)}`);
    this.compiled = undefined;
  }

  /** The matcher for every list as stored now; cheap when nothing changed. */
  async matcher(): Promise<TermMatcher> {
    if (this.compiled && Date.now() - this.compiled.checkedAt < this.refreshMs) return this.compiled.matcher;
    const state = await this.sql.query<{ key: string | null }>(
      `SELECT string_agg(id || ':' || revision, ',' ORDER BY id) AS key FROM term_lists`,
    );
    const key = state.rows[0]?.key ?? '';
    if (this.compiled?.key === key) {
      this.compiled.checkedAt = Date.now();
      return this.compiled.matcher;
    }
    const rows = await this.sql.query<{ name: string; action: TermAction; terms: TermInput[] | null }>(
      `SELECT l.name, l.action,
              (SELECT json_agg(json_build_object('id', t.term_id, 'term', t.term, 'mode', t.mode) ORDER BY t.term_id) FROM terms t WHERE t.list_id = l.id) AS terms
       FROM term_lists l ORDER BY l.id`,
    );
    const matcher = new TermMatcher(rows.rows.map((row) => ({ name: row.name, action: row.action, terms: row.terms ?? [] })));
    this.compiled = { key, matcher, checkedAt: Date.now() };
    return matcher;
  }
}
