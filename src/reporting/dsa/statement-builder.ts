import type { SqlClient } from '../../store/sql.ts';
import { EU_COUNTRY_CODES, type TdbStatement } from './tdb-schema.ts';

/** The case.decided payload, as the case service writes it. */
export interface CaseDecidedPayload {
  case_id: number | null;
  decision_id: number;
  subject: { kind: string; id: string };
  verdict: string;
  policy: string | null;
  legal_ground: string | null;
  decided_by: string;
  automated: boolean;
  actions: { id: number; type: string; target: { kind: string; id: string } }[];
}

/** What a statement restricts on one item or account. */
export interface Restriction {
  subject: { kind: 'content' | 'account'; id: string };
  actionIds: number[];
  removed: boolean;
  accountSuspended: boolean;
  serviceRestricted: boolean;
}

/** How a policy (or an automated rule) maps onto the database's category and keywords. */
export interface StatementClassifier {
  category(policy: string | null, ruleId: string | null): string;
  keywords(policy: string | null, ruleId: string | null): string[];
}

/**
 * Bulwark acts on child safety: every statement is protection of minors; a policy named csam adds
 * the CSAM keyword. Both keep their names in the v2 taxonomy (Implementing Regulation 2024/2835).
 */
export const DEFAULT_CLASSIFIER: StatementClassifier = {
  category: () => 'STATEMENT_CATEGORY_PROTECTION_OF_MINORS',
  keywords: (policy) => (policy === 'csam' ? ['KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL'] : []),
};

export interface StatementBuildOptions {
  territorialScope: string[];
  classifier: StatementClassifier;
  /** Titles of the operator's policies, for the explanation. */
  policyTitle: (policyId: string) => string | undefined;
  /** Where the platform's terms live (decision_ground_reference_url), if it says. */
  termsUrl?: string;
}

export const DEFAULT_BUILD_OPTIONS: StatementBuildOptions = {
  territorialScope: [...EU_COUNTRY_CODES],
  classifier: DEFAULT_CLASSIFIER,
  policyTitle: () => undefined,
};

const RESTRICTING = new Set(['remove_content', 'restrict_account', 'suspend_account', 'takedown_network', 'block_identifier']);

/**
 * Groups a decision's actions into one restriction per affected item or account: a network
 * takedown is one suspension per member (its child actions); blocking an account's
 * identifiers is part of that account's suspension.
 */
export async function restrictionsOf(tx: SqlClient, payload: CaseDecidedPayload): Promise<Restriction[]> {
  const byKey = new Map<string, Restriction>();
  const touch = (kind: 'content' | 'account', id: string, actionId: number) => {
    const key = `${kind}:${id}`;
    let restriction = byKey.get(key);
    if (!restriction) byKey.set(key, (restriction = { subject: { kind, id }, actionIds: [], removed: false, accountSuspended: false, serviceRestricted: false }));
    restriction.actionIds.push(Number(actionId));
    return restriction;
  };
  for (const action of payload.actions ?? []) {
    if (!RESTRICTING.has(action.type)) continue;
    switch (action.type) {
      case 'remove_content':
        touch('content', action.target.id, action.id).removed = true;
        break;
      case 'restrict_account':
        touch('account', action.target.id, action.id).serviceRestricted = true;
        break;
      case 'suspend_account':
      case 'block_identifier':
        touch('account', action.target.id, action.id).accountSuspended = true;
        break;
      case 'takedown_network': {
        const children = await tx.query<{ id: number; target_id: string }>(
          `SELECT id, target_id FROM actions WHERE parent_id = $1 AND type = 'suspend_account' ORDER BY id`,
          [action.id],
        );
        for (const child of children.rows) touch('account', child.target_id, child.id).accountSuspended = true;
        break;
      }
    }
  }
  return [...byKey.values()];
}

export interface DecisionFacts {
  decidedAt: Date;
  automated: boolean;
  ruleId: string | null;
  note: string | null;
  /** The case was opened by a rule on an automated signal (not a report, notice or a person). */
  automatedDetection: boolean;
  source: { type: 'SOURCE_ARTICLE_16' | 'SOURCE_TRUSTED_FLAGGER' | 'SOURCE_VOLUNTARY'; identity?: string };
}

interface DecisionFactsRow {
  n: number;
  decided_at: Date;
  automated: boolean;
  rule_id: string | null;
  note: string | null;
  noticed: boolean;
  notice_flagger: string | null;
  case_found: boolean;
  trusted_flagger: boolean | null;
  reasons: OpeningReason[] | null;
  escalated_from: number | null;
  opening_event_type: string | null;
}

/**
 * What Bulwark knows about each decision beyond its event: its row, the case's origin, and any
 * notice behind it. One round trip for a whole batch of decisions: every decision of a surge
 * passes through here (issue 11).
 */
