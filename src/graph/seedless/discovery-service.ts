import { countMinorsContacted, withMinorsContacted } from '../minor-contacts.ts';
import { notFound } from '../../errors.ts';
import type { SqlClient } from '../../store/sql.ts';
import type { AccountGraph, GraphBuildOptions } from '../account-graph.ts';
import type { LoadProgress } from '../detection-service.ts';
import type { CandidateSummary, MemberEvidence } from './candidate-description.ts';
import { discoverCandidateNetworks } from './discover.ts';
import type { DiscoveryOptions } from './discovery-options.ts';

export type CandidateStatus = 'candidate' | 'suspected' | 'dismissed';
export type DiscoveryProgress = (stage: Parameters<LoadProgress>[0] | 'hash matches' | 'discovering' | 'saving', rows: number) => void;

export interface DiscoveryRunOptions extends Omit<DiscoveryOptions, 'hashMatches'>, GraphBuildOptions {
  onProgress?: DiscoveryProgress;
}

export interface DiscoveryRunSummary {
  runId: number;
  accounts: number;
  candidates: { id: number; size: number; score: number; text: string }[];
  stats: ReturnType<typeof discoverCandidateNetworks>['stats'];
  timings: { loadMs: number; analysisMs: number; saveMs: number };
}

export interface StoredCandidate {
  id: number;
  runId: number;
  status: CandidateStatus;
  score: number;
  summary: CandidateSummary;
  createdAt: Date;
  members: { account: string; role: string; score: number; evidence: MemberEvidence[] }[];
}

type GraphLoader = (options: GraphBuildOptions & { onProgress?: LoadProgress }) => Promise<AccountGraph>;

/**
 * Runs seedless discovery over the stored graph and keeps each run's candidate networks
 * with their evidence, for review. Unlike detection it changes no account's standing: a
 * candidate holds back nothing and labels no one until a reviewer decides.
 */
export class NetworkDiscoveryService {
  constructor(private readonly sql: SqlClient, private readonly loadGraph: GraphLoader) {}

  /** Accounts whose uploads matched a bank, by graph index, with the number of such uploads. */
  async hashMatches(graph: AccountGraph): Promise<Map<number, number>> {
    const rows = await this.sql.query<{ id: number; uploads: number }>(
      `SELECT a.id, count(*) AS uploads FROM content c JOIN accounts a ON a.external_id = c.account_id
       WHERE jsonb_array_length(c.matches) > 0 GROUP BY a.id`,
    );
    const indexByStoreId = new Map<number, number>();
    graph.storeIds.forEach((storeId, index) => indexByStoreId.set(storeId, index));
    const result = new Map<number, number>();
    for (const row of rows.rows) {
      const index = indexByStoreId.get(Number(row.id));
      if (index !== undefined) result.set(index, Number(row.uploads));
    }
    return result;
  }

