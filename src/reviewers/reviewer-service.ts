import { createHash, randomBytes } from 'node:crypto';
import type { AuditLog } from '../audit/audit-log.ts';
import { BulwarkError, conflict, invalid, notFound } from '../errors.ts';
import type { SqlClient } from '../store/sql.ts';
import { LoginThrottle } from './login-throttle.ts';
import { decoyPasswordHash, hashPassword, verifyPassword } from './passwords.ts';

export const REVIEWER_ROLES = ['reviewer', 'lead', 'admin'] as const;
export type ReviewerRole = (typeof REVIEWER_ROLES)[number];

export interface Reviewer {
  id: number;
  username: string;
  role: ReviewerRole;
  teams: string[];
  createdAt: Date;
  disabledAt: Date | null;
}

export interface Session {
  reviewer: Reviewer;
  csrfToken: string;
  expiresAt: Date;
}

export interface NewReviewer {
  username: string;
  password: string;
  role: ReviewerRole;
  teams?: string[];
}

export interface SessionPolicy {
  /** A session ends this long after login, whatever the activity. */
  absoluteMs: number;
  /** A session ends after this long without a request. */
  idleMs: number;
  /** Failed logins on one account within failureWindowMs that lock it for as long again (kept in the store, shared by all servers). */
  maxFailures: number;
  failureWindowMs: number;
  /** Failed logins from one source address (IPv6: its /64) within failureWindowMs that lock the address for as long again. */
  maxAddressFailures: number;
  /** Source addresses counted at once; see LockoutPolicy.maxTrackedAddresses. */
  maxTrackedAddresses: number;
}

export const DEFAULT_SESSION_POLICY: SessionPolicy = {
  absoluteMs: 12 * 3600_000,
  idleMs: 3600_000,
  maxFailures: 10,
  failureWindowMs: 15 * 60_000,
  maxAddressFailures: 100,
  maxTrackedAddresses: 100_000,
};

export interface LoginContext {
  /** The client's address, counted for the per-address lockout. */
  address?: string;
}

interface ReviewerRow {
  id: number;
  username: string;
  role: ReviewerRole;
  teams: string[];
  created_at: Date;
  disabled_at: Date | null;
}

const toReviewer = (row: ReviewerRow): Reviewer => ({
  id: row.id,
  username: row.username,
  role: row.role,
  teams: row.teams,
  createdAt: row.created_at,
  disabledAt: row.disabled_at,
});

const REVIEWER_COLUMNS = 'id, username, role, teams, created_at, disabled_at';
const USERNAME = /^[a-z0-9][a-z0-9._-]{1,63}$/;
const TEAM = /^[a-z0-9][a-z0-9-]{0,63}$/;
export const MIN_PASSWORD_LENGTH = 12;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const refused = () => new BulwarkError('unauthenticated', 'wrong username or password');

/** Local reviewer accounts of the review console, their sessions and their daily exposure to media. */
export class ReviewerService {
  private readonly throttle: LoginThrottle;

  constructor(
    private readonly sql: SqlClient,
    private readonly audit: AuditLog,
    private readonly policy: SessionPolicy = DEFAULT_SESSION_POLICY,
    /** The clock of the lockout (tests move it by hand). */
    now: () => Date = () => new Date(),
  ) {
    this.throttle = new LoginThrottle(
      sql,
      {
        maxAccountFailures: policy.maxFailures,
        maxAddressFailures: policy.maxAddressFailures,
        windowMs: policy.failureWindowMs,
        lockMs: policy.failureWindowMs,
        maxTrackedAddresses: policy.maxTrackedAddresses,
      },
      now,
    );
  }

