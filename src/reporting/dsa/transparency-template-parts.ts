/**
 * The quantitative template of Implementing Regulation (EU) 2024/2835, Annex I, as the Commission
 * publishes it in CSV: one file per part, each wide (a header row of columns, one row per
 * category, Member State or indicator, in a fixed order). The layouts below are the Commission's
 * files' headers and row lists, written with the labels the long CSV uses, so the parts are a
 * pivot of the same `annex_i` rows and cannot disagree with it. Sources and gaps: docs/dsa.md,
 * "Transparency reports".
 */
import { toCsv } from '../csv.ts';
import {
  ACTIVE_RECIPIENTS_INDICATOR, APPLICABILITY, AUTOMATED_INDICATORS, AUTOMATED_SECTION, CATEGORY_ROWS, type CategoryRows, COMPLAINT_KINDS, COMPLAINT_SECTIONS,
  COMPLAINTS_SUBMITTED, DISPUTES_SUBMITTED, HUMAN_RESOURCES_INDICATORS, HUMAN_RESOURCES_SECTION, IDENTIFICATION_INDICATORS, MEASURE_AUTOMATED_DETECTION,
  MEASURE_COUNT, NOTICE_INDICATORS, ORDER_INDICATORS, PARTS, RESTRICTION_COLUMNS, RESTRICTIONS_AFTER_COMPLAINT, SCOPES, SUSPENSION_INDICATORS, TOTAL,
} from './transparency-template.ts';
import type { AnnexRow, TransparencyFigures } from './transparency-report.ts';

/** The Commission's file names: `4_EN_Annex_I__Templates_for_Transparency_Reports_CSV_Part_<n>_<name>.csv`. */
const FILE_PREFIX = '4_EN_Annex_I__Templates_for_Transparency_Reports_CSV_Part_';

/**
 * Labels the Commission's files print with a trailing space (in every row and header where they
 * appear). The long CSV drops the space; the parts keep it, so their headers match byte for byte.
 */
const PRINTED_WITH_TRAILING_SPACE: ReadonlySet<string> = new Set([
  NOTICE_INDICATORS.received,
  MEASURE_COUNT,
  MEASURE_AUTOMATED_DETECTION,
  'Visibility restriction Labelled',
  COMPLAINT_KINDS.account,
  SUSPENSION_INDICATORS.illegalContent,
  AUTOMATED_INDICATORS.solely,
  AUTOMATED_INDICATORS.noticesSolely,
  SCOPES.ownInitiative,
  HUMAN_RESOURCES_SECTION,
  HUMAN_RESOURCES_INDICATORS[2],
  ACTIVE_RECIPIENTS_INDICATOR,
]);
const printed = (label: string) => (PRINTED_WITH_TRAILING_SPACE.has(label) ? `${label} ` : label);

/** The second column of parts 3-6, and the template's text in it on every KEYWORD_OTHER row. */
export const OTHER_DESCRIPTION = 'Description of the sub-category "Other"';
export const OTHER_PLACEHOLDER = 'Text to detail the "Other" keyword.';
const KEYWORD_OTHER = 'KEYWORD_OTHER';

/**
 * The template writes one block of part 3 rows (and one part 10 row) as "AT, […], SE": one per
 * Member State, Austria to Sweden, i.e. the EU 27 in the alphabetical order of their English names.
 * Codes are ISO 3166-1 (Greece is GR, as Bulwark's orders and the Transparency Database write it).
 */
export const MEMBER_STATES = [
  'AT', 'BE', 'BG', 'HR', 'CY', 'CZ', 'DK', 'EE', 'FI', 'FR', 'DE', 'GR', 'HU', 'IE', 'IT', 'LV', 'LT', 'LU', 'MT', 'NL', 'PL', 'PT', 'RO', 'SK', 'SI', 'ES', 'SE',
] as const;
/** Parts 8 and 9 write "bg, [...], sv": one row per official EU language, by ISO 639-1 code. */
export const LANGUAGES = [
  'bg', 'cs', 'da', 'de', 'el', 'en', 'es', 'et', 'fi', 'fr', 'ga', 'hr', 'hu', 'it', 'lt', 'lv', 'mt', 'nl', 'pl', 'pt', 'ro', 'sk', 'sl', 'sv',
] as const;

