/**
 * Exchanges are how hash lists travel between platforms and child-protection bodies (NCMEC,
 * StopNCII, ThreatExchange, a file on a web server, another Bulwark). Each is one file under
 * src/exchange/types/ implementing ExchangeType; the fetcher (src/exchange/fetcher.ts) is the
 * only caller, so an exchange knows nothing of banks, transactions or retries: it turns the
 * source's API into pages of items and a checkpoint, and turns a reviewer's verdict into the
 * source's feedback call.
 *
 * The cut follows python-threatexchange's SignalExchangeAPI (fetch with a checkpoint, deltas
 * where "no signals" means deleted, opinions written back), with two differences on purpose:
 * feedback is part of the interface (HMA never sends any), and deletions are first-class.
 */

/** A hash as Bulwark knows it: one of the registry's signal types and its value. */
export interface ExchangeSignal {
  signalType: string;
  value: string;
}

/** One item of the source: an NCMEC entry, a StopNCII hash record, a ThreatExchange descriptor. */
export interface ExchangeItem {
  /**
   * The source's stable identity of the item, unique within the exchange: NCMEC
   * "{member}-{entry}", StopNCII "{signalType} {hash}", ThreatExchange "{type} {indicator}".
   * A later item with the same key replaces the earlier one (its signals, tags, provenance).
   */
  key: string;
  /**
   * The hashes Bulwark can match, already in the registry's names (pdq, md5, vpdq, sha256).
   * null means the source deleted or withdrew the item: its entries leave the bank unless
   * another live item of any exchange still holds the same hash.
   */
  signals: ExchangeSignal[] | null;
  /** Who at the source contributed it (NCMEC member/ESP id, ThreatExchange owner id). */
  member?: string;
  /**
   * The source's own ids the item's feedback is addressed to, where they are not the key:
   * ThreatExchange reacts per descriptor, so its items carry their descriptor ids (comma-separated).
   * Kept with the entry and handed back in ExchangeFeedback.item.
   */
  sourceId?: string;
  /** The source's labels: classification (NCMEC "A1"), descriptor tags, StopNCII case tags. */
  tags?: string[];
  /**
   * Fingerprints the source sent that Bulwark has no signal type for (PhotoDNA, NetClean,
   * TMK_PDQF, SHA1 of images…): kept as provenance and shown, never matched. Type → value.
   */
  otherFingerprints?: Record<string, string>;
  /** The source's own opinion of the item, where it has one (ThreatExchange status, reactions). */
  sourceOpinion?: 'positive' | 'negative' | 'disputed';
  /** When the source last changed the item, if it says. */
  updatedAt?: Date;
}

/**
 * Where a fetch got to, stored with the bank's changes in one transaction. `progressAt` is the
 * time up to which the source is known to be fully read: the fetcher refuses a checkpoint whose
 * progressAt goes back. `state` is the exchange's own resume data (a paging URL, a page token),
 * JSON only: it is stored as jsonb.
 */
export interface ExchangeCheckpoint {
  progressAt: string | null;
  state: Record<string, unknown>;
}

/** One page of a fetch: apply its items, then store its checkpoint, in one transaction. */
export interface FetchPage {
  items: ExchangeItem[];
  checkpoint: ExchangeCheckpoint;
  /** Items of the page the exchange could not read, each named (line, index or key) with why. */
  skipped?: { item: string; reason: string }[];
  /**
   * This page begins a whole new read of the source (a file's new version): items not read
   * again by the end of this fetch are gone at the source and leave the bank. A fetch from a
   * null checkpoint is always a whole read and need not say so.
   */
  startsFullList?: boolean;
}

/** A reviewer's verdict on content that matched an item, to be told to the source. */
export interface ExchangeFeedback {
  /** The item the verdict is about. */
  item: { key: string; member?: string; sourceId?: string; signals: ExchangeSignal[] };
  verdict: 'seen' | 'true_positive' | 'false_positive';
  /** For a false positive: the source's reason id where it has a list (NCMEC), or free text. */
  reason?: string;
  /** Stable id of this feedback, so a retried send is recognisable as the same. */
  idempotencyKey: string;
}

/** What an exchange needs from the world; injected so tests run against a stand-in and a fake clock. */
export interface ExchangeContext {
  fetch: typeof globalThis.fetch;
  now: () => Date;
  /** The exchange's credentials, read from the environment by the ExchangeType (never stored, never logged). */
  credentials: Record<string, string>;
}

export interface SignalExchange {
  /**
   * Pages from the checkpoint on (null: from the beginning). The fetcher stores each page's
   * checkpoint after applying it and may stop between pages; the iterator must not rely on
   * being run to its end. Throws ExchangeError for answers it cannot use.
   */
  fetch(checkpoint: ExchangeCheckpoint | null, signal: AbortSignal): AsyncIterable<FetchPage>;
  /**
   * Whether a checkpoint is older than the source keeps history of deletions (ThreatExchange
   * 90 days, StopNCII 30): the fetcher then starts again from null and removes what the fresh
   * read no longer holds.
   */
  isStale?(checkpoint: ExchangeCheckpoint, now: Date): boolean;
  /** Sends a verdict to the source; absent when the source takes no feedback. Throws ExchangeError. */
  sendFeedback?(feedback: ExchangeFeedback, signal: AbortSignal): Promise<void>;
}

/** A kind of exchange: how it is configured and where its credentials come from. */
export interface ExchangeType<Config = Record<string, unknown>> {
  /** The name operators type: ncmec, stopncii, threatexchange, file, bulwark. */
  readonly name: string;
  /** Checks and canonicalises the operator's configuration; throws a domain 'invalid' error naming the field. */
  parseConfig(raw: unknown): Config;
  /**
   * The environment variables this type reads for an exchange named `exchangeName`
   * (e.g. BULWARK_EXCHANGE_<NAME>_NCMEC_USER), documented for operators.
   */
  credentialVariables(exchangeName: string): string[];
  /** The credentials from the environment, or a domain 'invalid' error naming the missing variable. */
  credentialsFromEnv(exchangeName: string, env: NodeJS.ProcessEnv): Record<string, string>;
  create(config: Config, context: ExchangeContext): SignalExchange;
  /**
   * The URLs an operator's configuration points at, each with its field (`url`, `baseUrl`):
   * checked against BULWARK_EXCHANGE_ALLOWED_HOSTS when the exchange is added or changed.
   */
  configuredUrls?(config: Config): { field: string; url: string }[];
  /** The source's own public hosts, fetched without being on BULWARK_EXCHANGE_ALLOWED_HOSTS (never at a private address). */
  readonly builtInHosts?: string[];
}

/**
 * A source's answer the exchange cannot use, or a failed call. `retryable` says whether the
 * fetcher should back off and try again (429, 5xx, connection errors) or stop and show the
 * error until an operator acts (401, a malformed feed). `retryAfterMs` honours Retry-After.
 */
export class ExchangeError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ExchangeError';
  }
}

/** Environment variable name for an exchange's credential: BULWARK_EXCHANGE_<NAME>_<PART>, NAME upper-cased, '-' → '_'. */
export function credentialVariable(exchangeName: string, part: string): string {
  return `BULWARK_EXCHANGE_${exchangeName.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_${part.toUpperCase()}`;
}