export async function decisionFactsOf(tx: SqlClient, payloads: CaseDecidedPayload[]): Promise<DecisionFacts[]> {
  if (payloads.length === 0) return [];
  const found = await tx.query<DecisionFactsRow>(
    `SELECT q.n, d.decided_at, d.automated, d.rule_id, d.note,
       n.id IS NOT NULL AS noticed, n.trusted_flagger AS notice_flagger,
       c.id IS NOT NULL AS case_found, c.trusted_flagger, c.reasons, c.escalated_from,
       (SELECT e.type FROM events e WHERE e.seq = coalesce(c.reasons->0->>'eventSeq', c.reasons->0->>'event_seq')::bigint) AS opening_event_type
     FROM jsonb_to_recordset($1::jsonb) AS q(n int, decision_id bigint, case_id bigint)
     JOIN decisions d ON d.id = q.decision_id
     LEFT JOIN LATERAL (
       SELECT n.id, tf.name AS trusted_flagger FROM notices n LEFT JOIN trusted_flaggers tf ON tf.id = n.trusted_flagger_id
       WHERE n.decision_id = d.id OR (q.case_id IS NOT NULL AND n.case_id = q.case_id)
       ORDER BY (n.trusted_flagger_id IS NOT NULL) DESC, n.id LIMIT 1
     ) n ON true
     LEFT JOIN cases c ON c.id = q.case_id`,
    [JSON.stringify(payloads.map((payload, n) => ({ n, decision_id: payload.decision_id, case_id: payload.case_id ?? null })))],
  );
  const byN = new Map(found.rows.map((row) => [row.n, row]));
  const facts: DecisionFacts[] = [];
  for (const [n, payload] of payloads.entries()) {
    const row = byN.get(n);
    if (!row) throw new Error(`decision ${payload.decision_id} is not in the store`);
    facts.push(await factsOfRow(tx, row));
  }
  return facts;
}

async function factsOfRow(tx: SqlClient, row: DecisionFactsRow): Promise<DecisionFacts> {
  let trustedCase = false;
  let openedBySignal = row.automated;
  if (row.case_found) {
    trustedCase = row.trusted_flagger === true;
    let openingType = row.opening_event_type;
    if (row.escalated_from !== null) {
      // Follow an escalation back to the case that was opened first (rare: one query per step).
      let first: { reasons: OpeningReason[] | null; escalated_from: number | null } = row;
      let guard = 0;
      while (first.escalated_from !== null && guard++ < 20) {
        const previous = await tx.query<typeof first>('SELECT reasons, escalated_from FROM cases WHERE id = $1', [first.escalated_from]);
        if (!previous.rows[0]) break;
        first = previous.rows[0];
      }
      const reason = first.reasons?.[0];
      const seq = reason?.eventSeq ?? reason?.event_seq;
      openingType = seq === undefined || seq === null ? null : ((await tx.query<{ type: string }>('SELECT type FROM events WHERE seq = $1', [seq])).rows[0]?.type ?? null);
    }
    // A rule opened the case on a machine signal; a report is a person's notice, not automated detection.
    openedBySignal = openedBySignal || (openingType !== null && !openingType.startsWith('report.'));
  }
  const source: DecisionFacts['source'] = row.noticed
    ? row.notice_flagger
      ? { type: 'SOURCE_TRUSTED_FLAGGER', identity: row.notice_flagger }
      : { type: 'SOURCE_ARTICLE_16' }
    : trustedCase
      ? { type: 'SOURCE_TRUSTED_FLAGGER' }
      : { type: 'SOURCE_VOLUNTARY' };
  return { decidedAt: row.decided_at, automated: row.automated, ruleId: row.rule_id, note: row.note, automatedDetection: openedBySignal, source };
}

/** What a statement says of its item: when it was made (content) or first seen (an account), and a content's type. */
export interface ItemFacts {
  date: Date | null;
  contentType?: string;
}

/** The items of a batch of restrictions, by `kind:id`, in one query per kind; an item the store does not hold is absent. */
export async function itemFactsOf(tx: SqlClient, restrictions: Restriction[]): Promise<Map<string, ItemFacts>> {
  const ids = (kind: 'content' | 'account') => [...new Set(restrictions.filter((r) => r.subject.kind === kind).map((r) => r.subject.id))];
  const items = new Map<string, ItemFacts>();
  const contentIds = ids('content');
  if (contentIds.length > 0) {
    const rows = await tx.query<{ content_id: string; content_type: string; created_at: Date | null; received_at: Date }>(
      'SELECT content_id, content_type, created_at, received_at FROM content WHERE content_id = ANY($1::text[])',
      [contentIds],
    );
    for (const row of rows.rows) items.set(`content:${row.content_id}`, { date: row.created_at ?? row.received_at, contentType: row.content_type });
  }
  const accountIds = ids('account');
  if (accountIds.length > 0) {
    // An account decision: the "content" is the account itself, dated by its first upload.
    const rows = await tx.query<{ account_id: string; first_seen: Date | null }>(
      'SELECT account_id, MIN(received_at) AS first_seen FROM content WHERE account_id = ANY($1::text[]) GROUP BY account_id',
      [accountIds],
    );
    for (const row of rows.rows) items.set(`account:${row.account_id}`, { date: row.first_seen });
  }
  return items;
}

