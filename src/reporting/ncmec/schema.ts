/**
 * The parts of NCMEC's CyberTipline reporting schema (ISPWS) that Bulwark's reports use,
 * transcribed as data so one validator checks what we send and what the test server accepts.
 *
 * Sources (see docs/ncmec.md for the full account; the published XSD at
 * https://report.cybertip.org/ispws/xsd was NOT reachable from here, so this is a
 * transcription of secondary copies, not of the XSD itself):
 *  - Element order of <report> and <reporter>, the person type, email attributes, the
 *    fileDetails <details>/<nameValuePair> shape: the typed transcription of
 *    https://report.cybertip.org/ispws/documentation in github.com/Johannes-Andersen/Cybertipline-Tools
 *    (src/types/transactions/Report.ts, reportDetails/Reporter.ts, common/Person.ts,
 *    common/Email.ts, fileDetails/*.ts).
 *  - Sequences of <incidentSummary>, <personOrUserReported>, <fileDetails> and
 *    <ipCaptureEvent>: the "XSD ordering locks" of a public trust & safety tool's NCMEC test
 *    suite (found by code search; its repository is not named by the index).
 *  - Enumerations (incidentType, fileRelevance, industryClassification, email type) and the
 *    response codes: a public Python transcription of the schema's value sets (same caveat).
 * Elements Bulwark never emits are listed where they fix the order, typed loosely (`any`).
 */

export type SimpleType =
  | { kind: 'string'; maxLength?: number }
  | { kind: 'dateTime' }
  | { kind: 'email' }
  | { kind: 'boolean' }
  | { kind: 'integer' }
  | { kind: 'url' }
  | { kind: 'enum'; values: readonly string[] }
  /** An empty marker element, e.g. a file annotation. */
  | { kind: 'empty' };

export interface AttributeRule {
  name: string;
  required?: boolean;
  type: SimpleType;
}

export interface ElementRule {
  name: string;
  min: number;
  /** Infinity for unbounded. */
  max: number;
  content: ComplexType | SimpleType | { kind: 'any' };
  attributes?: AttributeRule[];
}

export interface ComplexType {
  kind: 'sequence';
  children: ElementRule[];
}

const one = (name: string, content: ElementRule['content'], attributes?: AttributeRule[]): ElementRule => ({ name, min: 1, max: 1, content, attributes });
const opt = (name: string, content: ElementRule['content'], attributes?: AttributeRule[]): ElementRule => ({ name, min: 0, max: 1, content, attributes });
const many = (name: string, content: ElementRule['content'], attributes?: AttributeRule[], min = 0): ElementRule => ({ name, min, max: Infinity, content, attributes });
const seq = (...children: ElementRule[]): ComplexType => ({ kind: 'sequence', children });
const str: SimpleType = { kind: 'string' };
const any = { kind: 'any' } as const;

export const INCIDENT_TYPES = [
  'Child Pornography (possession, manufacture, and distribution)',
  'Child Sex Trafficking',
  'Child Sex Tourism',
  'Child Sexual Molestation',
  'Misleading Domain Name',
  'Misleading Words or Digital Images on the Internet',
  'Online Enticement of Children for Sexual Acts',
  'Unsolicited Obscene Material Sent to a Child',
] as const;
export type IncidentType = (typeof INCIDENT_TYPES)[number];
/** The one incident type Bulwark reports. */
export const CHILD_PORNOGRAPHY_INCIDENT: IncidentType = INCIDENT_TYPES[0];

export const EMAIL_TYPES = ['Home', 'Work', 'Business'] as const;
export const FILE_RELEVANCE = ['Reported', 'Supplemental Reported'] as const;
export const INDUSTRY_CLASSIFICATIONS = ['A1', 'A2', 'B1', 'B2'] as const;
export const DETAILS_TYPES = ['EXIF', 'HASH'] as const;
export const EVENT_NAMES = ['Login', 'Registration', 'Purchase', 'Upload', 'Other', 'Unknown'] as const;

const email = (min: number) =>
  many('email', { kind: 'email' }, [
    { name: 'type', type: { kind: 'enum', values: EMAIL_TYPES } },
    { name: 'verified', type: { kind: 'boolean' } },
    { name: 'verificationDate', type: { kind: 'dateTime' } },
  ], min);

/** The person type; the reporting person must carry at least one email. */
const person = (emailMin: number): ComplexType =>
  seq(opt('firstName', str), opt('lastName', str), many('phone', str, [{ name: 'type', type: str }, { name: 'countryCallingCode', type: str }]), email(emailMin), many('address', any), opt('age', { kind: 'integer' }), opt('dateOfBirth', any));

