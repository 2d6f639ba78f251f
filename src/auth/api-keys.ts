import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { BulwarkError, invalid, notFound } from '../errors.ts';
import type { SqlClient } from '../store/sql.ts';

export interface ApiKeyInfo {
  id: number;
  name: string;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  /**
   * 'full' reaches the whole API; 'feed' is a key given to a peer platform: it reads published
   * bank feeds (/v1/feeds/…) and sends feedback on them, nothing else.
   */
  scope: ApiKeyScope;
  /** For a feed key: the only banks it may read; null allows every published bank. */
  feedBanks: string[] | null;
}

export type ApiKeyScope = 'full' | 'feed';

export interface NewApiKeyOptions {
  scope?: ApiKeyScope;
  feedBanks?: string[];
}

interface ApiKeyRow {
  id: number;
  name: string;
  key_prefix: string;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
  scope: ApiKeyScope;
  feed_banks: string[] | null;
}

const KEY_COLUMNS = 'id, name, key_prefix, created_at, last_used_at, revoked_at, scope, feed_banks';

const toInfo = (row: ApiKeyRow): ApiKeyInfo => ({
  id: row.id,
  name: row.name,
  prefix: row.key_prefix,
  createdAt: row.created_at,
  lastUsedAt: row.last_used_at,
  revokedAt: row.revoked_at,
  scope: row.scope,
  feedBanks: row.feed_banks,
});

export interface EnsuredKey {
  /** registered: new; known: already active; revoked: revoked earlier and left so. */
  status: 'registered' | 'known' | 'revoked';
  info: ApiKeyInfo;
}

/**
 * Registers BULWARK_API_KEY at start. A revoked key is not brought back; the returned line
 * (for the log) says so and names the key by its id and revocation time, never by the key.
 */
export async function registerEnvironmentKey(apiKeys: ApiKeyService, key: string): Promise<{ level: 'info' | 'warn'; message: string }> {
  const { status, info } = await apiKeys.ensure('from BULWARK_API_KEY', key);
  if (status === 'revoked') {
    return {
      level: 'warn',
      message:
        `BULWARK_API_KEY is not registered: it is API key ${info.id}, revoked at ${info.revokedAt!.toISOString()}, and a revoked key stays revoked. ` +
        'Requests with it are refused; set BULWARK_API_KEY to a new key (or remove it and use `bulwark apikey create`).',
    };
  }
  return { level: 'info', message: status === 'registered' ? `BULWARK_API_KEY registered as API key ${info.id}` : `BULWARK_API_KEY is API key ${info.id}` };
}

// Keys made here look like bwk_<43 base64url chars>; operators may also supply their own through BULWARK_API_KEY.
const KEY_PATTERN = /^[\x21-\x7e]{32,200}$/;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * API keys for the platforms that call Bulwark. Only a key's SHA-256 is stored; the key is
 * shown once when created. Verified keys are cached briefly so that authentication does
 * not cost a database round trip per request, and a revocation takes effect within that
 * cache time (cacheMs) in every process.
 */
export class ApiKeyService {
  private readonly cache = new Map<string, { info: ApiKeyInfo; until: number }>();

  constructor(private readonly sql: SqlClient, private readonly cacheMs = 5000) {}

  async create(name: string, options: NewApiKeyOptions = {}): Promise<{ key: string; info: ApiKeyInfo }> {
    if (!/^[\x20-\x7e]{1,100}$/.test(name)) throw invalid('an API key name must be 1-100 printable ASCII characters');
    const scope = options.scope ?? 'full';
    if (scope !== 'full' && scope !== 'feed') throw invalid(`unknown API key scope ${JSON.stringify(scope)}: use full or feed`, { field: 'scope' });
    if (options.feedBanks && scope !== 'feed') throw invalid('only a feed key is limited to banks', { field: 'feed_banks' });
    const key = `bwk_${randomBytes(32).toString('base64url')}`;
    const result = await this.sql.query<ApiKeyRow>(
      `INSERT INTO api_keys (name, key_sha256, key_prefix, scope, feed_banks) VALUES ($1, $2, $3, $4, $5)
       RETURNING ${KEY_COLUMNS}`,
      [name, sha256(key), key.slice(0, 10), scope, options.feedBanks ?? null],
    );
    return { key, info: toInfo(result.rows[0]) };
  }

  /**
   * Registers a key the operator supplied (from the environment) unless it is already known.
   * A key that was revoked stays revoked: deploying again with the same environment must not
   * undo the revocation of a leaked key. Says what happened, so the caller can log why a
   * revoked key was not registered (without the key).
   */
  async ensure(name: string, key: string): Promise<EnsuredKey> {
    if (!KEY_PATTERN.test(key)) throw invalid('a supplied API key must be 32-200 printable ASCII characters without spaces');
    const inserted = await this.sql.query<ApiKeyRow>(
      `INSERT INTO api_keys (name, key_sha256, key_prefix) VALUES ($1, $2, $3) ON CONFLICT (key_sha256) DO NOTHING
       RETURNING ${KEY_COLUMNS}`,
      [name, sha256(key), key.slice(0, 6)],
    );
    if (inserted.rows[0]) return { status: 'registered', info: toInfo(inserted.rows[0]) };
    const known = await this.sql.query<ApiKeyRow>(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE key_sha256 = $1`, [sha256(key)]);
    const info = toInfo(known.rows[0]);
    return { status: info.revokedAt ? 'revoked' : 'known', info };
  }

  async list(): Promise<ApiKeyInfo[]> {
    const result = await this.sql.query<ApiKeyRow>(`SELECT ${KEY_COLUMNS} FROM api_keys ORDER BY id`);
    return result.rows.map(toInfo);
  }

  async revoke(id: number): Promise<void> {
    const result = await this.sql.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL', [id]);
    if (result.rowCount === 0) throw notFound(`no active API key with id ${id}`);
    this.cache.clear();
  }

  /** The key's record, or an "unauthenticated" error that does not say which part was wrong. */
  async verify(presented: string | undefined): Promise<ApiKeyInfo> {
    const refused = new BulwarkError('unauthenticated', 'a valid API key is required (Authorization: Bearer <key>)');
    if (!presented || !KEY_PATTERN.test(presented)) throw refused;
    const digest = sha256(presented);
    const cached = this.cache.get(digest);
    if (cached && cached.until > Date.now()) return cached.info;
    const result = await this.sql.query<ApiKeyRow & { key_sha256: string }>(
      `UPDATE api_keys SET last_used_at = now() WHERE key_sha256 = $1 AND revoked_at IS NULL
       RETURNING ${KEY_COLUMNS}, key_sha256`,
      [digest],
    );
    const row = result.rows[0];
    if (!row || !timingSafeEqual(Buffer.from(row.key_sha256), Buffer.from(digest))) throw refused;
    const info = toInfo(row);
    this.cache.set(digest, { info, until: Date.now() + this.cacheMs });
    return info;
  }
}
