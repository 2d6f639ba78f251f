/**
 * The DSA Transparency Database's statement of reasons, as its API (v1, multi-statement
 * endpoint) defines it: field names, enumerations, conditional requirements and limits,
 * taken from the Commission's open-source code (app/Models/Statement.php,
 * app/Services/GroupedSubmissionsService.php) and its API documentation. See docs/dsa.md.
 */

export const DECISION_VISIBILITIES = [
  'DECISION_VISIBILITY_CONTENT_REMOVED', 'DECISION_VISIBILITY_CONTENT_DISABLED', 'DECISION_VISIBILITY_CONTENT_DEMOTED',
  'DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED', 'DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED', 'DECISION_VISIBILITY_CONTENT_LABELLED',
  'DECISION_VISIBILITY_OTHER',
] as const;
export const DECISION_MONETARIES = ['DECISION_MONETARY_SUSPENSION', 'DECISION_MONETARY_TERMINATION', 'DECISION_MONETARY_OTHER'] as const;
export const DECISION_PROVISIONS = [
  'DECISION_PROVISION_PARTIAL_SUSPENSION', 'DECISION_PROVISION_TOTAL_SUSPENSION', 'DECISION_PROVISION_PARTIAL_TERMINATION', 'DECISION_PROVISION_TOTAL_TERMINATION',
] as const;
export const DECISION_ACCOUNTS = ['DECISION_ACCOUNT_SUSPENDED', 'DECISION_ACCOUNT_TERMINATED'] as const;
export const ACCOUNT_TYPES = ['ACCOUNT_TYPE_BUSINESS', 'ACCOUNT_TYPE_PRIVATE'] as const;
export const DECISION_GROUNDS = ['DECISION_GROUND_ILLEGAL_CONTENT', 'DECISION_GROUND_INCOMPATIBLE_CONTENT'] as const;
export const CONTENT_TYPES = [
  'CONTENT_TYPE_APP', 'CONTENT_TYPE_AUDIO', 'CONTENT_TYPE_IMAGE', 'CONTENT_TYPE_PRODUCT', 'CONTENT_TYPE_SYNTHETIC_MEDIA', 'CONTENT_TYPE_TEXT',
  'CONTENT_TYPE_VIDEO', 'CONTENT_TYPE_OTHER',
] as const;
export const STATEMENT_CATEGORIES = [
  'STATEMENT_CATEGORY_ANIMAL_WELFARE', 'STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS', 'STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH',
  'STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS', 'STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS',
  'STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR', 'STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT', 'STATEMENT_CATEGORY_PROTECTION_OF_MINORS',
  'STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY', 'STATEMENT_CATEGORY_SCAMS_AND_FRAUD', 'STATEMENT_CATEGORY_SELF_HARM',
  'STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE', 'STATEMENT_CATEGORY_UNSAFE_AND_ILLEGAL_PRODUCTS', 'STATEMENT_CATEGORY_VIOLENCE',
] as const;
/** Keywords (category_specification); only those Bulwark uses are listed, plus KEYWORD_OTHER. */
export const KEYWORDS = [
  'KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS', 'KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL', 'KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS',
  'KEYWORD_UNSAFE_CHALLENGES', 'KEYWORD_COORDINATED_HARM', 'KEYWORD_INAUTHENTIC_ACCOUNTS', 'KEYWORD_HUMAN_EXPLOITATION', 'KEYWORD_OTHER',
] as const;
export const SOURCE_TYPES = ['SOURCE_ARTICLE_16', 'SOURCE_TRUSTED_FLAGGER', 'SOURCE_TYPE_OTHER_NOTIFICATION', 'SOURCE_VOLUNTARY'] as const;
export const AUTOMATED_DETECTIONS = ['Yes', 'No'] as const;
export const AUTOMATED_DECISIONS = ['AUTOMATED_DECISION_FULLY', 'AUTOMATED_DECISION_PARTIALLY', 'AUTOMATED_DECISION_NOT_AUTOMATED'] as const;
export const EU_COUNTRY_CODES = [
  'AT', 'BE', 'BG', 'CY', 'CZ', 'DE', 'DK', 'EE', 'ES', 'FI', 'FR', 'GR', 'HR', 'HU', 'IE', 'IT', 'LT', 'LU', 'LV', 'MT', 'NL', 'PL', 'PT', 'RO', 'SE', 'SI', 'SK',
] as const;
export const EEA_COUNTRY_CODES = [...EU_COUNTRY_CODES, 'IS', 'LI', 'NO'] as const;

