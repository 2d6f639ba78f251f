import type { SqlClient } from '../store/sql.ts';
import type { AuditKeyring } from './audit-keys.ts';
import { AT_TEXT, CHAIN_KEYED_ACTION, keyedMac, unkeyedHash } from './chain.ts';
import type { CheckpointProblem, ParsedCheckpoint } from './checkpoints.ts';

/** The first entry that fails, by its place in the chain (1 = the first entry) and its sequence number. */
export interface AuditFailure {
  position: number;
  /** Absent when the entry is missing altogether (the log was cut short). */
  seq?: number;
  reason: string;
}

export interface AuditReport {
  /** Entries that verified, before the failure if there is one. */
  entries: number;
  /** The last entry that verified. */
  head?: { seq: number; hash: string; keyed: boolean };
  /** Entries chained without a key (before the keyed chain began, or all of them when no key was ever set). */
  unkeyedEntries: number;
  /** The keys that chained the verified entries, by id. */
  keyIds: string[];
  failure?: AuditFailure;
  /** Checkpoints compared with the chain, and the newest of them. */
  checkpoints: { checked: number; newest?: ParsedCheckpoint };
}

/** A point the chain is already known to reach (a checkpoint this process verified), to resume from. */
export interface ChainStart {
  count: number;
  headSeq: number;
  head: string;
}

interface Row {
  seq: number | string;
  at_text: string;
  actor: string;
  action: string;
  subject: string;
  detail: Record<string, unknown>;
  prev_hash: string;
  hash: string;
  key_id: string | null;
}

/**
 * Walks the chain in sequence order and stops at the first entry that fails: a link that does
 * not match its content, a link that does not follow the entry before, an unkeyed entry after
 * the keyed chain began, a key that is not configured, or a difference from a checkpoint. A
 * checkpoint that counts more entries than remain names the first missing one.
 */
export async function verifyChain(sql: SqlClient, keyring: AuditKeyring, options: { checkpoints?: ParsedCheckpoint[]; from?: ChainStart } = {}): Promise<AuditReport> {
  const checkpoints = [...(options.checkpoints ?? [])].sort((a, b) => a.count - b.count);
  const byCount = new Map<number, ParsedCheckpoint[]>();
  for (const checkpoint of checkpoints) byCount.set(checkpoint.count, [...(byCount.get(checkpoint.count) ?? []), checkpoint]);
  const keyIds = new Set<string>();
  let prev = '';
  let position = 0;
  let unkeyed = 0;
  let keyed = false;
  let head: AuditReport['head'];
  let after = 0;
  let checked = 0;
  const report = (failure?: AuditFailure): AuditReport => ({
    entries: position - (failure && failure.seq !== undefined ? 1 : 0),
    head,
    unkeyedEntries: unkeyed,
    keyIds: [...keyIds],
    ...(failure ? { failure } : {}),
    checkpoints: { checked, newest: checkpoints.at(-1) },
  });

  if (options.from) {
    const start = await sql.query<{ hash: string; key_id: string | null; n: number | string }>(
      'SELECT hash, key_id, (SELECT count(*) FROM audit_log WHERE seq <= $1) AS n FROM audit_log WHERE seq = $1',
      [options.from.headSeq],
    );
    const row = start.rows[0];
    if (!row || row.hash !== options.from.head || Number(row.n) !== options.from.count) {
      return { ...report({ position: options.from.count, seq: options.from.headSeq, reason: 'differs from the checkpoint this process last verified' }), entries: 0 };
    }
    prev = row.hash;
    position = options.from.count;
    keyed = row.key_id !== null;
    after = options.from.headSeq;
    head = { seq: after, hash: prev, keyed };
  }

  for (;;) {
    const page = await sql.query<Row>(
      `SELECT seq, ${AT_TEXT} AS at_text, actor, action, subject, detail, prev_hash, hash, key_id FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 1000`,
      [after],
    );
    if (page.rows.length === 0) break;
    for (const row of page.rows) {
      const seq = Number(row.seq);
      position++;
      const reason = entryProblem(row, seq, prev, keyed, position, keyring);
      if (reason) return report({ position, seq, reason });
      for (const checkpoint of byCount.get(position) ?? []) {
        checked++;
        if (checkpoint.headSeq !== seq || checkpoint.head !== row.hash) {
          return report({ position, seq, reason: `differs from checkpoint ${checkpoint.source} (${checkpoint.count} entries, ending at entry ${checkpoint.headSeq}, signed ${checkpoint.at}): an entry up to here was changed, removed or reordered` });
        }
      }
      if (row.key_id === null) unkeyed++;
      else keyIds.add(row.key_id);
      keyed ||= row.key_id !== null;
      prev = row.hash;
      after = seq;
      head = { seq, hash: row.hash, keyed: row.key_id !== null };
    }
  }
  const beyond = checkpoints.find((checkpoint) => checkpoint.count > position);
  if (beyond) {
    checked++;
    return report({
      position: position + 1,
      reason: `missing: checkpoint ${beyond.source} (signed ${beyond.at}) says the log had ${beyond.count} entries, ending at entry ${beyond.headSeq}; only ${position} remain, so the log was cut short`,
    });
  }
  return report();
}

function entryProblem(row: Row, seq: number, prev: string, keyedBefore: boolean, position: number, keyring: AuditKeyring): string | undefined {
  const fields = { seq, at: row.at_text, actor: row.actor, action: row.action, subject: row.subject, detail: row.detail, prev: row.prev_hash };
  if (row.key_id === null) {
    if (keyedBefore) return 'chained without a key after the keyed chain began: written or rewritten by someone without the audit key';
    if (unkeyedHash(fields) !== row.hash) return 'its content does not match its hash: the entry was changed';
  } else {
    const key = keyring.get(row.key_id);
    if (!key) return `chained with audit key ${row.key_id}, which is not configured (BULWARK_AUDIT_KEY or BULWARK_AUDIT_KEYS_PREVIOUS)`;
    if (keyedMac(key.secret, row.key_id, fields) !== row.hash) return `its content does not match its MAC under key ${row.key_id}: the entry was changed or rechained without the key`;
    if (!keyedBefore && position > 1 && (row.action !== CHAIN_KEYED_ACTION || row.detail.unkeyed_entries !== position - 1)) {
      return `the keyed chain must begin with an ${CHAIN_KEYED_ACTION} entry counting the ${position - 1} unkeyed entries before it`;
    }
  }
  if (row.prev_hash !== prev) return 'does not follow the entry before it: an entry was removed, inserted or reordered before this one';
  return undefined;
}
