import { ActionService, type ActionServiceOptions } from './actions/action-service.ts';
import { actionTargetsFromConfig, type WebhookConfig } from './actions/targets.ts';
import { AuditLog } from './audit/audit-log.ts';
import { AuditCheckpointer } from './audit/checkpointer.ts';
import { type AuditConfig, auditConfigFromEnv, auditParts, auditWarnings } from './audit/config.ts';
import { ApiKeyService } from './auth/api-keys.ts';
import { CASE_DECIDED_EVENT, CaseService, DEFAULT_CASE_OPTIONS } from './cases/case-service.ts';
import { AccountSubject } from './cases/subjects/account-subject.ts';
import { ContentSubject } from './cases/subjects/content-subject.ts';
import { NetworkSubject } from './cases/subjects/network-subject.ts';
import { NetworkCandidateSubject } from './cases/subjects/network-candidate-subject.ts';
import { NetworkDiscoveryService } from './graph/seedless/discovery-service.ts';
import { BankService } from './banks/banks.ts';
import { FloodQuarantine } from './banks/flood-quarantine.ts';
import { BankEntrySubject } from './cases/subjects/bank-entry-subject.ts';
import { type BankFeedOptions, BankFeedService, feedOptionsFromEnv } from './exchange/publish/bank-feed.ts';
import { type DomainEvent, EventLog } from './events/event-log.ts';
import { ExchangeService } from './exchange/exchange-service.ts';
import { ExchangeFetcher, type FetcherOptions } from './exchange/fetcher.ts';
import { entriesWithProvenance } from './exchange/provenance.ts';
import { type DisableEntryIn, EXCHANGE_FEEDBACK_QUEUE, queueFeedbackOf } from './exchange/feedback.ts';
import { defaultExchangeTypes } from './exchange/types/registry.ts';
import { ForegroundLoad, pipelineShareFromEnv } from './events/foreground-load.ts';
import { OutboxConsumer } from './events/outbox-consumer.ts';
import { forgetOldDeliveries } from './events/pipeline-deliveries.ts';
import { AccountDirectory, HASH_MATCH_LABEL_SOURCE } from './graph/accounts.ts';
import { NetworkDetectionService } from './graph/detection-service.ts';
import { DEFAULT_GUARDRAIL_POLICY, type GuardrailPolicy, RecommendationGuardrail } from './guardrails/recommendation-guardrail.ts';
import { SearchGuardrail } from './guardrails/search-guardrail.ts';
import { CONTENT_MATCHED_EVENT, type ContentMatchedPayload, ContentService } from './ingest/content.ts';
import { EventIngestService } from './ingest/event-ingest.ts';
import { ReportService } from './ingest/reports.ts';
import { type MatchOptions, Matcher } from './match/matcher.ts';
import { RetroactiveMatcher, type RetroactiveOptions, retroactiveDaysFromEnv } from './match/retroactive/retroactive-matcher.ts';
import { AppealSubject } from './legal/appeal-subject.ts';
import { AppealService } from './legal/appeals.ts';
import { AuthorityOrderService } from './legal/authority-orders.ts';
import { NoticeService, type NoticeOptions } from './legal/notices.ts';
import { TrustedFlaggerService } from './legal/trusted-flaggers.ts';
import { MediaVault } from './media/media-vault.ts';
import { preservationOptionsFromEnv } from './preservation/config.ts';
import { StatementService } from './reporting/dsa/statement-service.ts';
import { type NcmecConfig, ncmecConfigFromEnv } from './reporting/ncmec/config.ts';
import { NcmecReportService } from './reporting/ncmec/report-service.ts';
import { type TdbConfig, tdbConfigFromEnv } from './reporting/dsa/tdb-client.ts';
import { PreservationService } from './preservation/preservation-service.ts';
import { reportableDecisionPreserver } from './preservation/reportable-decisions.ts';
import { ReviewerService } from './reviewers/reviewer-service.ts';
import { RuleService } from './rules/active-rules.ts';
import { defaultFactProviders } from './rules/facts/registry.ts';
import { defaultSignalRegistry } from './signals/default-registry.ts';
import { DEFAULT_MAX_PIXELS } from './signals/pdq/image.ts';
import type { SignalRegistry } from './signals/registry.ts';
import { migrate } from './store/migrate.ts';
import { type SqlClient, type StoreLocation, openSql } from './store/sql.ts';
import { TermListService } from './terms/term-lists.ts';
import { InlineHashing } from './signals/hashing/inline.ts';
import { JetStreamHashing } from './distributed/hash-jobs/remote-hashing.ts';
import type { RemoteHashingSettings } from './distributed/hash-jobs/settings.ts';
import type { MediaHashing } from './signals/hashing/media-hashing.ts';
import type { VideoHashOptions } from './signals/types.ts';
import { WorkerPoolHashing } from './signals/hashing/worker-pool.ts';
import type { Role } from './distributed/settings.ts';

