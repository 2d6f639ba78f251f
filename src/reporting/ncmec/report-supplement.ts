import type { AccountDetails } from './account-details.ts';
import { el, textEl, type XmlElement } from './xml.ts';

/** The children of <personOrUserReported> in the XSD's sequence order. */
const PERSON_OR_USER_REPORTED_ORDER = [
  'personOrUserReportedPerson', 'vehicleDescription', 'espIdentifier', 'espService', 'compromisedAccount', 'screenName', 'displayName',
  'profileUrl', 'profileBio', 'ipCaptureEvent', 'deviceId', 'thirdPartyUserReported', 'priorCTReports', 'groupIdentifier',
  'accountTemporarilyDisabled', 'accountPermanentlyDisabled', 'estimatedLocation', 'allEmailsReported', 'associatedAccount', 'additionalInfo',
];
/** Elements the XSD allows once: what the report already says wins over what is supplied. */
const SINGLE = new Set(['personOrUserReportedPerson', 'screenName']);

/**
 * The report with the platform's account details put into <personOrUserReported>, each
 * element in the XSD's order. The input is not changed: the stored report stays as Bulwark
 * built it, and this copy only goes to NCMEC. Without a <personOrUserReported> (a report about
 * no account) the report is returned as it is.
 */
export function supplementReport(report: XmlElement, details: AccountDetails): XmlElement {
  const index = report.children.findIndex((child) => child.name === 'personOrUserReported');
  if (index < 0) return report;
  const reported = report.children[index];
  const person = el(
    'personOrUserReportedPerson',
    {},
    textEl('firstName', details.first_name),
    textEl('lastName', details.last_name),
    ...details.phones.map((phone) =>
      textEl('phone', phone.number, { type: phone.type, verified: phone.verified?.toString(), verificationDate: phone.verified_at, countryCallingCode: phone.country_calling_code }),
    ),
    ...details.emails.map((email) => textEl('email', email.address, { type: email.type, verified: email.verified?.toString(), verificationDate: email.verified_at })),
    textEl('dateOfBirth', details.date_of_birth),
  );
  const supplied: XmlElement[] = [
    ...(person.children.length > 0 ? [person] : []),
    ...[textEl('screenName', details.screen_name)].filter((child): child is XmlElement => child !== undefined),
    ...details.display_names.map((name) => textEl('displayName', name)!),
    ...details.profile_urls.map((url) => textEl('profileUrl', url)!),
    ...details.ip_events.map((event) =>
      el(
        'ipCaptureEvent',
        {},
        textEl('ipAddress', event.ip_address),
        textEl('eventName', event.event),
        textEl('dateTime', event.at),
        textEl('possibleProxy', event.possible_proxy),
        textEl('port', event.port),
      ),
    ),
  ].filter((child) => !(SINGLE.has(child.name) && reported.children.some((existing) => existing.name === child.name)));
  const rank = (name: string) => {
    const position = PERSON_OR_USER_REPORTED_ORDER.indexOf(name);
    return position < 0 ? PERSON_OR_USER_REPORTED_ORDER.length : position;
  };
  // A stable merge by rank: existing elements keep their order, supplied ones follow same-named existing ones.
  const merged = [...reported.children.map((child, i) => ({ child, key: rank(child.name), i })), ...supplied.map((child, i) => ({ child, key: rank(child.name), i: reported.children.length + i }))]
    .sort((a, b) => a.key - b.key || a.i - b.i)
    .map((entry) => entry.child);
  const children = [...report.children];
  children[index] = { ...reported, children: merged };
  return { ...report, children };
}
