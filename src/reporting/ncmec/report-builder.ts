import { conflict, invalid, notFound } from '../../errors.ts';
import type { SqlClient } from '../../store/sql.ts';
import type { NcmecReporterConfig } from './config.ts';
import { CHILD_PORNOGRAPHY_INCIDENT } from './schema.ts';
import { el, textEl, type XmlElement } from './xml.ts';

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
  /** Whether Bulwark's sealed store holds the bytes; only such files can be uploaded. */
  media_held: boolean;
}

/** Everything a report says, read from the store at the moment it is created. */
export interface ReportFacts {
  case_id: number;
  decision_id: number;
  verdict: string;
  policy: string | null;
  decided_at: string;
  subject: { kind: string; id: string };
  account: { esp_identifier: string; identifiers: { kind: string; hash: string }[] } | null;
  files: ReportFile[];
  rules: string[];
  matches: { bank: string; signal_type: string; distance: number }[];
  incident_date_time: string;
}

const SCHEMA_ATTRIBUTES = { 'xmlns:xsi': 'http://www.w3.org/2001/XMLSchema-instance', 'xsi:noNamespaceSchemaLocation': 'https://report.cybertip.org/ispws/xsd' };

/**
 * The content a `media.revealed` entry showed: named by content_id since reveals open the
 * original (migration 0015 indexes this expression); older entries only name the case's subject.
 */
const REVEALED_CONTENT = "COALESCE(detail->>'content_id', CASE WHEN detail->'subject'->>'kind' = 'content' THEN detail->'subject'->>'id' END)";

const EXTENSIONS: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp', 'image/gif': 'gif', 'image/tiff': 'tif' };

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

/**
 * Reads what a report about this case says. The case must be decided with a reportable
 * verdict; its subject must be content (the file) or an account (its matched uploads).
 */