/** Part 3's Member State blocks have no row for this keyword, although its TOTAL block has. */
const ABSENT_FROM_MEMBER_STATE_BLOCKS = 'KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE';

const NOT_COLLECTED = 'Not collected by Bulwark';

/** The parts Bulwark writes; part 2 (the provider's own category names) and 11 (qualitative) are free text. */
export const TEMPLATE_PART_NUMBERS = [1, 3, 4, 5, 6, 7, 8, 9, 10] as const;

/** A template row: its printed cells before the figures, and the annex key that fills it. */
interface LayoutRow {
  lead: string[];
  key: string;
  /** The template's KEYWORD_OTHER rows carry a placeholder in this column. */
  placeholderColumn?: number;
}

interface PartLayout {
  number: number;
  /** The long CSV's "Template part" value. */
  part: string;
  fileName: string;
  header: readonly string[];
  rows: LayoutRow[];
  /** Where an annex row lands: the key of its template row. */
  keyOf(row: AnnexRow): string;
  /** The key of the row to note an annex row in when the template has no row for it. */
  fallbackKeyOf?(row: AnnexRow): string | undefined;
  valueColumn(indicator: string): number | undefined;
  contextColumn(indicator: string): number | undefined;
  /** Written in the contextual column of a row no annex row fills (rows asked of very large platforms only). */
  unfilledNote?: string;
}

const categoryKey = (scope: string, category: string, keyword: string) => `${scope}|${category}|${keyword}`;

/** TOTAL, then each category followed by its keywords, as parts 3-6 list them. */
function categoryLayoutRows(rows: CategoryRows, applicability: string, scope: string | null, period: string, skipKeyword?: string): LayoutRow[] {
  const out: LayoutRow[] = [];
  const lead = (code: string, description: string) => [applicability, '', period, code, description, ...(scope === null ? [] : [scope])];
  out.push({ lead: lead(TOTAL, ''), key: categoryKey(scope ?? '', TOTAL, '') });
  for (const [category, keywords] of Object.entries(rows)) {
    out.push({ lead: lead(category, ''), key: categoryKey(scope ?? '', category, '') });
    for (const keyword of keywords) {
      if (keyword === skipKeyword) continue;
      const other = keyword === KEYWORD_OTHER;
      out.push({ lead: lead(keyword, other ? OTHER_PLACEHOLDER : ''), key: categoryKey(scope ?? '', category, keyword), ...(other ? { placeholderColumn: 4 } : {}) });
    }
  }
  return out;
}

/** Parts 3-6: the indicators as columns, then one "Contextual information on" column per indicator. */
function wideLayout(options: {
  number: number;
  name: string;
  part: string;
  categoryLabel: string;
  withScope: boolean;
  indicators: readonly string[];
  contextLabels: readonly string[];
  rows: LayoutRow[];
}): PartLayout {
  const lead = ['Applicability', 'Service', 'Reporting period', options.categoryLabel, OTHER_DESCRIPTION, ...(options.withScope ? ['Scope'] : [])];
  const first = lead.length;
  const columns = new Map(options.indicators.map((indicator, index) => [indicator, index]));
  return {
    number: options.number,
    part: options.part,
    fileName: `${FILE_PREFIX}${options.number}_${options.name}.csv`,
    header: [...lead, ...options.indicators.map(printed), ...options.contextLabels],
    rows: options.rows,
    keyOf: (row) => categoryKey(options.withScope ? row.scope : '', row.category, row.keyword),
    fallbackKeyOf: (row) => (row.keyword ? categoryKey(options.withScope ? row.scope : '', row.category, '') : undefined),
    valueColumn: (indicator) => (columns.has(indicator) ? first + columns.get(indicator)! : undefined),
    contextColumn: (indicator) => (columns.has(indicator) ? first + options.indicators.length + columns.get(indicator)! : undefined),
  };
}

const longKey = (indicator: string, scope: string) => `${indicator}|${scope}`;

