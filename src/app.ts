import { ApiKeyService } from './auth/api-keys.ts';
import { BankService } from './banks/banks.ts';
import { EventLog } from './events/event-log.ts';
import { ContentService } from './ingest/content.ts';
import { type MatchOptions, Matcher } from './match/matcher.ts';
import { defaultSignalRegistry } from './signals/default-registry.ts';
import { DEFAULT_MAX_PIXELS } from './signals/pdq/image.ts';
import type { SignalRegistry } from './signals/registry.ts';
import { migrate } from './store/migrate.ts';
import { type SqlClient, type StoreLocation, openSql } from './store/sql.ts';

export interface BulwarkConfig extends StoreLocation {
  /** Decompression-bomb guard for uploaded images. */
  maxPixels?: number;
  matchOptions?: MatchOptions;
  /** How often a process looks for bank changes made by other processes. */
  bankRefreshMs?: number;
  signals?: SignalRegistry;
}

/** One Bulwark instance: the store and every pipeline stage wired together, free of HTTP and CLI. */
export interface Bulwark {
  readonly config: BulwarkConfig;
  readonly sql: SqlClient;
  readonly signals: SignalRegistry;
  readonly banks: BankService;
  readonly matcher: Matcher;
  readonly content: ContentService;
  readonly events: EventLog;
  readonly apiKeys: ApiKeyService;
  close(): Promise<void>;
}

export async function openBulwark(config: BulwarkConfig = {}): Promise<Bulwark> {
  const sql = await openSql(config);
  try {
    await migrate(sql);
  } catch (error) {
    await sql.close();
    throw error;
  }
  const signals = config.signals ?? defaultSignalRegistry();
  const banks = new BankService(sql, signals);
  const matcher = new Matcher(sql, signals, banks, { refreshIntervalMs: config.bankRefreshMs });
  const events = new EventLog(sql);
  const content = new ContentService(sql, signals, matcher, events, {
    maxPixels: config.maxPixels ?? DEFAULT_MAX_PIXELS,
    matchOptions: config.matchOptions,
  });
  const apiKeys = new ApiKeyService(sql);
  await matcher.refresh();
  return { config, sql, signals, banks, matcher, content, events, apiKeys, close: () => sql.close() };
}
