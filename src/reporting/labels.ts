/**
 * The one place that turns the codes Bulwark's reports carry (Transparency Database enums,
 * guardrail reason codes, metric keys, Bulwark's own category names) into words a reader
 * understands. The JSON, CSV and HTML writers all ask here, so a report says the same thing in
 * every format; the codes themselves stay in the data for machines.
 */

/** Labels that a mechanical rewrite of the code would get wrong or leave unclear. */
const NAMED: Record<string, string> = {
  // Transparency Database categories (Commission wording, sentence case).
  STATEMENT_CATEGORY_CONSUMER_INFORMATION: 'Consumer information infringements',
  STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE: 'Not specified in the notice',
  STATEMENT_CATEGORY_NOT_SPECIFIED_ORDER: 'Not specified in the order',
  STATEMENT_CATEGORY_OTHER_VIOLATION_TC: "Other violation of the provider's terms and conditions",
  STATEMENT_CATEGORY_SCAMS_AND_FRAUD: 'Scams and/or fraud',
  STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS: 'Unsafe and/or prohibited products',
  KEYWORD_OTHER: 'Other',
  KEYWORD_VIOLATION_EU_LAW: 'Violation of EU law',
  KEYWORD_MISLEADING_INFO_CONSUMER_RIGHTS: 'Misleading information about consumer rights',
  KEYWORD_MISLEADING_INFO_GOODS_SERVICES: 'Misleading information about goods or services',
  DECISION_GROUND_ILLEGAL_CONTENT: 'Illegal content',
  DECISION_GROUND_INCOMPATIBLE_CONTENT: 'Incompatible with the terms and conditions',
  TOTAL: 'Total',
  // Bulwark's own notice and order category names.
  csam: 'Child sexual abuse material (CSAM)',
  child_sexual_exploitation: 'Child sexual exploitation',
  unknown: 'Not recorded',
  // Authority orders (Art. 9 and 10).
  act_against_illegal_content: 'Order to act against illegal content',
  provide_information: 'Order to provide information',
  // Recommendation guardrail removal reasons.
  candidate_removed_account: 'Suggested account was removed',
  candidate_confirmed: 'Suggested account is a confirmed offender',
  candidate_labelled_suspect: 'Suggested account is labelled a suspect',
  candidate_in_suspect_network: 'Suggested account is in a detected network',
  candidate_suspected_ban_evasion: 'Suggested account is a suspected ban evader',
  candidate_high_risk: 'Suggested account has a high risk score',
  content_matched_bank: 'Suggested content matched a hash bank',
  suspect_candidate_for_minor_viewer: 'Suspect suggested to a minor',
  suspect_candidate_for_suspect_viewer: 'Suspect suggested to another suspect',
  minor_candidate_for_suspect_viewer: 'Minor suggested to a suspect',
  // Recommendation audit metrics.
  impressions: 'Impressions',
  suspectShownShare: 'Share of all suggestions that showed a suspect (base rate)',
  suspectViewers: 'Suspect viewers',
  suspectToSuspectShare: 'Suspect viewers: share of suggestions that were suspects',
  suspectToSuspectLift: 'Suspect viewers: suspects shown, relative to the base rate',
  suspectViewersShownMinors: 'Suspect viewers shown at least one minor',
  minorShownToSuspectShare: 'Suspect viewers: share of suggestions that were minors',
  ordinaryViewers: 'Ordinary viewers',
  ordinaryViewersExposed: 'Ordinary viewers shown at least one suspect',
  ordinaryExposureShare: 'Share of ordinary viewers shown at least one suspect',
  minorViewers: 'Minor viewers',
  minorViewersExposed: 'Minor viewers shown at least one suspect',
  minorExposureShare: 'Share of minor viewers shown at least one suspect',
};

/** Prefixes of Transparency Database enums that say which enum, not what the value means. */
const ENUM_PREFIXES = [
  'STATEMENT_CATEGORY_', 'KEYWORD_', 'DECISION_GROUND_', 'DECISION_VISIBILITY_', 'DECISION_MONETARY_', 'DECISION_PROVISION_', 'DECISION_ACCOUNT_',
  'AUTOMATED_DECISION_', 'SOURCE_', 'CONTENT_TYPE_', 'ACCOUNT_TYPE_',
];

const regionNames = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });

/** "STATEMENT_CATEGORY_SELF_HARM" → "Self harm", "suspectViewers" → "Suspect viewers", "recommendation:suggested" → "Recommendation: suggested". */
function spelledOut(code: string): string {
  const prefix = ENUM_PREFIXES.find((candidate) => code.startsWith(candidate) && code.length > candidate.length);
  const words = (prefix ? code.slice(prefix.length) : code)
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .replace(/\s*:\s*/g, ': ')
    .trim()
    .toLowerCase();
  return words ? words[0].toUpperCase() + words.slice(1) : code;
}

/** The human label of a code; a code nobody named is spelled out in words rather than shown raw. */
export function label(code: string): string {
  const named = NAMED[code];
  if (named) return named;
  // A two-letter upper-case code is a country (orders name the Member State that issued them).
  if (/^[A-Z]{2}$/.test(code)) {
    const country = regionNames.of(code);
    // ICU names a code it does not know "Unknown Region" rather than giving nothing back.
    if (country && country !== 'Unknown Region') return `${country} (${code})`;
  }
  return spelledOut(code);
}

/** Code → label for each code, for JSON readers that want the words beside the codes. */
export function labelsFor(codes: Iterable<string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const code of codes) if (code) out[code] = label(code);
  return out;
}

/** What a report says where a section has nothing to show. */
export const NONE_IN_PERIOD = 'None in this period.';