  async run(options: DiscoveryRunOptions = {}): Promise<DiscoveryRunSummary> {
    const startedAt = new Date();
    const { onProgress, maxFeatureDegree, ...discovery } = options;
    const loadStart = performance.now();
    const graph = await this.loadGraph({ maxFeatureDegree, onProgress });
    const hashMatches = await this.hashMatches(graph);
    onProgress?.('hash matches', hashMatches.size);
    const loadMs = performance.now() - loadStart;
    const analysisStart = performance.now();
    onProgress?.('discovering', 0);
    const result = discoverCandidateNetworks(graph, { ...discovery, hashMatches });
    const analysisMs = performance.now() - analysisStart;
    const saveStart = performance.now();
    const { runId, ids } = await this.sql.transaction(async (tx) => {
      const run = await tx.query<{ id: number }>('INSERT INTO discovery_runs (started_at, parameters, stats) VALUES ($1, $2::jsonb, $3::jsonb) RETURNING id', [
        startedAt,
        JSON.stringify(result.options),
        JSON.stringify(result.stats),
      ]);
      const runId = Number(run.rows[0].id);
      const ids: number[] = [];
      for (const candidate of result.candidates) {
        const memberIds = candidate.members.map((member) => graph.storeIds[member.account]);
        candidate.summary = withMinorsContacted(candidate.summary, await countMinorsContacted(tx, memberIds));
        const inserted = await tx.query<{ id: number }>(
          'INSERT INTO network_candidates (run_id, score, member_count, summary) VALUES ($1, $2, $3, $4::jsonb) RETURNING id',
          [runId, candidate.score, candidate.members.length, JSON.stringify(candidate.summary)],
        );
        const id = Number(inserted.rows[0].id);
        ids.push(id);
        await tx.query(
          `INSERT INTO network_candidate_members (candidate_id, account_id, role, score, evidence)
           SELECT $1, r.account_id, r.role, r.score, r.evidence FROM jsonb_to_recordset($2::jsonb) AS r(account_id integer, role text, score double precision, evidence jsonb)`,
          [id, JSON.stringify(candidate.members.map((m) => ({ account_id: graph.storeIds[m.account], role: m.role, score: m.score, evidence: m.evidence })))],
        );
        onProgress?.('saving', ids.length);
      }
      return { runId, ids };
    });
    return {
      runId,
      accounts: graph.accountCount,
      candidates: result.candidates.map((candidate, index) => ({ id: ids[index], size: candidate.members.length, score: candidate.score, text: candidate.summary.text })),
      stats: result.stats,
      timings: { loadMs, analysisMs, saveMs: performance.now() - saveStart },
    };
  }

  private async latestRun(): Promise<number> {
    const latest = await this.sql.query<{ id: number }>('SELECT id FROM discovery_runs ORDER BY id DESC LIMIT 1');
    if (latest.rows.length === 0) throw notFound('no discovery run yet: run `bulwark network discover` first');
    return Number(latest.rows[0].id);
  }

  /** Candidates of a run (default the latest), best first, without their member lists. */
  async candidates(options: { runId?: number; status?: CandidateStatus; limit?: number } = {}): Promise<{ runId: number; candidates: Omit<StoredCandidate, 'members'>[] }> {
    const runId = options.runId ?? (await this.latestRun());
    const rows = await this.sql.query<{ id: number; run_id: number; status: CandidateStatus; score: number; summary: CandidateSummary; created_at: Date }>(
      `SELECT id, run_id, status, score, summary, created_at FROM network_candidates
       WHERE run_id = $1 AND ($2::text IS NULL OR status = $2) ORDER BY score DESC, id LIMIT $3`,
      [runId, options.status ?? null, options.limit ?? 100],
    );
    return { runId, candidates: rows.rows.map(toCandidate) };
  }

  async candidate(id: number, client: SqlClient = this.sql): Promise<StoredCandidate> {
    const found = Number.isSafeInteger(id)
      ? await client.query<{ id: number; run_id: number; status: CandidateStatus; score: number; summary: CandidateSummary; created_at: Date }>(
          'SELECT id, run_id, status, score, summary, created_at FROM network_candidates WHERE id = $1',
          [id],
        )
      : { rows: [] };
    const row = found.rows[0];
    if (!row) throw notFound(`no candidate network with id ${id}`);
    const members = await client.query<{ external_id: string; role: string; score: number; evidence: MemberEvidence[] }>(
      `SELECT a.external_id, m.role, m.score, m.evidence FROM network_candidate_members m JOIN accounts a ON a.id = m.account_id
       WHERE m.candidate_id = $1 ORDER BY CASE m.role WHEN 'seller' THEN 0 WHEN 'buyer' THEN 1 ELSE 2 END, m.score DESC, a.external_id`,
      [id],
    );
    return { ...toCandidate(row), members: members.rows.map((m) => ({ account: m.external_id, role: m.role, score: m.score, evidence: m.evidence })) };
  }
}

function toCandidate(row: { id: number; run_id: number; status: CandidateStatus; score: number; summary: CandidateSummary; created_at: Date }): Omit<StoredCandidate, 'members'> {
  return { id: Number(row.id), runId: Number(row.run_id), status: row.status, score: Number(row.score), summary: row.summary, createdAt: row.created_at };
}
