import type { SignalRegistry } from '../signals/registry.ts';
import { unstorableText } from '../validation/edge.ts';
import type { ExchangeItem, ExchangeSignal } from './exchange.ts';

/** An item as the store keeps it: signals in the registry's canonical form, every text storable. */
export interface CheckedItem {
  key: string;
  signals: ExchangeSignal[] | null;
  member: string | null;
  tags: string[];
  otherFingerprints: Record<string, string>;
  sourceOpinion: string | null;
  updatedAt: Date | null;
}

export type ItemCheck = { ok: true; item: CheckedItem } | { ok: false; reason: string };

const MAX_KEY = 1024;
const MAX_MEMBER = 512;
const MAX_TAG = 64;
const MAX_TAGS = 100;
const OPINIONS = new Set(['positive', 'negative', 'disputed']);

function textProblem(name: string, text: unknown, max: number): string | undefined {
  if (typeof text !== 'string') return `${name} is not a string`;
  if (text.length > max) return `${name} is longer than ${max} characters`;
  const unstorable = unstorableText(text);
  return unstorable ? `${name} ${unstorable}` : undefined;
}

/**
 * Checks one item of a page the way Bulwark will store it: an unknown signal type, a hash the
 * registry refuses, a tag too long or a text the store cannot hold makes the whole item
 * skipped (named, with why), never half-applied.
 */
export function checkItem(item: ExchangeItem, registry: SignalRegistry): ItemCheck {
  const keyProblem = textProblem('key', item.key, MAX_KEY) ?? (item.key === '' ? 'key is empty' : undefined);
  if (keyProblem) return { ok: false, reason: keyProblem };
  let signals: ExchangeSignal[] | null = null;
  if (item.signals !== null) {
    if (!Array.isArray(item.signals)) return { ok: false, reason: 'signals is neither a list nor null' };
    const seen = new Set<string>();
    signals = [];
    for (const [index, signal] of item.signals.entries()) {
      try {
        const normalized = registry.normalize(String(signal?.signalType), String(signal?.value));
        const id = `${normalized.signalType}\u0000${normalized.value}`;
        if (!seen.has(id)) signals.push(normalized);
        seen.add(id);
      } catch (error) {
        return { ok: false, reason: `signals[${index}]: ${error instanceof Error ? error.message : String(error)}` };
      }
    }
  }
  if (item.member !== undefined) {
    const problem = textProblem('member', item.member, MAX_MEMBER);
    if (problem) return { ok: false, reason: problem };
  }
  const tags = [...new Set((item.tags ?? []).map((tag) => (typeof tag === 'string' ? tag.trim() : tag)))].filter((tag) => tag !== '');
  if (tags.length > MAX_TAGS) return { ok: false, reason: `more than ${MAX_TAGS} tags` };
  for (const tag of tags) {
    const problem = textProblem('tag', tag, MAX_TAG) ?? (/[\u0000-\u001f]/.test(tag as string) ? 'tag holds a control character' : undefined);
    if (problem) return { ok: false, reason: problem };
  }
  const otherFingerprints: Record<string, string> = {};
  for (const [type, value] of Object.entries(item.otherFingerprints ?? {})) {
    const problem = textProblem(`fingerprint type ${JSON.stringify(type.slice(0, 40))}`, type, 64) ?? textProblem(`fingerprint ${type.slice(0, 40)}`, value, 4096);
    if (problem) return { ok: false, reason: problem };
    otherFingerprints[type] = value;
  }
  if (item.sourceOpinion !== undefined && !OPINIONS.has(item.sourceOpinion)) return { ok: false, reason: `unknown source opinion ${JSON.stringify(item.sourceOpinion)}` };
  if (item.updatedAt !== undefined && !(item.updatedAt instanceof Date && Number.isFinite(item.updatedAt.getTime()))) return { ok: false, reason: 'updatedAt is not a valid time' };
  return {
    ok: true,
    item: {
      key: item.key,
      signals,
      member: item.member ?? null,
      tags: tags as string[],
      otherFingerprints,
      sourceOpinion: item.sourceOpinion ?? null,
      updatedAt: item.updatedAt ?? null,
    },
  };
}

/** How an item is named in status and errors: its key, shortened. */
export const itemName = (key: unknown): string => (typeof key === 'string' && key !== '' ? key.slice(0, 200) : JSON.stringify(key)?.slice(0, 200) ?? String(key));
