import type { RecommendationGuardrail, RemovalReason } from '../guardrails/recommendation-guardrail.ts';
import { labelsFor } from '../reporting/labels.ts';
import type { SqlClient } from '../store/sql.ts';
import { type ExposureEstimate, estimateExposure } from './exposure-estimate.ts';
import { latestRecallEstimate } from './recall-estimate.ts';

export interface ExposureMetrics {
  impressions: number;
  /** Impressions that showed a suspect; of those, shown to suspects; and shown to minors. */
  suspectShownImpressions: number;
  suspectToSuspectImpressions: number;
  suspectShownToMinorImpressions: number;
  /** Share of all impressions that showed a suspect account: the base rate. */
  suspectShownShare: number;
  suspectViewers: number;
  /** Of the impressions shown to suspect viewers, the share that showed another suspect. */
  suspectToSuspectShare: number;
  /** suspectToSuspectShare over the base rate: how much the recommender concentrates suspects on each other. */
  suspectToSuspectLift: number | null;
  /** Suspect viewers who were shown at least one minor, and the share of their impressions that showed minors. */
  suspectViewersShownMinors: number;
  minorShownToSuspectShare: number;
  ordinaryViewers: number;
  ordinaryViewersExposed: number;
  ordinaryExposureShare: number;
  minorViewers: number;
  minorViewersExposed: number;
  minorExposureShare: number;
}

export interface RecommendationAuditReport {
  generatedAt: string;
  period: { from: string | null; to: string | null };
  policy: { suspectRisk: number; highRisk: number };
  accountsTracked: number;
  /** What Bulwark knows: accounts it flags as suspects now. Every exposure figure counts only these. */
  known: { flaggedAccounts: number };
  /**
   * What it does not know, estimated from detection recall measured by the latest detection
   * run (leave-seeds-out); null when that run measured none: recall is then unknown and only
   * the known figures stand.
   */
  estimated: ExposureEstimate | null;
  before: ExposureMetrics;
  after: ExposureMetrics;
  surfaces: { surface: string; before: ExposureMetrics; after: ExposureMetrics }[];
  removedByReason: Partial<Record<RemovalReason, number>>;
  follows: {
    /** Standing follows between two suspects. */
    betweenSuspects: number;
    /** ... of which the platform's recommendation surfaces led to. */
    fromRecommendations: number;
    fromRecommendationsShare: number;
  };
  /**
   * Ban evasion in the latest detection run. Days run in event time: from the returning
   * account's creation as the platform reported it to the newest event the run could have
   * read, so backfilled history gives the days the platform lived through, not the import's.
   */
  evasion: { links: number; medianDaysToDetection: number | null; detectedAsOf: string | null };
  /** Each metric key and removal reason code above with its human label, as the HTML and CSV print it. */
  labels: Record<string, string>;
}

class ExposureCounter {
  impressions = 0;
  suspectShown = 0;
  suspectViewerImpressions = 0;
  suspectToSuspect = 0;
  minorShownToSuspect = 0;
  suspectShownToMinor = 0;
  private readonly suspectViewers = new Set<string>();
  private readonly suspectViewersShownMinors = new Set<string>();
  private readonly ordinaryViewers = new Set<string>();
  private readonly ordinaryExposed = new Set<string>();
  private readonly minorViewers = new Set<string>();
  private readonly minorExposed = new Set<string>();

  add(viewer: string, viewerClass: { suspect: boolean; minor: boolean }, shownClass: { suspect: boolean; minor: boolean }): void {
    this.impressions++;
    if (shownClass.suspect) this.suspectShown++;
    if (viewerClass.suspect) {
      this.suspectViewers.add(viewer);
      this.suspectViewerImpressions++;
      if (shownClass.suspect) this.suspectToSuspect++;
      if (shownClass.minor) {
        this.minorShownToSuspect++;
        this.suspectViewersShownMinors.add(viewer);
      }
    } else if (viewerClass.minor) {
      this.minorViewers.add(viewer);
      if (shownClass.suspect) {
        this.suspectShownToMinor++;
        this.minorExposed.add(viewer);
      }
    } else {
      this.ordinaryViewers.add(viewer);
      if (shownClass.suspect) this.ordinaryExposed.add(viewer);
    }
  }

  /** A viewer who appears only in "before" still counts in "after" as a viewer, with nothing shown. */
  addViewer(viewer: string, viewerClass: { suspect: boolean; minor: boolean }): void {
    if (viewerClass.suspect) this.suspectViewers.add(viewer);
    else if (viewerClass.minor) this.minorViewers.add(viewer);
    else this.ordinaryViewers.add(viewer);
  }

