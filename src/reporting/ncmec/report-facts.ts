import { conflict, invalid, notFound } from '../../errors.ts';
import type { SqlClient } from '../../store/sql.ts';
import type { ReportAnnotation } from './config.ts';

/** One uploaded file as the report describes it. */
export interface ReportFile {
  content_id: string;
  file_name: string;
  media_type: string | null;
  md5: string | null;
  sha256: string | null;
  pdq: string | null;
  /** True exactly when the audit log shows someone at the platform opened the media of this case. */
  viewed_by_esp: boolean;
  /** When the platform says it was uploaded (else when Bulwark received it), ISO 8601 UTC. */
  uploaded_at: string;
  /** Whether uploaded_at is the platform's upload time or only when Bulwark received the file. */
  upload_time_source?: 'platform' | 'received';
  /** Whether Bulwark's sealed store holds the bytes; only such files can be uploaded. */
  media_held: boolean;
  /** The case whose decision confirmed this file. */
  case_id?: number;
}

/** A decided case as a report carries it. */
export interface DecidedCase {
  case_id: number;
  decision_id: number;
  verdict: string;
  policy: string | null;
  decided_at: string;
  subject: { kind: string; id: string };
  rules: string[];
  /** The accounts the decision confirms material of: the uploader, the account, or each network member. */
  accounts: string[];
}

/** Everything a report says, read from the store when it is built (and rebuilt on each supplement). */
export interface ReportFacts extends Pick<DecidedCase, 'case_id' | 'decision_id' | 'verdict' | 'policy' | 'decided_at' | 'subject'> {
  // The fields above are those of the first case the report was made for (the report's case_id).
  /** Every case the report carries, oldest decision first. */
  cases: DecidedCase[];
  account: { esp_identifier: string; identifiers: { kind: string; hash: string }[] } | null;
  files: ReportFile[];
  rules: string[];
  matches: { bank: string; signal_type: string; distance: number }[];
  incident_date_time: string;
  /** Networks (network case subjects) the account was taken down with. */
  networks: string[];
  /** The other members of those networks, each reported separately. */
  related_accounts: string[];
  /** Whether the account belongs to any network Bulwark found (the related accounts are then expected). */
  in_network: boolean;
  /** NCMEC ids of earlier reports about this account. */
  prior_reports: string[];
  annotations: ReportAnnotation[];
}

/**
 * The content a `media.revealed` entry showed: named by content_id since reveals open the
 * original (migration 0015 indexes this expression); older entries only name the case's subject.
 */
const REVEALED_CONTENT = "COALESCE(detail->>'content_id', CASE WHEN detail->'subject'->>'kind' = 'content' THEN detail->'subject'->>'id' END)";

const EXTENSIONS: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp', 'image/gif': 'gif', 'image/tiff': 'tif' };

/** How many of an account's matched uploads one account or network decision confirms at most. */
const MAX_ACCOUNT_FILES = 100;

interface ContentRow {
  content_id: string;
  account_id: string;
  signals: { signalType: string; value: string }[];
  matches: { bank: string; signalType: string; distance: number }[];
  created_at: Date | null;
  received_at: Date;
  media_type: string | null;
}

/** ISO 8601 in UTC, without milliseconds (the form NCMEC's examples use). */
export const isoUtc = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

const CONTENT_COLUMNS = `c.content_id, c.account_id, c.signals, c.matches, c.created_at, c.received_at, m.media_type`;

/**
 * A case decided with a reportable verdict, and the accounts it confirms material of. The
 * subject must be content (its uploader), an account, or a network (each member).
 */
