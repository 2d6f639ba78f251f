import { notFound } from '../errors.ts';
import type { DomainEvent, EventLog } from '../events/event-log.ts';
import type { SqlClient } from '../store/sql.ts';
import { AUTOMATIC_LABEL_SOURCES } from './accounts.ts';
import { type AccountGraph, AccountGraphBuilder, type GraphBuildOptions, INTERACTION_KINDS, LABEL_CODES } from './account-graph.ts';
import type { EvasionEvidence } from './ban-evasion.ts';
import { type DetectionOptions, type LeadReason, type NetworkSummary, detectNetworks } from './network-detector.ts';
import { type StoredNetworkSummary, countMinorsContacted, withMinorsContacted } from './minor-contacts.ts';
import type { RiskCalibration } from './risk-calibration.ts';

export const NETWORK_DETECTED_EVENT = 'network.detected';
export const EVASION_SUSPECTED_EVENT = 'account.evasion_suspected';

export type LoadProgress = (stage: 'accounts' | 'interactions' | 'features', rows: number) => void;

export interface RunOptions extends DetectionOptions, GraphBuildOptions {
  /** Operator-chosen seeds for this run, by the platform's account id. */
  seeds?: string[];
  onProgress?: LoadProgress;
}

export interface RunSummary {
  runId: number;
  accounts: number;
  interactions: number;
  features: number;
  seeds: number;
  leads: number;
  networks: { id: number; size: number; sellers: number; buyers: number; text: string }[];
  evasions: number;
  /** How this run's risk was estimated from held-out seeds; null when it had fewer than two live labelled seeds (risk is then 0). */
  calibration: RiskCalibration | null;
  timings: { loadMs: number; analysisMs: number; saveMs: number; pageRankMs: number; calibrationMs: number; communitiesMs: number; evasionMs: number };
}

export interface StoredLead {
  rank: number;
  account: string;
  score: number;
  /** Calibrated probability of being a network member; null for runs stored before risk was calibrated. */
  risk: number | null;
  reasons: LeadReason[];
}

export interface StoredNetwork {
  id: number;
  runId: number;
  status: string;
  summary: StoredNetworkSummary;
  createdAt: Date;
  members: { account: string; role: string; score: number }[];
}

export interface StoredEvasion {
  account: string;
  removedAccount: string;
  score: number;
  evidence: EvasionEvidence[];
}

const PAGE = 50_000;
const KIND_CASE = `CASE kind ${INTERACTION_KINDS.map((kind, index) => `WHEN '${kind}' THEN ${index}`).join(' ')} END`;

/**
 * Runs network detection over the stored graph and keeps what it found: leads, networks
 * with their members' roles, ban-evasion links, and each account's standing for the
 * guardrails. Every run is kept, so a network can be traced back to the run that found it.
 */
export class NetworkDetectionService {
  constructor(private readonly sql: SqlClient, private readonly events: EventLog) {}

