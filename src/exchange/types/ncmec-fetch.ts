/**
 * Reading NCMEC's entries with a checkpoint. NCMEC returns the entries updated in a [from, to]
 * window, paged by `next` links, but not in time order: only a window read to its last page
 * says everything up to `to` is known. So the checkpoint's progressAt is the end of the last
 * finished window, and mid-window it keeps the window and the paging link to resume from.
 *
 * As python-threatexchange does (impl/ncmec_api.py), in spirit:
 * - a paging link is trusted for 12 hours after NCMEC gave it; an older one, or one NCMEC
 *   refuses, means reading that window again from its start (items replace by key, so a
 *   second read changes nothing);
 * - windows adapt: one whose first page says it holds more than maxWindowEntries is dropped
 *   unread and tried again smaller (cursors are costly for NCMEC to make and slow to walk);
 *   after four small windows in a row the window doubles;
 * - fetching stops a few seconds before now, since entries updated this very second may not
 *   all be visible yet.
 */
import { md5SignalType } from '../../signals/exact.ts';
import { pdqSignalType } from '../../signals/pdq/signal.ts';
import { InvalidSignalError, type SignalType } from '../../signals/types.ts';
import { XmlParseError } from '../../reporting/ncmec/xml.ts';
import { ExchangeError, type ExchangeCheckpoint, type ExchangeItem, type ExchangeSignal, type FetchPage } from '../exchange.ts';
import { NcmecHttpError, type NcmecHashClient } from './ncmec-client.ts';
import { formatNcmecTime, NcmecFormatError, nextLinkInfo, parseEntriesPage, type NcmecEntriesPage, type NcmecEntry } from './ncmec-xml.ts';

/** Seconds before now where a fetch stops. */
export const SETTLE_SECONDS = 5;
/** How long a paging link is used after NCMEC gave it (NCMEC asks clients not to keep them long). */
export const PAGING_LINK_TTL_MS = 12 * 60 * 60 * 1000;
const SHRINK_FACTOR = 4;
const LOW_WINDOWS_BEFORE_GROWING = 4;

export interface NcmecFetchOptions {
  /** Only entries of these members (ESP ids); empty for all. */
  onlyMembers: Set<string>;
  /** Only entries with one of these classifications (upper case); empty for all. */
  classifications: Set<string>;
  maxWindowEntries: number;
  /** Where a fetch without a checkpoint starts, in epoch seconds. */
  sinceSeconds: number;
}

/** What the checkpoint's state holds (JSON, stored as jsonb). */
interface NcmecFetchState {
  window_seconds?: number;
  low_windows?: number;
  paging?: { url: string; from: string; to: string; issued_at: string };
}

/** Signal types Bulwark can match, by NCMEC fingerprint type. Bulwark's md5 covers photos and videos alike. */
const MATCHABLE: Record<string, { type: SignalType; kinds: NcmecEntry['kind'][] }> = {
  PDQ: { type: pdqSignalType, kinds: ['image'] },
  MD5: { type: md5SignalType, kinds: ['image', 'video'] },
};

export async function* fetchNcmecPages(
  client: NcmecHashClient,
  options: NcmecFetchOptions,
  checkpoint: ExchangeCheckpoint | null,
  signal: AbortSignal,
  now: () => Date,
): AsyncGenerator<FetchPage> {
  const state = (checkpoint?.state ?? {}) as NcmecFetchState;
  const end = Math.floor(now().getTime() / 1000) - SETTLE_SECONDS;
  let start = checkpoint?.progressAt ? Math.floor(Date.parse(checkpoint.progressAt) / 1000) : options.sinceSeconds;
  if (!Number.isFinite(start)) throw new ExchangeError(`the NCMEC checkpoint's time ${JSON.stringify(checkpoint?.progressAt)} is not a date`, false);
  let duration = positiveInteger(state.window_seconds) ?? Math.max(1, end - start);
  let lowWindows = positiveInteger(state.low_windows) ?? 0;
  let resume = usablePaging(state.paging, start, end, now());

  while (start < end) {
    signal.throwIfAborted();
    const to = resume ? resume.to : Math.min(end, start + duration);
    const resuming = resume !== undefined;
    let link = resume?.url;
    resume = undefined;
    const linksSeen = new Set<string>();
    let fetched = 0;
    let pageNumber = 0;
    let shrunk = false;
    for (;;) {
      const where = `entries ${formatNcmecTime(seconds(start))}..${formatNcmecTime(seconds(to))} page ${pageNumber + 1}`;
      let text: string;
      try {
        text = await client.get(link ?? entriesPath(start, to), where, signal);
      } catch (error) {
        // A stored paging link NCMEC no longer honours: read the window again from its start.
        if (resuming && pageNumber === 0 && link !== undefined && error instanceof NcmecHttpError) {
          link = undefined;
          continue;
        }
        throw error;
      }
      const page = readPage(text, where);
      if (pageNumber === 0 && !resuming && page.next && to - start > 1) {
        const info = nextLinkInfo(page.next);
        const estimate = info ? page.entries.length + page.unreadable.length + Math.max(0, info.max - info.start + 1) : undefined;
        if (estimate !== undefined && estimate > options.maxWindowEntries) {
          const proportional = Math.floor(((to - start) * options.maxWindowEntries) / estimate);
          duration = Math.max(1, Math.min(Math.floor((to - start) / SHRINK_FACTOR), proportional));
          lowWindows = 0;
          shrunk = true;
          break;
        }
      }
      pageNumber++;
      fetched += page.entries.length;
      const { items, skipped } = toItems(page, options);
      if (page.next) {
        if (linksSeen.has(page.next) || page.next === link) throw new ExchangeError(`NCMEC ${where}: the paging link repeats an earlier page`, false);
        linksSeen.add(page.next);
        link = page.next;
        const paging = { url: page.next, from: iso(start), to: iso(to), issued_at: now().toISOString() };
        yield { items, skipped, checkpoint: { progressAt: iso(start), state: { window_seconds: duration, low_windows: lowWindows, paging } } };
        continue;
      }
      // The window is read to its end: everything up to `to` is known.
      if (fetched < options.maxWindowEntries / 8) {
        lowWindows++;
        if (lowWindows >= LOW_WINDOWS_BEFORE_GROWING) {
          duration *= 2;
          lowWindows = 0;
        }
      } else {
        lowWindows = 0;
      }
      yield { items, skipped, checkpoint: { progressAt: iso(to), state: { window_seconds: duration, low_windows: lowWindows } } };
      break;
    }
    if (!shrunk) start = to;
  }
}

