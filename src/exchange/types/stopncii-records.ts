import { pdqSignalType } from '../../signals/pdq/signal.ts';
import { InvalidSignalError } from '../../signals/types.ts';
import { videoMd5SignalType } from '../../signals/vpdq/signal.ts';
import { ExchangeError, type ExchangeItem, type FetchPage } from '../exchange.ts';

/**
 * StopNCII's FetchHashes answer (python-threatexchange clients/stopncii/api.py): one page of
 * hash records, each the current state of one (signalType, hashValue), which replaces what an
 * earlier page said about it.
 */
export interface FetchHashesPage {
  count: number;
  nextPageToken: string | null;
  nextSetTimestamp: number;
  hasMoreRecords: boolean;
  records: unknown[];
}

/** hashStatus values meaning the person withdrew the image or StopNCII deleted the hash: the copy must go. */
const REMOVED_STATUSES = new Set(['Withdrawn', 'Deleted']);
const KNOWN_STATUSES = new Set(['Unknown', 'Received', 'Active', ...REMOVED_STATUSES]);

/**
 * StopNCII signal types Bulwark matches, by the registry's names. VideoTMK (TMK+PDQF) has no
 * signal type in Bulwark, so it is kept as a fingerprint; Text and URL records are not hashes
 * of media and are skipped with that reason.
 */
const MATCHED_TYPES: Record<string, { name: string; normalize: (raw: string) => string }> = {
  ImagePDQ: pdqSignalType,
  VideoMD5: videoMd5SignalType,
};
const FINGERPRINT_TYPES = new Set(['VideoTMK']);

export function parseFetchHashes(body: unknown, pageSize: number): FetchHashesPage {
  const fail = (why: string) => new ExchangeError(`StopNCII FetchHashes: malformed answer: ${why}`, false);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw fail('not a JSON object');
  const page = body as Record<string, unknown>;
  if (typeof page.hasMoreRecords !== 'boolean') throw fail('hasMoreRecords is not a boolean');
  if (typeof page.nextSetTimestamp !== 'number' || !Number.isInteger(page.nextSetTimestamp) || page.nextSetTimestamp < 0) throw fail('nextSetTimestamp is not a Unix time in seconds');
  const token = page.nextPageToken ?? null;
  if (token !== null && typeof token !== 'string') throw fail('nextPageToken is not a string');
  if (page.hasMoreRecords && !token) throw fail('hasMoreRecords is true but there is no nextPageToken');
  const records = page.hashRecords ?? [];
  if (!Array.isArray(records)) throw fail('hashRecords is not an array');
  if (records.length > pageSize) throw fail(`the page holds ${records.length} records, more than the ${pageSize} asked for`);
  return { count: typeof page.count === 'number' ? page.count : records.length, nextPageToken: token || null, nextSetTimestamp: page.nextSetTimestamp, hasMoreRecords: page.hasMoreRecords, records };
}

/** The page's records as items, and the records that could not be read, each named by its place. */
export function recordsToItems(records: unknown[]): Pick<FetchPage, 'items' | 'skipped'> {
  const items: ExchangeItem[] = [];
  const skipped: { item: string; reason: string }[] = [];
  records.forEach((raw, index) => {
    const read = recordToItem(raw);
    if (typeof read === 'string') skipped.push({ item: `hashRecords[${index}]`, reason: read });
    else items.push(read);
  });
  return { items, skipped };
}

/** The item for one hash record, or why it was skipped. */
function recordToItem(raw: unknown): ExchangeItem | string {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'not a JSON object';
  const record = raw as Record<string, unknown>;
  const { signalType, hashValue, hashStatus } = record;
  if (typeof signalType !== 'string' || signalType === '') return 'signalType is missing';
  if (typeof hashValue !== 'string' || hashValue.trim() === '') return 'hashValue is missing';
  // Without a known status the record could be a withdrawal: keeping it could match an image its owner took back.
  if (typeof hashStatus !== 'string' || !KNOWN_STATUSES.has(hashStatus)) return `hashStatus ${JSON.stringify(hashStatus)} is not one StopNCII documents`;
  const value = hashValue.trim();
  const key = `${signalType} ${value}`;
  const removed = REMOVED_STATUSES.has(hashStatus);
  const updatedAt = typeof record.lastModtimestamp === 'number' ? new Date(record.lastModtimestamp * 1000) : undefined;
  const matched = MATCHED_TYPES[signalType];
  if (!matched && !FINGERPRINT_TYPES.has(signalType)) return `${signalType} records are not media hashes Bulwark matches`;
  if (removed) return { key, signals: null, ...(updatedAt ? { updatedAt } : {}) };
  const opinion = readFeedbacks(record.CSPFeedbacks);
  if (typeof opinion === 'string') return opinion;
  const item: ExchangeItem = { key, signals: [], ...opinion, ...(updatedAt ? { updatedAt } : {}) };
  if (!matched) return { ...item, otherFingerprints: { [signalType]: value } };
  try {
    return { ...item, signals: [{ signalType: matched.name, value: matched.normalize(value) }] };
  } catch (error) {
    if (error instanceof InvalidSignalError) return `${signalType} ${error.message}`;
    throw error;
  }
}

/**
 * Other platforms' feedback on the hash: their tags, and an opinion from Blocked (they confirmed
 * it) against NotBlocked (they did not), as python-threatexchange reads them.
 */
function readFeedbacks(raw: unknown): Pick<ExchangeItem, 'tags' | 'sourceOpinion'> | string {
  if (raw === undefined || raw === null) return {};
  if (!Array.isArray(raw)) return 'CSPFeedbacks is not an array';
  const tags = new Set<string>();
  let blocked = 0;
  let notBlocked = 0;
  for (const feedback of raw) {
    if (typeof feedback !== 'object' || feedback === null) return 'a CSPFeedbacks entry is not an object';
    const { feedbackValue, tags: feedbackTags } = feedback as Record<string, unknown>;
    if (feedbackValue === 'Blocked') blocked++;
    if (feedbackValue === 'NotBlocked') notBlocked++;
    if (Array.isArray(feedbackTags)) for (const tag of feedbackTags) if (typeof tag === 'string' && tag.trim()) tags.add(tag.trim());
  }
  const sourceOpinion = blocked > 0 && notBlocked > 0 ? 'disputed' : blocked > 0 ? 'positive' : notBlocked > 0 ? 'negative' : undefined;
  return { ...(tags.size > 0 ? { tags: [...tags].sort() } : {}), ...(sourceOpinion ? { sourceOpinion } : {}) };
}
