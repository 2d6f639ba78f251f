import type { NcmecReporterConfig } from './config.ts';
import type { ReportFacts, ReportFile } from './report-facts.ts';
import { CHILD_PORNOGRAPHY_INCIDENT } from './schema.ts';
import { el, textEl, type XmlElement } from './xml.ts';

export { isoUtc, loadReportFacts, type ReportFacts, type ReportFile } from './report-facts.ts';

const SCHEMA_ATTRIBUTES = { 'xmlns:xsi': 'http://www.w3.org/2001/XMLSchema-instance', 'xsi:noNamespaceSchemaLocation': 'https://report.cybertip.org/ispws/xsd' };

/** The <report> document, its elements in the schema's order. */
export function buildReportDocument(facts: ReportFacts, reporter: NcmecReporterConfig): XmlElement {
  const contact = reporter.contact;
  const companyTemplate = reporter.companyTemplate ?? (reporter.espName ? `Reported by ${reporter.espName}.` : undefined);
  const notUploaded = facts.files.filter((file) => !file.media_held);
  const caseLines = facts.cases.map((c) => `Bulwark case ${c.case_id}, decision ${c.decision_id} (verdict ${c.verdict}${c.policy ? `, policy ${c.policy}` : ''}) at ${c.decided_at}.`);
  const additional = [
    ...caseLines,
    facts.rules.length > 0 ? `Found by rules: ${facts.rules.join(', ')}.` : undefined,
    facts.matches.length > 0 ? `Hash-list matches: ${facts.matches.map((m) => `${m.bank} (${m.signal_type}, distance ${m.distance})`).join('; ')}.` : undefined,
    ...notUploaded.map((file) => `File ${file.file_name} is not held by Bulwark and was not uploaded; its hashes: ${hashSummary(file)}.`),
    ...facts.prior_reports.filter((id) => !NCMEC_REPORT_ID.test(id)).map((id) => `An earlier CyberTipline report about this account: ${id}.`),
  ].filter(Boolean).join(' ');
  const personNotes = [
    // Bulwark keeps no screen names, emails, phones or IP addresses in the clear: only keyed hashes.
    facts.account && facts.account.identifiers.length > 0
      ? `Account identifiers are held by Bulwark only as keyed hashes (HMAC-SHA-256 under the platform's key), not as values: ${facts.account.identifiers.map((i) => `${i.kind} ${i.hash}`).join('; ')}.`
      : undefined,
    facts.related_accounts.length > 0
      ? `Taken down with the other members of the same network (${facts.networks.map((n) => `Bulwark network ${n}`).join(', ')}), each reported separately under the same group identifier: ${facts.related_accounts.join(', ')}.`
      : undefined,
  ].filter(Boolean).join(' ');
  return el(
    'report',
    SCHEMA_ATTRIBUTES,
    el(
      'incidentSummary',
      {},
      textEl('incidentType', CHILD_PORNOGRAPHY_INCIDENT),
      facts.annotations.length > 0 && el('reportAnnotations', {}, ...facts.annotations.map((annotation) => textEl(annotation, true))),
      textEl('incidentDateTime', facts.incident_date_time),
    ),
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
        ...facts.prior_reports.filter((id) => NCMEC_REPORT_ID.test(id)).map((id) => textEl('priorCTReports', id)),
        // The schema's place for an organised group; every member's report carries the same one.
        textEl('groupIdentifier', facts.networks.length > 0 ? facts.networks.map((n) => `bulwark-network-${n}`).join(' ') : undefined),
        textEl('additionalInfo', personNotes),
      ),
    textEl('additionalInfo', additional),
  );
}

/** CyberTipline report ids are numbers (priorCTReports is an xs:long). */
const NCMEC_REPORT_ID = /^\d{1,18}$/;

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
