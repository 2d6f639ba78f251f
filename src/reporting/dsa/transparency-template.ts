/**
 * The layout of the quantitative transparency-report template of Commission Implementing
 * Regulation (EU) 2024/2835, Annex I: section numbers and headings (from the regulation's text),
 * the template's CSV parts, their applicability, indicator labels and category rows (from the
 * Commission's CSV version of the template). Sources and gaps: docs/dsa.md, "Transparency reports".
 */

/** Annex I, Part II, 1. Quantitative template: the numbered sections Bulwark fills. */
export const SECTIONS = {
  identification: { number: '1.1', title: 'Report identification' },
  ordersToAct: { number: '1.2.1', title: 'Article 15(1)(a). Member State orders to act against illegal content' },
  ordersToInform: { number: '1.2.2', title: 'Article 15(1)(a). Member State orders to provide information' },
  notices: { number: '1.3', title: 'Article 15(1)(b). Notices submitted in accordance with Article 16 of Regulation (EU) 2022/2065' },
  ownInitiative: { number: '1.4', title: 'Article 15(1)(c). Meaningful and comprehensible information on own-initiative content moderation' },
  complaints: { number: '1.5.1', title: 'Internal complaints mechanism, out-of-court dispute settlement bodies and suspensions imposed on repeated offenders' },
  automatedMeans: { number: '1.6', title: 'Article 15(1)(b)(c)(e) and Article 42(2)(c). Use of automated means for content moderation and indicators of accuracy' },
  humanResources: { number: '1.7', title: 'Articles 42(2)(a) and 42(2)(b). Human resources dedicated to content moderation' },
  activeRecipients: { number: '1.8', title: 'Article 42(3). Average monthly active recipients' },
} as const;

/** The template's CSV parts (the Commission publishes the XLSX template also as CSV parts 1-11). */
export const PARTS = {
  identification: '1_report_identification',
  orders: '3_member_states_orders',
  notices: '4_notices',
  ownInitiativeIllegal: '5_own_initiative_illegal',
  ownInitiativeTerms: '6_own_initiative_TC',
  complaints: '7_appeals_and_recidivism',
  automatedMeans: '8_automated_means',
  humanResources: '9_human_resources',
  activeRecipients: '10_AMAR',
} as const;

/** The template's first column: which providers a row applies to. */
export const APPLICABILITY = {
  all: 'All',
  hosting: 'Only for providers of hosting services, including online platforms',
  platforms: 'Only for providers of online platforms',
  vlops: 'Only for VLOPs',
  vlopsAndVloses: 'Only for VLOPs and VLOSEs',
} as const;