/** Parts 7-10: one row per indicator and scope, with a Value column (and a contextual one). */
function longLayout(options: {
  number: number;
  name: string;
  part: string;
  contextLabel: string | null;
  rows: { applicability: string; section: string; indicator: string; scope: string }[];
  period: string;
  unfilledNote?: string;
}): PartLayout {
  return {
    number: options.number,
    part: options.part,
    fileName: `${FILE_PREFIX}${options.number}_${options.name}.csv`,
    header: ['Applicability', 'Service', 'Reporting period', 'Section', 'Indicator', 'Scope', 'Value', ...(options.contextLabel ? [options.contextLabel] : [])],
    rows: options.rows.map((row) => ({
      lead: [row.applicability, '', options.period, printed(row.section), printed(row.indicator), printed(row.scope)],
      key: longKey(row.indicator, row.scope),
    })),
    keyOf: (row) => longKey(row.indicator, row.scope),
    valueColumn: () => 6,
    contextColumn: () => (options.contextLabel ? 7 : undefined),
    unfilledNote: options.unfilledNote,
  };
}

const ORDER_INDICATOR_COLUMNS = [
  ORDER_INDICATORS.actReceived, ORDER_INDICATORS.actItems, ORDER_INDICATORS.actMedianInform, ORDER_INDICATORS.actMedianEffect,
  ORDER_INDICATORS.infoReceived, ORDER_INDICATORS.infoMedianInform, ORDER_INDICATORS.infoMedianEffect,
];
/** Part 3 spells its first two contextual columns with a lower-case "number". */
const ORDER_CONTEXT_COLUMNS = [
  'Contextual information on number of orders to act against illegal content received',
  'Contextual information on number of specific items of information included in the total number of orders to act against illegal content',
  ...ORDER_INDICATOR_COLUMNS.slice(2).map((indicator) => `Contextual information on ${indicator}`),
];
const NOTICE_INDICATOR_COLUMNS = [
  NOTICE_INDICATORS.received, NOTICE_INDICATORS.receivedTrusted, NOTICE_INDICATORS.items, NOTICE_INDICATORS.itemsTrusted, NOTICE_INDICATORS.medianAction,
  NOTICE_INDICATORS.medianActionTrusted, NOTICE_INDICATORS.actionsLaw, NOTICE_INDICATORS.actionsLawTrusted, NOTICE_INDICATORS.actionsTerms, NOTICE_INDICATORS.actionsTermsTrusted,
];
const MEASURE_INDICATOR_COLUMNS = [MEASURE_COUNT, MEASURE_AUTOMATED_DETECTION, ...RESTRICTION_COLUMNS.map((column) => column.label)];