export async function loadReportFacts(client: SqlClient, caseId: number, reportableVerdicts: string[]): Promise<ReportFacts> {
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
  const contentColumns = `c.content_id, c.account_id, c.signals, c.matches, c.created_at, c.received_at, m.media_type`;
  let contents: ContentRow[];
  let accountId: string | undefined;
  if (row.subject_kind === 'content') {
    contents = (await client.query<ContentRow>(`SELECT ${contentColumns} FROM content c LEFT JOIN content_media m USING (content_id) WHERE c.content_id = $1`, [row.subject_id])).rows;
    accountId = contents[0]?.account_id;
  } else if (row.subject_kind === 'account') {
    accountId = row.subject_id;
    contents = (
      await client.query<ContentRow>(
        `SELECT ${contentColumns} FROM content c LEFT JOIN content_media m USING (content_id)
         WHERE c.account_id = $1 AND jsonb_array_length(c.matches) > 0 ORDER BY c.received_at, c.content_id LIMIT 100`,
        [row.subject_id],
      )
    ).rows;
  } else {
    throw invalid(`case ${caseId} is about a ${row.subject_kind}; reports are made from content or account cases`);
  }
  if (contents.length === 0) throw conflict(`case ${caseId} has no content Bulwark holds to report`);
  // Viewed means a person saw the media unblurred: a reveal of that content, in this case or
  // any other (an earlier case about it, an appeal). Blurred previews and fetches do not count.
  const viewed = new Set(
    (
      await client.query<{ content_id: string }>(
        `SELECT DISTINCT ${REVEALED_CONTENT} AS content_id FROM audit_log WHERE action = 'media.revealed' AND ${REVEALED_CONTENT} = ANY($1::text[])`,
        [contents.map((content) => content.content_id)],
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
  const files = contents.map((content): ReportFile => ({
    content_id: content.content_id,
    file_name: `${content.content_id}${content.media_type && EXTENSIONS[content.media_type] ? `.${EXTENSIONS[content.media_type]}` : ''}`,
    media_type: content.media_type,
    md5: signal(content, 'md5'),
    sha256: signal(content, 'sha256'),
    pdq: signal(content, 'pdq'),
    viewed_by_esp: viewed.has(content.content_id),
    uploaded_at: isoUtc(new Date(content.created_at ?? content.received_at)),
    media_held: content.media_type !== null,
  }));
  const matches = contents.flatMap((content) => content.matches.map((m) => ({ bank: m.bank, signal_type: m.signalType, distance: m.distance })));
  return {
    case_id: caseId,
    decision_id: Number(decision.id),
    verdict: decision.verdict,
    policy: decision.policy,
    decided_at: isoUtc(new Date(decision.decided_at)),
    subject: { kind: row.subject_kind, id: row.subject_id },
    account: accountId ? { esp_identifier: accountId, identifiers } : null,
    files,
    rules: [...new Set(row.reasons.map((reason) => reason.rule))],
    matches,
    incident_date_time: files.map((file) => file.uploaded_at).sort()[0],
  };
}

/** The <report> document, its elements in the schema's order. */
export function buildReportDocument(facts: ReportFacts, reporter: NcmecReporterConfig): XmlElement {
  const contact = reporter.contact;
  const companyTemplate = reporter.companyTemplate ?? (reporter.espName ? `Reported by ${reporter.espName}.` : undefined);
  const notUploaded = facts.files.filter((file) => !file.media_held);
  const additional = [
    `Bulwark case ${facts.case_id}, decision ${facts.decision_id} (verdict ${facts.verdict}${facts.policy ? `, policy ${facts.policy}` : ''}) at ${facts.decided_at}.`,
    facts.rules.length > 0 ? `Found by rules: ${facts.rules.join(', ')}.` : undefined,
    facts.matches.length > 0 ? `Hash-list matches: ${facts.matches.map((m) => `${m.bank} (${m.signal_type}, distance ${m.distance})`).join('; ')}.` : undefined,
    ...notUploaded.map((file) => `File ${file.file_name} is not held by Bulwark and was not uploaded; its hashes: ${hashSummary(file)}.`),
  ].filter(Boolean).join(' ');
  return el(
    'report',
    SCHEMA_ATTRIBUTES,
    el('incidentSummary', {}, textEl('incidentType', CHILD_PORNOGRAPHY_INCIDENT), textEl('incidentDateTime', facts.incident_date_time)),
    el(
      'reporter',
      {},
      el('reportingPerson', {}, textEl('firstName', reporter.firstName), textEl('lastName', reporter.lastName), textEl('phone', reporter.phone), textEl('email', reporter.email)),
      contact && el('contactPerson', {}, textEl('firstName', contact.firstName), textEl('lastName', contact.lastName), textEl('phone', contact.phone), textEl('email', contact.email)),
      textEl('companyTemplate', companyTemplate),
      textEl('termsOfService', reporter.termsOfService),
      textEl('legalURL', reporter.legalUrl),
    ),
    facts.account &&
      el(
        'personOrUserReported',
        {},
        textEl('espIdentifier', facts.account.esp_identifier),
        // Bulwark keeps no screen names, emails, phones or IP addresses in the clear: only keyed hashes.
        textEl(
          'additionalInfo',
          facts.account.identifiers.length > 0
            ? `Account identifiers are held by Bulwark only as keyed hashes (HMAC-SHA-256 under the platform's key), not as values: ${facts.account.identifiers.map((i) => `${i.kind} ${i.hash}`).join('; ')}.`
            : undefined,
        ),
      ),
    textEl('additionalInfo', additional),
  );
}

function hashSummary(file: ReportFile): string {
  return [file.md5 && `MD5 ${file.md5}`, file.sha256 && `SHA-256 ${file.sha256}`, file.pdq && `PDQ ${file.pdq}`].filter(Boolean).join(', ') || 'none computed';
}

/** The <fileDetails> document for one uploaded file. */
export function buildFileDetailsDocument(reportId: string, fileId: string, file: ReportFile): XmlElement {
  const extraHashes = [
    file.sha256 ? el('nameValuePair', {}, textEl('name', 'SHA-256'), textEl('value', file.sha256)) : undefined,
    file.pdq ? el('nameValuePair', {}, textEl('name', 'PDQ'), textEl('value', file.pdq)) : undefined,
  ];
  return el(
    'fileDetails',
    SCHEMA_ATTRIBUTES,
    textEl('reportId', reportId),
    textEl('fileId', fileId),
    textEl('originalFileName', file.file_name),
    textEl('uploadedToEspTimestamp', file.uploaded_at),
    textEl('fileViewedByEsp', file.viewed_by_esp),
    textEl('fileRelevance', 'Reported'),
    textEl('originalFileHash', file.md5, { hashType: 'MD5' }),
    extraHashes.some(Boolean) && el('details', { type: 'HASH' }, ...extraHashes),
  );
}
