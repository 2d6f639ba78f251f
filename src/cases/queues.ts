import type { Reviewer } from '../reviewers/reviewer-service.ts';
import type { SqlClient } from '../store/sql.ts';

export interface QueueDefinition {
  name: string;
  description?: string;
  team?: string | null;
  sla_minutes: number;
}

type BuiltInQueue = Required<QueueDefinition> & { roles: string[] | null };

/** Where escalated cases go; only leads and admins see it. */
export const ESCALATION_QUEUE: BuiltInQueue = {
  name: 'escalations',
  description: 'Cases a reviewer escalated for a second opinion',
  team: null,
  sla_minutes: 240,
  roles: ['lead', 'admin'],
};

/** Notices of illegal content (DSA Art. 16) are always reviewed, whatever the rule file says. */
export const NOTICE_QUEUE: BuiltInQueue = {
  name: 'notices',
  description: 'Notices of illegal content; trusted flaggers first',
  team: null,
  sla_minutes: 1440,
  roles: null,
};

/** Appeals against decisions (DSA Art. 20), decided by someone other than the first decider. */
export const APPEAL_QUEUE: BuiltInQueue = {
  name: 'appeals',
  description: 'Appeals against decisions, for a reviewer other than the one who decided',
  team: null,
  sla_minutes: 1440,
  roles: null,
};

/** Bank entries the flood guard took out of matching, for a lead to keep out or put back. */
export const BANK_ENTRY_QUEUE: BuiltInQueue = {
  name: 'bank-entries',
  description: 'Bank entries quarantined for matching too many uploads in an hour',
  team: null,
  sla_minutes: 240,
  roles: ['lead', 'admin'],
};

/** Queues Bulwark itself needs, present whatever the rule file declares. */
export const BUILT_IN_QUEUES: BuiltInQueue[] = [ESCALATION_QUEUE, NOTICE_QUEUE, APPEAL_QUEUE, BANK_ENTRY_QUEUE];

export interface QueueRecord {
  name: string;
  description: string;
  team: string | null;
  roles: string[] | null;
  sla_minutes: number;
}

/** A queue with what its SLA needs: waiting, held, late, and how fast decisions came in the last day. */
export interface QueueStats extends QueueRecord {
  open: number;
  claimed: number;
  overdue: number;
  oldest_open_at: string | null;
  decided_24h: number;
  median_decision_seconds_24h: number | null;
}

/** Restricted queues are seen only by their team (and admins); role-restricted ones only by those roles. */
export function maySeeQueue(reviewer: Pick<Reviewer, 'role' | 'teams'>, queue: Pick<QueueRecord, 'team' | 'roles'>): boolean {
  if (reviewer.role === 'admin') return true;
  if (queue.roles && !queue.roles.includes(reviewer.role)) return false;
  if (queue.team && !reviewer.teams.includes(queue.team)) return false;
  return true;
}

/**
 * Makes the stored queues match the rule file: new ones are added, changed ones updated,
 * and ones no longer declared are retired (kept, since decided cases refer to them).
 */
export async function syncQueues(tx: SqlClient, queues: QueueDefinition[]): Promise<void> {
  const builtIn = new Set(BUILT_IN_QUEUES.map((queue) => queue.name));
  const all = [...queues.filter((queue) => !builtIn.has(queue.name)).map((queue) => ({ ...queue, roles: null as string[] | null })), ...BUILT_IN_QUEUES];
  await tx.query(
    `INSERT INTO review_queues (name, description, team, roles, sla_minutes, retired, updated_at)
     SELECT r.name, coalesce(r.description, ''), r.team, r.roles, r.sla_minutes, false, now()
     FROM jsonb_to_recordset($1::jsonb) AS r(name text, description text, team text, roles text[], sla_minutes integer)
     ON CONFLICT (name) DO UPDATE SET description = excluded.description, team = excluded.team, roles = excluded.roles,
       sla_minutes = excluded.sla_minutes, retired = false, updated_at = now()`,
    [JSON.stringify(all.map((queue) => ({ name: queue.name, description: queue.description ?? '', team: queue.team ?? null, roles: queue.roles, sla_minutes: queue.sla_minutes })))],
  );
  await tx.query('UPDATE review_queues SET retired = true, updated_at = now() WHERE NOT (name = ANY($1::text[])) AND NOT retired', [all.map((queue) => queue.name)]);
}

/** Creates the built-in queues that do not exist yet (a store before any rule file). */
export async function ensureBuiltInQueues(tx: SqlClient): Promise<void> {
  await tx.query(
    `INSERT INTO review_queues (name, description, team, roles, sla_minutes)
     SELECT r.name, r.description, NULL, r.roles, r.sla_minutes FROM jsonb_to_recordset($1::jsonb) AS r(name text, description text, roles text[], sla_minutes integer)
     ON CONFLICT (name) DO NOTHING`,
    [JSON.stringify(BUILT_IN_QUEUES.map((queue) => ({ name: queue.name, description: queue.description, roles: queue.roles, sla_minutes: queue.sla_minutes })))],
  );
}

export async function queueRecord(client: SqlClient, name: string): Promise<QueueRecord | undefined> {
  const result = await client.query<QueueRecord>('SELECT name, description, team, roles, sla_minutes FROM review_queues WHERE name = $1', [name]);
  return result.rows[0];
}

export async function queueStats(client: SqlClient): Promise<QueueStats[]> {
  const result = await client.query<QueueRecord & { open: number; claimed: number; overdue: number; oldest_open_at: Date | null; decided_24h: number; median: number | null }>(
    `SELECT q.name, q.description, q.team, q.roles, q.sla_minutes,
       count(c.id) FILTER (WHERE c.status = 'open' OR (c.status = 'claimed' AND c.claimed_until <= now())) AS open,
       count(c.id) FILTER (WHERE c.status = 'claimed' AND c.claimed_until > now()) AS claimed,
       count(c.id) FILTER (WHERE c.status <> 'decided' AND c.due_at < now()) AS overdue,
       min(c.created_at) FILTER (WHERE c.status = 'open' OR (c.status = 'claimed' AND c.claimed_until <= now())) AS oldest_open_at,
       count(c.id) FILTER (WHERE c.status = 'decided' AND c.decided_at > now() - interval '24 hours') AS decided_24h,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM c.decided_at - c.created_at))
         FILTER (WHERE c.status = 'decided' AND c.decided_at > now() - interval '24 hours') AS median
     FROM review_queues q LEFT JOIN cases c ON c.queue = q.name
     WHERE NOT q.retired GROUP BY q.name ORDER BY q.name`,
  );
  return result.rows.map((row) => ({
    name: row.name,
    description: row.description,
    team: row.team,
    roles: row.roles,
    sla_minutes: row.sla_minutes,
    open: Number(row.open),
    claimed: Number(row.claimed),
    overdue: Number(row.overdue),
    oldest_open_at: row.oldest_open_at?.toISOString() ?? null,
    decided_24h: Number(row.decided_24h),
    median_decision_seconds_24h: row.median === null ? null : Math.round(Number(row.median)),
  }));
}
