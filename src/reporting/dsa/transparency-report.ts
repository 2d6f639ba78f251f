import { invalid } from '../../errors.ts';
import type { SqlClient } from '../../store/sql.ts';
import { type NcmecFigures, ncmecFigures } from '../ncmec/report-stats.ts';
import { medianHours, round2 } from '../medians.ts';
import { TIMESTAMP_RANGE_MESSAGE, timestampInRange } from '../../validation/edge.ts';
import {
  ACTIVE_RECIPIENTS_INDICATOR, APPLICABILITY, AUTOMATED_INDICATORS, AUTOMATED_SECTION, CATEGORY_ROWS, type CategoryRows, COMPLAINT_KINDS, COMPLAINT_SECTIONS,
  COMPLAINTS_SUBMITTED, DISPUTES_SUBMITTED, HUMAN_RESOURCES_INDICATORS, HUMAN_RESOURCES_SECTION, IDENTIFICATION_INDICATORS, MEASURE_AUTOMATED_DETECTION,
  MEASURE_COUNT, NOT_SPECIFIED_NOTICE, NOT_SPECIFIED_ORDER, NOTICE_INDICATORS, ORDER_INDICATORS, PARTS, RESTRICTION_COLUMNS, RESTRICTIONS_AFTER_COMPLAINT,
  SCOPES, SECTIONS, SUSPENSION_INDICATORS, TOTAL, templateCategory,
} from './transparency-template.ts';
import { toCsv } from '../csv.ts';
import { label, labelsFor } from '../labels.ts';
import { transparencyHtml } from './transparency-html.ts';
import { type TemplatePartFile, templatePartFiles } from './transparency-template-parts.ts';

export { transparencyHtml };

export interface TransparencyFigures {
  period: { from: string; to: string };
  /** The template's "Reporting period" cell: first and last UTC day of [from, to). */
  reporting_period: string;
  notices: { total: number; by_category: Record<string, number>; by_trusted_flagger: number; by_others: number; acted_on_illegal_content: number; acted_on_terms: number; processed_by_automated_means: number; median_hours_to_action: number | null };
  decisions: { total: number; restrictive: number; automated: number; human: number; by_ground: Record<string, number>; by_category: Record<string, number> };
  restrictions: { content_removed: number; account_suspended: number; service_restricted: number; statements: number };
  account_suspensions: number;
  appeals: { received: number; upheld: number; reversed: number; pending: number; median_hours_to_resolve: number | null };
  orders: { total: number; by_kind: Record<string, number>; by_member_state: Record<string, number>; median_hours_to_acknowledge: number | null; median_hours_to_effect: number | null };
  automated_means: { detection: number; decision_fully_automated: number; share_of_statements_detected_automatically: number | null };
  /** CyberTipline reports to NCMEC (18 U.S.C. 2258A): not an Annex I cell, shown beside it. */
  ncmec: NcmecFigures;
  /** Every figure again, one row per cell of the Annex I quantitative template; the CSV is these rows. */
  annex_i: AnnexRow[];
  /** Every code above (categories, keywords, grounds, order kinds, Member States) with its human label, as the HTML and CSV print it. */
  labels: Record<string, string>;
}

/** One cell of the quantitative template of Implementing Regulation (EU) 2024/2835, Annex I. */
export interface AnnexRow {
  /** Annex I section number, e.g. 1.3. */
  section: string;
  section_title: string;
  /** The Commission's CSV part the cell belongs to, e.g. 4_notices. */
  template_part: string;
  applicability: string;
  /** TOTAL, a STATEMENT_CATEGORY_* row, or empty where the part has no category rows. */
  category: string;
  /** A KEYWORD_* row below `category`, or empty. */
  keyword: string;
  /** TOTAL or a Member State (part 3), the template's scope (parts 7-10), or empty. */
  scope: string;
  indicator: string;
  /** Empty where Bulwark does not hold the figure; contextual_information then says so. */
  value: number | string | null;
  contextual_information: string;
}

export interface TransparencyReport {
  figures: TransparencyFigures;
  csv: string;
  html: string;
  /** The same cells as the Commission's own CSV files, one per template part (1, 3-10). */
  template: TemplatePartFile[];
}


/** Parses an ISO 8601 bound that states its offset (Z or ±hh:mm), so the period is unambiguous. */
export function parseBound(text: string, name: string): Date {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text)) throw invalid(`${name} must be an ISO 8601 time with an offset, e.g. 2025-01-01T00:00:00Z`, { [name]: text });
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) throw invalid(`${name} is not a valid time`, { [name]: text });
  if (!timestampInRange(date)) throw invalid(`${name} ${TIMESTAMP_RANGE_MESSAGE}`, { [name]: text });
  return date;
}