/** The category rows shared by parts 3 to 6: each STATEMENT_CATEGORY_* row is followed by its KEYWORD_* rows. */
const SHARED_CATEGORIES: Record<string, readonly string[]> = {
  STATEMENT_CATEGORY_ANIMAL_WELFARE: ['KEYWORD_ANIMAL_HARM', 'KEYWORD_UNLAWFUL_SALE_ANIMALS', 'KEYWORD_OTHER'],
  STATEMENT_CATEGORY_CONSUMER_INFORMATION: [
    'KEYWORD_HIDDEN_ADVERTISEMENT', 'KEYWORD_INSUFFICIENT_INFORMATION_ON_TRADERS', 'KEYWORD_MISLEADING_INFO_GOODS_SERVICES',
    'KEYWORD_MISLEADING_INFO_CONSUMER_RIGHTS', 'KEYWORD_NONCOMPLIANCE_PRICING', 'KEYWORD_OTHER',
  ],
  STATEMENT_CATEGORY_CYBER_VIOLENCE: [
    'KEYWORD_CYBER_BULLYING_INTIMIDATION', 'KEYWORD_CYBER_HARASSMENT', 'KEYWORD_CYBER_INCITEMENT', 'KEYWORD_CYBER_STALKING',
    'KEYWORD_NON_CONSENSUAL_IMAGE_SHARING', 'KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE', 'KEYWORD_OTHER',
  ],
  STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN: [
    'KEYWORD_BULLYING_AGAINST_GIRLS', 'KEYWORD_CYBER_HARASSMENT_AGAINST_WOMEN', 'KEYWORD_CYBER_STALKING_AGAINST_WOMEN',
    'KEYWORD_FEMALE_GENDERED_DISINFORMATION', 'KEYWORD_INCITEMENT_AGAINST_WOMEN', 'KEYWORD_NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN',
    'KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN', 'KEYWORD_OTHER',
  ],
  STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS: [
    'KEYWORD_BIOMETRIC_DATA_BREACH', 'KEYWORD_DATA_FALSIFICATION', 'KEYWORD_MISSING_PROCESSING_GROUND', 'KEYWORD_RIGHT_TO_BE_FORGOTTEN', 'KEYWORD_OTHER',
  ],
  STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH: ['KEYWORD_DEFAMATION', 'KEYWORD_DISCRIMINATION', 'KEYWORD_HATE_SPEECH', 'KEYWORD_OTHER'],
  STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS: [
    'KEYWORD_COPYRIGHT_INFRINGEMENT', 'KEYWORD_DESIGN_INFRINGEMENT', 'KEYWORD_GEOGRAPHIC_INDICATIONS_INFRINGEMENT', 'KEYWORD_PATENT_INFRINGEMENT',
    'KEYWORD_TRADE_SECRET_INFRINGEMENT', 'KEYWORD_TRADEMARK_INFRINGEMENT', 'KEYWORD_OTHER',
  ],
  STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS: [
    'KEYWORD_MISINFORMATION_DISINFORMATION', 'KEYWORD_VIOLATION_EU_LAW', 'KEYWORD_VIOLATION_NATIONAL_LAW', 'KEYWORD_OTHER',
  ],
  STATEMENT_CATEGORY_PROTECTION_OF_MINORS: [
    'KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS', 'KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL', 'KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE',
    'KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS', 'KEYWORD_UNSAFE_CHALLENGES', 'KEYWORD_OTHER',
  ],
  STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY: [
    'KEYWORD_ILLEGAL_ORGANIZATIONS', 'KEYWORD_RISK_ENVIRONMENTAL_DAMAGE', 'KEYWORD_RISK_PUBLIC_HEALTH', 'KEYWORD_TERRORIST_CONTENT', 'KEYWORD_OTHER',
  ],
  STATEMENT_CATEGORY_SCAMS_AND_FRAUD: [
    'KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING', 'KEYWORD_INAUTHENTIC_ACCOUNTS', 'KEYWORD_INAUTHENTIC_LISTINGS', 'KEYWORD_INAUTHENTIC_USER_REVIEWS',
    'KEYWORD_PHISHING', 'KEYWORD_PYRAMID_SCHEMES', 'KEYWORD_OTHER',
  ],
  STATEMENT_CATEGORY_SELF_HARM: ['KEYWORD_CONTENT_PROMOTING_EATING_DISORDERS', 'KEYWORD_SELF_MUTILATION', 'KEYWORD_SUICIDE', 'KEYWORD_OTHER'],
  STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS: ['KEYWORD_PROHIBITED_PRODUCTS', 'KEYWORD_UNSAFE_PRODUCTS', 'KEYWORD_OTHER'],
  STATEMENT_CATEGORY_VIOLENCE: [
    'KEYWORD_COORDINATED_HARM', 'KEYWORD_INCITEMENT_VIOLENCE_HATRED', 'KEYWORD_HUMAN_EXPLOITATION', 'KEYWORD_HUMAN_TRAFFICKING',
    'KEYWORD_TRAFFICKING_WOMEN_GIRLS', 'KEYWORD_OTHER',
  ],
};

/** Part 3 ends with a row for orders that name no category, part 4 with one for notices; part 6 adds a terms-only category. */
export const NOT_SPECIFIED_ORDER = 'STATEMENT_CATEGORY_NOT_SPECIFIED_ORDER';
export const NOT_SPECIFIED_NOTICE = 'STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE';
export const CATEGORY_ROWS = {
  orders: { ...SHARED_CATEGORIES, [NOT_SPECIFIED_ORDER]: [] },
  notices: { ...SHARED_CATEGORIES, [NOT_SPECIFIED_NOTICE]: [] },
  ownInitiativeIllegal: SHARED_CATEGORIES,
  ownInitiativeTerms: {
    ...SHARED_CATEGORIES,
    STATEMENT_CATEGORY_OTHER_VIOLATION_TC: [
      'KEYWORD_ADULT_SEXUAL_MATERIAL', 'KEYWORD_AGE_SPECIFIC_RESTRICTIONS', 'KEYWORD_GEOGRAPHICAL_REQUIREMENTS', 'KEYWORD_GOODS_SERVICES_NOT_PERMITTED',
      'KEYWORD_LANGUAGE_REQUIREMENTS', 'KEYWORD_NUDITY', 'KEYWORD_OTHER',
    ],
  },
} satisfies Record<string, Record<string, readonly string[]>>;
export type CategoryRows = Record<string, readonly string[]>;