/** The most statements the multi-statement endpoint takes in one call. */
export const MAX_STATEMENTS_PER_CALL = 100;
/** Path of the multi-statement endpoint below the database's base URL. */
export const MULTI_STATEMENT_PATH = '/api/v1/statements';

export interface TdbStatement {
  decision_visibility?: string[];
  decision_visibility_other?: string;
  decision_monetary?: string;
  decision_monetary_other?: string;
  decision_provision?: string;
  decision_account?: string;
  account_type?: string;
  decision_ground: string;
  decision_ground_reference_url?: string;
  illegal_content_legal_ground?: string;
  illegal_content_explanation?: string;
  incompatible_content_ground?: string;
  incompatible_content_explanation?: string;
  incompatible_content_illegal?: string;
  content_type: string[];
  content_type_other?: string;
  category: string;
  category_addition?: string[];
  category_specification?: string[];
  category_specification_other?: string;
  territorial_scope: string[];
  content_language?: string;
  content_date: string;
  application_date: string;
  end_date_account_restriction?: string;
  end_date_monetary_restriction?: string;
  end_date_service_restriction?: string;
  end_date_visibility_restriction?: string;
  decision_facts: string;
  source_type: string;
  source_identity?: string;
  automated_detection: string;
  automated_decision: string;
  puid: string;
}

/** Field → messages, as the database reports them per statement. */
export type ValidationErrors = Record<string, string[]>;

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const PUID = /^[a-zA-Z0-9_-]+$/;
const present = (value: unknown) => value !== undefined && value !== null && value !== '' && !(Array.isArray(value) && value.length === 0);
const isRealDate = (text: string) => DATE.test(text) && new Date(`${text}T00:00:00Z`).toISOString().slice(0, 10) === text;

/**
 * Checks a statement as the database does before it accepts it. `today` (UTC, YYYY-MM-DD)
 * adds one local rule the database does not state: dates may not lie in the future.
 */