/** The first reason of a case names the event that opened it (older rows spell it event_seq). */
interface OpeningReason {
  rule?: string;
  eventSeq?: number;
  event_seq?: number;
}

const day = (date: Date) => date.toISOString().slice(0, 10);

const CONTENT_TYPE_OF: Record<string, string> = { photo: 'CONTENT_TYPE_IMAGE', image: 'CONTENT_TYPE_IMAGE', video: 'CONTENT_TYPE_VIDEO', text: 'CONTENT_TYPE_TEXT', audio: 'CONTENT_TYPE_AUDIO' };

/** The statement for one restriction, in the database's format. The puid is chosen by the caller. */
export function buildStatement(
  payload: CaseDecidedPayload,
  facts: DecisionFacts,
  restriction: Restriction,
  item: ItemFacts | undefined,
  puid: string,
  options: StatementBuildOptions,
): TdbStatement {
  const contentDate = item?.date ?? facts.decidedAt;
  let contentType: string[];
  let contentTypeOther: string | undefined;
  if (restriction.subject.kind === 'content') {
    const mapped = item?.contentType ? CONTENT_TYPE_OF[item.contentType.split('/')[0]] ?? CONTENT_TYPE_OF[item.contentType] : undefined;
    contentType = [mapped ?? 'CONTENT_TYPE_OTHER'];
    if (!mapped) contentTypeOther = item?.contentType ? `Uploaded media (${item.contentType})`.slice(0, 500) : 'Uploaded media';
  } else {
    contentType = ['CONTENT_TYPE_OTHER'];
    contentTypeOther = 'User account';
  }
  const policy = payload.policy;
  const policyTitle = policy ? options.policyTitle(policy) : undefined;
  const what = [
    restriction.removed ? 'removed the content' : '',
    restriction.accountSuspended ? 'suspended the account' : '',
    restriction.serviceRestricted ? 'restricted the account (no reach, no messages)' : '',
  ].filter(Boolean).join(' and ');
  const how = facts.automated ? `An automated rule (${facts.ruleId ?? 'unnamed'}) ${what}` : `A trained reviewer ${what} after review`;
  const detected = facts.automatedDetection ? ' The item was detected by automated matching against verified hash lists or automated network detection.' : '';
  const notice = facts.source.type === 'SOURCE_VOLUNTARY' ? '' : ' The decision followed a notice.';
  const facts_ = `${how}.${detected}${notice}${policyTitle ? ` Policy: ${policyTitle}.` : ''}`;
  const statement: TdbStatement = {
    ...(restriction.removed ? { decision_visibility: ['DECISION_VISIBILITY_CONTENT_REMOVED'] } : {}),
    ...(restriction.accountSuspended ? { decision_account: 'DECISION_ACCOUNT_SUSPENDED' } : {}),
    ...(restriction.serviceRestricted ? { decision_provision: 'DECISION_PROVISION_PARTIAL_SUSPENSION' } : {}),
    ...(policy && payload.legal_ground
      ? {
          decision_ground: 'DECISION_GROUND_ILLEGAL_CONTENT',
          illegal_content_legal_ground: payload.legal_ground,
          illegal_content_explanation: `Found to be ${policyTitle ?? policy} (policy ${policy}), which is illegal under the ground cited.`,
        }
      : {
          decision_ground: 'DECISION_GROUND_INCOMPATIBLE_CONTENT',
          incompatible_content_ground: policy ? `Terms of service, policy ${policy}` : `Terms of service, enforced by rule ${facts.ruleId ?? payload.decided_by}`,
          incompatible_content_explanation: policy
            ? `Found to break the policy ${policyTitle ?? policy}.`
            : `An automated rule (${facts.ruleId ?? payload.decided_by}) found a match the platform's terms prohibit.`,
        }),
    ...(options.termsUrl ? { decision_ground_reference_url: options.termsUrl } : {}),
    content_type: contentType,
    ...(contentTypeOther ? { content_type_other: contentTypeOther } : {}),
    category: options.classifier.category(policy, facts.ruleId),
    ...(() => {
      const keywords = options.classifier.keywords(policy, facts.ruleId);
      return keywords.length > 0 ? { category_specification: keywords } : {};
    })(),
    territorial_scope: options.territorialScope,
    content_date: day(contentDate),
    // content_id (v2) is left out: it takes only EAN-13 product numbers, which Bulwark's items do not have.
    application_date: day(facts.decidedAt),
    decision_facts: facts_.slice(0, 5000),
    source_type: facts.source.type,
    ...(facts.source.identity ? { source_identity: facts.source.identity.slice(0, 500) } : {}),
    automated_detection: facts.automatedDetection ? 'Yes' : 'No',
    automated_decision: facts.automated ? 'AUTOMATED_DECISION_FULLY' : 'AUTOMATED_DECISION_NOT_AUTOMATED',
    puid,
  };
  return statement;
}
