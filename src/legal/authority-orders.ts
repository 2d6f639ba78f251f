import { z } from 'zod';
import { isoTimestamp } from '../validation/edge.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { conflict, invalid, notFound } from '../errors.ts';
import type { SqlClient } from '../store/sql.ts';

/** Orders from judicial or administrative authorities: to act against illegal content (DSA Art. 9) or to provide information (Art. 10). */
export const authorityOrderSchema = z.strictObject({
  kind: z.enum(['act_against_illegal_content', 'provide_information']),
  member_state: z.string().regex(/^[A-Z]{2}$/, 'the ISO 3166-1 alpha-2 code of the issuing member state'),
  authority: z.string().trim().min(1).max(200),
  category: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/),
  received_at: isoTimestamp().describe('When the order was received (ISO 8601 with a time zone)'),
});

export interface AuthorityOrder {
  id: number;
  kind: string;
  member_state: string;
  authority: string;
  category: string;
  received_at: string;
  acknowledged_at: string | null;
  given_effect_at: string | null;
}

interface OrderRow {
  id: number;
  kind: string;
  member_state: string;
  authority: string;
  category: string;
  received_at: Date;
  acknowledged_at: Date | null;
  given_effect_at: Date | null;
}

const toOrder = (row: OrderRow): AuthorityOrder => ({
  id: Number(row.id),
  kind: row.kind,
  member_state: row.member_state,
  authority: row.authority,
  category: row.category,
  received_at: row.received_at.toISOString(),
  acknowledged_at: row.acknowledged_at?.toISOString() ?? null,
  given_effect_at: row.given_effect_at?.toISOString() ?? null,
});
const COLUMNS = 'id, kind, member_state, authority, category, received_at, acknowledged_at, given_effect_at';

/** The register of authorities' orders, kept for the transparency report's counts and times. */
export class AuthorityOrderService {
  constructor(
    private readonly sql: SqlClient,
    private readonly audit: AuditLog,
  ) {}

  async record(raw: unknown, actor = 'system'): Promise<AuthorityOrder> {
    const parsed = authorityOrderSchema.safeParse(raw);
    if (!parsed.success) throw invalid(`invalid order: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || 'order'}: ${issue.message}`).join('; ')}`);
    const order = parsed.data;
    if (Date.parse(order.received_at) > Date.now() + 60_000) throw invalid('received_at is in the future');
    return this.sql.transaction(async (tx) => {
      const inserted = await tx.query<OrderRow>(
        `INSERT INTO authority_orders (kind, member_state, authority, category, received_at, acknowledged_at) VALUES ($1, $2, $3, $4, $5, now()) RETURNING ${COLUMNS}`,
        [order.kind, order.member_state, order.authority, order.category, order.received_at],
      );
      const recorded = toOrder(inserted.rows[0]);
      await this.audit.append(tx, { actor, action: 'authority_order.received', subject: `authority_order:${recorded.id}`, detail: { kind: order.kind, member_state: order.member_state } });
      return recorded;
    });
  }

  /** Records when the order was carried out (Art. 9(1), 10(1): inform the authority of the effect given). */
  async giveEffect(id: number, actor = 'system'): Promise<AuthorityOrder> {
    return this.sql.transaction(async (tx) => {
      const updated = await tx.query<OrderRow>(`UPDATE authority_orders SET given_effect_at = now() WHERE id = $1 AND given_effect_at IS NULL RETURNING ${COLUMNS}`, [id]);
      if (!updated.rows[0]) {
        const exists = await tx.query('SELECT 1 FROM authority_orders WHERE id = $1', [id]);
        if (exists.rows.length === 0) throw notFound(`no authority order with id ${id}`);
        throw conflict(`authority order ${id} was already given effect`);
      }
      await this.audit.append(tx, { actor, action: 'authority_order.given_effect', subject: `authority_order:${id}` });
      return toOrder(updated.rows[0]);
    });
  }

  async list(filter: { afterId?: number; limit?: number } = {}): Promise<AuthorityOrder[]> {
    const result = await this.sql.query<OrderRow>(`SELECT ${COLUMNS} FROM authority_orders WHERE id > $1 ORDER BY id LIMIT $2`, [filter.afterId ?? 0, Math.min(Math.max(filter.limit ?? 100, 1), 1000)]);
    return result.rows.map(toOrder);
  }
}