export function validateStatement(input: unknown, today?: string): ValidationErrors {
  const errors: ValidationErrors = {};
  const add = (field: string, message: string) => (errors[field] ??= []).push(message);
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return { statement: ['The statement must be a JSON object.'] };
  const s = input as Record<string, unknown>;
  const label = (field: string) => field.replace(/_/g, ' ');
  const oneOf = (field: string, allowed: readonly string[]) => {
    if (present(s[field]) && (typeof s[field] !== 'string' || !allowed.includes(s[field] as string))) add(field, `The selected ${label(field)} is invalid.`);
  };
  const arrayOf = (field: string, allowed: readonly string[]) => {
    if (!present(s[field])) return;
    if (!Array.isArray(s[field])) return add(field, `The ${label(field)} field must be an array.`);
    if ((s[field] as unknown[]).some((v) => typeof v !== 'string' || !allowed.includes(v))) add(field, `The selected ${label(field)} is invalid.`);
  };
  const required = (field: string) => {
    if (!present(s[field])) add(field, `The ${label(field)} field is required.`);
  };
  const max = (field: string, limit: number) => {
    if (present(s[field]) && (typeof s[field] !== 'string' || (s[field] as string).length > limit)) add(field, `The ${label(field)} field must not be greater than ${limit} characters.`);
  };
  const date = (field: string, from: string | undefined, to = '2038-01-01') => {
    if (!present(s[field])) return;
    const value = s[field];
    if (typeof value !== 'string' || !isRealDate(value)) return add(field, `The ${label(field)} does not match the format YYYY-MM-DD.`);
    if (from && value < from) add(field, `The ${label(field)} field must be a date after or equal to ${from}.`);
    if (value > to) add(field, `The ${label(field)} field must be a date before or equal to ${to}.`);
    if (today && value > today) add(field, `The ${label(field)} field must not be in the future.`);
  };

  const restrictions = ['decision_visibility', 'decision_monetary', 'decision_provision', 'decision_account'];
  for (const field of restrictions) {
    if (restrictions.every((other) => !present(s[other]))) {
      const others = restrictions.filter((other) => other !== field).map(label).join(' / ');
      add(field, `The ${label(field)} field is required when none of ${others} are present.`);
    }
  }
  arrayOf('decision_visibility', DECISION_VISIBILITIES);
  if (Array.isArray(s.decision_visibility) && s.decision_visibility.includes('DECISION_VISIBILITY_OTHER')) required('decision_visibility_other');
  max('decision_visibility_other', 500);
  oneOf('decision_monetary', DECISION_MONETARIES);
  if (s.decision_monetary === 'DECISION_MONETARY_OTHER') required('decision_monetary_other');
  max('decision_monetary_other', 500);
  oneOf('decision_provision', DECISION_PROVISIONS);
  oneOf('decision_account', DECISION_ACCOUNTS);
  oneOf('account_type', ACCOUNT_TYPES);
  arrayOf('category_specification', KEYWORDS);
  max('category_specification_other', 500);

  required('decision_ground');
  oneOf('decision_ground', DECISION_GROUNDS);
  if (present(s.decision_ground_reference_url)) {
    const url = s.decision_ground_reference_url;
    if (typeof url !== 'string' || !URL.canParse(url)) add('decision_ground_reference_url', 'The decision ground reference url field must be a valid URL.');
    max('decision_ground_reference_url', 500);
  }
  if (s.decision_ground === 'DECISION_GROUND_ILLEGAL_CONTENT') {
    required('illegal_content_legal_ground');
    required('illegal_content_explanation');
  }
  if (s.decision_ground === 'DECISION_GROUND_INCOMPATIBLE_CONTENT') {
    required('incompatible_content_ground');
    required('incompatible_content_explanation');
    oneOf('incompatible_content_illegal', ['Yes', 'No']);
  }
  max('illegal_content_legal_ground', 500);
  max('illegal_content_explanation', 2000);
  max('incompatible_content_ground', 500);
  max('incompatible_content_explanation', 2000);

  required('content_type');
  arrayOf('content_type', CONTENT_TYPES);
  if (Array.isArray(s.content_type) && s.content_type.includes('CONTENT_TYPE_OTHER')) required('content_type_other');
  max('content_type_other', 500);
  required('category');
  oneOf('category', STATEMENT_CATEGORIES);
  arrayOf('category_addition', STATEMENT_CATEGORIES);
  required('territorial_scope');
  arrayOf('territorial_scope', EEA_COUNTRY_CODES);
  if (present(s.content_language) && (typeof s.content_language !== 'string' || !/^[A-Z]{2}$/.test(s.content_language))) add('content_language', 'The selected content language is invalid.');

  required('content_date');
  date('content_date', '2000-01-01');
  required('application_date');
  date('application_date', '2020-01-01');
  for (const field of ['end_date_account_restriction', 'end_date_monetary_restriction', 'end_date_service_restriction', 'end_date_visibility_restriction']) {
    if (!present(s[field])) continue;
    const value = s[field];
    if (typeof value !== 'string' || !isRealDate(value)) add(field, `The ${label(field)} does not match the format YYYY-MM-DD.`);
    else if (value > '2038-01-01') add(field, `The ${label(field)} field must be a date before or equal to 2038-01-01.`);
    else if (typeof s.application_date === 'string' && value < s.application_date) add(field, `The ${label(field)} field must be a date after or equal to application date.`);
  }

  required('decision_facts');
  max('decision_facts', 5000);
  required('source_type');
  oneOf('source_type', SOURCE_TYPES);
  max('source_identity', 500);
  required('automated_detection');
  oneOf('automated_detection', AUTOMATED_DETECTIONS);
  required('automated_decision');
  oneOf('automated_decision', AUTOMATED_DECISIONS);
  required('puid');
  max('puid', 500);
  if (typeof s.puid === 'string' && s.puid !== '' && !PUID.test(s.puid)) add('puid', 'The puid field format is invalid.');
  return errors;
}
