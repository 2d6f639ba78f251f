import type { AuditLog } from '../audit/audit-log.ts';
import { BulwarkError, notFound } from '../errors.ts';
import type { MediaVault } from '../media/media-vault.ts';
import { blurredPreview, PREVIEW_MEDIA_TYPE } from '../media/preview.ts';
import type { Reviewer, ReviewerService } from '../reviewers/reviewer-service.ts';
import type { SqlClient } from '../store/sql.ts';
import { assertMayOpenMedia, assertMaySee } from './case-access.ts';
import { type CaseRow, caseRow } from './case-rows.ts';
import type { CaseSubjectType } from './subjects/subject-type.ts';
import type { SubjectKind } from './types.ts';

export const DEFAULT_REVEAL_MS = 2 * 60_000;

/** A case's media for the reviewers of CaseService: a blurred preview, and the original once per reveal. */
export class CaseMedia {
  constructor(
    private readonly sql: SqlClient,
    private readonly audit: AuditLog,
    private readonly reviewers: ReviewerService,
    private readonly vault: MediaVault | undefined,
    private readonly subjectType: (kind: SubjectKind) => CaseSubjectType,
    private readonly revealMs: number,
  ) {}

  /** The content whose media the case shows, for a reviewer who may open it; not found when Bulwark holds none. */
  private async mediaOf(client: SqlClient, id: number, reviewer: Reviewer): Promise<{ row: CaseRow; contentId: string }> {
    const row = await caseRow(client, id);
    await assertMaySee(client, row, reviewer);
    assertMayOpenMedia(row, reviewer);
    const contentId = await this.subjectType(row.subject_kind).mediaContentId?.(client, row.subject_id);
    if (contentId === undefined || !this.vault || !(await this.vault.has(client, contentId))) throw notFound(`Bulwark holds no media for case ${id}`);
    return { row, contentId };
  }

  /**
   * The reviewer asks to see the case's media as it is: counted as one exposure, logged as
   * `media.revealed` (the only thing that makes media "viewed", e.g. for NCMEC), and opens the
   * original to this reviewer for one fetch within `revealMs`.
   */
  async reveal(id: number, reviewer: Reviewer): Promise<{ exposureToday: number }> {
    return this.sql.transaction(async (tx) => {
      const { row, contentId } = await this.mediaOf(tx, id, reviewer);
      const exposureToday = await this.reviewers.recordExposure(tx, reviewer.id);
      await tx.query(
        `INSERT INTO media_reveals (case_id, reviewer_id, content_id, open_until) VALUES ($1, $2, $3, now() + make_interval(secs => $4))
         ON CONFLICT (case_id, reviewer_id) DO UPDATE SET content_id = EXCLUDED.content_id, open_until = EXCLUDED.open_until`,
        [id, reviewer.id, contentId, this.revealMs / 1000],
      );
      await this.audit.append(tx, {
        actor: reviewer.username,
        action: 'media.revealed',
        subject: `case:${id}`,
        detail: { subject: { kind: row.subject_kind, id: row.subject_id }, content_id: contentId },
      });
      return { exposureToday };
    });
  }

  /**
   * A blurred, greyscale preview of the case's media (see media/preview.ts), for whoever may
   * open it. Logged as `media.previewed`; it is not an exposure and not a view.
   */
  async preview(id: number, reviewer: Reviewer): Promise<{ mediaType: string; media: Buffer }> {
    const { contentId } = await this.mediaOf(this.sql, id, reviewer);
    const opened = await this.vault!.open(this.sql, contentId);
    if (!opened) throw notFound(`Bulwark holds no media for case ${id}`);
    const media = await blurredPreview(opened.media);
    await this.sql.transaction((tx) => this.audit.append(tx, { actor: reviewer.username, action: 'media.previewed', subject: `case:${id}`, detail: { content_id: contentId } }));
    return { mediaType: PREVIEW_MEDIA_TYPE, media };
  }

  /**
   * The case's original media, once per reveal: only to a reviewer (or lead) who revealed it in
   * the last `revealMs`, and only while they may still open it. Logged as `media.accessed`.
   */
  async media(id: number, reviewer: Reviewer): Promise<{ mediaType: string; media: Buffer }> {
    const contentId = await this.sql.transaction(async (tx) => {
      const { contentId } = await this.mediaOf(tx, id, reviewer);
      const used = await tx.query('DELETE FROM media_reveals WHERE case_id = $1 AND reviewer_id = $2 AND content_id = $3 AND open_until > now() RETURNING 1', [id, reviewer.id, contentId]);
      if (used.rows.length === 0) throw new BulwarkError('forbidden', `reveal the media of case ${id} first (POST /console/api/cases/${id}/reveal); each reveal opens the original once`);
      await this.audit.append(tx, { actor: reviewer.username, action: 'media.accessed', subject: `case:${id}`, detail: { content_id: contentId } });
      return contentId;
    });
    const opened = await this.vault!.open(this.sql, contentId);
    if (!opened) throw notFound(`Bulwark holds no media for case ${id}`);
    return opened;
  }
}
