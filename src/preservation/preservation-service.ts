import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { AuditLog } from '../audit/audit-log.ts';
import { BulwarkError, conflict, invalid, notFound } from '../errors.ts';
import type { MediaVault } from '../media/media-vault.ts';
import type { SqlClient } from '../store/sql.ts';
import type { BlobStore } from './blob-store.ts';
import { KeyRing, open, pack, seal, unpack } from './keys.ts';
import { collectSnapshot, DEFAULT_EVIDENCE_SCOPES, type EvidenceScopeResolver, type PreservationSnapshot, type SnapshotMedia } from './snapshot.ts';

export const PRESERVATION_REASONS = ['ncmec_report', 'legal_request', 'operator'] as const;
export type PreservationReason = (typeof PRESERVATION_REASONS)[number];

export interface PreserveInput {
  caseId: number;
  reason: PreservationReason;
  /** Who asked: a reviewer's username, `api-key:<name>`, `ncmec-reporter`, … */
  requestedBy: string;
  ncmecReportId?: string;
}

export interface HoldView {
  id: number;
  record_id: number;
  reason: string;
  until: string | null;
  placed_by: string;
  placed_at: string;
  released_by: string | null;
  released_at: string | null;
  active: boolean;
}

/** A record's metadata: what listing and `GET` show. Never the snapshot, never media. */
export interface PreservationRecord {
  id: number;
  case_id: number;
  reason: PreservationReason;
  requested_by: string;
  ncmec_report_id: string | null;
  preserved_at: string;
  expires_at: string;
  status: 'preserved' | 'purged';
  key_id: string | null;
  media_count: number;
  account_count: number;
  on_hold: boolean;
  purged_at: string | null;
}

export interface PreservationDetail extends PreservationRecord {
  holds: HoldView[];
  accesses: { accessed_by: string; purpose: string; with_media: boolean; accessed_at: string }[];
  tombstone: { purged_at: string; why: string; purged_by: string; deleted: Record<string, unknown> } | null;
}

export interface PreservedMedia {
  content_id: string;
  media_type: string;
  bytes: Buffer;
}

export interface OpenedPreservation {
  record: PreservationRecord;
  snapshot: PreservationSnapshot;
  /** Present when asked for with `withMedia`. */
  media?: PreservedMedia[];
}

export interface PurgeResult {
  dry_run: boolean;
  /** Records whose evidence was deleted (or, in a dry run, would be). */
  purged: { record_id: number; case_id: number; blobs: number; expired_at: string }[];
  /** Expired records kept because a hold is active. */
  held: number;
}

export interface PreservationOptions {
  /** BULWARK_PRESERVATION_KEY: the key-encryption key for new records. */
  key?: string;
  /** BULWARK_PRESERVATION_OLD_KEYS: earlier keys, to open records sealed before a rotation. */
  oldKeys?: string[];
  blobStore: BlobStore;
  /** Where the sealed review media is, to copy into the evidence; absent: no media is preserved. */
  vault?: MediaVault;
  /** At least 365; the expiry is never earlier than one calendar year after preservation. */
  retentionDays?: number;
  now?: () => Date;
  scopes?: Record<string, EvidenceScopeResolver>;
  /** Names this process in tombstones (default bulwark@host:pid). */
  processName?: string;
  /** Where the periodic purge reports a failed run (it never logs evidence). */
  onPurgeError?: (error: unknown) => void;
}

const DAY_MS = 86_400_000;
const MIN_RETENTION_DAYS = 365;
const PURPOSE_MAX = 500;

interface RecordRow {
  id: number;
  case_id: number;
  reason: PreservationReason;
  requested_by: string;
  ncmec_report_id: string | null;
  preserved_at: Date;
  expires_at: Date;
  status: 'preserved' | 'purged';
  kek_id: string | null;
  media_count: number;
  account_count: number;
  purged_at: Date | null;
  on_hold: boolean;
}

interface HoldRow {
  id: number;
  record_id: number;
  reason: string;
  until: Date | null;
  placed_by: string;
  placed_at: Date;
  released_by: string | null;
  released_at: Date | null;
}

const toRecord = (row: RecordRow): PreservationRecord => ({
  id: Number(row.id),
  case_id: Number(row.case_id),
  reason: row.reason,
  requested_by: row.requested_by,
  ncmec_report_id: row.ncmec_report_id,
  preserved_at: row.preserved_at.toISOString(),
  expires_at: row.expires_at.toISOString(),
  status: row.status,
  key_id: row.kek_id,
  media_count: row.media_count,
  account_count: row.account_count,
  on_hold: row.on_hold,
  purged_at: row.purged_at?.toISOString() ?? null,
});