export interface BulwarkConfig extends StoreLocation {
  /** Decompression-bomb guard for uploaded images. */
  maxPixels?: number;
  /**
   * Where media are hashed: worker threads (default one per core, BULWARK_HASH_WORKERS) with
   * a bounded queue (BULWARK_HASH_QUEUE), or `workers: 0` to hash inline (one-off commands).
   * With `remote` (BULWARK_HASHING=jetstream) uploads are hashed by worker processes over NATS,
   * and these threads only serve as its fallback.
   */
  hashing?: { workers?: number; maxQueue?: number; remote?: RemoteHashingSettings };
  /** Video limits and sampling (BULWARK_VIDEO_MAX_BYTES, BULWARK_VIDEO_MAX_SECONDS, BULWARK_VIDEO_SECONDS_PER_HASH). */
  video?: VideoHashOptions;
  matchOptions?: MatchOptions;
  /**
   * The share of time the pipeline's background stages keep while requests are in flight
   * (BULWARK_PIPELINE_SHARE, default 0.25; 1 never gives way): src/events/foreground-load.ts.
   */
  pipelineShare?: number;
  /** How often a process looks for bank changes made by other processes. */
  bankRefreshMs?: number;
  signals?: SignalRegistry;
  /** Key for hashing account identifiers before they are stored (BULWARK_IDENTIFIER_KEY). */
  identifierKey?: string;
  guardrailPolicy?: Partial<GuardrailPolicy>;
  /** How often guardrails and term lists look for changes made by other processes. */
  guardrailRefreshMs?: number;
  /**
   * Key that seals the media of matched content for review (BULWARK_MEDIA_KEY: 32 bytes,
   * hex or base64). Without it no media is kept and reviewers see hashes only.
   */
  mediaKey?: string;
  /** Where enforcement actions go (BULWARK_WEBHOOK_URL, BULWARK_WEBHOOK_SECRET, …). */
  webhooks?: WebhookConfig;
  actionOptions?: ActionServiceOptions;
  /** How often this process looks for due actions besides the moment they are enqueued. */
  actionDispatchIntervalMs?: number;
  /**
   * False: this process records actions and statements but leaves delivering them (and purging
   * expired evidence) to a server; one-off CLI commands run this way.
   */
  dispatchActions?: boolean;
  /** How long a reviewer holds a claimed case before it returns to its queue. */
  caseClaimMs?: number;
  /** How notices' locations resolve to content or accounts (BULWARK_NOTICE_LOCATION_PATTERNS). */
  notices?: NoticeOptions;
  /** How often expired preservation records are purged (default hourly). */
  preservationIntervalMs?: number;
  /** The DSA Transparency Database (BULWARK_DSA_TDB_URL, BULWARK_DSA_TDB_TOKEN); absent, statements wait locally. */
  transparencyDatabase?: TdbConfig;
  /** NCMEC CyberTipline reporting (BULWARK_NCMEC_*); absent, read from the environment. */
  ncmec?: NcmecConfig;
  /** Audit-log keys and checkpoints (BULWARK_AUDIT_*); absent, read from the environment (docs/audit-log.md). */
  audit?: AuditConfig;
  /**
   * What this process runs (default 'all'): 'api' serves requests and leaves outbox consumers
   * and action delivery to 'worker' processes sharing its PostgreSQL.
   */
  role?: Role;
  /**
   * True when NATS carries the pipeline's own events (BULWARK_PIPELINE_TRANSPORT=jetstream, the
   * default with NATS): the stages are handed over before they would read the outbox, and
   * src/distributed/pipeline-runtime.ts runs them from JetStream work queues. PostgreSQL only.
   */
  pipelineOnJetStream?: boolean;
  /** On a shared PostgreSQL, how often the background stages look for events written by other processes. */
  outboxPollMs?: number;
  /** Signal exchanges (src/exchange/): their types, clock, fetch and schedule; absent, the shipped types and the real world. */
  exchanges?: Partial<FetcherOptions> & { disableOnFalsePositive?: DisableEntryIn };
  /**
   * Bank controls (docs/banks.md): the clock of time-limited entry disables and flood hours, and
   * the flood guard's default limit per entry and hour (BULWARK_FLOOD_LIMIT, default 1000).
   */
  bankControls?: { now?: () => Date; floodLimit?: number; floodFlushAt?: number; floodFlushMs?: number };
  /**
   * Matching new bank entries against stored content (docs/retroactive.md): the window in days
   * (BULWARK_RETROACTIVE_DAYS, default 90), batch sizes, and how often to look for changes made
   * by other processes (pollMs, default 1000; 0 runs it only when drain() is called, for tests).
   */
  retroactive?: RetroactiveOptions & { pollMs?: number };
  /** Published bank feeds (BULWARK_FEED_HISTORY_DAYS); absent, read from the environment. */
  feeds?: BankFeedOptions;
}

