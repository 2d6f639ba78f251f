import type { ReportFile } from './report-facts.ts';
import type { XmlElement } from './xml.ts';

/** The things an investigator needs from a report, each worth a share of the completeness score. */
export const QUALITY_ITEMS = {
  reported_account: 10,
  account_identifiers: 15,
  ip_addresses: 15,
  upload_times: 10,
  location: 5,
  files_viewed: 20,
  file_hashes: 5,
  related_accounts: 10,
  incident_type: 5,
  annotations: 5,
} as const;
export type QualityItem = keyof typeof QUALITY_ITEMS;

export interface QualityCheck {
  item: QualityItem;
  /** Share of the item present, 0..1; null when it does not apply to this report. */
  present: number | null;
  /** What is missing, when anything is. */
  missing?: string;
}

export interface ReportQuality {
  /** 0-100: the weighted share of the applicable items present. */
  score: number;
  checks: QualityCheck[];
  /** The items not fully present, each with what is missing. */
  missing: { item: QualityItem; detail: string }[];
}

export interface QualityContext {
  /** Whether the account belongs to a network Bulwark found, so related accounts are expected. */
  inNetwork: boolean;
}

const child = (element: XmlElement | undefined, name: string) => element?.children.find((c) => c.name === name);
const children = (element: XmlElement | undefined, name: string) => element?.children.filter((c) => c.name === name) ?? [];
const share = (part: number, whole: number) => (whole === 0 ? 1 : part / whole);

/**
 * Scores a built report by what it says, not by how Bulwark got it: whatever fills the
 * document (Bulwark's store, the platform's callback) counts. Reads the <report> as built and
 * the files it will upload with their fileDetails facts.
 */
export function assessReport(report: XmlElement, files: ReportFile[], context: QualityContext): ReportQuality {
  const summary = child(report, 'incidentSummary');
  const person = child(report, 'personOrUserReported');
  const personDetails = child(person, 'personOrUserReportedPerson');
  const checks: QualityCheck[] = [];
  const check = (item: QualityItem, present: number | null, missing: string) => checks.push(present === null || present >= 1 ? { item, present } : { item, present, missing });

  check('reported_account', child(person, 'espIdentifier') ? 1 : 0, 'no reported account (espIdentifier)');
  const identifierNames = ['screenName', 'displayName', 'profileUrl'];
  const hasIdentifiers =
    identifierNames.some((name) => children(person, name).length > 0) || ['email', 'phone'].some((name) => children(personDetails, name).length > 0);
  check('account_identifiers', hasIdentifiers ? 1 : 0, 'no screen name, display name, profile URL, email or phone of the reported account (Bulwark holds them only as keyed hashes)');

  const events = children(person, 'ipCaptureEvent');
  const complete = events.filter((event) => child(event, 'ipAddress') && child(event, 'dateTime') && child(event, 'port')).length;
  check(
    'ip_addresses',
    events.length === 0 ? 0 : complete === events.length ? 1 : 0.5,
    events.length === 0 ? 'no IP address of the reported account (ipCaptureEvent)' : `${events.length - complete} of ${events.length} IP address(es) without both a time and a port`,
  );

  const platformTimes = files.filter((file) => file.upload_time_source !== 'received').length;
  check('upload_times', share(platformTimes, files.length), `${files.length - platformTimes} of ${files.length} file(s) carry only the time Bulwark received them, not the platform's upload time`);

  const located = child(child(person, 'estimatedLocation'), 'countryCode') || children(personDetails, 'address').some((address) => child(address, 'country'));
  check('location', located ? 1 : 0, "the account's country or time zone is not known (estimatedLocation)");

  const viewed = files.filter((file) => file.viewed_by_esp).length;
  check('files_viewed', share(viewed, files.length), `${files.length - viewed} of ${files.length} file(s) not viewed by a person at the platform (fileViewedByEsp false: NCMEC may not open them without a warrant)`);

  const hashed = files.filter((file) => file.md5 || file.sha256).length;
  check('file_hashes', share(hashed, files.length), `${files.length - hashed} of ${files.length} file(s) without an MD5 or SHA-256`);

  const related = child(person, 'groupIdentifier') || children(person, 'associatedAccount').length > 0;
  check('related_accounts', context.inNetwork ? (related ? 1 : 0) : null, 'the account belongs to a network but the report names no related accounts');

  check('incident_type', child(summary, 'incidentType') && child(summary, 'incidentDateTime') ? 1 : 0, 'no incident type or incident time');
  check(
    'annotations',
    child(summary, 'reportAnnotations') ? 1 : 0,
    'no report annotations (sextortion, csamSolicitation, minorToMinorInteraction, …): map the deciding policy to them with BULWARK_NCMEC_POLICY_ANNOTATIONS where they apply',
  );

  let earned = 0;
  let possible = 0;
  for (const entry of checks) {
    if (entry.present === null) continue;
    possible += QUALITY_ITEMS[entry.item];
    earned += QUALITY_ITEMS[entry.item] * entry.present;
  }
  return {
    score: possible === 0 ? 0 : Math.round((100 * earned) / possible),
    checks,
    missing: checks.filter((entry) => entry.missing).map((entry) => ({ item: entry.item, detail: entry.missing! })),
  };
}
