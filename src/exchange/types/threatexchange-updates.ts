import { createHash } from 'node:crypto';
import { md5SignalType } from '../../signals/exact.ts';
import { pdqSignalType } from '../../signals/pdq/signal.ts';
import { InvalidSignalError } from '../../signals/types.ts';
import { videoMd5SignalType } from '../../signals/vpdq/signal.ts';
import { ExchangeError, type ExchangeItem } from '../exchange.ts';

/**
 * Reading ThreatExchange's /{privacy_group}/threat_updates answers, as python-threatexchange's
 * fb_threatexchange_api.py does: one update per (type, indicator), deleted when should_delete
 * is set or no descriptor is visible, its descriptors giving owners, tags, status and reactions.
 */
/** last_updated, Unix seconds (updates come in this order), or undefined when the update has none. */
export function updateTime(raw: unknown): number | undefined {
  const value = (raw as { last_updated?: unknown } | null)?.last_updated;
  const time = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  return Number.isInteger(time) && time >= 0 ? time : undefined;
}

/** Identifies this exact version of an update, to recognise it when a restart reads it again. */
export function updateDigest(raw: unknown): string {
  return createHash('sha256').update(JSON.stringify(raw)).digest('hex').slice(0, 24);
}

const DESCRIPTOR_REACTIONS_POSITIVE = new Set(['HELPFUL']);
/** Reactions that say the reactor found the item wrong after review (ThreatExchange's reaction-type reference). */
const DESCRIPTOR_REACTIONS_NEGATIVE = new Set(['DISAGREE_WITH_TAGS', 'NON_MALICIOUS', 'NOT_HELPFUL']);
/** The tag by which uploaders mark a HASH_MD5 as a video's (python-threatexchange VideoMD5Signal.INDICATOR_TYPE). */
export const VIDEO_TAG = 'media_type_video';

export function parseUpdatesPage(body: unknown, limit: number): { updates: unknown[]; next?: string } {
  const fail = (why: string) => new ExchangeError(`ThreatExchange threat_updates: malformed answer: ${why}`, false);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw fail('not a JSON object');
  const { data, paging } = body as { data?: unknown; paging?: { next?: unknown } };
  if (!Array.isArray(data)) throw fail('data is not an array');
  if (data.length > limit) throw fail(`the page holds ${data.length} updates, more than the ${limit} asked for`);
  const next = paging?.next;
  if (next !== undefined && typeof next !== 'string') throw fail('paging.next is not a URL');
  return { updates: data, ...(next ? { next } : {}) };
}

/** One update as an item, or why it was skipped. `myAppId` is left out of feedback targets: no app reacts to its own descriptor. */
export function updateToItem(raw: unknown, myAppId: string | undefined): ExchangeItem | string {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'not a JSON object';
  const update = raw as Record<string, unknown>;
  const { type, indicator } = update;
  if (typeof type !== 'string' || type === '') return 'type is missing';
  if (typeof indicator !== 'string' || indicator === '') return 'indicator is missing';
  const time = updateTime(raw);
  if (time === undefined) return 'last_updated is not a Unix time';
  const base = { key: `${type} ${indicator}`, updatedAt: new Date(time * 1000) };
  const descriptors = readDescriptors(update.descriptors);
  if (typeof descriptors === 'string') return descriptors;
  const tags = [...new Set(descriptors.flatMap((descriptor) => descriptor.tags))].sort();
  const signalType = signalTypeFor(type, tags);
  if (!signalType) return `${type} indicators have no Bulwark signal type`;
  // Descriptors hidden from us (no owner) count as absent, and none left means gone (python-threatexchange does the same).
  if (update.should_delete === true || descriptors.length === 0) return { ...base, signals: null };
  let value: string;
  try {
    value = signalType.normalize(indicator);
  } catch (error) {
    if (error instanceof InvalidSignalError) return `${type} ${error.message}`;
    throw error;
  }
  const owners = [...new Set(descriptors.map((descriptor) => descriptor.owner))].sort();
  const others = descriptors.filter((descriptor) => descriptor.owner !== myAppId).map((descriptor) => descriptor.id);
  const opinion = opinionOf(descriptors);
  const item: ExchangeItem = {
    ...base,
    signals: [{ signalType: signalType.name, value }],
    member: owners.join(','),
    ...(others.length > 0 ? { sourceId: others.join(',') } : {}),
    ...(tags.length > 0 ? { tags } : {}),
    ...(opinion ? { sourceOpinion: opinion } : {}),
  };
  return item;
}