/** One Bulwark instance: the store and every pipeline stage wired together, free of HTTP and CLI. */
export interface Bulwark {
  readonly config: BulwarkConfig;
  readonly sql: SqlClient;
  readonly signals: SignalRegistry;
  /** Decodes and hashes media off the event loop. */
  readonly hashing: MediaHashing;
  readonly banks: BankService;
  readonly matcher: Matcher;
  /** Quarantines bank entries that match too many distinct uploads in an hour. */
  readonly floodQuarantine: FloodQuarantine;
  readonly content: ContentService;
  readonly events: EventLog;
  readonly apiKeys: ApiKeyService;
  /** Banks published to peer platforms as feeds (Bulwark to Bulwark sharing). */
  readonly feeds: BankFeedService;
  readonly accounts: AccountDirectory;
  readonly terms: TermListService;
  readonly platformEvents: EventIngestService;
  readonly detection: NetworkDetectionService;
  /** Seedless discovery: candidate networks no one has confirmed, kept for review. */
  readonly discovery: NetworkDiscoveryService;
  readonly guardrail: RecommendationGuardrail;
  readonly searchGuardrail: SearchGuardrail;
  /** Marks uploaders of content that matched a bank as confirmed, from the outbox. */
  readonly hashMatchLabeller: OutboxConsumer;
  readonly audit: AuditLog;
  /** Signed checkpoints of the audit chain's head, exported on a timer by a server. */
  readonly auditCheckpoints: AuditCheckpointer;
  /** What audit protection is missing with this configuration, one sentence each. */
  readonly auditWarnings: string[];
  readonly reviewers: ReviewerService;
  readonly reports: ReportService;
  readonly actions: ActionService;
  readonly cases: CaseService;
  readonly rules: RuleService;
  readonly trustedFlaggers: TrustedFlaggerService;
  readonly notices: NoticeService;
  readonly appeals: AppealService;
  readonly authorityOrders: AuthorityOrderService;
  readonly preservation: PreservationService;
  /** Statements of reasons (DSA Art. 17) and transparency reports (Art. 15, 24). */
  readonly dsa: StatementService;
  /** CyberTipline reports to NCMEC. */
  readonly ncmec: NcmecReportService;
  /** Hash lists shared with other platforms and child-protection bodies, fetched in the background by a server. */
  readonly exchanges: ExchangeService;
  /** Matches entries new to a bank against stored content, in the background. */
  readonly retroactive: RetroactiveMatcher;
  /**
   * The stages that read the pipeline's own events (content matched, case decided, …). With
   * NATS they may be handed over to JetStream work queues (src/distributed/pipeline-stages.ts).
   */
  readonly pipelineStages: OutboxConsumer[];
  /** Makes the background stages this process runs catch up now, e.g. when another process says it wrote events. */
  wake(): Promise<void>;
  close(): Promise<void>;
}

/** The consumer that turns a bank match on an upload into a confirmed label on its uploader. */
export const HASH_MATCH_LABELLER = 'graph.hash-match-labeller';