interface NoticeFacts { category: string; trusted: boolean; items: number; received_at: Date; decided_at: Date | null; automated: boolean | null; restrictive: boolean; ground: string | null }
interface StatementFacts {
  category: string | null;
  keywords: string[];
  keywordOther: boolean;
  ground: string | null;
  source: string | null;
  detected: boolean;
  fully: boolean;
  restrictions: Record<(typeof RESTRICTION_COLUMNS)[number]['field'], string[]>;
}
interface AppealFacts { status: string; received_at: Date; resolved_at: Date | null; visibility: boolean; provision: boolean; account: boolean; monetary: boolean; restrictive: boolean; notice: boolean; trusted_notice: boolean }
interface OrderFacts { kind: string; member_state: string; category: string; received_at: Date; acknowledged_at: Date | null; given_effect_at: Date | null }

/** The Art. 15 / 24 figures for [from, to): an event exactly at `to` belongs to the next period. */
export async function transparencyFigures(sql: SqlClient, from: Date, to: Date): Promise<TransparencyFigures> {
  if (!(from < to)) throw invalid('from must be before to');
  const p = [from, to];
  const notices = await sql.query<NoticeFacts>(
    `SELECT n.category, n.trusted_flagger_id IS NOT NULL AS trusted, coalesce(array_length(n.locations, 1), 0) AS items, n.received_at, d.decided_at, d.automated,
       EXISTS (SELECT 1 FROM dsa_statements s WHERE s.decision_id = n.decision_id) AS restrictive,
       (SELECT s.payload->>'decision_ground' FROM dsa_statements s WHERE s.decision_id = n.decision_id ORDER BY s.id LIMIT 1) AS ground
     FROM notices n LEFT JOIN decisions d ON d.id = n.decision_id
     WHERE n.received_at >= $1 AND n.received_at < $2`,
    p,
  );
  const acted = notices.rows.filter((row) => row.restrictive && row.decided_at);
  const decisions = await sql.query<{ automated: boolean; restrictive: boolean; ground: string | null; category: string | null }>(
    `SELECT d.automated, s.decision_id IS NOT NULL AS restrictive, s.payload->>'decision_ground' AS ground, s.payload->>'category' AS category
     FROM decisions d LEFT JOIN LATERAL (SELECT decision_id, payload FROM dsa_statements WHERE decision_id = d.id ORDER BY id LIMIT 1) s ON true
     WHERE d.decided_at >= $1 AND d.decided_at < $2`,
    p,
  );
  const restrictive = decisions.rows.filter((row) => row.restrictive);
  const tally = (values: (string | null)[]) => values.reduce<Record<string, number>>((acc, v) => ((acc[v ?? 'unknown'] = (acc[v ?? 'unknown'] ?? 0) + 1), acc), {});
  // The payload as text: PGlite and node-postgres then hand back the same thing.
  const statementRows = await sql.query<{ payload: string }>('SELECT payload::text AS payload FROM dsa_statements WHERE decided_at >= $1 AND decided_at < $2 ORDER BY id', p);
  const s = statementRows.rows.map((row) => statementFacts(JSON.parse(row.payload)));
  const appealsReceived = await sql.query<{ n: string }>('SELECT count(*) AS n FROM appeals WHERE received_at >= $1 AND received_at < $2', p);
  const resolved = await sql.query<{ status: string; received_at: Date; resolved_at: Date }>(
    `SELECT status, received_at, resolved_at FROM appeals WHERE resolved_at >= $1 AND resolved_at < $2 AND status IN ('upheld', 'reversed')`,
    p,
  );
  const pending = await sql.query<{ n: string }>(`SELECT count(*) AS n FROM appeals WHERE received_at < $2 AND (resolved_at IS NULL OR resolved_at >= $2) AND received_at >= $1`, p);
  // Every appeal received or resolved in the period, with what the appealed decision did.
  const appeals = await sql.query<AppealFacts>(
    `SELECT a.status, a.received_at, a.resolved_at,
       EXISTS (SELECT 1 FROM dsa_statements s WHERE s.decision_id = a.decision_id AND s.payload ? 'decision_visibility') AS visibility,
       EXISTS (SELECT 1 FROM dsa_statements s WHERE s.decision_id = a.decision_id AND s.payload ? 'decision_provision') AS provision,
       EXISTS (SELECT 1 FROM dsa_statements s WHERE s.decision_id = a.decision_id AND s.payload ? 'decision_account') AS account,
       EXISTS (SELECT 1 FROM dsa_statements s WHERE s.decision_id = a.decision_id AND s.payload ? 'decision_monetary') AS monetary,
       EXISTS (SELECT 1 FROM dsa_statements s WHERE s.decision_id = a.decision_id) AS restrictive,
       EXISTS (SELECT 1 FROM notices n WHERE n.decision_id = a.decision_id) AS notice,
       EXISTS (SELECT 1 FROM notices n WHERE n.decision_id = a.decision_id AND n.trusted_flagger_id IS NOT NULL) AS trusted_notice
     FROM appeals a
     WHERE (a.received_at >= $1 AND a.received_at < $2) OR (a.resolved_at >= $1 AND a.resolved_at < $2)`,
    p,
  );
  const orders = await sql.query<OrderFacts>(
    'SELECT kind, member_state, category, received_at, acknowledged_at, given_effect_at FROM authority_orders WHERE received_at >= $1 AND received_at < $2',
    p,
  );
  const suspended = s.filter((row) => row.restrictions.decision_account.length > 0).length;
  const period = { from: from.toISOString(), to: to.toISOString() };
  const reporting_period = `${utcDay(from)}/${utcDay(lastInstant(to))}`;
  const annex = annexRows({ from, to, reporting_period, notices: notices.rows, statements: s, appeals: appeals.rows, orders: orders.rows, pendingAppeals: Number(pending.rows[0].n) });
  return {
    period,
    reporting_period,
    notices: {
      total: notices.rows.length,
      by_category: tally(notices.rows.map((row) => row.category)),
      by_trusted_flagger: notices.rows.filter((row) => row.trusted).length,
      by_others: notices.rows.filter((row) => !row.trusted).length,
      acted_on_illegal_content: acted.filter((row) => row.ground === ILLEGAL).length,
      acted_on_terms: acted.filter((row) => row.ground === INCOMPATIBLE).length,
      processed_by_automated_means: notices.rows.filter((row) => row.automated === true).length,
      median_hours_to_action: medianHours(acted.map((row) => [row.received_at, row.decided_at])),
    },
    decisions: {
      total: decisions.rows.length,
      restrictive: restrictive.length,
      automated: restrictive.filter((row) => row.automated).length,
      human: restrictive.filter((row) => !row.automated).length,
      by_ground: tally(restrictive.map((row) => row.ground)),
      by_category: tally(restrictive.map((row) => row.category)),
    },
    restrictions: {
      content_removed: s.filter((row) => row.restrictions.decision_visibility.length > 0).length,
      account_suspended: suspended,
      service_restricted: s.filter((row) => row.restrictions.decision_provision.length > 0).length,
      statements: s.length,
    },
    account_suspensions: suspended,
    appeals: {
      received: Number(appealsReceived.rows[0].n),
      upheld: resolved.rows.filter((row) => row.status === 'upheld').length,
      reversed: resolved.rows.filter((row) => row.status === 'reversed').length,
      pending: Number(pending.rows[0].n),
      median_hours_to_resolve: medianHours(resolved.rows.map((row) => [row.received_at, row.resolved_at])),
    },
    orders: {
      total: orders.rows.length,
      by_kind: tally(orders.rows.map((row) => row.kind)),
      by_member_state: tally(orders.rows.map((row) => row.member_state)),
      median_hours_to_acknowledge: medianHours(orders.rows.map((row) => [row.received_at, row.acknowledged_at])),
      median_hours_to_effect: medianHours(orders.rows.map((row) => [row.received_at, row.given_effect_at])),
    },
    automated_means: {
      detection: s.filter((row) => row.detected).length,
      decision_fully_automated: s.filter((row) => row.fully).length,
      share_of_statements_detected_automatically: s.length ? round2(s.filter((row) => row.detected).length / s.length) : null,
    },
    ncmec: await ncmecFigures(sql, from, to),
    annex_i: annex,
    labels: labelsFor([
      ...notices.rows.map((row) => row.category), ...restrictive.map((row) => row.ground ?? 'unknown'), ...restrictive.map((row) => row.category ?? 'unknown'),
      ...orders.rows.flatMap((row) => [row.kind, row.member_state]), ...annex.flatMap((row) => [row.category, row.keyword]),
    ]),
  };
}