const contactPerson: ComplexType = seq(opt('firstName', str), opt('lastName', str), many('phone', str, [{ name: 'type', type: str }]), email(0), many('address', any));

const ipCaptureEvent: ComplexType = seq(one('ipAddress', str), opt('eventName', { kind: 'enum', values: EVENT_NAMES }), opt('dateTime', { kind: 'dateTime' }), opt('possibleProxy', { kind: 'boolean' }), opt('port', { kind: 'integer' }));

export const INCIDENT_SUMMARY: ComplexType = seq(
  one('incidentType', { kind: 'enum', values: INCIDENT_TYPES }),
  opt('platform', str),
  opt('escalateToHighPriority', str),
  opt('reportAnnotations', any),
  one('incidentDateTime', { kind: 'dateTime' }),
  opt('incidentDateTimeDescription', str),
);

export const REPORTER: ComplexType = seq(
  one('reportingPerson', person(1)),
  opt('contactPerson', contactPerson),
  opt('companyTemplate', str),
  opt('termsOfService', str),
  opt('legalURL', { kind: 'url' }),
);

export const PERSON_OR_USER_REPORTED: ComplexType = seq(
  opt('personOrUserReportedPerson', any),
  opt('vehicleDescription', any),
  opt('espIdentifier', str),
  opt('espService', str),
  opt('compromisedAccount', { kind: 'boolean' }),
  opt('screenName', str),
  opt('displayName', str),
  many('profileUrl', { kind: 'url' }),
  opt('profileBio', str),
  many('ipCaptureEvent', ipCaptureEvent),
  many('deviceId', any),
  opt('thirdPartyUserReported', { kind: 'boolean' }),
  many('priorCTReports', { kind: 'integer' }),
  opt('groupIdentifier', str),
  opt('accountTemporarilyDisabled', any),
  opt('accountPermanentlyDisabled', any),
  many('estimatedLocation', any),
  opt('allEmailsReported', { kind: 'boolean' }),
  many('associatedAccount', any),
  opt('additionalInfo', str),
);

export const REPORT: ElementRule = one(
  'report',
  seq(
    one('incidentSummary', INCIDENT_SUMMARY),
    many('internetDetails', any),
    opt('lawEnforcement', any),
    one('reporter', REPORTER),
    opt('personOrUserReported', PERSON_OR_USER_REPORTED),
    many('intendedRecipient', any),
    many('victim', any),
    opt('additionalInfo', str),
  ),
  [{ name: 'xmlns:xsi', type: str }, { name: 'xsi:noNamespaceSchemaLocation', type: str }],
);

const nameValuePair: ComplexType = seq(one('name', str), one('value', str));

export const FILE_DETAILS: ElementRule = one(
  'fileDetails',
  seq(
    one('reportId', { kind: 'integer' }),
    one('fileId', str),
    opt('fileName', str),
    opt('originalFileName', str),
    opt('uploadedToEspTimestamp', { kind: 'dateTime' }),
    opt('locationOfFile', str),
    opt('fileViewedByEsp', { kind: 'boolean' }),
    opt('exifViewedByEsp', { kind: 'boolean' }),
    opt('publiclyAvailable', { kind: 'boolean' }),
    opt('fileRelevance', { kind: 'enum', values: FILE_RELEVANCE }),
    opt('fileAnnotations', any),
    opt('industryClassification', { kind: 'enum', values: INDUSTRY_CLASSIFICATIONS }),
    many('originalFileHash', str, [{ name: 'hashType', required: true, type: str }]),
    many('ipCaptureEvent', ipCaptureEvent),
    many('deviceId', any),
    many('details', seq(many('nameValuePair', nameValuePair, undefined, 1)), [{ name: 'type', type: { kind: 'enum', values: DETAILS_TYPES } }]),
    opt('additionalInfo', str),
  ),
  [{ name: 'xmlns:xsi', type: str }, { name: 'xsi:noNamespaceSchemaLocation', type: str }],
);

/** Documented ISPWS response codes (non-exhaustive: unknown codes are errors too). */
export const RESPONSE_CODES = {
  success: 0,
  serverError: 1000,
  authenticationRequired: 2000,
  notAuthorized: 3000,
  validationFailed: 4100,
  malformedXml: 4110,
  reportDoesNotExist: 5001,
  fileDoesNotExist: 5002,
  reportAlreadyRetracted: 5101,
  reportAlreadyFinished: 5102,
} as const;
