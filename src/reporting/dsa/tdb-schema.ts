/**
 * The DSA Transparency Database's statement of reasons as its API defines it since 1 July 2025
 * ("API v2", aligned with Implementing Regulation (EU) 2024/2835): field names, enumerations,
 * conditional requirements and limits. v2 is a schema, not a path: statements are still posted
 * to the v1 multi-statement endpoint. Sources (the Commission's open-source code): the v2 API
 * documentation resources/markdown/api-documentation-two.md (categories, keywords, content_id),
 * app/Services/GroupedSubmissionsService.php (the multi endpoint's rules), app/Models/Statement.php
 * (the enumerations the documentation prints from code), routes/api_v1.php and config/app.php
 * (api_latest = 1). See docs/dsa.md for what is still unverified.
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
/** v2 categories. v1's NON_CONSENSUAL_BEHAVIOUR and PORNOGRAPHY_OR_SEXUALIZED_CONTENT are gone; SCOPE_OF_PLATFORM_SERVICE became OTHER_VIOLATION_TC and UNSAFE_AND_ILLEGAL_PRODUCTS became UNSAFE_AND_PROHIBITED_PRODUCTS. */
export const STATEMENT_CATEGORIES = [
  'STATEMENT_CATEGORY_ANIMAL_WELFARE', 'STATEMENT_CATEGORY_CONSUMER_INFORMATION', 'STATEMENT_CATEGORY_CYBER_VIOLENCE',
  'STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN', 'STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS',
  'STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH', 'STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS',
  'STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS', 'STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE',
  'STATEMENT_CATEGORY_OTHER_VIOLATION_TC', 'STATEMENT_CATEGORY_PROTECTION_OF_MINORS', 'STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY',
  'STATEMENT_CATEGORY_SCAMS_AND_FRAUD', 'STATEMENT_CATEGORY_SELF_HARM', 'STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS',
  'STATEMENT_CATEGORY_VIOLENCE',
] as const;
/** Every v2 keyword (category_specification), so that local validation refuses exactly what the database refuses. */
export const KEYWORDS = [
  'KEYWORD_ANIMAL_HARM', 'KEYWORD_ADULT_SEXUAL_MATERIAL', 'KEYWORD_AGE_SPECIFIC_RESTRICTIONS', 'KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS',
  'KEYWORD_BIOMETRIC_DATA_BREACH', 'KEYWORD_BULLYING_AGAINST_GIRLS', 'KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL', 'KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE',
  'KEYWORD_CONTENT_PROMOTING_EATING_DISORDERS', 'KEYWORD_COORDINATED_HARM', 'KEYWORD_COPYRIGHT_INFRINGEMENT', 'KEYWORD_CYBER_BULLYING_INTIMIDATION',
  'KEYWORD_CYBER_HARASSMENT', 'KEYWORD_CYBER_HARASSMENT_AGAINST_WOMEN', 'KEYWORD_CYBER_INCITEMENT', 'KEYWORD_CYBER_STALKING',
  'KEYWORD_CYBER_STALKING_AGAINST_WOMEN', 'KEYWORD_DATA_FALSIFICATION', 'KEYWORD_DEFAMATION', 'KEYWORD_DESIGN_INFRINGEMENT', 'KEYWORD_DISCRIMINATION',
  'KEYWORD_MISINFORMATION_DISINFORMATION', 'KEYWORD_FEMALE_GENDERED_DISINFORMATION', 'KEYWORD_GEOGRAPHIC_INDICATIONS_INFRINGEMENT',
  'KEYWORD_GEOGRAPHICAL_REQUIREMENTS', 'KEYWORD_GOODS_SERVICES_NOT_PERMITTED', 'KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS', 'KEYWORD_HATE_SPEECH',
  'KEYWORD_HIDDEN_ADVERTISEMENT', 'KEYWORD_HUMAN_EXPLOITATION', 'KEYWORD_HUMAN_TRAFFICKING', 'KEYWORD_ILLEGAL_ORGANIZATIONS',
  'KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING', 'KEYWORD_INAUTHENTIC_ACCOUNTS', 'KEYWORD_INAUTHENTIC_LISTINGS', 'KEYWORD_INAUTHENTIC_USER_REVIEWS',
  'KEYWORD_INCITEMENT_AGAINST_WOMEN', 'KEYWORD_INCITEMENT_VIOLENCE_HATRED', 'KEYWORD_INSUFFICIENT_INFORMATION_ON_TRADERS', 'KEYWORD_LANGUAGE_REQUIREMENTS',
  'KEYWORD_MISLEADING_INFO_CONSUMER_RIGHTS', 'KEYWORD_MISLEADING_INFO_GOODS_SERVICES', 'KEYWORD_MISSING_PROCESSING_GROUND',
  'KEYWORD_NON_CONSENSUAL_IMAGE_SHARING', 'KEYWORD_NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN', 'KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE',
  'KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN', 'KEYWORD_NONCOMPLIANCE_PRICING', 'KEYWORD_NUDITY', 'KEYWORD_PATENT_INFRINGEMENT',
  'KEYWORD_PHISHING', 'KEYWORD_PROHIBITED_PRODUCTS', 'KEYWORD_PYRAMID_SCHEMES', 'KEYWORD_RIGHT_TO_BE_FORGOTTEN', 'KEYWORD_RISK_ENVIRONMENTAL_DAMAGE',
  'KEYWORD_RISK_PUBLIC_HEALTH', 'KEYWORD_SELF_MUTILATION', 'KEYWORD_STALKING', 'KEYWORD_SUICIDE', 'KEYWORD_TERRORIST_CONTENT',
  'KEYWORD_TRADE_SECRET_INFRINGEMENT', 'KEYWORD_TRADEMARK_INFRINGEMENT', 'KEYWORD_TRAFFICKING_WOMEN_GIRLS', 'KEYWORD_UNLAWFUL_SALE_ANIMALS',
  'KEYWORD_UNSAFE_CHALLENGES', 'KEYWORD_UNSAFE_PRODUCTS', 'KEYWORD_VIOLATION_EU_LAW', 'KEYWORD_VIOLATION_NATIONAL_LAW', 'KEYWORD_OTHER',
] as const;
/** The keys content_id accepts: at first only an EAN-13 product number. */
export const CONTENT_ID_KEYS = ['EAN-13'] as const;
export const SOURCE_TYPES = ['SOURCE_ARTICLE_16', 'SOURCE_TRUSTED_FLAGGER', 'SOURCE_TYPE_OTHER_NOTIFICATION', 'SOURCE_VOLUNTARY'] as const;
export const AUTOMATED_DETECTIONS = ['Yes', 'No'] as const;
export const AUTOMATED_DECISIONS = ['AUTOMATED_DECISION_FULLY', 'AUTOMATED_DECISION_PARTIALLY', 'AUTOMATED_DECISION_NOT_AUTOMATED'] as const;
export const EU_COUNTRY_CODES = [
  'AT', 'BE', 'BG', 'CY', 'CZ', 'DE', 'DK', 'EE', 'ES', 'FI', 'FR', 'GR', 'HR', 'HU', 'IE', 'IT', 'LT', 'LU', 'LV', 'MT', 'NL', 'PL', 'PT', 'RO', 'SE', 'SI', 'SK',
] as const;
export const EEA_COUNTRY_CODES = [...EU_COUNTRY_CODES, 'IS', 'LI', 'NO'] as const;

/** The most statements the multi-statement endpoint takes in one call. */
export const MAX_STATEMENTS_PER_CALL = 100;
/**
 * Path of the multi-statement endpoint below the database's base URL. The v2 schema is posted
 * here too: routes/api_v1.php holds the platforms' store routes, config/app.php has
 * api_latest = 1, and routes/api_v2.php serves no statement submission to platforms.
 */
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
  /** v2: identifiers of the content that hold no personal data, as key → value; only "EAN-13" so far. */
  content_id?: Record<string, string>;
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
  if (present(s.content_id)) {
    const id = s.content_id;
    if (typeof id !== 'object' || id === null || Array.isArray(id)) add('content_id', 'The content id field must be an object of identifier type to value.');
    else {
      for (const [key, value] of Object.entries(id)) {
        if (!(CONTENT_ID_KEYS as readonly string[]).includes(key)) add('content_id', `The content id key ${key} is not accepted; only ${CONTENT_ID_KEYS.join(', ')}.`);
        else if (typeof value !== 'string' || !/^\d{13}$/.test(value)) add('content_id', `The content id ${key} must be 13 digits.`);
      }
    }
  }
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