const ILLEGAL = 'DECISION_GROUND_ILLEGAL_CONTENT';
const INCOMPATIBLE = 'DECISION_GROUND_INCOMPATIBLE_CONTENT';
const NOT_COLLECTED = 'Not collected by Bulwark';
const HOURS = 'In hours.';

const utcDay = (date: Date) => date.toISOString().slice(0, 10);
/** The last millisecond of [from, to): its UTC day is the period's last day. */
const lastInstant = (to: Date) => new Date(to.getTime() - 1);
const inPeriod = (at: Date | null, from: Date, to: Date) => at !== null && at >= from && at < to;

function statementFacts(payload: Record<string, unknown>): StatementFacts {
  const list = (value: unknown) => (Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : []);
  const text = (value: unknown) => (typeof value === 'string' ? value : null);
  return {
    category: text(payload.category),
    keywords: list(payload.category_specification),
    keywordOther: typeof payload.category_specification_other === 'string' && payload.category_specification_other.length > 0,
    ground: text(payload.decision_ground),
    source: text(payload.source_type),
    detected: payload.automated_detection === 'Yes',
    fully: payload.automated_decision === 'AUTOMATED_DECISION_FULLY',
    restrictions: {
      decision_visibility: list(payload.decision_visibility),
      decision_monetary: list(payload.decision_monetary),
      decision_provision: list(payload.decision_provision),
      decision_account: list(payload.decision_account),
    },
  };
}