const isActive = (hold: HoldRow, now: Date) => hold.released_at === null && (hold.until === null || hold.until.getTime() > now.getTime());

const toHold = (row: HoldRow, now: Date): HoldView => ({
  id: Number(row.id),
  record_id: Number(row.record_id),
  reason: row.reason,
  until: row.until?.toISOString() ?? null,
  placed_by: row.placed_by,
  placed_at: row.placed_at.toISOString(),
  released_by: row.released_by,
  released_at: row.released_at?.toISOString() ?? null,
  active: isActive(row, now),
});

// $1 is "now": a hold is active until released or until its end date passes.
const ACTIVE_HOLD = `EXISTS (SELECT 1 FROM preservation_holds h WHERE h.record_id = r.id AND h.released_at IS NULL AND (h.until IS NULL OR h.until > $1))`;
const RECORD_SELECT = `SELECT r.id, r.case_id, r.reason, r.requested_by, r.ncmec_report_id, r.preserved_at, r.expires_at, r.status, r.kek_id,
  r.media_count, r.account_count, r.purged_at, ${ACTIVE_HOLD} AS on_hold FROM preservation_records r`;

/** One calendar year later in UTC (29 February runs to 1 March). */
function oneYearAfter(date: Date): Date {
  const later = new Date(date.getTime());
  later.setUTCFullYear(later.getUTCFullYear() + 1);
  return later;
}

const snapshotAad = (recordId: number) => `preservation-snapshot:${recordId}`;
const mediaAad = (recordId: number, blobKey: string) => `preservation-media:${recordId}:${blobKey}`;

/**
 * Evidence preservation for reports to NCMEC (US REPORT Act: one year) and legal requests:
 * a sealed snapshot of a case, its content, media and accounts, kept until its expiry and
 * any legal hold have passed, opened only with a logged purpose, and then deleted with a
 * tombstone that records the deletion for good.
 */
export class PreservationService {
  private readonly keys: KeyRing;
  private readonly now: () => Date;
  private readonly retentionDays: number;
  private readonly scopes: Record<string, EvidenceScopeResolver>;
  readonly processName: string;
  readonly blobStore: BlobStore;

  constructor(
    private readonly sql: SqlClient,
    private readonly audit: AuditLog,
    private readonly options: PreservationOptions,
  ) {
    this.keys = new KeyRing(options.key, options.oldKeys);
    this.now = options.now ?? (() => new Date());
    this.retentionDays = options.retentionDays ?? MIN_RETENTION_DAYS;
    if (!Number.isFinite(this.retentionDays) || this.retentionDays < MIN_RETENTION_DAYS) {
      throw invalid(`evidence is kept at least one year: the retention (BULWARK_PRESERVATION_RETENTION_DAYS) must be ${MIN_RETENTION_DAYS} days or more`);
    }
    this.scopes = { ...DEFAULT_EVIDENCE_SCOPES, ...options.scopes };
    this.processName = options.processName ?? `bulwark@${hostname()}:${process.pid}`;
    this.blobStore = options.blobStore;
  }

  /** Whether a key is configured, so callers (a report) can say so before they start. */
  get configured(): boolean {
    return this.keys.configured;
  }

  expiryFor(preservedAt: Date): Date {
    const byYear = oneYearAfter(preservedAt);
    const byDays = new Date(preservedAt.getTime() + this.retentionDays * DAY_MS);
    return byDays > byYear ? byDays : byYear;
  }

  /**
   * Seals what the case shows at this moment. With `tx` the record commits with the caller's
   * work (a report); media objects are written before that commit, so a rolled-back report
   * leaves sealed objects whose data key was never stored: unreadable, and swept by nobody.
   */
  async preserve(input: PreserveInput): Promise<PreservationRecord>;
  async preserve(tx: SqlClient, input: PreserveInput): Promise<PreservationRecord>;
  async preserve(first: SqlClient | PreserveInput, second?: PreserveInput): Promise<PreservationRecord> {
    const input = (second ?? first) as PreserveInput;
    this.keys.assertConfigured();
    if (!Number.isSafeInteger(input.caseId) || input.caseId < 1) throw invalid('caseId must be a positive integer');
    if (!PRESERVATION_REASONS.includes(input.reason)) throw invalid(`reason is one of ${PRESERVATION_REASONS.join(', ')}`);
    if (!input.requestedBy || input.requestedBy.length > 200) throw invalid('requestedBy names who asked (1-200 characters)');
    if (input.ncmecReportId !== undefined && !/^[\x21-\x7e]{1,100}$/.test(input.ncmecReportId)) throw invalid('ncmecReportId is 1-100 printable characters');
    if (second) return this.preserveIn(first as SqlClient, input);
    return this.sql.transaction((tx) => this.preserveIn(tx, input));
  }