/** The layouts of the parts Bulwark writes (1 and 3-10), with `period` in their Reporting period cells. */
export function templateLayouts(period: string, extraMemberStates: readonly string[] = []): PartLayout[] {
  const states = [...MEMBER_STATES, ...extraMemberStates];
  const measureParts = [
    { number: 5, name: 'own_initiative_illegal', part: PARTS.ownInitiativeIllegal, categoryLabel: 'Category of illegal content', rows: CATEGORY_ROWS.ownInitiativeIllegal },
    { number: 6, name: 'own_initiative_TC', part: PARTS.ownInitiativeTerms, categoryLabel: "Category of incompatibility with the provider's terms and conditions", rows: CATEGORY_ROWS.ownInitiativeTerms },
  ];
  const identificationIndicators = Object.values(IDENTIFICATION_INDICATORS);
  const identification: PartLayout = {
    number: 1,
    part: PARTS.identification,
    fileName: `${FILE_PREFIX}1_summary.csv`,
    header: ['Applicability', 'Service', 'Indicator', 'Value'],
    rows: identificationIndicators.map((indicator) => ({ lead: [APPLICABILITY.all, '', indicator], key: indicator })),
    keyOf: (row) => row.indicator,
    valueColumn: () => 3,
    contextColumn: () => undefined,
  };

  const complaintRows: { applicability: string; section: string; indicator: string; scope: string }[] = [];
  const internal = (applicability: string, indicator: string, scopes: string[]) => {
    for (const scope of scopes) complaintRows.push({ applicability, section: COMPLAINT_SECTIONS.internal, indicator, scope });
  };
  const outcomeScopes = [SCOPES.upheld, SCOPES.partiallyReversed, SCOPES.reversed, SCOPES.median];
  internal(APPLICABILITY.all, COMPLAINTS_SUBMITTED, [SCOPES.total]);
  internal(APPLICABILITY.platforms, COMPLAINTS_SUBMITTED, [...outcomeScopes, SCOPES.omitted]);
  internal(APPLICABILITY.platforms, RESTRICTIONS_AFTER_COMPLAINT, [SCOPES.total]);
  for (const kind of Object.values(COMPLAINT_KINDS)) internal(APPLICABILITY.platforms, kind, [SCOPES.total, ...outcomeScopes]);
  for (const scope of [SCOPES.total, ...outcomeScopes, SCOPES.omitted, SCOPES.implemented]) {
    complaintRows.push({ applicability: APPLICABILITY.platforms, section: COMPLAINT_SECTIONS.outOfCourt, indicator: DISPUTES_SUBMITTED, scope });
  }
  for (const indicator of Object.values(SUSPENSION_INDICATORS)) complaintRows.push({ applicability: APPLICABILITY.platforms, section: COMPLAINT_SECTIONS.suspensions, indicator, scope: SCOPES.total });

  const automatedRows: { applicability: string; section: string; indicator: string; scope: string }[] = [];
  const accuracy = [AUTOMATED_INDICATORS.accuracy, AUTOMATED_INDICATORS.precision, AUTOMATED_INDICATORS.recall];
  for (const scope of [SCOPES.total, SCOPES.ownInitiative]) {
    for (const indicator of [AUTOMATED_INDICATORS.solely, AUTOMATED_INDICATORS.not, ...accuracy]) automatedRows.push({ applicability: APPLICABILITY.all, section: AUTOMATED_SECTION, indicator, scope });
  }
  for (const [scope, applicability] of [[SCOPES.noticesTotal, APPLICABILITY.hosting], [SCOPES.noticesTrusted, APPLICABILITY.platforms]] as const) {
    for (const indicator of [AUTOMATED_INDICATORS.noticesSolely, AUTOMATED_INDICATORS.noticesNot, ...accuracy]) automatedRows.push({ applicability, section: AUTOMATED_SECTION, indicator, scope });
  }
  // The template's per-language rows for very large platforms, one indicator at a time.
  for (const indicator of [AUTOMATED_INDICATORS.solely, AUTOMATED_INDICATORS.not, ...accuracy]) {
    for (const language of LANGUAGES) automatedRows.push({ applicability: APPLICABILITY.vlops, section: AUTOMATED_SECTION, indicator, scope: language });
  }

  const humanRows = [
    ...HUMAN_RESOURCES_INDICATORS.map((indicator) => ({ applicability: APPLICABILITY.vlops, section: HUMAN_RESOURCES_SECTION, indicator, scope: SCOPES.total })),
    ...LANGUAGES.map((language) => ({ applicability: APPLICABILITY.vlops, section: HUMAN_RESOURCES_SECTION, indicator: HUMAN_RESOURCES_INDICATORS[2], scope: language })),
  ];
  const activeRows = [TOTAL, ...states].map((scope) => ({ applicability: APPLICABILITY.vlopsAndVloses, section: 'AMAR', indicator: ACTIVE_RECIPIENTS_INDICATOR, scope }));

  return [
    identification,
    wideLayout({
      number: 3, name: 'member_states_orders', part: PARTS.orders, categoryLabel: 'Category of illegal content', withScope: true,
      indicators: ORDER_INDICATOR_COLUMNS, contextLabels: ORDER_CONTEXT_COLUMNS,
      rows: [
        ...categoryLayoutRows(CATEGORY_ROWS.orders, APPLICABILITY.all, TOTAL, period),
        ...states.flatMap((state) => categoryLayoutRows(CATEGORY_ROWS.orders, APPLICABILITY.all, state, period, ABSENT_FROM_MEMBER_STATE_BLOCKS)),
      ],
    }),
    wideLayout({
      number: 4, name: 'notices', part: PARTS.notices, categoryLabel: 'Category of illegal content', withScope: false,
      indicators: NOTICE_INDICATOR_COLUMNS, contextLabels: NOTICE_INDICATOR_COLUMNS.map((indicator) => `Contextual information on ${printed(indicator)}`),
      rows: categoryLayoutRows(CATEGORY_ROWS.notices, APPLICABILITY.hosting, null, period),
    }),
    ...measureParts.map((measure) =>
      wideLayout({
        ...measure, withScope: false,
        indicators: MEASURE_INDICATOR_COLUMNS, contextLabels: MEASURE_INDICATOR_COLUMNS.map((indicator) => `Contextual Information on ${printed(indicator)}`),
        rows: categoryLayoutRows(measure.rows, APPLICABILITY.all, null, period),
      }),
    ),
    longLayout({ number: 7, name: 'appeals_and_recidivism', part: PARTS.complaints, contextLabel: 'Contextual Information', rows: complaintRows, period }),
    longLayout({
      number: 8, name: 'automated_means', part: PARTS.automatedMeans, contextLabel: 'Contextual Information', rows: automatedRows, period,
      unfilledNote: `${NOT_COLLECTED}: the language of moderated content is not recorded (asked of very large platforms).`,
    }),
    longLayout({
      number: 9, name: 'human_resources', part: PARTS.humanResources, contextLabel: 'Contextual information', rows: humanRows, period,
      unfilledNote: `${NOT_COLLECTED}: staffing is not recorded.`,
    }),
    // Part 10 has no contextual column.
    longLayout({ number: 10, name: 'AMAR', part: PARTS.activeRecipients, contextLabel: null, rows: activeRows, period }),
  ];
}

