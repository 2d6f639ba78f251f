/**
 * NCMEC Hash Sharing (API v2): the hash lists NCMEC's members share, read with Basic auth from
 * one of NCMEC's environments, and a reviewer's verdict sent back as feedback on the entry's
 * fingerprint. Facts from NCMEC's published Hash Sharing documentation and python-threatexchange
 * (exchanges/clients/ncmec/hash_api.py, exchanges/impl/ncmec_api.py); see docs/exchanges.md.
 *
 * Items are keyed "{member}-{entry}". PDQ (images) and MD5 (images and videos: Bulwark's md5 is
 * the digest of any file) become signals; every other fingerprint (SHA1, PDNA, NETCLEAN,
 * TMK_PDQF, VIDENTIFIER, SSVH_…) is kept as provenance. The classification becomes a tag.
 */
import { z } from 'zod';
import { invalid } from '../../errors.ts';
import { credentialVariable, ExchangeError, type ExchangeCheckpoint, type ExchangeContext, type ExchangeFeedback, type ExchangeType, type SignalExchange } from '../exchange.ts';
import { NcmecHashClient } from './ncmec-client.ts';
import { fetchNcmecPages } from './ncmec-fetch.ts';
import { feedbackSubmissionXml, NcmecFormatError, parseFeedbackReasons, type FeedbackReason } from './ncmec-xml.ts';
import { XmlParseError } from '../../reporting/ncmec/xml.ts';

/** NCMEC's environments by the names operators type (python-threatexchange's NCMECEnvironment). */
export const NCMEC_ENVIRONMENTS: Record<string, string> = {
  industry: 'https://report.cybertip.org/hashsharing',
  'industry-exploitative': 'https://report.cybertip.org/exploitative-hashsharing',
  'law-enforcement': 'https://lesp.ncmec.org/csam-hashsharing',
  ngo: 'https://hashsharing.ncmec.org/npo',
  exploitative: 'https://hashsharing.ncmec.org/exploitative',
  'ngo-generative-ai': 'https://hashsharing.ncmec.org/generative-ai-csam',
  'ngo-generative-ai-exploitative': 'https://hashsharing.ncmec.org/generative-ai-exploitative',
  'test-industry': 'https://exttest.cybertip.org/hashsharing',
  'test-industry-exploitative': 'https://exttest.cybertip.org/exploitative-hashsharing',
  'test-law-enforcement': 'https://betalesp.ncmec.org/csam-hashsharing',
  'test-ngo': 'https://hashsharing-test.ncmec.org/npo',
  'test-exploitative': 'https://hashsharing-test.ncmec.org/exploitative',
  'test-ngo-generative-ai': 'https://hashsharing-test.ncmec.org/generative-ai-csam',
  'test-ngo-generative-ai-exploitative': 'https://hashsharing-test.ncmec.org/generative-ai-exploitative',
};

export const DEFAULT_MAX_WINDOW_ENTRIES = 50_000;

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

const configSchema = z
  .strictObject({
    environment: z.string().transform((name) => name.trim().toLowerCase().replace(/_/g, '-')).refine((name) => name in NCMEC_ENVIRONMENTS, {
      message: `one of ${Object.keys(NCMEC_ENVIRONMENTS).join(', ')}`,
    }).optional(),
    url: z.string().refine((url) => {
      try {
        const parsed = new URL(url);
        return parsed.protocol === 'https:' || (parsed.protocol === 'http:' && LOOPBACK.has(parsed.hostname));
      } catch {
        return false;
      }
    }, 'an https URL (http only on this machine, for a stand-in)').optional(),
    only_members: z.array(z.union([z.string().regex(/^\d+$/, 'an ESP id (digits)'), z.number().int().nonnegative()]).transform(String)).optional(),
    classifications: z.array(z.string().trim().min(1).max(64).transform((value) => value.toUpperCase())).optional(),
    false_positive_reason: z.string().trim().min(1).max(500).optional(),
    max_window_entries: z.number().int().min(1).max(10_000_000).optional(),
    since: z.string().refine((value) => !Number.isNaN(Date.parse(value)) && /(Z|[+-]\d{2}:?\d{2})$/.test(value), 'an ISO 8601 date-time with a time zone').optional(),
  })
  .refine((config) => (config.environment === undefined) !== (config.url === undefined), { message: 'give exactly one of environment or url', path: ['environment'] });

/** The configuration as stored: canonical, and accepted again by parseConfig. */
export type NcmecExchangeConfig = z.output<typeof configSchema>;

/** Bulwark's signal types → NCMEC's fingerprint type in feedback URLs. */
const FINGERPRINT_TYPE: Record<string, string> = { pdq: 'PDQ', md5: 'MD5' };

export const ncmecExchangeType: ExchangeType<NcmecExchangeConfig> = {
  name: 'ncmec',

  parseConfig(raw: unknown): NcmecExchangeConfig {
    const parsed = configSchema.safeParse(raw ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue.path.join('.') || 'config';
      throw invalid(`ncmec exchange: ${field}: ${issue.message}`, { field });
    }
    return parsed.data;
  },

  credentialVariables: (exchangeName) => [credentialVariable(exchangeName, 'USER'), credentialVariable(exchangeName, 'PASSWORD')],

  credentialsFromEnv(exchangeName, env) {
    const [userVariable, passwordVariable] = this.credentialVariables(exchangeName);
    const user = env[userVariable];
    const password = env[passwordVariable];
    if (!user) throw invalid(`the NCMEC user name is missing: set ${userVariable}`, { variable: userVariable });
    if (!password) throw invalid(`the NCMEC password is missing: set ${passwordVariable}`, { variable: passwordVariable });
    return { user, password };
  },

  create(config: NcmecExchangeConfig, context: ExchangeContext): SignalExchange {
    return new NcmecExchange(config, context);
  },

  configuredUrls: (config) => (config.url !== undefined ? [{ field: 'url', url: config.url }] : []),
  builtInHosts: [...new Set(Object.values(NCMEC_ENVIRONMENTS).map((root) => new URL(root).hostname))],
};