  private async preserveIn(tx: SqlClient, input: PreserveInput): Promise<PreservationRecord> {
    const preservedAt = this.now();
    const { snapshot, scope } = await collectSnapshot(tx, input.caseId, preservedAt, this.scopes);
    const id = Number((await tx.query<{ id: number }>(`SELECT nextval('preservation_record_ids') AS id`)).rows[0].id);
    const dataKey = randomBytes(32);
    const wrapped = this.keys.wrap(dataKey, id);
    const media: SnapshotMedia[] = [];
    const blobs: { key: string; size: number; sha256: string; index: SnapshotMedia & { blob_key: string } }[] = [];
    if (this.options.vault) {
      for (const contentId of scope.contentIds) {
        const held = await this.options.vault.open(tx, contentId);
        if (!held) continue;
        // Blob names are random: a file listing shows no content id.
        const key = `records/${id}/${randomBytes(12).toString('hex')}.sealed`;
        const sealedBytes = pack(seal(dataKey, held.media, mediaAad(id, key)));
        await this.blobStore.put(key, sealedBytes);
        const entry = { content_id: contentId, media_type: held.mediaType, size: held.media.length, sha256: createHash('sha256').update(held.media).digest('hex') };
        media.push(entry);
        blobs.push({ key, size: sealedBytes.length, sha256: createHash('sha256').update(sealedBytes).digest('hex'), index: { ...entry, blob_key: key } });
      }
    }
    const full: PreservationSnapshot & { media_blobs: { content_id: string; blob_key: string }[] } = {
      ...snapshot,
      media,
      media_blobs: blobs.map((blob) => ({ content_id: blob.index.content_id, blob_key: blob.key })),
    };
    const box = seal(dataKey, Buffer.from(JSON.stringify(full)), snapshotAad(id));
    const expiresAt = this.expiryFor(preservedAt);
    await tx.query(
      `INSERT INTO preservation_records (id, case_id, reason, requested_by, ncmec_report_id, preserved_at, expires_at, kek_id, wrapped_key,
         snapshot_nonce, snapshot_sealed, snapshot_tag, media_count, account_count)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
      [id, input.caseId, input.reason, input.requestedBy, input.ncmecReportId ?? null, preservedAt, expiresAt, wrapped.kekId, wrapped.wrapped,
        box.nonce, box.sealed, box.tag, media.length, snapshot.accounts.length],
    );
    for (const blob of blobs) {
      await tx.query('INSERT INTO preservation_blobs (record_id, blob_key, store, sealed_size, sealed_sha256) VALUES ($1, $2, $3, $4, $5)', [
        id, blob.key, this.blobStore.kind, blob.size, blob.sha256,
      ]);
    }
    await this.audit.append(tx, {
      actor: input.requestedBy,
      action: 'preservation.created',
      subject: `preservation:${id}`,
      detail: { case_id: input.caseId, reason: input.reason, ...(input.ncmecReportId ? { ncmec_report_id: input.ncmecReportId } : {}), media: media.length, accounts: snapshot.accounts.length, expires_at: expiresAt.toISOString(), key_id: wrapped.kekId },
    });
    return this.recordIn(tx, id);
  }

  private async recordIn(client: SqlClient, id: number): Promise<PreservationRecord> {
    if (!Number.isSafeInteger(id) || id < 1) throw notFound(`no preservation record ${id}`);
    const found = await client.query<RecordRow>(`${RECORD_SELECT} WHERE r.id = $2`, [this.now(), id]);
    if (!found.rows[0]) throw notFound(`no preservation record ${id}`);
    return toRecord(found.rows[0]);
  }

  /** Metadata only, newest first. */
  async list(filter: { caseId?: number; status?: 'preserved' | 'purged'; before?: number; limit?: number } = {}): Promise<PreservationRecord[]> {
    const result = await this.sql.query<RecordRow>(
      `${RECORD_SELECT} WHERE ($2::bigint IS NULL OR r.case_id = $2) AND ($3::text IS NULL OR r.status = $3) AND ($4::bigint IS NULL OR r.id < $4)
       ORDER BY r.id DESC LIMIT $5`,
      [this.now(), filter.caseId ?? null, filter.status ?? null, filter.before ?? null, Math.min(Math.max(filter.limit ?? 100, 1), 1000)],
    );
    return result.rows.map(toRecord);
  }

  /** Metadata with holds, who opened it and, once purged, the tombstone. */
  async get(id: number): Promise<PreservationDetail> {
    const record = await this.recordIn(this.sql, id);
    const now = this.now();
    const holds = await this.sql.query<HoldRow>('SELECT * FROM preservation_holds WHERE record_id = $1 ORDER BY id', [id]);
    const accesses = await this.sql.query<{ accessed_by: string; purpose: string; with_media: boolean; accessed_at: Date }>(
      'SELECT accessed_by, purpose, with_media, accessed_at FROM preservation_access WHERE record_id = $1 ORDER BY id',
      [id],
    );
    const tombstone = await this.sql.query<{ purged_at: Date; why: string; purged_by: string; deleted: Record<string, unknown> }>(
      'SELECT purged_at, why, purged_by, deleted FROM preservation_tombstones WHERE record_id = $1',
      [id],
    );
    const stone = tombstone.rows[0];
    return {
      ...record,
      holds: holds.rows.map((row) => toHold(row, now)),
      accesses: accesses.rows.map((row) => ({ accessed_by: row.accessed_by, purpose: row.purpose, with_media: row.with_media, accessed_at: row.accessed_at.toISOString() })),
      tombstone: stone ? { purged_at: stone.purged_at.toISOString(), why: stone.why, purged_by: stone.purged_by, deleted: stone.deleted } : null,
    };
  }

  /** Decrypts a record for someone with a stated purpose; the access is logged before anything is returned. */
  async open(id: number, access: { by: string; purpose: string; withMedia?: boolean }): Promise<OpenedPreservation> {
    if (!access.by) throw invalid('say who is opening the record');
    const purpose = access.purpose?.trim() ?? '';
    if (purpose.length < 3 || purpose.length > PURPOSE_MAX) throw invalid(`state the purpose of opening the record (3-${PURPOSE_MAX} characters)`);
    const record = await this.recordIn(this.sql, id);
    if (record.status === 'purged') throw new BulwarkError('not_found', `preservation record ${id} was purged at ${record.purged_at}; only its tombstone remains`);
    const sealed = await this.sql.query<{ kek_id: string; wrapped_key: Uint8Array; snapshot_nonce: Uint8Array; snapshot_sealed: Uint8Array; snapshot_tag: Uint8Array }>(
      'SELECT kek_id, wrapped_key, snapshot_nonce, snapshot_sealed, snapshot_tag FROM preservation_records WHERE id = $1',
      [id],
    );
    const row = sealed.rows[0];
    const dataKey = this.keys.unwrap({ kekId: row.kek_id, wrapped: Buffer.from(row.wrapped_key) }, id);
    let full: PreservationSnapshot & { media_blobs?: { content_id: string; blob_key: string }[] };
    try {
      full = JSON.parse(open(dataKey, { nonce: Buffer.from(row.snapshot_nonce), sealed: Buffer.from(row.snapshot_sealed), tag: Buffer.from(row.snapshot_tag) }, snapshotAad(id)).toString('utf8'));
    } catch {
      throw new BulwarkError('unavailable', `the snapshot of preservation record ${id} does not open: it was altered or moved`);
    }
    const { media_blobs: mediaBlobs = [], ...snapshot } = full;
    let media: PreservedMedia[] | undefined;
    if (access.withMedia) {
      media = [];
      for (const blob of mediaBlobs) {
        const bytes = await this.blobStore.get(blob.blob_key);
        if (!bytes) throw new BulwarkError('unavailable', `a media object of preservation record ${id} is missing from the ${this.blobStore.kind} store`);
        let plain: Buffer;
        try {
          plain = open(dataKey, unpack(bytes), mediaAad(id, blob.blob_key));
        } catch {
          throw new BulwarkError('unavailable', `a media object of preservation record ${id} does not open: it was altered or replaced`);
        }
        media.push({ content_id: blob.content_id, media_type: snapshot.media.find((m) => m.content_id === blob.content_id)?.media_type ?? 'application/octet-stream', bytes: plain });
      }
    }
    await this.sql.transaction(async (tx) => {
      await tx.query('INSERT INTO preservation_access (record_id, accessed_by, purpose, with_media, accessed_at) VALUES ($1, $2, $3, $4, $5)', [
        id, access.by, purpose, access.withMedia === true, this.now(),
      ]);
      await this.audit.append(tx, { actor: access.by, action: 'preservation.accessed', subject: `preservation:${id}`, detail: { case_id: record.case_id, purpose, with_media: access.withMedia === true } });
    });
    return { record, snapshot: snapshot as PreservationSnapshot, ...(media ? { media } : {}) };
  }

  /** Keeps a record past its expiry while the hold is active (until released, or until `until`). */
  async hold(recordId: number, input: { reason: string; until?: Date; by: string }): Promise<HoldView> {
    const reason = input.reason?.trim() ?? '';
    if (reason.length < 3 || reason.length > PURPOSE_MAX) throw invalid(`a hold needs a reason (3-${PURPOSE_MAX} characters)`);
    if (!input.by) throw invalid('say who places the hold');
    const now = this.now();
    if (input.until !== undefined && (Number.isNaN(input.until.getTime()) || input.until.getTime() <= now.getTime())) throw invalid('a hold ends in the future (until)');
    return this.sql.transaction(async (tx) => {
      const record = await this.recordIn(tx, recordId);
      if (record.status === 'purged') throw conflict(`preservation record ${recordId} was already purged; nothing is left to hold`);
      const placed = await tx.query<HoldRow>(
        'INSERT INTO preservation_holds (record_id, reason, until, placed_by, placed_at) VALUES ($1, $2, $3, $4, $5) RETURNING *',
        [recordId, reason, input.until ?? null, input.by, now],
      );
      await this.audit.append(tx, { actor: input.by, action: 'preservation.hold_placed', subject: `preservation:${recordId}`, detail: { hold_id: Number(placed.rows[0].id), reason, until: input.until?.toISOString() ?? null } });
      return toHold(placed.rows[0], now);
    });
  }

  async release(holdId: number, by: string): Promise<HoldView> {
    if (!by) throw invalid('say who releases the hold');
    if (!Number.isSafeInteger(holdId) || holdId < 1) throw notFound(`no hold ${holdId}`);
    const now = this.now();
    return this.sql.transaction(async (tx) => {
      const found = await tx.query<HoldRow>('SELECT * FROM preservation_holds WHERE id = $1 FOR UPDATE', [holdId]);
      const hold = found.rows[0];
      if (!hold) throw notFound(`no hold ${holdId}`);
      if (hold.released_at) throw conflict(`hold ${holdId} was already released by ${hold.released_by}`);
      const released = await tx.query<HoldRow>('UPDATE preservation_holds SET released_by = $2, released_at = $3 WHERE id = $1 RETURNING *', [holdId, by, now]);
      await this.audit.append(tx, { actor: by, action: 'preservation.hold_released', subject: `preservation:${hold.record_id}`, detail: { hold_id: holdId } });
      return toHold(released.rows[0], now);
    });
  }

  /**
   * Deletes the evidence of every record past its expiry with no active hold: media objects,
   * sealed snapshot and wrapped data key. A tombstone and an audit entry say what went, when,
   * why and which process did it. Objects are deleted before the row changes, so a crash in
   * between leaves a record that the next run finishes (deleting a missing object is fine).
   */
  async purgeExpired(now: Date = this.now(), options: { dryRun?: boolean; by?: string } = {}): Promise<PurgeResult> {
    const due = await this.sql.query<{ id: number; case_id: number; expires_at: Date; on_hold: boolean }>(
      `SELECT r.id, r.case_id, r.expires_at, ${ACTIVE_HOLD} AS on_hold FROM preservation_records r
       WHERE r.status = 'preserved' AND r.expires_at <= $1 ORDER BY r.id`,
      [now],
    );
    const result: PurgeResult = { dry_run: options.dryRun === true, purged: [], held: 0 };
    const actor = options.by ?? 'system';
    for (const candidate of due.rows) {
      if (candidate.on_hold) {
        result.held++;
        continue;
      }
      const id = Number(candidate.id);
      if (options.dryRun) {
        const blobs = await this.sql.query<{ n: number }>('SELECT count(*)::int AS n FROM preservation_blobs WHERE record_id = $1', [id]);
        result.purged.push({ record_id: id, case_id: Number(candidate.case_id), blobs: Number(blobs.rows[0].n), expired_at: candidate.expires_at.toISOString() });
        continue;
      }
      const purged = await this.sql.transaction(async (tx) => {
        // Re-checked under the row lock: a hold placed since the scan wins.
        const locked = await tx.query<{ status: string; on_hold: boolean }>(
          `SELECT r.status, ${ACTIVE_HOLD} AS on_hold FROM preservation_records r WHERE r.id = $2 FOR UPDATE`,
          [now, id],
        );
        if (!locked.rows[0] || locked.rows[0].status !== 'preserved' || locked.rows[0].on_hold) return undefined;
        const blobs = await tx.query<{ blob_key: string; store: string; sealed_size: number; sealed_sha256: string }>(
          'SELECT blob_key, store, sealed_size, sealed_sha256 FROM preservation_blobs WHERE record_id = $1 ORDER BY blob_key',
          [id],
        );
        for (const blob of blobs.rows) await this.blobStore.delete(blob.blob_key);
        const sizes = await tx.query<{ snapshot_bytes: number }>('SELECT octet_length(snapshot_sealed) AS snapshot_bytes FROM preservation_records WHERE id = $1', [id]);
        await tx.query('DELETE FROM preservation_blobs WHERE record_id = $1', [id]);
        await tx.query(
          `UPDATE preservation_records SET status = 'purged', purged_at = $2, kek_id = NULL, wrapped_key = NULL, snapshot_nonce = NULL, snapshot_sealed = NULL, snapshot_tag = NULL
           WHERE id = $1`,
          [id, now],
        );
        const deleted = {
          snapshot_bytes: Number(sizes.rows[0]?.snapshot_bytes ?? 0),
          data_key: true,
          blobs: blobs.rows.map((blob) => ({ blob_key: blob.blob_key, store: blob.store, sealed_size: Number(blob.sealed_size), sealed_sha256: blob.sealed_sha256 })),
        };
        const why = `retention period ended ${candidate.expires_at.toISOString()} and no legal hold was active`;
        await tx.query('INSERT INTO preservation_tombstones (record_id, case_id, purged_at, why, purged_by, deleted) VALUES ($1, $2, $3, $4, $5, $6::jsonb)', [
          id, Number(candidate.case_id), now, why, `${actor} via ${this.processName}`, JSON.stringify(deleted),
        ]);
        await this.audit.append(tx, { actor, action: 'preservation.purged', subject: `preservation:${id}`, detail: { case_id: Number(candidate.case_id), blobs: blobs.rows.length, why, process: this.processName } });
        return { record_id: id, case_id: Number(candidate.case_id), blobs: blobs.rows.length, expired_at: candidate.expires_at.toISOString() };
      });
      if (purged) result.purged.push(purged);
    }
    return result;
  }

  /** After a key rotation: re-wraps every live record's data key under the current key, so old keys can be retired. */
  async rewrapKeys(by: string): Promise<{ rewrapped: number }> {
    this.keys.assertConfigured();
    const stale = await this.sql.query<{ id: number }>(`SELECT id FROM preservation_records WHERE status = 'preserved' AND kek_id <> $1 ORDER BY id`, [this.keys.currentId]);
    let rewrapped = 0;
    for (const { id } of stale.rows) {
      await this.sql.transaction(async (tx) => {
        const found = await tx.query<{ kek_id: string | null; wrapped_key: Uint8Array | null }>('SELECT kek_id, wrapped_key FROM preservation_records WHERE id = $1 FOR UPDATE', [id]);
        const row = found.rows[0];
        if (!row?.kek_id || !row.wrapped_key || row.kek_id === this.keys.currentId) return;
        const dataKey = this.keys.unwrap({ kekId: row.kek_id, wrapped: Buffer.from(row.wrapped_key) }, Number(id));
        const wrapped = this.keys.wrap(dataKey, Number(id));
        await tx.query('UPDATE preservation_records SET kek_id = $2, wrapped_key = $3 WHERE id = $1', [id, wrapped.kekId, wrapped.wrapped]);
        await this.audit.append(tx, { actor: by, action: 'preservation.rewrapped', subject: `preservation:${id}`, detail: { from_key: row.kek_id, to_key: wrapped.kekId } });
        rewrapped++;
      });
    }
    return { rewrapped };
  }

  /** Runs the purge every `intervalMs` (never two at once); returns the function that stops it. */
  start(intervalMs = 3_600_000): () => void {
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      this.purgeExpired(this.now(), { by: 'system' })
        .catch((error) => this.options.onPurgeError?.(error))
        .finally(() => {
          running = false;
        });
    }, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }
}