function readPage(text: string, where: string): NcmecEntriesPage {
  try {
    return parseEntriesPage(text);
  } catch (error) {
    if (error instanceof XmlParseError || error instanceof NcmecFormatError) throw new ExchangeError(`NCMEC ${where}: malformed answer: ${error.message}`, false);
    throw error;
  }
}

/** Entries as items: deletions and entries the classification filter leaves out have no signals. */
export function toItems(page: NcmecEntriesPage, options: Pick<NcmecFetchOptions, 'onlyMembers' | 'classifications'>): { items: ExchangeItem[]; skipped: { item: string; reason: string }[] } {
  const items: ExchangeItem[] = [];
  const skipped = [...page.unreadable];
  for (const entry of page.entries) {
    if (options.onlyMembers.size > 0 && !options.onlyMembers.has(entry.member)) continue;
    const key = `${entry.member}-${entry.id}`;
    const item: ExchangeItem = { key, signals: null, member: entry.member };
    if (entry.classification) item.tags = [entry.classification];
    if (entry.timestamp) item.updatedAt = entry.timestamp;
    const excluded = options.classifications.size > 0 && !options.classifications.has(entry.classification?.toUpperCase() ?? '');
    // An entry whose classification left the filter leaves the bank, as a deleted one does.
    if (entry.deleted || excluded) {
      items.push(item);
      continue;
    }
    const signals: ExchangeSignal[] = [];
    const other: Record<string, string> = {};
    let problem: string | undefined;
    for (const [type, value] of Object.entries(entry.fingerprints)) {
      const matchable = MATCHABLE[type];
      if (!matchable || !matchable.kinds.includes(entry.kind)) {
        other[type] = value;
        continue;
      }
      try {
        signals.push({ signalType: matchable.type.name, value: matchable.type.normalize(value) });
      } catch (error) {
        if (!(error instanceof InvalidSignalError)) throw error;
        problem = `${type} fingerprint: ${error.reason}`;
        break;
      }
    }
    if (problem) {
      skipped.push({ item: key, reason: problem });
      continue;
    }
    item.signals = signals;
    if (Object.keys(other).length > 0) item.otherFingerprints = other;
    items.push(item);
  }
  return { items, skipped };
}

function usablePaging(paging: NcmecFetchState['paging'], start: number, end: number, now: Date): { url: string; to: number } | undefined {
  if (!paging || typeof paging.url !== 'string') return undefined;
  const from = Math.floor(Date.parse(paging.from) / 1000);
  const to = Math.floor(Date.parse(paging.to) / 1000);
  const issuedAt = Date.parse(paging.issued_at);
  if (from !== start || !(to > start) || to > end || !(now.getTime() - issuedAt <= PAGING_LINK_TTL_MS)) return undefined;
  return { url: paging.url, to };
}

function entriesPath(from: number, to: number): string {
  return `v2/entries?${new URLSearchParams({ from: formatNcmecTime(seconds(from)), to: formatNcmecTime(seconds(to)) })}`;
}

const seconds = (epochSeconds: number) => new Date(epochSeconds * 1000);
const iso = (epochSeconds: number) => seconds(epochSeconds).toISOString();
const positiveInteger = (value: unknown) => (typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined);