export interface TemplatePartFile {
  /** The template's part number (1, 3-10). */
  number: number;
  /** The long CSV's "Template part" value, e.g. 4_notices. */
  part: string;
  file_name: string;
  header: readonly string[];
  /** Data rows, each as long as the header. */
  rows: string[][];
  /** RFC 4180, CRLF, UTF-8. */
  csv: string;
}

const printedValue = (value: AnnexRow['value']) => (value === null || value === undefined ? '' : String(value));

/**
 * The annex rows pivoted into the Commission's part files. Every annex row lands in one cell (a
 * keyword part 3 has no row for in a Member State block is noted on its category's row); a throw
 * means a layout and the long CSV disagree, which the tests catch.
 */
export function templatePartFiles(f: Pick<TransparencyFigures, 'reporting_period' | 'annex_i'>): TemplatePartFile[] {
  const extraStates = [...new Set(f.annex_i.filter((row) => row.template_part === PARTS.orders && row.scope !== TOTAL && !(MEMBER_STATES as readonly string[]).includes(row.scope)).map((row) => row.scope))].sort();
  return templateLayouts(f.reporting_period, extraStates).map((layout) => {
    const width = layout.header.length;
    const rows = layout.rows.map((row) => [...row.lead, ...new Array<string>(width - row.lead.length).fill('')]);
    const byKey = new Map(layout.rows.map((row, index) => [row.key, index]));
    const filled = new Set<number>();
    for (const annex of f.annex_i.filter((row) => row.template_part === layout.part)) {
      const valueColumn = layout.valueColumn(annex.indicator);
      const contextColumn = layout.contextColumn(annex.indicator);
      const index = byKey.get(layout.keyOf(annex));
      if (index !== undefined && valueColumn !== undefined) {
        rows[index][valueColumn] = printedValue(annex.value);
        if (contextColumn !== undefined) rows[index][contextColumn] = annex.contextual_information;
        filled.add(index);
        continue;
      }
      const fallback = layout.fallbackKeyOf?.(annex);
      const parent = fallback === undefined ? undefined : byKey.get(fallback);
      if (parent !== undefined && contextColumn !== undefined && annex.value !== null) {
        const note = `The template has no ${annex.keyword} row here; for it: ${printedValue(annex.value)}.`;
        rows[parent][contextColumn] = [rows[parent][contextColumn], note].filter(Boolean).join(' ');
        continue;
      }
      if (annex.value === null && parent !== undefined) continue;
      throw new Error(`no cell in part ${layout.number} for ${annex.category}/${annex.keyword}/${annex.scope}/${annex.indicator}`);
    }
    layout.rows.forEach((row, index) => {
      // A KEYWORD_OTHER row with figures: the placeholder gives way to what Bulwark knows of it.
      if (row.placeholderColumn !== undefined && filled.has(index)) rows[index][row.placeholderColumn] = 'Statements of reasons with KEYWORD_OTHER; each names what it covers in category_specification_other.';
      const contextColumn = layout.contextColumn('');
      if (layout.unfilledNote && !filled.has(index) && contextColumn !== undefined) rows[index][contextColumn] = layout.unfilledNote;
    });
    return { number: layout.number, part: layout.part, file_name: layout.fileName, header: layout.header, rows, csv: toCsv([layout.header, ...rows]) };
  });
}