  /** Reads the graph in pages of aggregated JSON rows, which both drivers parse far faster than row objects. */
  async loadGraph(options: GraphBuildOptions & { onProgress?: LoadProgress } = {}): Promise<AccountGraph> {
    const builder = new AccountGraphBuilder(options);
    let after = 0;
    let rows = 0;
    for (;;) {
      const page = await this.sql.query<{ page: [number, string, string | null, string | null, boolean | null, number | null, number | null, boolean][] | null; last: number | null }>(
        `SELECT json_agg(json_build_array(id, external_id, label, label_source, minor,
                  extract(epoch FROM coalesce(created_at, first_seen)) * 1000, extract(epoch FROM deleted_at) * 1000,
                  coalesce(deletion_reason = 'enforcement', false)) ORDER BY id) AS page, max(id) AS last
         FROM (SELECT * FROM accounts WHERE id > $1 ORDER BY id LIMIT ${PAGE}) a`,
        [after],
      );
      const { page: items, last } = page.rows[0];
      if (!items || last === null) break;
      for (const [storeId, externalId, label, labelSource, minor, createdAt, deletedAt, enforced] of items) {
        builder.addAccount({
          storeId,
          externalId,
          label: label ? LABEL_CODES[label] : 0,
          labelAutomatic: labelSource !== null && AUTOMATIC_LABEL_SOURCES.has(labelSource),
          minor: minor === true,
          createdAt: createdAt ?? Number.NaN,
          deletedAt: deletedAt ?? Number.NaN,
          enforced,
        });
      }
      rows += items.length;
      options.onProgress?.('accounts', rows);
      after = last;
    }

    rows = 0;
    let cursor: [number, number, string] = [0, 0, ''];
    for (;;) {
      const page = await this.sql.query<{ page: [number, number, number, number, string][] | null }>(
        `SELECT json_agg(json_build_array(src, dst, ${KIND_CASE}, count, kind) ORDER BY src, dst, kind) AS page
         FROM (SELECT * FROM account_edges WHERE (src, dst, kind) > ($1, $2, $3) AND active ORDER BY src, dst, kind LIMIT ${PAGE * 2}) e`,
        cursor,
      );
      const items = page.rows[0].page;
      if (!items) break;
      for (const [src, dst, kind, count] of items) builder.addInteraction(src, dst, INTERACTION_KINDS[kind], count);
      const last = items[items.length - 1];
      cursor = [last[0], last[1], last[4]];
      rows += items.length;
      options.onProgress?.('interactions', rows);
    }

    rows = 0;
    let featureCursor: [number, string, string] = [0, '', ''];
    for (;;) {
      const page = await this.sql.query<{ page: [number, string, string][] | null }>(
        `SELECT json_agg(json_build_array(account_id, kind, value) ORDER BY account_id, kind, value) AS page
         FROM (SELECT account_id, kind, value FROM account_features WHERE (account_id, kind, value) > ($1, $2, $3) ORDER BY account_id, kind, value LIMIT ${PAGE * 2}) f`,
        featureCursor,
      );
      const items = page.rows[0].page;
      if (!items) break;
      for (const [account, kind, value] of items) builder.addFeature(account, kind, value);
      featureCursor = items[items.length - 1];
      rows += items.length;
      options.onProgress?.('features', rows);
    }
    return builder.build();
  }

