import { type EventLog, OUTBOX_START, type OutboxPosition } from '../events/event-log.ts';
import { CONTENT_MATCHED_EVENT } from '../ingest/content.ts';
import type { SqlClient } from '../store/sql.ts';

/** Why a candidate was kept from a viewer; a candidate can have several. */
export type RemovalReason =
  | 'candidate_removed_account'
  | 'candidate_confirmed'
  | 'candidate_labelled_suspect'
  | 'candidate_in_suspect_network'
  | 'candidate_suspected_ban_evasion'
  | 'candidate_high_risk'
  | 'content_matched_bank'
  | 'suspect_candidate_for_minor_viewer'
  | 'suspect_candidate_for_suspect_viewer'
  | 'minor_candidate_for_suspect_viewer';

export interface GuardrailPolicy {
  /** Detection risk, a calibrated probability of network membership (0..1), from which an account counts as a suspect. */
  suspectRisk: number;
  /** Risk from which an account is kept out of everyone's recommendations, not only minors' and suspects'. */
  highRisk: number;
}

export const DEFAULT_GUARDRAIL_POLICY: GuardrailPolicy = { suspectRisk: 0.2, highRisk: 0.5 };

export interface Candidate {
  accountId: string;
  contentId?: string;
}

export interface GuardrailDecision {
  allowed: Candidate[];
  removed: { candidate: Candidate; reasons: RemovalReason[] }[];
}

const MINOR = 1;
const CONFIRMED = 2;
const LABELLED_SUSPECT = 4;
const CLEARED = 8;
const DELETED = 16;
const IN_NETWORK = 32;
const EVASION = 64;

interface Standing {
  flags: number;
  risk: number;
}

interface StandingRow {
  external_id: string;
  minor: boolean | null;
  label: string | null;
  network_id: number | null;
  risk: number | null;
  evasion: boolean;
  deleted: boolean;
  guard_seq: number;
}

const ORDINARY: Standing = { flags: 0, risk: 0 };

/**
 * Answers the platform's recommender and search from memory: which candidates a viewer
 * must not be shown, and why. The standing of every account that matters (minors,
 * labelled accounts, network members, evasion suspects, removed accounts) is held in a
 * map and kept current by reading only the accounts changed since the last look, so a
 * request never waits on the store.
 */
export class RecommendationGuardrail {
  private readonly standing = new Map<string, Standing>();
  private readonly matchedContent = new Set<string>();
  private lastSeq = 0;
  private lastEventPosition: OutboxPosition = OUTBOX_START;
  private refreshing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private loaded = false;

  constructor(
    private readonly sql: SqlClient,
    private readonly events: EventLog,
    readonly policy: GuardrailPolicy = DEFAULT_GUARDRAIL_POLICY,
  ) {
    events.subscribe((event) => {
      if (event.type === CONTENT_MATCHED_EVENT) this.matchedContent.add((event.payload as { content_id: string }).content_id);
    });
  }

  /** Keeps the standing fresh in the background; returns a stop function. */
  start(intervalMs = 1000): () => void {
    this.timer = setInterval(() => void this.refresh().catch(() => undefined), intervalMs);
    this.timer.unref();
    return () => clearInterval(this.timer);
  }

  get ready(): boolean {
    return this.loaded;
  }

  stats(): { accounts: number; matchedContent: number; seq: number } {
    return { accounts: this.standing.size, matchedContent: this.matchedContent.size, seq: this.lastSeq };
  }