export async function loadDecidedCase(client: SqlClient, caseId: number, reportableVerdicts: string[]): Promise<DecidedCase> {
  const found = await client.query<{ id: number; subject_kind: string; subject_id: string; status: string; reasons: { rule: string }[] }>(
    'SELECT id, subject_kind, subject_id, status, reasons FROM cases WHERE id = $1',
    [caseId],
  );
  const row = found.rows[0];
  if (!row) throw notFound(`no case ${caseId}`);
  if (row.status !== 'decided') throw conflict(`case ${caseId} is not decided; only confirmed cases are reported`);
  const decisions = await client.query<{ id: number; verdict: string; policy: string | null; decided_at: Date }>(
    'SELECT id, verdict, policy, decided_at FROM decisions WHERE case_id = $1 ORDER BY id DESC LIMIT 1',
    [caseId],
  );
  const decision = decisions.rows[0];
  if (!decision || !reportableVerdicts.includes(decision.verdict)) {
    throw conflict(`case ${caseId} was decided ${decision ? JSON.stringify(decision.verdict) : 'without a decision'}; reportable verdicts are ${reportableVerdicts.join(', ')}`);
  }
  let accounts: string[];
  if (row.subject_kind === 'content') {
    const content = await client.query<{ account_id: string }>('SELECT account_id FROM content WHERE content_id = $1', [row.subject_id]);
    if (!content.rows[0]) throw conflict(`case ${caseId} has no content Bulwark holds to report`);
    accounts = [content.rows[0].account_id];
  } else if (row.subject_kind === 'account') {
    accounts = [row.subject_id];
  } else if (row.subject_kind === 'network') {
    accounts = (
      await client.query<{ external_id: string }>(
        'SELECT a.external_id FROM network_members m JOIN accounts a ON a.id = m.account_id WHERE m.network_id = $1 ORDER BY a.external_id',
        [Number(row.subject_id)],
      )
    ).rows.map((member) => member.external_id);
  } else {
    throw invalid(`case ${caseId} is about a ${row.subject_kind}; reports are made from content, account or network cases`);
  }
  return {
    case_id: caseId,
    decision_id: Number(decision.id),
    verdict: decision.verdict,
    policy: decision.policy,
    decided_at: isoUtc(new Date(decision.decided_at)),
    subject: { kind: row.subject_kind, id: row.subject_id },
    rules: [...new Set(row.reasons.map((reason) => reason.rule))],
    accounts,
  };
}

/** The files one decided case confirms for one account: the content itself, or the account's matched uploads. */
async function caseContents(client: SqlClient, decided: DecidedCase, accountId: string): Promise<ContentRow[]> {
  if (decided.subject.kind === 'content') {
    return (await client.query<ContentRow>(`SELECT ${CONTENT_COLUMNS} FROM content c LEFT JOIN content_media m USING (content_id) WHERE c.content_id = $1`, [decided.subject.id])).rows;
  }
  return (
    await client.query<ContentRow>(
      `SELECT ${CONTENT_COLUMNS} FROM content c LEFT JOIN content_media m USING (content_id)
       WHERE c.account_id = $1 AND jsonb_array_length(c.matches) > 0 ORDER BY c.received_at, c.content_id LIMIT ${MAX_ACCOUNT_FILES}`,
      [accountId],
    )
  ).rows;
}

export interface GatherOptions {
  /** Content already in an earlier report about this account: not repeated. */
  alreadyReported?: ReadonlySet<string>;
  priorReports?: string[];
  policyAnnotations?: Record<string, ReportAnnotation[]>;
}

/**
 * What one report about one account says: every file the given cases confirm for it (each
 * once, in upload order), its identifiers, and the networks it was taken down with.
 */