  async run(options: RunOptions = {}): Promise<RunSummary> {
    const startedAt = new Date();
    const loadStart = performance.now();
    const graph = await this.loadGraph(options);
    const loadMs = performance.now() - loadStart;
    const indexByExternal = new Map<string, number>();
    if (options.seeds?.length) graph.externalIds.forEach((id, index) => indexByExternal.set(id, index));
    const extraSeeds = (options.seeds ?? []).map((id) => {
      const index = indexByExternal.get(id);
      if (index === undefined) throw notFound(`seed account ${JSON.stringify(id)} is not in the graph`);
      return index;
    });
    const analysisStart = performance.now();
    const result = detectNetworks(graph, { ...options, extraSeeds });
    const analysisMs = performance.now() - analysisStart;

    const saveStart = performance.now();
    const external = (index: number) => graph.externalIds[index];
    const storeId = (index: number) => graph.storeIds[index];
    const parameters = Object.fromEntries(Object.entries(options).filter(([key]) => key !== 'onProgress'));
    const { runId, networkIds, summaries, published } = await this.sql.transaction(async (tx) => {
      const run = await tx.query<{ id: number }>(
        'INSERT INTO detection_runs (started_at, parameters, stats, calibration) VALUES ($1, $2::jsonb, $3::jsonb, $4::jsonb) RETURNING id',
        [
          startedAt,
          JSON.stringify(parameters),
          JSON.stringify({ ...result.stats, accounts: graph.accountCount, interactions: graph.out.targets.length, features: graph.featureCount, seeds: result.seeds.length }),
          JSON.stringify(result.calibration),
        ],
      );
      const runId = Number(run.rows[0].id);
      await tx.query(
        `INSERT INTO detection_leads (run_id, account_id, rank, score, risk, reasons)
         SELECT $1, r.account_id, r.rank, r.score, r.risk, r.reasons FROM jsonb_to_recordset($2::jsonb) AS r(account_id integer, rank integer, score double precision, risk real, reasons jsonb)`,
        [runId, JSON.stringify(result.leads.map((lead, rank) => ({ account_id: storeId(lead.account), rank: rank + 1, score: lead.score, risk: lead.risk, reasons: lead.reasons })))],
      );
      // Standing from earlier runs is replaced, not accumulated: an account no longer near the seeds is no longer held back.
      await tx.query(
        `UPDATE accounts SET network_id = NULL, risk = NULL, evasion_of = NULL, guard_seq = nextval('account_guard_seq')
         WHERE network_id IS NOT NULL OR risk IS NOT NULL OR evasion_of IS NOT NULL`,
      );
      await tx.query(
        `UPDATE accounts a SET risk = r.risk, guard_seq = nextval('account_guard_seq')
         FROM jsonb_to_recordset($1::jsonb) AS r(id integer, risk real) WHERE a.id = r.id`,
        [JSON.stringify(result.leads.map((lead) => ({ id: storeId(lead.account), risk: lead.risk })))],
      );
      const published: DomainEvent[] = [];
      const networkIds: number[] = [];
      const summaries: StoredNetworkSummary[] = [];
      for (const network of result.networks) {
        const summary = withMinorsContacted(network.summary, await countMinorsContacted(tx, network.members.map((member) => storeId(member.account))));
        summaries.push(summary);
        const inserted = await tx.query<{ id: number }>(
          'INSERT INTO networks (run_id, member_count, summary) VALUES ($1, $2, $3::jsonb) RETURNING id',
          [runId, network.members.length, JSON.stringify(summary)],
        );
        const networkId = Number(inserted.rows[0].id);
        networkIds.push(networkId);
        await tx.query(
          `INSERT INTO network_members (network_id, account_id, role, score, reasons)
           SELECT $1, r.account_id, r.role, r.score, r.reasons FROM jsonb_to_recordset($2::jsonb) AS r(account_id integer, role text, score double precision, reasons jsonb)`,
          [networkId, JSON.stringify(network.members.map((member) => ({ account_id: storeId(member.account), role: member.role, score: member.score, reasons: { inbound: member.inbound, outbound: member.outbound } })))],
        );
        await tx.query(
          `UPDATE accounts SET network_id = $1, guard_seq = nextval('account_guard_seq') WHERE id IN (SELECT value::integer FROM jsonb_array_elements_text($2::jsonb))`,
          [networkId, JSON.stringify(network.members.map((member) => storeId(member.account)))],
        );
        published.push(
          await this.events.append(tx, NETWORK_DETECTED_EVENT, `network:${networkId}`, {
            network_id: networkId,
            run_id: runId,
            summary,
            members: network.members.map((member) => ({ account_id: external(member.account), role: member.role })),
          }),
        );
      }
      for (const link of result.evasions) {
        await tx.query('INSERT INTO evasion_links (run_id, account_id, removed_account_id, score, evidence) VALUES ($1, $2, $3, $4, $5::jsonb)', [
          runId,
          storeId(link.account),
          storeId(link.removed),
          link.score,
          JSON.stringify(link.evidence),
        ]);
        await tx.query(`UPDATE accounts SET evasion_of = $2, guard_seq = nextval('account_guard_seq') WHERE id = $1 AND evasion_of IS NULL`, [storeId(link.account), storeId(link.removed)]);
        published.push(
          await this.events.append(tx, EVASION_SUSPECTED_EVENT, `account:${external(link.account)}`, {
            account_id: external(link.account),
            removed_account_id: external(link.removed),
            score: link.score,
            evidence: link.evidence,
            run_id: runId,
          }),
        );
      }
      return { runId, networkIds, summaries, published };
    });
    this.events.published(published);
    const saveMs = performance.now() - saveStart;
    return {
      runId,
      accounts: graph.accountCount,
      interactions: graph.out.targets.length,
      features: graph.featureCount,
      seeds: result.seeds.length,
      leads: result.leads.length,
      networks: result.networks.map((network, index) => ({
        id: networkIds[index],
        size: network.summary.size,
        sellers: network.summary.sellers,
        buyers: network.summary.buyers,
        text: summaries[index].text,
      })),
      evasions: result.evasions.length,
      calibration: result.calibration,
      timings: {
        loadMs,
        analysisMs,
        saveMs,
        pageRankMs: result.stats.pageRankMs,
        calibrationMs: result.stats.calibrationMs,
        communitiesMs: result.stats.communitiesMs,
        evasionMs: result.stats.evasionMs,
      },
    };
  }