  metrics(): ExposureMetrics {
    const ratio = (a: number, b: number) => (b > 0 ? round(a / b) : 0);
    const baseRate = this.impressions > 0 ? this.suspectShown / this.impressions : 0;
    const suspectToSuspectShare = ratio(this.suspectToSuspect, this.suspectViewerImpressions);
    return {
      impressions: this.impressions,
      suspectShownImpressions: this.suspectShown,
      suspectToSuspectImpressions: this.suspectToSuspect,
      suspectShownToMinorImpressions: this.suspectShownToMinor,
      suspectShownShare: round(baseRate),
      suspectViewers: this.suspectViewers.size,
      suspectToSuspectShare,
      suspectToSuspectLift: baseRate > 0 && this.suspectViewerImpressions > 0 ? round(this.suspectToSuspect / this.suspectViewerImpressions / baseRate) : null,
      suspectViewersShownMinors: this.suspectViewersShownMinors.size,
      minorShownToSuspectShare: ratio(this.minorShownToSuspect, this.suspectViewerImpressions),
      ordinaryViewers: this.ordinaryViewers.size,
      ordinaryViewersExposed: this.ordinaryExposed.size,
      ordinaryExposureShare: ratio(this.ordinaryExposed.size, this.ordinaryViewers.size),
      minorViewers: this.minorViewers.size,
      minorViewersExposed: this.minorExposed.size,
      minorExposureShare: ratio(this.minorExposed.size, this.minorViewers.size),
    };
  }
}

const round = (value: number) => Math.round(value * 10000) / 10000;

/**
 * Measures, from the platform's logged recommendation impressions, how often its
 * recommender connected suspects with each other and with minors, and what the guardrail
 * would have removed. "Suspect" is the guardrail's own view as of now, applied to the
 * whole period: the question a risk assessment asks is what the recommender did with the
 * accounts now known. Those figures count only suspects Bulwark knows; when the latest
 * detection run measured its recall, the report adds, separately, an estimate of the true
 * figures with its interval (see estimateExposure).
 */
export async function auditRecommendations(
  sql: SqlClient,
  guardrail: RecommendationGuardrail,
  options: { from?: Date; to?: Date; onProgress?: (rows: number) => void } = {},
): Promise<RecommendationAuditReport> {
  await guardrail.refresh();
  const before = new ExposureCounter();
  const after = new ExposureCounter();
  const surfaces = new Map<string, { before: ExposureCounter; after: ExposureCounter }>();
  const removedByReason: Partial<Record<RemovalReason, number>> = {};
  let cursor = 0;
  let rows = 0;
  for (;;) {
    const page = await sql.query<{ page: [number, string, string, string][] | null }>(
      `SELECT json_agg(json_build_array(i.id, v.external_id, s.external_id, i.surface) ORDER BY i.id) AS page
       FROM (SELECT * FROM recommendation_impressions
             WHERE id > $1 AND ($2::timestamptz IS NULL OR shown_at >= $2) AND ($3::timestamptz IS NULL OR shown_at < $3)
             ORDER BY id LIMIT 20000) i
       JOIN accounts v ON v.id = i.viewer JOIN accounts s ON s.id = i.shown`,
      [cursor, options.from ?? null, options.to ?? null],
    );
    const items = page.rows[0].page;
    if (!items) break;
    for (const [id, viewer, shown, surface] of items) {
      cursor = id;
      const viewerClass = guardrail.classify(viewer);
      const shownClass = guardrail.classify(shown);
      let bySurface = surfaces.get(surface);
      if (!bySurface) surfaces.set(surface, (bySurface = { before: new ExposureCounter(), after: new ExposureCounter() }));
      before.add(viewer, viewerClass, shownClass);
      bySurface.before.add(viewer, viewerClass, shownClass);
      const decision = guardrail.decide(viewer, [{ accountId: shown }]);
      if (decision.allowed.length > 0) {
        after.add(viewer, viewerClass, shownClass);
        bySurface.after.add(viewer, viewerClass, shownClass);
      } else {
        after.addViewer(viewer, viewerClass);
        bySurface.after.addViewer(viewer, viewerClass);
        for (const reason of decision.removed[0].reasons) removedByReason[reason] = (removedByReason[reason] ?? 0) + 1;
      }
    }
    rows += items.length;
    options.onProgress?.(rows);
  }

  const suspects = await flaggedAccountIds(sql, guardrail);
  const follows = await countSuspectFollows(sql, suspects);
  const evasion = await evasionInEventTime(sql);
  const beforeMetrics = before.metrics();
  const afterMetrics = after.metrics();
  const recall = await latestRecallEstimate(sql);
  const accounts = await sql.query<{ count: number }>('SELECT count(*) AS count FROM accounts');
  const estimated = recall
    ? estimateExposure(
        {
          flaggedAccounts: suspects.length,
          accounts: Number(accounts.rows[0].count),
          impressions: beforeMetrics.impressions,
          showingSuspects: { before: beforeMetrics.suspectShownImpressions, after: afterMetrics.suspectShownImpressions },
          suspectToSuspect: { before: beforeMetrics.suspectToSuspectImpressions, after: afterMetrics.suspectToSuspectImpressions },
          minorShownSuspects: { before: beforeMetrics.suspectShownToMinorImpressions, after: afterMetrics.suspectShownToMinorImpressions },
        },
        recall,
      )
    : null;
  return {
    generatedAt: new Date().toISOString(),
    period: { from: options.from?.toISOString() ?? null, to: options.to?.toISOString() ?? null },
    policy: { ...guardrail.policy },
    accountsTracked: guardrail.stats().accounts,
    known: { flaggedAccounts: suspects.length },
    estimated,
    before: beforeMetrics,
    after: afterMetrics,
    surfaces: [...surfaces.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([surface, counters]) => ({ surface, before: counters.before.metrics(), after: counters.after.metrics() })),
    removedByReason,
    follows,
    evasion,
    labels: labelsFor([...Object.keys(afterMetrics), ...Object.keys(removedByReason)]),
  };
}