/** The template's label for the row of all categories (parts 3-6) and of all Member States (part 3). */
export const TOTAL = 'TOTAL';

/** Column headers of part 3, one per figure. */
export const ORDER_INDICATORS = {
  actReceived: 'Number of orders to act against illegal content received',
  actItems: 'Number of specific items of information included in the total number of orders to act against illegal content',
  actMedianInform: 'Median time to inform the authority of the receipt of the order to act against illegal content',
  actMedianEffect: 'Median time to give effect to the order to act against illegal content',
  infoReceived: 'Number of orders to provide information',
  infoMedianInform: 'Median time to inform the authority of the receipt of the order to provide information',
  infoMedianEffect: 'Median time to give effect to the order to provide information',
} as const;

/** Column headers of part 4 (the template's trailing space after "received" is dropped). */
export const NOTICE_INDICATORS = {
  received: 'Number of notices received',
  receivedTrusted: 'Number of notices received from Trusted flaggers',
  items: 'Number of specific items of information included in the total number of notices',
  itemsTrusted: 'Number of specific items of information included in the total number of notices by Trusted Flaggers (Trusted Flagger notices)',
  medianAction: 'Median time to take action',
  medianActionTrusted: 'Median time to take action (Trusted Flagger notices)',
  actionsLaw: 'Number of actions taken on the basis of the law',
  actionsLawTrusted: 'Number of actions taken on the basis of the law (Trusted Flagger notices)',
  actionsTerms: 'Number of actions taken on the basis of the terms and conditions of the service',
  actionsTermsTrusted: 'Number of actions taken on the basis of the terms and conditions of the service (Trusted Flagger notices)',
} as const;

/** Column headers of parts 5 and 6, with the Transparency Database restriction values each one counts. */
export const MEASURE_COUNT = "Number of measures taken at the provider's own initiative";
export const MEASURE_AUTOMATED_DETECTION = 'Number of measures taken after detection with solely automated means';
export const RESTRICTION_COLUMNS: readonly { label: string; field: 'decision_visibility' | 'decision_monetary' | 'decision_provision' | 'decision_account'; values: readonly string[] }[] = [
  { label: 'Visibility restriction Removal', field: 'decision_visibility', values: ['DECISION_VISIBILITY_CONTENT_REMOVED'] },
  { label: 'Visibility restriction Disable', field: 'decision_visibility', values: ['DECISION_VISIBILITY_CONTENT_DISABLED'] },
  { label: 'Visibility restriction Demoted', field: 'decision_visibility', values: ['DECISION_VISIBILITY_CONTENT_DEMOTED'] },
  { label: 'Visibility restriction Age restricted', field: 'decision_visibility', values: ['DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED'] },
  { label: 'Visibility restriction Interaction restricted', field: 'decision_visibility', values: ['DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED'] },
  { label: 'Visibility restriction Labelled', field: 'decision_visibility', values: ['DECISION_VISIBILITY_CONTENT_LABELLED'] },
  { label: 'Visibility restriction Other', field: 'decision_visibility', values: ['DECISION_VISIBILITY_OTHER'] },
  { label: 'Monetary restriction Suspension', field: 'decision_monetary', values: ['DECISION_MONETARY_SUSPENSION'] },
  { label: 'Monetary restriction Termination', field: 'decision_monetary', values: ['DECISION_MONETARY_TERMINATION'] },
  { label: 'Monetary restriction Other', field: 'decision_monetary', values: ['DECISION_MONETARY_OTHER'] },
  { label: 'Provision of the service Suspension', field: 'decision_provision', values: ['DECISION_PROVISION_PARTIAL_SUSPENSION', 'DECISION_PROVISION_TOTAL_SUSPENSION'] },
  { label: 'Provision of the service Termination', field: 'decision_provision', values: ['DECISION_PROVISION_PARTIAL_TERMINATION', 'DECISION_PROVISION_TOTAL_TERMINATION'] },
  { label: 'Account restriction Suspension', field: 'decision_account', values: ['DECISION_ACCOUNT_SUSPENDED'] },
  { label: 'Account restriction Termination', field: 'decision_account', values: ['DECISION_ACCOUNT_TERMINATED'] },
];