  /** Applies every change since the last refresh; concurrent callers share one refresh. */
  refresh(): Promise<void> {
    this.refreshing ??= this.load().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async load(): Promise<void> {
    for (;;) {
      const page = await this.sql.query<StandingRow>(
        `SELECT external_id, minor, label, network_id, risk, evasion_of IS NOT NULL AS evasion, deleted_at IS NOT NULL AS deleted, guard_seq
         FROM accounts WHERE guard_seq > $1 ORDER BY guard_seq LIMIT 50000`,
        [this.lastSeq],
      );
      for (const row of page.rows) {
        const flags =
          (row.minor ? MINOR : 0) |
          (row.label === 'confirmed' ? CONFIRMED : 0) |
          (row.label === 'suspected' ? LABELLED_SUSPECT : 0) |
          (row.label === 'cleared' ? CLEARED : 0) |
          (row.deleted ? DELETED : 0) |
          (row.network_id !== null ? IN_NETWORK : 0) |
          (row.evasion ? EVASION : 0);
        const risk = row.risk ?? 0;
        if (flags === 0 && risk === 0) this.standing.delete(row.external_id);
        else this.standing.set(row.external_id, { flags, risk });
        this.lastSeq = Number(row.guard_seq);
      }
      if (page.rows.length < 50000) break;
    }
    for (;;) {
      const page = await this.events.readPage({ after: this.lastEventPosition, limit: 1000, types: [CONTENT_MATCHED_EVENT] });
      for (const event of page.events) this.matchedContent.add((event.payload as { content_id: string }).content_id);
      this.lastEventPosition = page.next;
      if (page.events.length < 1000) break;
    }
    this.loaded = true;
  }

  private standingOf(accountId: string): Standing {
    return this.standing.get(accountId) ?? ORDINARY;
  }

  /** Cleared accounts are ordinary whatever an older run said about them. */
  private isSuspect(standing: Standing): boolean {
    if (standing.flags & CLEARED) return false;
    return (standing.flags & (CONFIRMED | LABELLED_SUSPECT | IN_NETWORK | EVASION)) !== 0 || standing.risk >= this.policy.suspectRisk;
  }

  decide(viewerId: string, candidates: readonly Candidate[]): GuardrailDecision {
    const viewer = this.standingOf(viewerId);
    const viewerIsMinor = (viewer.flags & MINOR) !== 0;
    const viewerIsSuspect = this.isSuspect(viewer);
    const decision: GuardrailDecision = { allowed: [], removed: [] };
    for (const candidate of candidates) {
      const reasons = this.reasonsFor(candidate, viewerIsMinor, viewerIsSuspect);
      if (reasons.length === 0) decision.allowed.push(candidate);
      else decision.removed.push({ candidate, reasons });
    }
    return decision;
  }

  private reasonsFor(candidate: Candidate, viewerIsMinor: boolean, viewerIsSuspect: boolean): RemovalReason[] {
    const standing = this.standingOf(candidate.accountId);
    const reasons: RemovalReason[] = [];
    if (candidate.contentId !== undefined && this.matchedContent.has(candidate.contentId)) reasons.push('content_matched_bank');
    if (standing === ORDINARY) return reasons;
    const flags = standing.flags;
    if (flags & DELETED) reasons.push('candidate_removed_account');
    if (!(flags & CLEARED)) {
      if (flags & CONFIRMED) reasons.push('candidate_confirmed');
      if (flags & LABELLED_SUSPECT) reasons.push('candidate_labelled_suspect');
      if (flags & IN_NETWORK) reasons.push('candidate_in_suspect_network');
      if (flags & EVASION) reasons.push('candidate_suspected_ban_evasion');
      if (standing.risk >= this.policy.highRisk) reasons.push('candidate_high_risk');
    }
    const suspect = this.isSuspect(standing);
    if (suspect && viewerIsMinor) reasons.push('suspect_candidate_for_minor_viewer');
    if (suspect && viewerIsSuspect) reasons.push('suspect_candidate_for_suspect_viewer');
    if (flags & MINOR && viewerIsSuspect) reasons.push('minor_candidate_for_suspect_viewer');
    return reasons;
  }

  /** For the audit: is this account a suspect, and is it a minor, as of the last refresh. */
  classify(accountId: string): { suspect: boolean; minor: boolean } {
    const standing = this.standingOf(accountId);
    return { suspect: this.isSuspect(standing), minor: (standing.flags & MINOR) !== 0 };
  }
}