export async function openBulwark(config: BulwarkConfig = {}): Promise<Bulwark> {
  const sql = await openSql(config);
  let auditSetup: { config: AuditConfig; parts: ReturnType<typeof auditParts> };
  try {
    await migrate(sql);
    const auditConfig = config.audit ?? (await auditConfigFromEnv(process.env, config.dataDir));
    auditSetup = { config: auditConfig, parts: auditParts(auditConfig) };
  } catch (error) {
    await sql.close();
    throw error;
  }
  const signals = config.signals ?? defaultSignalRegistry();
  const bankClock = config.bankControls?.now;
  const banks = new BankService(sql, signals, { now: bankClock });
  const matcher = new Matcher(sql, signals, banks, { refreshIntervalMs: config.bankRefreshMs, now: bankClock });
  // Set once the case service it opens cases through exists; uploads before that are not counted.
  let floodQuarantine: FloodQuarantine | undefined;
  matcher.describeProvenanceWith((entryIds, alongside) => entriesWithProvenance(sql, entryIds, alongside));
  const events = new EventLog(sql, new ForegroundLoad({ share: config.pipelineShare ?? pipelineShareFromEnv() }));
  const vault = config.mediaKey ? new MediaVault(config.mediaKey) : undefined;
  const ownHashing: MediaHashing =
    config.hashing?.workers === 0 ? new InlineHashing(signals) : new WorkerPoolHashing({ workers: config.hashing?.workers, maxQueue: config.hashing?.maxQueue });
  const hashing = config.hashing?.remote ? new JetStreamHashing(ownHashing, config.hashing.remote) : ownHashing;
  const content = new ContentService(sql, signals, hashing, matcher, events, {
    maxPixels: config.maxPixels ?? DEFAULT_MAX_PIXELS,
    video: config.video,
    matchOptions: config.matchOptions,
    mediaVault: vault,
    onMatched: (contentId, matches) => floodQuarantine?.record(contentId, matches),
  });
  const retroactive = new RetroactiveMatcher(sql, events, signals, {
    ...config.retroactive,
    days: config.retroactive?.days ?? retroactiveDaysFromEnv(),
    matchOptions: config.matchOptions,
  });
  banks.onChange(retroactive);
  const apiKeys = new ApiKeyService(sql);
  const feeds = new BankFeedService(sql, config.feeds ?? feedOptionsFromEnv(process.env));
  const accounts = new AccountDirectory(sql, events);
  const terms = new TermListService(sql, config.guardrailRefreshMs);
  const platformEvents = new EventIngestService(sql, accounts, terms, { identifierKey: config.identifierKey, events });
  const detection = new NetworkDetectionService(sql, events);
  const discovery = new NetworkDiscoveryService(sql, (options) => detection.loadGraph(options));
  const guardrail = new RecommendationGuardrail(sql, events, { ...DEFAULT_GUARDRAIL_POLICY, ...config.guardrailPolicy });
  const searchGuardrail = new SearchGuardrail(terms);
  const hashMatchLabel = (event: DomainEvent) => {
    const payload = event.payload as ContentMatchedPayload;
    return { externalId: payload.account_id, label: 'confirmed' as const, source: HASH_MATCH_LABEL_SOURCE, detail: { content_id: payload.content_id, banks: [...new Set(payload.matches.map((m) => m.bank))] } };
  };
  const hashMatchLabeller = new OutboxConsumer(sql, events, HASH_MATCH_LABELLER, [CONTENT_MATCHED_EVENT], {
    batch: (tx, batch) => accounts.labelMany(tx, batch.map(hashMatchLabel)),
  });
  const audit = new AuditLog(sql, auditSetup.parts.keyring);
  const auditCheckpoints = new AuditCheckpointer(audit, auditSetup.parts.signer, auditSetup.parts.trusted, auditSetup.parts.sinks);
  const auditWarningList = auditWarnings(auditSetup.parts, auditSetup.config);
  const reviewers = new ReviewerService(sql, audit);
  const reports = new ReportService(sql, events);
  const actions = new ActionService(sql, events, actionTargetsFromConfig(config.webhooks ?? {}), config.actionOptions);
  const factProviders = defaultFactProviders({ signals });
  // The rule service supplies the policies decisions cite; it needs the case service to act.
  let rules: RuleService | undefined;
  const cases = new CaseService(
    sql,
    events,
    audit,
    reviewers,
    actions,
    [new ContentSubject(banks, accounts, vault), new AccountSubject(accounts), new NetworkSubject(accounts)],
    () => rules!.policies(),
    vault,
    { ...DEFAULT_CASE_OPTIONS, ...(config.caseClaimMs ? { claimMs: config.caseClaimMs } : {}) },
  );
  rules = new RuleService(sql, events, audit, factProviders, cases);
  cases.registerSubject(new AppealSubject(cases, accounts, events));
  cases.registerSubject(new BankEntrySubject(banks));
  cases.registerSubject(new NetworkCandidateSubject(accounts));
  floodQuarantine = new FloodQuarantine(sql, banks, cases, events, {
    limit: config.bankControls?.floodLimit ?? floodLimitFromEnv(),
    now: bankClock,
    flushAt: config.bankControls?.floodFlushAt,
    flushMs: config.bankControls?.floodFlushMs,
  });
  const trustedFlaggers = new TrustedFlaggerService(sql, audit);
  const notices = new NoticeService(sql, events, audit, cases, trustedFlaggers, config.notices);
  const appeals = new AppealService(sql, events, audit, cases);
  const authorityOrders = new AuthorityOrderService(sql, audit);
  const dsa = new StatementService(sql, events, {
    tdb: config.transparencyDatabase ?? tdbConfigFromEnv(),
    policyTitle: (id: string) => rules!.policies().find((policy) => policy.id === id)?.title,
  });
  const preservation = new PreservationService(sql, audit, { ...preservationOptionsFromEnv(process.env, config.dataDir), vault });
  const ncmecConfig = config.ncmec ?? ncmecConfigFromEnv();
  const ncmec = new NcmecReportService(sql, audit, events, { config: ncmecConfig, mediaKey: config.mediaKey });
  const preserveReported = reportableDecisionPreserver(sql, events, preservation, { verdicts: ncmecConfig.reportableVerdicts, policies: ncmecConfig.autoReportPolicies });
  const exchangeFetcher = new ExchangeFetcher(sql, banks, signals, { ...config.exchanges, types: config.exchanges?.types ?? defaultExchangeTypes() });
  const exchanges = new ExchangeService(sql, banks, exchangeFetcher.options.types, exchangeFetcher, config.exchanges?.env);
  // Reviewers' verdicts on content that matched exchanged entries become feedback to those
  // exchanges, and a false positive switches the entry off here (the exchange's copy is
  // untouched; a lead re-enables it) unless BULWARK_EXCHANGE_DISABLE_ON_FALSE_POSITIVE=false.
  const disableOnFalsePositive =
    config.exchanges?.disableOnFalsePositive ??
    (process.env.BULWARK_EXCHANGE_DISABLE_ON_FALSE_POSITIVE === 'false'
      ? undefined
      : (tx: SqlClient, entryId: number, reason: string) => banks.disableEntryIn(tx, entryId, { reason, onlyIfEnabled: true }).then((toggle) => toggle.published));
  const exchangeFeedbackQueue = new OutboxConsumer(sql, events, EXCHANGE_FEEDBACK_QUEUE, [CASE_DECIDED_EVENT], {
    batch: (tx, batch) => queueFeedbackOf(tx, batch, { disableOnFalsePositive }),
  });
  const consumers = [preserveReported, exchangeFeedbackQueue, ...(ncmecConfig.autoReport ? [ncmec.autoReporter()] : [])];
  const pipelineStages = [hashMatchLabeller, rules.runner, notices.tracker, dsa.consumer, ...consumers];
  // Before any stage starts or drains: an event is handled either from the outbox or from JetStream, never both.
  if (config.pipelineOnJetStream && sql.driver === 'postgres') for (const stage of pipelineStages) stage.handOver();
  // On a shared PostgreSQL any process may read a stage from the outbox while workers take it from JetStream
  // (a CLI command, a relay batch rolled back after JetStream took it): each records what it handled.
  if (sql.driver === 'postgres') for (const stage of pipelineStages) stage.recordDeliveries();
  // An api process leaves every outbox stage and delivery to the workers; the rest is the same.
  const background = config.role !== 'api';
  const dispatching = background && config.dispatchActions !== false;
  const stops = [guardrail.start(config.guardrailRefreshMs ?? 1000)];
  if (background) stops.push(hashMatchLabeller.start(), rules.runner.start(), notices.tracker.start());
  // Only a shared PostgreSQL can have another process activate a rule file; the embedded store is this process's alone.
  if (sql.driver === 'postgres') {
    const refreshRules = setInterval(() => void rules.refresh().catch(() => undefined), config.guardrailRefreshMs ?? 1000);
    refreshRules.unref();
    stops.push(() => clearInterval(refreshRules));
  }
  if (dispatching) {
    stops.push(preservation.start(config.preservationIntervalMs ?? 3_600_000));
    stops.push(dsa.start());
    if (ncmec.canSubmit) stops.push(ncmec.start());
    stops.push(actions.start(config.actionDispatchIntervalMs));
    stops.push(exchangeFetcher.start());
    // Bank history (removals kept for feeds, the change log) is forgotten once no reader needs it.
    stops.push(feeds.start(undefined, (error) => process.stderr.write(`bank history not pruned: ${error.message}\n`)));
    if (sql.driver === 'postgres') stops.push(every(3_600_000, () => forgetOldDeliveries(sql), (error) => process.stderr.write(`pipeline deliveries not pruned: ${error.message}\n`)));
    // A server on a real store says what audit protection is missing (in-memory test stores stay quiet).
    if (config.dataDir || config.databaseUrl) for (const warning of auditWarningList) process.stderr.write(`audit log: ${warning}\n`);
    if (auditCheckpoints.signer && auditCheckpoints.sinks.length > 0) {
      const interval = auditSetup.config.checkpointIntervalMs || 300_000;
      stops.push(auditCheckpoints.start(interval, (error) => process.stderr.write(`audit checkpoint not written: ${error.message}\n`)));
    }
    // Decisions commit their actions; deliver them at once rather than at the next tick.
    stops.push(events.subscribe((event) => event.type === CASE_DECIDED_EVENT && void actions.dispatchDue().catch(() => undefined)));
  }
  // A worker matches nothing (uploads arrive at api processes): it leaves the indexes unloaded.
  if (config.role !== 'worker') await matcher.refresh();
  await guardrail.refresh();
  await rules.load();
  if (background) for (const consumer of consumers) stops.push(consumer.start());
  if (background && config.retroactive?.pollMs !== 0) stops.push(retroactive.start(config.retroactive?.pollMs));
  const running = background ? [hashMatchLabeller, rules.runner, notices.tracker, dsa.consumer, ...consumers] : [];
  for (const consumer of running) await consumer.drain();
  const wake = async () => {
    await Promise.all(running.map((consumer) => consumer.drain()));
    if (dispatching) await actions.dispatchDue();
  };
  // Consumers hear events of this process at once; those of other processes only through a wake-up or this poll.
  if (background && config.outboxPollMs && sql.driver === 'postgres') {
    const poll = setInterval(() => void wake().catch(() => undefined), config.outboxPollMs);
    poll.unref();
    stops.push(() => clearInterval(poll));
  }
  const close = async () => {
    for (const stop of stops) stop();
    await floodQuarantine.close();
    await retroactive.idle();
    await actions.idle();
    await ncmec.idle();
    await exchangeFetcher.idle();
    await feeds.idle();
    await auditCheckpoints.idle();
    await hashing.close();
    await sql.close();
  };
  return {
    config, sql, signals, hashing, banks, matcher, floodQuarantine, retroactive, content, events, apiKeys, accounts, terms, platformEvents, detection, discovery, guardrail, searchGuardrail, hashMatchLabeller,
    audit, auditCheckpoints, auditWarnings: auditWarningList, reviewers, reports, actions, cases, rules, trustedFlaggers, notices, appeals, authorityOrders, preservation, dsa, ncmec, exchanges, wake, close,
    feeds, pipelineStages,
  };
}

function floodLimitFromEnv(): number | undefined {
  const text = process.env.BULWARK_FLOOD_LIMIT;
  if (text === undefined || text === '') return undefined;
  const limit = Number(text);
  if (!Number.isSafeInteger(limit) || limit < 1) throw new Error(`BULWARK_FLOOD_LIMIT must be a whole number of at least 1, got ${JSON.stringify(text)}`);
  return limit;
}

/** Runs `task` now and every `intervalMs` (not keeping the process alive); returns the stop function. */
function every(intervalMs: number, task: () => Promise<unknown>, onError: (error: Error) => void): () => void {
  const run = () => void task().catch(onError);
  const timer = setInterval(run, intervalMs);
  timer.unref();
  run();
  return () => clearInterval(timer);
}