export async function gatherReportFacts(client: SqlClient, accountId: string | null, cases: DecidedCase[], options: GatherOptions = {}): Promise<ReportFacts> {
  if (cases.length === 0) throw conflict('a report needs at least one decided case');
  const ordered = [...cases].sort((a, b) => a.decided_at.localeCompare(b.decided_at) || a.case_id - b.case_id);
  const contents = new Map<string, { row: ContentRow; caseId: number }>();
  for (const decided of ordered) {
    for (const row of await caseContents(client, decided, accountId ?? '')) {
      if (!contents.has(row.content_id) && !options.alreadyReported?.has(row.content_id)) contents.set(row.content_id, { row, caseId: decided.case_id });
    }
  }
  if (contents.size === 0) throw conflict(`case ${ordered.map((c) => c.case_id).join(', ')} has no content Bulwark holds to report${options.alreadyReported?.size ? ' that an earlier report does not already carry' : ''}`);
  const rows = [...contents.values()].sort((a, b) => new Date(a.row.received_at).getTime() - new Date(b.row.received_at).getTime() || a.row.content_id.localeCompare(b.row.content_id));
  // Viewed means a person saw the media unblurred: a reveal of that content, in this case or
  // any other (an earlier case about it, an appeal). Blurred previews and fetches do not count.
  const viewed = new Set(
    (
      await client.query<{ content_id: string }>(
        `SELECT DISTINCT ${REVEALED_CONTENT} AS content_id FROM audit_log WHERE action = 'media.revealed' AND ${REVEALED_CONTENT} = ANY($1::text[])`,
        [rows.map((entry) => entry.row.content_id)],
      )
    ).rows.map((r) => r.content_id),
  );
  const identifiers = accountId
    ? (
        await client.query<{ kind: string; value: string }>(
          `SELECT f.kind, f.value FROM account_features f JOIN accounts a ON a.id = f.account_id
           WHERE a.external_id = $1 AND f.kind LIKE 'identifier:%' ORDER BY f.kind, f.value`,
          [accountId],
        )
      ).rows.map((r) => ({ kind: r.kind.slice('identifier:'.length), hash: r.value }))
    : [];
  const signal = (content: ContentRow, type: string) => content.signals.find((s) => s.signalType === type)?.value ?? null;
  const files = rows.map(({ row: content, caseId }): ReportFile => ({
    content_id: content.content_id,
    file_name: `${content.content_id}${content.media_type && EXTENSIONS[content.media_type] ? `.${EXTENSIONS[content.media_type]}` : ''}`,
    media_type: content.media_type,
    md5: signal(content, 'md5'),
    sha256: signal(content, 'sha256'),
    pdq: signal(content, 'pdq'),
    viewed_by_esp: viewed.has(content.content_id),
    uploaded_at: isoUtc(new Date(content.created_at ?? content.received_at)),
    upload_time_source: content.created_at ? 'platform' : 'received',
    media_held: content.media_type !== null,
    case_id: caseId,
  }));
  const networks = [...new Set(ordered.filter((c) => c.subject.kind === 'network').map((c) => c.subject.id))];
  const related = [...new Set(ordered.filter((c) => c.subject.kind === 'network').flatMap((c) => c.accounts))].filter((member) => member !== accountId).sort();
  const inNetwork = accountId
    ? networks.length > 0 || (await client.query('SELECT 1 FROM network_members m JOIN accounts a ON a.id = m.account_id WHERE a.external_id = $1 LIMIT 1', [accountId])).rows.length > 0
    : false;
  const first = ordered[0];
  const annotations = [...new Set(ordered.flatMap((c) => (c.policy ? options.policyAnnotations?.[c.policy] ?? [] : [])))];
  return {
    case_id: first.case_id,
    decision_id: first.decision_id,
    verdict: first.verdict,
    policy: first.policy,
    decided_at: first.decided_at,
    subject: first.subject,
    cases: ordered,
    account: accountId ? { esp_identifier: accountId, identifiers } : null,
    files,
    rules: [...new Set(ordered.flatMap((c) => c.rules))],
    matches: rows.flatMap(({ row }) => row.matches.map((m) => ({ bank: m.bank, signal_type: m.signalType, distance: m.distance }))),
    incident_date_time: files.map((file) => file.uploaded_at).sort()[0],
    networks,
    related_accounts: related,
    in_network: inNetwork,
    prior_reports: options.priorReports ?? [],
    annotations,
  };
}

/** What a report about this one case alone says (the case's first account). */
export async function loadReportFacts(client: SqlClient, caseId: number, reportableVerdicts: string[]): Promise<ReportFacts> {
  const decided = await loadDecidedCase(client, caseId, reportableVerdicts);
  return gatherReportFacts(client, decided.accounts[0] ?? null, [decided]);
}