  async create(input: NewReviewer, actor = 'system'): Promise<Reviewer> {
    const username = input.username.trim().toLowerCase();
    if (!USERNAME.test(username)) throw invalid('a username is 2-64 of a-z 0-9 . _ - and starts with a letter or digit');
    if (!REVIEWER_ROLES.includes(input.role)) throw invalid(`role must be one of ${REVIEWER_ROLES.join(', ')}`);
    if (input.password.length < MIN_PASSWORD_LENGTH) throw invalid(`a password needs at least ${MIN_PASSWORD_LENGTH} characters`);
    const teams = [...new Set(input.teams ?? [])];
    const badTeam = teams.find((team) => !TEAM.test(team));
    if (badTeam !== undefined) throw invalid(`team ${JSON.stringify(badTeam)} must be 1-64 of a-z 0-9 -`);
    const passwordHash = await hashPassword(input.password);
    return this.sql.transaction(async (tx) => {
      const inserted = await tx.query<ReviewerRow>(
        `INSERT INTO reviewers (username, password_hash, role, teams) VALUES ($1, $2, $3, $4) ON CONFLICT (username) DO NOTHING RETURNING ${REVIEWER_COLUMNS}`,
        [username, passwordHash, input.role, teams],
      );
      if (inserted.rows.length === 0) throw conflict(`a reviewer named ${JSON.stringify(username)} exists`);
      const reviewer = toReviewer(inserted.rows[0]);
      await this.audit.append(tx, { actor, action: 'reviewer.created', subject: `reviewer:${username}`, detail: { role: reviewer.role, teams } });
      return reviewer;
    });
  }

  async list(): Promise<Reviewer[]> {
    const result = await this.sql.query<ReviewerRow>(`SELECT ${REVIEWER_COLUMNS} FROM reviewers ORDER BY username`);
    return result.rows.map(toReviewer);
  }

  async get(username: string): Promise<Reviewer> {
    const result = await this.sql.query<ReviewerRow>(`SELECT ${REVIEWER_COLUMNS} FROM reviewers WHERE username = $1`, [username.toLowerCase()]);
    if (result.rows.length === 0) throw notFound(`no reviewer named ${JSON.stringify(username)}`);
    return toReviewer(result.rows[0]);
  }

  /** Disabling ends the reviewer's sessions at once; cases they held return to their queues when the claim lapses. */
  async disable(username: string, actor = 'system'): Promise<void> {
    await this.sql.transaction(async (tx) => {
      const result = await tx.query<{ id: number }>('UPDATE reviewers SET disabled_at = now() WHERE username = $1 AND disabled_at IS NULL RETURNING id', [username.toLowerCase()]);
      if (result.rows.length === 0) throw notFound(`no active reviewer named ${JSON.stringify(username)}`);
      await tx.query('DELETE FROM reviewer_sessions WHERE reviewer_id = $1', [result.rows[0].id]);
      await this.audit.append(tx, { actor, action: 'reviewer.disabled', subject: `reviewer:${username.toLowerCase()}` });
    });
  }

  async setPassword(username: string, password: string, actor = 'system'): Promise<void> {
    if (password.length < MIN_PASSWORD_LENGTH) throw invalid(`a password needs at least ${MIN_PASSWORD_LENGTH} characters`);
    const passwordHash = await hashPassword(password);
    await this.sql.transaction(async (tx) => {
      const result = await tx.query<{ id: number }>('UPDATE reviewers SET password_hash = $2 WHERE username = $1 RETURNING id', [username.toLowerCase(), passwordHash]);
      if (result.rows.length === 0) throw notFound(`no reviewer named ${JSON.stringify(username)}`);
      await tx.query('DELETE FROM reviewer_sessions WHERE reviewer_id = $1', [result.rows[0].id]);
      await this.audit.append(tx, { actor, action: 'reviewer.password_set', subject: `reviewer:${username.toLowerCase()}` });
    });
  }