/** HASH_PDQ is PDQ; HASH_VIDEO_MD5, and HASH_MD5 tagged media_type_video, are video_md5; other HASH_MD5s are file MD5s. */
function signalTypeFor(type: string, tags: string[]): { name: string; normalize: (raw: string) => string } | undefined {
  if (type === 'HASH_PDQ') return pdqSignalType;
  if (type === 'HASH_VIDEO_MD5') return videoMd5SignalType;
  if (type === 'HASH_MD5') return tags.includes(VIDEO_TAG) ? videoMd5SignalType : md5SignalType;
  return undefined;
}

interface Descriptor {
  id: string;
  owner: string;
  tags: string[];
  status: string | undefined;
  reactions: { key: string; owners: string[] }[];
}

function readDescriptors(raw: unknown): Descriptor[] | string {
  if (raw === undefined || raw === null) return [];
  const list = Array.isArray(raw) ? raw : (raw as { data?: unknown }).data;
  if (!Array.isArray(list)) return 'descriptors is neither a list nor {data: [...]}';
  const descriptors: Descriptor[] = [];
  for (const entry of list) {
    if (typeof entry !== 'object' || entry === null) return 'a descriptor is not an object';
    const descriptor = entry as Record<string, unknown>;
    const owner = (descriptor.owner as { id?: unknown } | undefined)?.id;
    if (owner === undefined) continue;
    const id = String(descriptor.id ?? '');
    if (!/^\d+$/.test(id) || !/^\d+$/.test(String(owner))) return 'a descriptor id or owner id is not numeric';
    descriptors.push({ id, owner: String(owner), tags: readTags(descriptor.tags), status: typeof descriptor.status === 'string' ? descriptor.status : undefined, reactions: readReactions(descriptor.reactions) });
  }
  return descriptors;
}

/** Tags come as a list of names or, as a Graph edge, {data: [{id, text}]}. */
function readTags(raw: unknown): string[] {
  const list = Array.isArray(raw) ? raw : Array.isArray((raw as { data?: unknown } | undefined)?.data) ? (raw as { data: unknown[] }).data : [];
  return list.map((tag) => (typeof tag === 'string' ? tag : (tag as { text?: unknown })?.text)).filter((tag): tag is string => typeof tag === 'string' && tag.length > 0);
}

/** Reactions come as [{key: "HELPFUL", value: "app id,app id"}]. */
function readReactions(raw: unknown): { key: string; owners: string[] }[] {
  if (!Array.isArray(raw)) return [];
  return raw
    .filter((reaction): reaction is { key: string; value: string } => typeof reaction?.key === 'string' && typeof reaction?.value === 'string')
    .map((reaction) => ({ key: reaction.key, owners: reaction.value.split(',').filter(Boolean) }));
}

/** The members' opinion: MALICIOUS status or HELPFUL reactions for, NON_MALICIOUS status or disagreeing reactions against. */
function opinionOf(descriptors: Descriptor[]): ExchangeItem['sourceOpinion'] {
  let positive = 0;
  let negative = 0;
  for (const descriptor of descriptors) {
    if (descriptor.status === 'MALICIOUS') positive++;
    if (descriptor.status === 'NON_MALICIOUS') negative++;
    for (const reaction of descriptor.reactions) {
      if (DESCRIPTOR_REACTIONS_POSITIVE.has(reaction.key)) positive += reaction.owners.length;
      if (DESCRIPTOR_REACTIONS_NEGATIVE.has(reaction.key)) negative += reaction.owners.length;
    }
  }
  if (positive > 0 && negative > 0) return 'disputed';
  return positive > 0 ? 'positive' : negative > 0 ? 'negative' : undefined;
}