/** Store ids of the accounts the guardrail treats as suspects now: what Bulwark knows. */
async function flaggedAccountIds(sql: SqlClient, guardrail: RecommendationGuardrail): Promise<number[]> {
  // Suspects are few; they are read by their flags rather than classifying every account.
  const suspects = await sql.query<{ id: number; external_id: string }>(
    `SELECT id, external_id FROM accounts WHERE label IN ('confirmed', 'suspected') OR network_id IS NOT NULL OR evasion_of IS NOT NULL OR risk IS NOT NULL`,
  );
  return suspects.rows.filter((row) => guardrail.classify(row.external_id).suspect).map((row) => row.id);
}

/**
 * Median days from a returning account's creation to its detection, all in event time. The
 * run's own moment in event time is the newest event time stored at or before the run started
 * (the wall clock of the run is no use for backfilled history); an account's creation is its
 * reported created_at, or else the first event it took part in, never when Bulwark first saw it.
 */
async function evasionInEventTime(sql: SqlClient): Promise<RecommendationAuditReport['evasion']> {
  const run = await sql.query<{ id: number; started_at: Date; links: number }>(
    'SELECT r.id, r.started_at, (SELECT count(*) FROM evasion_links l WHERE l.run_id = r.id) AS links FROM detection_runs r ORDER BY r.id DESC LIMIT 1',
  );
  const latest = run.rows[0];
  if (!latest || Number(latest.links) === 0) return { links: 0, medianDaysToDetection: null, detectedAsOf: null };
  const horizon = await sql.query<{ at: Date | null }>(
    `SELECT greatest(
       (SELECT max(last_at) FROM account_edges WHERE last_at <= $1),
       (SELECT max(last_at) FROM account_features WHERE last_at <= $1),
       (SELECT max(created_at) FROM accounts WHERE created_at <= $1),
       (SELECT max(deleted_at) FROM accounts WHERE deleted_at <= $1),
       (SELECT max(shown_at) FROM recommendation_impressions WHERE shown_at <= $1)) AS at`,
    [latest.started_at],
  );
  const asOf = horizon.rows[0].at;
  if (asOf === null) return { links: Number(latest.links), medianDaysToDetection: null, detectedAsOf: null };
  const median = await sql.query<{ median_days: number | null }>(
    `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY greatest(0, extract(epoch FROM $2::timestamptz - c.created) / 86400)) AS median_days
     FROM evasion_links l
     CROSS JOIN LATERAL (SELECT coalesce(
       (SELECT created_at FROM accounts WHERE id = l.account_id),
       least((SELECT min(first_at) FROM account_edges WHERE src = l.account_id),
             (SELECT min(first_at) FROM account_features WHERE account_id = l.account_id))) AS created) c
     WHERE l.run_id = $1 AND c.created IS NOT NULL`,
    [latest.id, asOf],
  );
  const days = median.rows[0].median_days;
  return {
    links: Number(latest.links),
    medianDaysToDetection: days === null ? null : Math.round(Number(days) * 10) / 10,
    detectedAsOf: new Date(asOf).toISOString(),
  };
}

async function countSuspectFollows(sql: SqlClient, ids: number[]): Promise<RecommendationAuditReport['follows']> {
  // Suspects are few; their follows are read by account rather than scanning every edge.
  if (ids.length === 0) return { betweenSuspects: 0, fromRecommendations: 0, fromRecommendationsShare: 0 };
  const counted = await sql.query<{ total: number; recommended: number }>(
    `WITH s AS (SELECT value::integer AS id FROM jsonb_array_elements_text($1::jsonb))
     SELECT count(*) AS total, count(*) FILTER (WHERE e.via LIKE 'recommendation%') AS recommended
     FROM account_edges e WHERE e.kind = 'follow' AND e.active AND e.src IN (SELECT id FROM s) AND e.dst IN (SELECT id FROM s)`,
    [JSON.stringify(ids)],
  );
  const total = Number(counted.rows[0].total);
  const recommended = Number(counted.rows[0].recommended);
  return { betweenSuspects: total, fromRecommendations: recommended, fromRecommendationsShare: total > 0 ? round(recommended / total) : 0 };
}
