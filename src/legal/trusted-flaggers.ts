import type { AuditLog } from '../audit/audit-log.ts';
import { conflict, invalid, notFound } from '../errors.ts';
import type { SqlClient } from '../store/sql.ts';

export interface TrustedFlagger {
  id: number;
  name: string;
  awardedBy: string;
  reference: string | null;
  createdAt: Date;
  revokedAt: Date | null;
}

interface FlaggerRow {
  id: number;
  name: string;
  awarded_by: string;
  reference: string | null;
  created_at: Date;
  revoked_at: Date | null;
}

const toFlagger = (row: FlaggerRow): TrustedFlagger => ({ id: row.id, name: row.name, awardedBy: row.awarded_by, reference: row.reference, createdAt: row.created_at, revokedAt: row.revoked_at });
const NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;

/**
 * Trusted flaggers (DSA Art. 22): bodies a Digital Services Coordinator awarded the status.
 * Their notices are decided first; only registered, unrevoked flaggers count as trusted.
 */
export class TrustedFlaggerService {
  constructor(
    private readonly sql: SqlClient,
    private readonly audit: AuditLog,
  ) {}

  async register(input: { name: string; awardedBy: string; reference?: string }, actor = 'system'): Promise<TrustedFlagger> {
    if (!NAME.test(input.name)) throw invalid('a trusted flagger name is 1-64 of a-z 0-9 -, starting with a letter or digit');
    if (!input.awardedBy.trim()) throw invalid('name the Digital Services Coordinator that awarded the status (awarded_by)');
    return this.sql.transaction(async (tx) => {
      const inserted = await tx.query<FlaggerRow>(
        `INSERT INTO trusted_flaggers (name, awarded_by, reference) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING
         RETURNING id, name, awarded_by, reference, created_at, revoked_at`,
        [input.name, input.awardedBy.trim().slice(0, 200), input.reference?.trim().slice(0, 500) || null],
      );
      if (!inserted.rows[0]) throw conflict(`trusted flagger ${input.name} is already registered`);
      await this.audit.append(tx, { actor, action: 'trusted_flagger.registered', subject: `trusted_flagger:${input.name}`, detail: { awarded_by: input.awardedBy } });
      return toFlagger(inserted.rows[0]);
    });
  }

  async list(): Promise<TrustedFlagger[]> {
    const result = await this.sql.query<FlaggerRow>('SELECT id, name, awarded_by, reference, created_at, revoked_at FROM trusted_flaggers ORDER BY name');
    return result.rows.map(toFlagger);
  }

  /** The active flagger of that name, or an error naming why it does not count. */
  async active(name: string, client: SqlClient = this.sql): Promise<TrustedFlagger> {
    const result = await client.query<FlaggerRow>('SELECT id, name, awarded_by, reference, created_at, revoked_at FROM trusted_flaggers WHERE name = $1', [name]);
    const row = result.rows[0];
    if (!row) throw invalid(`${JSON.stringify(name)} is not a registered trusted flagger`);
    if (row.revoked_at) throw invalid(`trusted flagger ${name} had its status revoked on ${row.revoked_at.toISOString()}`);
    return toFlagger(row);
  }

  async revoke(name: string, actor = 'system'): Promise<void> {
    await this.sql.transaction(async (tx) => {
      const result = await tx.query('UPDATE trusted_flaggers SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL', [name]);
      if (result.rowCount === 0) throw notFound(`no active trusted flagger named ${JSON.stringify(name)}`);
      await this.audit.append(tx, { actor, action: 'trusted_flagger.revoked', subject: `trusted_flagger:${name}` });
    });
  }
}
