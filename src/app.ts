import { ApiKeyService } from './auth/api-keys.ts';
import { BankService } from './banks/banks.ts';
import { EventLog } from './events/event-log.ts';
import { OutboxConsumer } from './events/outbox-consumer.ts';
import { AccountDirectory } from './graph/accounts.ts';
import { NetworkDetectionService } from './graph/detection-service.ts';
import { DEFAULT_GUARDRAIL_POLICY, type GuardrailPolicy, RecommendationGuardrail } from './guardrails/recommendation-guardrail.ts';
import { SearchGuardrail } from './guardrails/search-guardrail.ts';
import { CONTENT_MATCHED_EVENT, type ContentMatchedPayload, ContentService } from './ingest/content.ts';
import { EventIngestService } from './ingest/event-ingest.ts';
import { type MatchOptions, Matcher } from './match/matcher.ts';
import { defaultSignalRegistry } from './signals/default-registry.ts';
import { DEFAULT_MAX_PIXELS } from './signals/pdq/image.ts';
import type { SignalRegistry } from './signals/registry.ts';
import { migrate } from './store/migrate.ts';
import { type SqlClient, type StoreLocation, openSql } from './store/sql.ts';
import { TermListService } from './terms/term-lists.ts';

export interface BulwarkConfig extends StoreLocation {
  /** Decompression-bomb guard for uploaded images. */
  maxPixels?: number;
  matchOptions?: MatchOptions;
  /** How often a process looks for bank changes made by other processes. */
  bankRefreshMs?: number;
  signals?: SignalRegistry;
  /** Key for hashing account identifiers before they are stored (BULWARK_IDENTIFIER_KEY). */
  identifierKey?: string;
  guardrailPolicy?: Partial<GuardrailPolicy>;
  /** How often guardrails and term lists look for changes made by other processes. */
  guardrailRefreshMs?: number;
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
  readonly accounts: AccountDirectory;
  readonly terms: TermListService;
  readonly platformEvents: EventIngestService;
  readonly detection: NetworkDetectionService;
  readonly guardrail: RecommendationGuardrail;
  readonly searchGuardrail: SearchGuardrail;
  /** Marks uploaders of content that matched a bank as confirmed, from the outbox. */
  readonly hashMatchLabeller: OutboxConsumer;
  close(): Promise<void>;
}

/** The consumer that turns a bank match on an upload into a confirmed label on its uploader. */
export const HASH_MATCH_LABELLER = 'graph.hash-match-labeller';

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
  const accounts = new AccountDirectory(sql, events);
  const terms = new TermListService(sql, config.guardrailRefreshMs);
  const platformEvents = new EventIngestService(sql, accounts, terms, { identifierKey: config.identifierKey });
  const detection = new NetworkDetectionService(sql, events);
  const guardrail = new RecommendationGuardrail(sql, events, { ...DEFAULT_GUARDRAIL_POLICY, ...config.guardrailPolicy });
  const searchGuardrail = new SearchGuardrail(terms);
  const hashMatchLabeller = new OutboxConsumer(sql, events, HASH_MATCH_LABELLER, [CONTENT_MATCHED_EVENT], async (tx, event) => {
    const payload = event.payload as ContentMatchedPayload;
    const labelled = await accounts.label(payload.account_id, 'confirmed', 'hash_match', { content_id: payload.content_id, banks: [...new Set(payload.matches.map((m) => m.bank))] }, tx);
    return [labelled];
  });
  const stops = [hashMatchLabeller.start(), guardrail.start(config.guardrailRefreshMs ?? 1000)];
  await matcher.refresh();
  await hashMatchLabeller.drain();
  await guardrail.refresh();
  const close = async () => {
    for (const stop of stops) stop();
    await sql.close();
  };
  return { config, sql, signals, banks, matcher, content, events, apiKeys, accounts, terms, platformEvents, detection, guardrail, searchGuardrail, hashMatchLabeller, close };
}