interface CategoryGroup<T> {
  category: string;
  keyword: string;
  items: T[];
}

/**
 * The template's category rows that have something in them: TOTAL first, then each category in
 * the template's order followed by its keywords. A row left out stands for zero. Items whose
 * category is not one of the template's count in TOTAL only.
 */
function categoryGroups<T>(items: T[], rows: CategoryRows, classify: (item: T) => { category: string | null; keywords: string[] }): CategoryGroup<T>[] {
  const classified = items.map((item) => ({ item, ...classify(item) }));
  const groups: CategoryGroup<T>[] = [{ category: TOTAL, keyword: '', items }];
  for (const [category, keywords] of Object.entries(rows)) {
    const inCategory = classified.filter((entry) => entry.category === category);
    if (inCategory.length === 0) continue;
    groups.push({ category, keyword: '', items: inCategory.map((entry) => entry.item) });
    for (const keyword of keywords) {
      const withKeyword = inCategory.filter((entry) => entry.keywords.includes(keyword));
      if (withKeyword.length > 0) groups.push({ category, keyword, items: withKeyword.map((entry) => entry.item) });
    }
  }
  return groups;
}

/** Bulwark's own category names that fall in a group, so the reader of a NOT_SPECIFIED row sees what is in it. */
const namesIn = (names: string[]) => {
  const counts = names.reduce<Record<string, number>>((acc, name) => ((acc[name] = (acc[name] ?? 0) + 1), acc), {});
  return Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)).map(([name, n]) => `${name} (${n})`).join(', ');
};

interface AnnexInput {
  from: Date;
  to: Date;
  reporting_period: string;
  notices: NoticeFacts[];
  statements: StatementFacts[];
  appeals: AppealFacts[];
  orders: OrderFacts[];
  pendingAppeals: number;
}