class NcmecExchange implements SignalExchange {
  private readonly client: NcmecHashClient;
  /** Negative feedback reasons by fingerprint type, asked once per exchange instance. */
  private readonly reasons = new Map<string, FeedbackReason[]>();

  constructor(
    private readonly config: NcmecExchangeConfig,
    private readonly context: ExchangeContext,
  ) {
    const baseUrl = config.url ?? NCMEC_ENVIRONMENTS[config.environment!];
    this.client = new NcmecHashClient(baseUrl, { user: context.credentials.user ?? '', password: context.credentials.password ?? '' }, context);
  }

  fetch(checkpoint: ExchangeCheckpoint | null, signal: AbortSignal) {
    return fetchNcmecPages(
      this.client,
      {
        onlyMembers: new Set(this.config.only_members ?? []),
        classifications: new Set(this.config.classifications ?? []),
        maxWindowEntries: this.config.max_window_entries ?? DEFAULT_MAX_WINDOW_ENTRIES,
        sinceSeconds: this.config.since ? Math.floor(Date.parse(this.config.since) / 1000) : 0,
      },
      checkpoint,
      signal,
      this.context.now,
    );
  }

  /**
   * Feedback on each fingerprint type of the item's signals (the fetcher passes the ones that
   * matched): affirmative for a true positive, negative with a reason guid for a false positive.
   * NCMEC has no "seen", so a seen verdict sends nothing. The PUT sets this member's vote on
   * the fingerprint, so sending it again (a retry) leaves the same state.
   */
  async sendFeedback(feedback: ExchangeFeedback, signal: AbortSignal): Promise<void> {
    if (feedback.verdict === 'seen') return;
    const { member, entry } = splitKey(feedback.item.key, feedback.item.member);
    const types = [...new Set(feedback.item.signals.map((s) => FINGERPRINT_TYPE[s.signalType]).filter((type): type is string => type !== undefined))];
    if (types.length === 0) {
      throw new ExchangeError(`NCMEC feedback for ${feedback.item.key}: none of its signals (${feedback.item.signals.map((s) => s.signalType).join(', ') || 'none'}) is an NCMEC fingerprint type Bulwark matches`, false);
    }
    for (const type of types) {
      const body = feedback.verdict === 'true_positive'
        ? feedbackSubmissionXml({ affirmative: true })
        : feedbackSubmissionXml({ negativeReasonIds: [await this.reasonId(type, feedback.reason, signal)] });
      const path = `v2/entries/${encodeURIComponent(member)}/${encodeURIComponent(entry)}/${type}/feedback`;
      await this.client.put(path, body, `feedback on ${member}-${entry} ${type}`, signal);
    }
  }

  /** The guid of a negative reason: the verdict's reason or the configured one, by guid or name; or the only reason there is. */
  private async reasonId(type: string, reason: string | undefined, signal: AbortSignal): Promise<string> {
    const reasons = await this.reasonsFor(type, signal);
    for (const wanted of [reason, this.config.false_positive_reason]) {
      if (!wanted) continue;
      const key = wanted.trim().toLowerCase();
      const found = reasons.find((candidate) => candidate.guid.toLowerCase() === key || candidate.name.trim().toLowerCase() === key);
      if (found) return found.guid;
    }
    if (reasons.length === 1) return reasons[0].guid;
    const names = reasons.map((candidate) => JSON.stringify(candidate.name)).join(', ') || 'none';
    throw new ExchangeError(`NCMEC negative feedback on ${type} needs one of NCMEC's reasons (${names}); the verdict's reason and false_positive_reason match none`, false);
  }

  private async reasonsFor(type: string, signal: AbortSignal): Promise<FeedbackReason[]> {
    const known = this.reasons.get(type);
    if (known) return known;
    const what = `feedback reasons for ${type}`;
    const text = await this.client.get(`v2/feedback/${type}/reasons`, what, signal);
    let reasons: FeedbackReason[];
    try {
      reasons = parseFeedbackReasons(text);
    } catch (error) {
      if (error instanceof XmlParseError || error instanceof NcmecFormatError) throw new ExchangeError(`NCMEC ${what}: malformed answer: ${error.message}`, false);
      throw error;
    }
    this.reasons.set(type, reasons);
    return reasons;
  }
}

/** "{member}-{entry}": member ids are digits, so the first '-' separates them (entry ids may hold more). */
function splitKey(key: string, member: string | undefined): { member: string; entry: string } {
  const match = /^(\d+)-(.+)$/.exec(key);
  if (!match || (member !== undefined && member !== match[1])) throw new ExchangeError(`NCMEC feedback: ${JSON.stringify(key)} is not an NCMEC item key ("{member}-{entry}")`, false);
  return { member: match[1], entry: match[2] };
}