  /** Checks the password and opens a session; the returned token goes into the cookie and is never stored. */
  async login(usernameInput: string, password: string, context: LoginContext = {}): Promise<{ token: string; session: Session }> {
    const username = usernameInput.trim().toLowerCase();
    const found = await this.sql.query<ReviewerRow & { password_hash: string }>(
      `SELECT ${REVIEWER_COLUMNS}, password_hash FROM reviewers WHERE username = $1 AND disabled_at IS NULL`,
      [username],
    );
    const row = found.rows[0];
    const lock = await this.throttle.locked(row?.id, context.address);
    // The password is checked even when locked, so a locked account answers as slowly as any other.
    const ok = await verifyPassword(password, row?.password_hash ?? (await decoyPasswordHash()));
    if (lock) {
      // Only names that exist are logged; the address itself is never logged.
      if (row) {
        const reason = lock === 'account' ? 'too many failed attempts' : 'too many failed attempts from this address';
        await this.sql.transaction((tx) => this.audit.append(tx, { actor: 'system', action: 'reviewer.login_refused', subject: `reviewer:${username}`, detail: { reason } }));
      }
      throw refused();
    }
    if (!row || !ok) {
      await this.throttle.recordFailure(row?.id, context.address);
      // Only names that exist are logged, so a mistyped password pasted into the name field is never kept.
      if (row) await this.sql.transaction((tx) => this.audit.append(tx, { actor: 'system', action: 'reviewer.login_failed', subject: `reviewer:${username}` }));
      throw refused();
    }
    await this.throttle.clearAccount(row.id);
    const token = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(24).toString('base64url');
    const expiresAt = new Date(Date.now() + this.policy.absoluteMs);
    await this.sql.transaction(async (tx) => {
      await tx.query('INSERT INTO reviewer_sessions (token_sha256, reviewer_id, csrf_token, expires_at) VALUES ($1, $2, $3, $4)', [sha256(token), row.id, csrfToken, expiresAt]);
      await tx.query('DELETE FROM reviewer_sessions WHERE expires_at < now()');
      await this.audit.append(tx, { actor: row.username, action: 'reviewer.login', subject: `reviewer:${row.username}` });
    });
    return { token, session: { reviewer: toReviewer(row), csrfToken, expiresAt } };
  }

  /** The session of a cookie's token, or an "unauthenticated" error when it is unknown, expired or idle too long. */
  async session(token: string | undefined): Promise<Session> {
    const expired = new BulwarkError('unauthenticated', 'the session has ended; log in again');
    if (!token || token.length > 100) throw expired;
    const result = await this.sql.query<ReviewerRow & { csrf_token: string; expires_at: Date }>(
      `UPDATE reviewer_sessions s SET last_seen_at = now()
       FROM reviewers r
       WHERE s.token_sha256 = $1 AND r.id = s.reviewer_id AND r.disabled_at IS NULL
         AND s.expires_at > now() AND s.last_seen_at > now() - make_interval(secs => $2)
       RETURNING r.id, r.username, r.role, r.teams, r.created_at, r.disabled_at, s.csrf_token, s.expires_at`,
      [sha256(token), this.policy.idleMs / 1000],
    );
    const row = result.rows[0];
    if (!row) throw expired;
    return { reviewer: toReviewer(row), csrfToken: row.csrf_token, expiresAt: row.expires_at };
  }

  async logout(token: string | undefined): Promise<void> {
    if (!token) return;
    await this.sql.transaction(async (tx) => {
      const ended = await tx.query<{ username: string }>(
        'DELETE FROM reviewer_sessions s USING reviewers r WHERE s.token_sha256 = $1 AND r.id = s.reviewer_id RETURNING r.username',
        [sha256(token)],
      );
      if (ended.rows[0]) await this.audit.append(tx, { actor: ended.rows[0].username, action: 'reviewer.logout', subject: `reviewer:${ended.rows[0].username}` });
    });
  }

  /** Media revealed today (UTC). */
  async exposureToday(reviewerId: number, client: SqlClient = this.sql): Promise<number> {
    const result = await client.query<{ count: number }>(`SELECT count FROM reviewer_exposures WHERE reviewer_id = $1 AND day = (now() AT TIME ZONE 'UTC')::date`, [reviewerId]);
    return result.rows[0]?.count ?? 0;
  }

  /** Counts one reveal; returns today's total. */
  async recordExposure(tx: SqlClient, reviewerId: number): Promise<number> {
    const result = await tx.query<{ count: number }>(
      `INSERT INTO reviewer_exposures (reviewer_id, day, count) VALUES ($1, (now() AT TIME ZONE 'UTC')::date, 1)
       ON CONFLICT (reviewer_id, day) DO UPDATE SET count = reviewer_exposures.count + 1 RETURNING count`,
      [reviewerId],
    );
    return result.rows[0].count;
  }
}