  private async runId(runId?: number): Promise<number> {
    if (runId !== undefined) return runId;
    const latest = await this.sql.query<{ id: number }>('SELECT id FROM detection_runs ORDER BY id DESC LIMIT 1');
    if (latest.rows.length === 0) throw notFound('no detection run yet: run `bulwark network detect` first');
    return Number(latest.rows[0].id);
  }

  async leads(options: { runId?: number; limit?: number } = {}): Promise<{ runId: number; calibration: RiskCalibration | null; leads: StoredLead[] }> {
    const runId = await this.runId(options.runId);
    const result = await this.sql.query<{ rank: number; external_id: string; score: number; risk: number | null; reasons: LeadReason[] }>(
      `SELECT l.rank, a.external_id, l.score, l.risk, l.reasons FROM detection_leads l JOIN accounts a ON a.id = l.account_id
       WHERE l.run_id = $1 ORDER BY l.rank LIMIT $2`,
      [runId, options.limit ?? 100],
    );
    return {
      runId,
      calibration: await this.calibration(runId),
      leads: result.rows.map((row) => ({ rank: row.rank, account: row.external_id, score: row.score, risk: row.risk, reasons: row.reasons })),
    };
  }

  /** How a run's risk was calibrated; null for runs without enough seeds, or stored before calibration. */
  async calibration(runId: number): Promise<RiskCalibration | null> {
    const found = await this.sql.query<{ calibration: RiskCalibration | null }>('SELECT calibration FROM detection_runs WHERE id = $1', [runId]);
    if (found.rows.length === 0) throw notFound(`no detection run with id ${runId}`);
    return found.rows[0].calibration;
  }

  async networks(options: { runId?: number } = {}): Promise<StoredNetwork[]> {
    const runId = await this.runId(options.runId);
    const ids = await this.sql.query<{ id: number }>('SELECT id FROM networks WHERE run_id = $1 ORDER BY member_count DESC, id', [runId]);
    return Promise.all(ids.rows.map((row) => this.network(Number(row.id))));
  }

  async network(id: number): Promise<StoredNetwork> {
    const found = await this.sql.query<{ id: number; run_id: number; status: string; summary: StoredNetworkSummary; created_at: Date }>(
      'SELECT id, run_id, status, summary, created_at FROM networks WHERE id = $1',
      [id],
    );
    const row = found.rows[0];
    if (!row) throw notFound(`no network with id ${id}`);
    const members = await this.sql.query<{ external_id: string; role: string; score: number }>(
      `SELECT a.external_id, m.role, m.score FROM network_members m JOIN accounts a ON a.id = m.account_id
       WHERE m.network_id = $1 ORDER BY CASE m.role WHEN 'seller' THEN 0 WHEN 'buyer' THEN 1 ELSE 2 END, m.score DESC`,
      [id],
    );
    return {
      id: Number(row.id),
      runId: Number(row.run_id),
      status: row.status,
      summary: row.summary,
      createdAt: row.created_at,
      members: members.rows.map((member) => ({ account: member.external_id, role: member.role, score: member.score })),
    };
  }

  async evasions(options: { runId?: number } = {}): Promise<StoredEvasion[]> {
    const runId = await this.runId(options.runId);
    const result = await this.sql.query<{ account: string; removed: string; score: number; evidence: EvasionEvidence[] }>(
      `SELECT a.external_id AS account, r.external_id AS removed, l.score, l.evidence
       FROM evasion_links l JOIN accounts a ON a.id = l.account_id JOIN accounts r ON r.id = l.removed_account_id
       WHERE l.run_id = $1 ORDER BY l.score DESC, a.external_id`,
      [runId],
    );
    return result.rows.map((row) => ({ account: row.account, removedAccount: row.removed, score: row.score, evidence: row.evidence }));
  }
}