/** Part 7: its own "Section" column, indicators and scopes. */
export const COMPLAINT_SECTIONS = {
  internal: 'Internal complaints mechanism',
  outOfCourt: 'Out-of-court dispute settlement bodies',
  suspensions: 'Suspensions imposed on repeated offenders',
} as const;
export const COMPLAINTS_SUBMITTED = 'Number of complaints submitted to the internal-complaints mechanism';
export const RESTRICTIONS_AFTER_COMPLAINT = 'Number of restrictions newly imposed as a result of an internal complaint';
export const COMPLAINT_KINDS = {
  visibility: 'Complaint regarding a decision to remove or disable access to or restrict visibility of information',
  provision: 'Complaint regarding a decision to suspend or terminate the provision of the service',
  account: 'Complaint regarding a decision to suspend or terminate an account',
  monetary: 'Complaint regarding a decision to restrict the ability to monetise information',
  noActionOnNotice: 'Complaint regarding a decision not to take action on a notice submitted in accordance with Article 16',
  noActionOnTrustedNotice: 'Complaint regarding a decision not to take action on a notice submitted by a Trusted Flagger in accordance with Article 16',
} as const;
export const DISPUTES_SUBMITTED = 'Number of disputes submitted to out-of-court dispute settlement bodies';
export const SUSPENSION_INDICATORS = {
  illegalContent: 'Number of suspensions enacted for the provision of manifestly illegal content',
  unfoundedNotices: 'Number of suspensions enacted for the provision of manifestly unfounded notices',
  unfoundedComplaints: 'Number of suspensions enacted for the provision of manifestly unfounded complaints',
} as const;
export const SCOPES = {
  total: 'Total number',
  upheld: 'Decisions upheld',
  partiallyReversed: 'Decisions partially reversed',
  reversed: 'Decisions reversed',
  median: 'Median time',
  omitted: 'Decision omitted',
  implemented: 'Percentage of outcomes implemented',
  ownInitiative: 'Own-initiative',
  noticesTotal: 'NAM Total',
  noticesTrusted: 'NAM Trusted Flagger',
} as const;

/** Part 8. */
export const AUTOMATED_SECTION = 'Use of automated means for content moderation';
export const AUTOMATED_INDICATORS = {
  solely: 'Number of measures solely taken by automated means',
  not: 'Number of measures not taken by automated means',
  noticesSolely: 'Number of notices solely processed by automated means',
  noticesNot: 'Number of notices not processed by automated means',
  accuracy: 'Accuracy of the automated means - Accuracy',
  precision: 'Accuracy of the automated means - Precision',
  recall: 'Accuracy of the automated means - Recall',
} as const;

/** Parts 9 and 10 (very large platforms only). */
export const HUMAN_RESOURCES_SECTION = 'Human resources dedicated to content moderation';
export const HUMAN_RESOURCES_INDICATORS = [
  'Number of internal moderators employed by the provider',
  'Number of external moderators contracted by the provider',
  'Number of total moderators with sufficient linguistic expertise',
] as const;
export const ACTIVE_RECIPIENTS_INDICATOR = 'Number of average monthly active recipients during the reporting period';

/** Part 1. */
export const IDENTIFICATION_INDICATORS = {
  provider: 'Name of the service provider',
  published: 'Date of the publication of the report',
  previous: 'Date of the publication of the latest previous report',
  start: 'Starting date of reporting period',
  end: 'Ending date of reporting period',
} as const;

/**
 * Bulwark's own category names (notices and orders take a free lower-case name) that stand for a
 * template row. Any template code also matches in lower case, with or without its prefix.
 */
const BULWARK_CATEGORY_NAMES: Record<string, { category: string; keyword?: string }> = {
  csam: { category: 'STATEMENT_CATEGORY_PROTECTION_OF_MINORS', keyword: 'KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL' },
  child_sexual_exploitation: { category: 'STATEMENT_CATEGORY_PROTECTION_OF_MINORS' },
};

export interface TemplateCategory {
  category: string;
  keyword?: string;
}

/** The template row a Bulwark category name belongs to, or undefined when it names none. */
export function templateCategory(name: string, rows: CategoryRows): TemplateCategory | undefined {
  const normalised = name.trim().toLowerCase().replace(/-/g, '_');
  const named = BULWARK_CATEGORY_NAMES[normalised];
  if (named) return named;
  const code = normalised.toUpperCase();
  for (const candidate of [code, `STATEMENT_CATEGORY_${code}`]) if (candidate in rows) return { category: candidate };
  // A keyword names its category only when exactly one category lists it (KEYWORD_OTHER is under all).
  const keyword = code.startsWith('KEYWORD_') ? code : `KEYWORD_${code}`;
  const parents = Object.entries(rows).filter(([, keywords]) => keywords.includes(keyword));
  return parents.length === 1 ? { category: parents[0][0], keyword } : undefined;
}