/** The quantitative template, filled with what Bulwark holds; everything else is marked as not collected. */
function annexRows(input: AnnexInput): AnnexRow[] {
  const rows: AnnexRow[] = [];
  type Cell = Omit<AnnexRow, 'category' | 'keyword' | 'scope' | 'contextual_information'> & Partial<Pick<AnnexRow, 'category' | 'keyword' | 'scope' | 'contextual_information'>>;
  const add = (cell: Cell) => {
    const row = { category: '', keyword: '', scope: '', contextual_information: '', ...cell };
    // An empty median is not a figure Bulwark lacks: nothing in the period had the times to take it from.
    if (row.value === null && !row.contextual_information.startsWith(NOT_COLLECTED)) row.contextual_information = `${row.contextual_information} Empty: nothing in the period to take it from.`.trim();
    rows.push(row);
  };
  const { from, to } = input;

  // 1.1 Report identification.
  const identification = { section: SECTIONS.identification.number, section_title: SECTIONS.identification.title, template_part: PARTS.identification, applicability: APPLICABILITY.all };
  add({ ...identification, indicator: IDENTIFICATION_INDICATORS.provider, value: null, contextual_information: `${NOT_COLLECTED}: the operator enters the provider's name.` });
  add({ ...identification, indicator: IDENTIFICATION_INDICATORS.published, value: null, contextual_information: `${NOT_COLLECTED}: the operator enters the date it publishes the report.` });
  add({ ...identification, indicator: IDENTIFICATION_INDICATORS.previous, value: null, contextual_information: `${NOT_COLLECTED}: the operator enters the date of its previous report.` });
  const bounds = `Bulwark counted events at or after ${from.toISOString()} and before ${to.toISOString()} (UTC).`;
  add({ ...identification, indicator: IDENTIFICATION_INDICATORS.start, value: utcDay(from), contextual_information: bounds });
  add({ ...identification, indicator: IDENTIFICATION_INDICATORS.end, value: utcDay(lastInstant(to)), contextual_information: bounds });

  // 1.2 Member State orders: part 3, by category, for all Member States and for each one.
  const orderCategory = (order: OrderFacts) => templateCategory(order.category, CATEGORY_ROWS.orders) ?? { category: NOT_SPECIFIED_ORDER };
  const orderGroups = (orders: OrderFacts[]) =>
    categoryGroups(orders, CATEGORY_ROWS.orders, (order) => {
      const found = orderCategory(order);
      return { category: found.category, keywords: found.keyword ? [found.keyword] : [] };
    });
  const states = [...new Set(input.orders.map((order) => order.member_state))].sort();
  for (const scope of [TOTAL, ...states]) {
    const orders = scope === TOTAL ? input.orders : input.orders.filter((order) => order.member_state === scope);
    for (const group of orderGroups(orders)) {
      const cell = { template_part: PARTS.orders, applicability: APPLICABILITY.all, category: group.category, keyword: group.keyword, scope };
      const unspecified = group.category === NOT_SPECIFIED_ORDER ? `Bulwark categories: ${namesIn(group.items.map((order) => order.category))}.` : '';
      const act = group.items.filter((order) => order.kind === 'act_against_illegal_content');
      const info = group.items.filter((order) => order.kind === 'provide_information');
      const toAct = { ...cell, section: SECTIONS.ordersToAct.number, section_title: SECTIONS.ordersToAct.title };
      const toInform = { ...cell, section: SECTIONS.ordersToInform.number, section_title: SECTIONS.ordersToInform.title };
      add({ ...toAct, indicator: ORDER_INDICATORS.actReceived, value: act.length, contextual_information: unspecified });
      add({ ...toAct, indicator: ORDER_INDICATORS.actItems, value: null, contextual_information: `${NOT_COLLECTED}: an order's items are not recorded.` });
      add({ ...toAct, indicator: ORDER_INDICATORS.actMedianInform, value: medianHours(act.map((o) => [o.received_at, o.acknowledged_at])), contextual_information: `${HOURS} From receipt to acknowledgement.` });
      add({ ...toAct, indicator: ORDER_INDICATORS.actMedianEffect, value: medianHours(act.map((o) => [o.received_at, o.given_effect_at])), contextual_information: `${HOURS} From receipt to giving effect; orders not yet given effect are left out.` });
      add({ ...toInform, indicator: ORDER_INDICATORS.infoReceived, value: info.length, contextual_information: unspecified });
      add({ ...toInform, indicator: ORDER_INDICATORS.infoMedianInform, value: medianHours(info.map((o) => [o.received_at, o.acknowledged_at])), contextual_information: `${HOURS} From receipt to acknowledgement.` });
      add({ ...toInform, indicator: ORDER_INDICATORS.infoMedianEffect, value: medianHours(info.map((o) => [o.received_at, o.given_effect_at])), contextual_information: `${HOURS} From receipt to giving effect; orders not yet given effect are left out.` });
    }
  }

  // 1.3 Notices (Art. 16): part 4, by category.
  const noticeCategory = (notice: NoticeFacts) => templateCategory(notice.category, CATEGORY_ROWS.notices) ?? { category: NOT_SPECIFIED_NOTICE };
  const noticeGroups = categoryGroups(input.notices, CATEGORY_ROWS.notices, (notice) => {
    const found = noticeCategory(notice);
    return { category: found.category, keywords: found.keyword ? [found.keyword] : [] };
  });
  const noticesSection = { section: SECTIONS.notices.number, section_title: SECTIONS.notices.title, template_part: PARTS.notices, applicability: APPLICABILITY.hosting };
  for (const group of noticeGroups) {
    const cell = { ...noticesSection, category: group.category, keyword: group.keyword };
    const trusted = group.items.filter((notice) => notice.trusted);
    const actedOn = (notices: NoticeFacts[]) => notices.filter((notice) => notice.restrictive && notice.decided_at);
    const sum = (notices: NoticeFacts[]) => notices.reduce((total, notice) => total + Number(notice.items), 0);
    const timeToAction = (notices: NoticeFacts[]) => medianHours(actedOn(notices).map((notice) => [notice.received_at, notice.decided_at]));
    const unspecified = group.category === NOT_SPECIFIED_NOTICE ? `Bulwark categories: ${namesIn(group.items.map((notice) => notice.category))}.` : '';
    const onGround = (notices: NoticeFacts[], ground: string) => actedOn(notices).filter((notice) => notice.ground === ground).length;
    const itemsNote = "Counted as the notices' electronic locations (Art. 16(2)(b)).";
    const actionNote = `${HOURS} From receipt to the decision that restricted; notices not acted on are left out.`;
    add({ ...cell, indicator: NOTICE_INDICATORS.received, value: group.items.length, contextual_information: unspecified });
    add({ ...cell, indicator: NOTICE_INDICATORS.receivedTrusted, value: trusted.length });
    add({ ...cell, indicator: NOTICE_INDICATORS.items, value: sum(group.items), contextual_information: itemsNote });
    add({ ...cell, indicator: NOTICE_INDICATORS.itemsTrusted, value: sum(trusted), contextual_information: itemsNote });
    add({ ...cell, indicator: NOTICE_INDICATORS.medianAction, value: timeToAction(group.items), contextual_information: actionNote });
    add({ ...cell, indicator: NOTICE_INDICATORS.medianActionTrusted, value: timeToAction(trusted), contextual_information: actionNote });
    add({ ...cell, indicator: NOTICE_INDICATORS.actionsLaw, value: onGround(group.items, ILLEGAL) });
    add({ ...cell, indicator: NOTICE_INDICATORS.actionsLawTrusted, value: onGround(trusted, ILLEGAL) });
    add({ ...cell, indicator: NOTICE_INDICATORS.actionsTerms, value: onGround(group.items, INCOMPATIBLE) });
    add({ ...cell, indicator: NOTICE_INDICATORS.actionsTermsTrusted, value: onGround(trusted, INCOMPATIBLE) });
  }

  // 1.4 Own-initiative moderation: parts 5 (illegal content) and 6 (terms and conditions), by category.
  const ownInitiative = input.statements.filter((statement) => statement.source === 'SOURCE_VOLUNTARY');
  const ownInitiativeParts: [string, string, CategoryRows][] = [
    [PARTS.ownInitiativeIllegal, ILLEGAL, CATEGORY_ROWS.ownInitiativeIllegal],
    [PARTS.ownInitiativeTerms, INCOMPATIBLE, CATEGORY_ROWS.ownInitiativeTerms],
  ];
  for (const [part, ground, categories] of ownInitiativeParts) {
    const measures = ownInitiative.filter((statement) => statement.ground === ground);
    const groups = categoryGroups(measures, categories, (statement) => {
      const category = statement.category !== null && statement.category in categories ? statement.category : null;
      const keywords = category ? statement.keywords.filter((keyword) => categories[category].includes(keyword)) : [];
      return { category, keywords: statement.keywordOther ? [...keywords, 'KEYWORD_OTHER'] : keywords };
    });
    for (const group of groups) {
      const cell = { section: SECTIONS.ownInitiative.number, section_title: SECTIONS.ownInitiative.title, template_part: part, applicability: APPLICABILITY.all, category: group.category, keyword: group.keyword };
      const outside = group.category === TOTAL ? group.items.filter((statement) => statement.category === null || !(statement.category in categories)) : [];
      const countNote = 'One measure is one statement of reasons.' + (outside.length ? ` Categories outside the template's rows: ${namesIn(outside.map((statement) => statement.category ?? 'none'))}.` : '');
      add({ ...cell, indicator: MEASURE_COUNT, value: group.items.length, contextual_information: countNote });
      add({ ...cell, indicator: MEASURE_AUTOMATED_DETECTION, value: group.items.filter((statement) => statement.detected).length, contextual_information: 'Statements whose content was detected by automated means.' });
      for (const column of RESTRICTION_COLUMNS) {
        add({ ...cell, indicator: column.label, value: group.items.filter((statement) => statement.restrictions[column.field].some((value) => column.values.includes(value))).length });
      }
    }
  }

  // 1.5.1 Complaints, out-of-court disputes and suspensions: part 7.
  const complaint = (section: string, applicability: string) => ({ section: SECTIONS.complaints.number, section_title: section, template_part: PARTS.complaints, applicability });
  const internal = (applicability: string) => complaint(COMPLAINT_SECTIONS.internal, applicability);
    const resolvedIn = (appeals: AppealFacts[]) => appeals.filter((appeal) => inPeriod(appeal.resolved_at, from, to));
  // The template asks every provider for the total of complaints, and online platforms for the rest.
  const outcomes = (indicator: string, appeals: AppealFacts[], totalApplicability: string) => {
    const applicability = APPLICABILITY.platforms;
    add({ ...internal(totalApplicability), indicator, scope: SCOPES.total, value: appeals.filter((appeal) => inPeriod(appeal.received_at, from, to)).length, contextual_information: 'Complaints received in the period.' });
    const done = resolvedIn(appeals);
    add({ ...internal(applicability), indicator, scope: SCOPES.upheld, value: done.filter((appeal) => appeal.status === 'upheld').length, contextual_information: 'Complaints decided in the period.' });
    add({ ...internal(applicability), indicator, scope: SCOPES.partiallyReversed, value: 0, contextual_information: 'Bulwark decides a complaint by upholding or reversing the whole decision.' });
    add({ ...internal(applicability), indicator, scope: SCOPES.reversed, value: done.filter((appeal) => appeal.status === 'reversed').length, contextual_information: 'Complaints decided in the period; reversing undoes the decision\'s actions.' });
    add({ ...internal(applicability), indicator, scope: SCOPES.median, value: medianHours(done.map((appeal) => [appeal.received_at, appeal.resolved_at])), contextual_information: `${HOURS} From receipt to decision, over complaints decided in the period.` });
  };
  outcomes(COMPLAINTS_SUBMITTED, input.appeals, APPLICABILITY.all);
  add({ ...internal(APPLICABILITY.platforms), indicator: COMPLAINTS_SUBMITTED, scope: SCOPES.omitted, value: null, contextual_information: `${NOT_COLLECTED}: Bulwark has no outcome for a complaint left undecided; ${input.pendingAppeals} complaint(s) received in the period were still pending at its end.` });
  add({ ...internal(APPLICABILITY.platforms), indicator: RESTRICTIONS_AFTER_COMPLAINT, scope: SCOPES.total, value: null, contextual_information: `${NOT_COLLECTED}: reversing a decision only undoes its actions; a later restriction is a new decision not linked to the complaint.` });
  const kinds: [string, (appeal: AppealFacts) => boolean][] = [
    [COMPLAINT_KINDS.visibility, (appeal) => appeal.visibility],
    [COMPLAINT_KINDS.provision, (appeal) => appeal.provision],
    [COMPLAINT_KINDS.account, (appeal) => appeal.account],
    [COMPLAINT_KINDS.monetary, (appeal) => appeal.monetary],
    [COMPLAINT_KINDS.noActionOnNotice, (appeal) => appeal.notice && !appeal.restrictive],
    [COMPLAINT_KINDS.noActionOnTrustedNotice, (appeal) => appeal.trusted_notice && !appeal.restrictive],
  ];
  for (const [indicator, matches] of kinds) outcomes(indicator, input.appeals.filter(matches), APPLICABILITY.platforms);
  for (const scope of [SCOPES.total, SCOPES.upheld, SCOPES.partiallyReversed, SCOPES.reversed, SCOPES.median, SCOPES.omitted, SCOPES.implemented]) {
    add({ ...complaint(COMPLAINT_SECTIONS.outOfCourt, APPLICABILITY.platforms), indicator: DISPUTES_SUBMITTED, scope, value: null, contextual_information: `${NOT_COLLECTED}: out-of-court disputes (Art. 21) are not recorded.` });
  }
  const suspensions = complaint(COMPLAINT_SECTIONS.suspensions, APPLICABILITY.platforms);
  const illegalSuspensions = input.statements.filter((statement) => statement.ground === ILLEGAL && statement.restrictions.decision_account.includes('DECISION_ACCOUNT_SUSPENDED'));
  add({
    ...suspensions, indicator: SUSPENSION_INDICATORS.illegalContent, scope: SCOPES.total, value: illegalSuspensions.length,
    contextual_information: 'Account suspensions decided on the ground of illegal content. Bulwark does not record the prior warning of Art. 23(1), so this may include suspensions that were not imposed for repeated misuse.',
  });
  add({ ...suspensions, indicator: SUSPENSION_INDICATORS.unfoundedNotices, scope: SCOPES.total, value: null, contextual_information: `${NOT_COLLECTED}: notifiers are not suspended through Bulwark (Art. 23(2)).` });
  add({ ...suspensions, indicator: SUSPENSION_INDICATORS.unfoundedComplaints, scope: SCOPES.total, value: null, contextual_information: `${NOT_COLLECTED}: complainants are not suspended through Bulwark (Art. 23(2)).` });

  // 1.6 Automated means: part 8.
  const automated = (applicability: string) => ({ section: SECTIONS.automatedMeans.number, section_title: AUTOMATED_SECTION, template_part: PARTS.automatedMeans, applicability });
  const accuracyNote = `${NOT_COLLECTED}: no measured accuracy, precision or recall of the automated means is held.`;
  const accuracy = (applicability: string, scope: string) => {
    for (const indicator of [AUTOMATED_INDICATORS.accuracy, AUTOMATED_INDICATORS.precision, AUTOMATED_INDICATORS.recall]) add({ ...automated(applicability), indicator, scope, value: null, contextual_information: accuracyNote });
  };
  for (const [scope, statements] of [[SCOPES.total, input.statements], [SCOPES.ownInitiative, ownInitiative]] as const) {
    add({ ...automated(APPLICABILITY.all), indicator: AUTOMATED_INDICATORS.solely, scope, value: statements.filter((statement) => statement.fully).length, contextual_information: 'Statements of reasons with a fully automated decision.' });
    add({ ...automated(APPLICABILITY.all), indicator: AUTOMATED_INDICATORS.not, scope, value: statements.filter((statement) => !statement.fully).length, contextual_information: 'Statements of reasons decided by a reviewer.' });
    accuracy(APPLICABILITY.all, scope);
  }
  for (const [scope, applicability, notices] of [
    [SCOPES.noticesTotal, APPLICABILITY.hosting, input.notices],
    [SCOPES.noticesTrusted, APPLICABILITY.platforms, input.notices.filter((notice) => notice.trusted)],
  ] as const) {
    const undecided = notices.filter((notice) => notice.automated === null).length;
    add({ ...automated(applicability), indicator: AUTOMATED_INDICATORS.noticesSolely, scope, value: notices.filter((notice) => notice.automated === true).length, contextual_information: 'Notices decided by a rule without a reviewer.' });
    add({ ...automated(applicability), indicator: AUTOMATED_INDICATORS.noticesNot, scope, value: notices.filter((notice) => notice.automated === false).length, contextual_information: `Notices decided by a reviewer; ${undecided} notice(s) received in the period had no decision at its end.` });
    accuracy(applicability, scope);
  }

  // 1.7 and 1.8: very large platforms only; Bulwark holds neither.
  for (const indicator of HUMAN_RESOURCES_INDICATORS) {
    add({ section: SECTIONS.humanResources.number, section_title: HUMAN_RESOURCES_SECTION, template_part: PARTS.humanResources, applicability: APPLICABILITY.vlops, indicator, scope: SCOPES.total, value: null, contextual_information: `${NOT_COLLECTED}: staffing is not recorded.` });
  }
  add({ section: SECTIONS.activeRecipients.number, section_title: SECTIONS.activeRecipients.title, template_part: PARTS.activeRecipients, applicability: APPLICABILITY.vlopsAndVloses, indicator: ACTIVE_RECIPIENTS_INDICATOR, scope: TOTAL, value: null, contextual_information: `${NOT_COLLECTED}: the platform counts its recipients.` });
  return rows;
}


/** The header of the CSV: the template's own column names where it has them. */
export const TRANSPARENCY_CSV_HEADER = [
  'Section', 'Section title', 'Template part', 'Applicability', 'Reporting period', 'Category', 'Keyword', 'Scope', 'Indicator', 'Value', 'Contextual information',
  'Category name', 'Keyword name',
] as const;

/**
 * One CSV (RFC 4180, CRLF, UTF-8) with one row per cell of the quantitative template of
 * Implementing Regulation (EU) 2024/2835, Annex I: its section number and heading, the
 * Commission's CSV part, the template's applicability, category, scope and indicator labels.
 * A figure Bulwark does not hold has an empty value and says so. See docs/dsa.md.
 */
export function transparencyCsv(f: TransparencyFigures): string {
  const rows: unknown[][] = [[...TRANSPARENCY_CSV_HEADER]];
  for (const row of f.annex_i) {
    rows.push([row.section, row.section_title, row.template_part, row.applicability, f.reporting_period, row.category, row.keyword, row.scope, row.indicator, row.value, row.contextual_information, row.category && label(row.category), row.keyword && label(row.keyword)]);
  }
  return toCsv(rows);
}


export async function transparencyReport(sql: SqlClient, period: { from: Date; to: Date }): Promise<TransparencyReport> {
  const figures = await transparencyFigures(sql, period.from, period.to);
  return { figures, csv: transparencyCsv(figures), html: transparencyHtml(figures), template: templatePartFiles(figures) };
}
