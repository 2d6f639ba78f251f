/**
 * The documents of NCMEC's Hash Sharing API v2 (namespace https://hashsharing.ncmec.org/hashsharing/v2),
 * read and written with the small XML model of src/reporting/ncmec/xml.ts. Shapes as NCMEC's
 * published documentation and python-threatexchange's client show them:
 *
 *   <queryResult><images count maxTimestamp><image>|<deletedImage>…</images><videos …>…</videos>
 *     <paging><next>/v2/entries?from=…&to=…&start=…&size=…&max=…</next></paging></queryResult>
 *
 * An entry is <member id="ESP id">name</member>, <timestamp>, <id>, <classification>, and
 * <fingerprints> whose children are named by type (md5, sha1, pdna, pdq, netclean…); large
 * fingerprints (videntifier, tmk-pdqf, ssvh-…) come as <x rel="self" href="…"/> without a value.
 */
import { el, parseXml, serializeXml, textEl, type XmlElement } from '../../reporting/ncmec/xml.ts';

export const HASH_SHARING_NAMESPACE = 'https://hashsharing.ncmec.org/hashsharing/v2';

export interface NcmecEntry {
  kind: 'image' | 'video';
  deleted: boolean;
  id: string;
  /** The contributing member's (ESP's) numeric id, as text. */
  member: string;
  classification?: string;
  timestamp?: Date;
  /**
   * Fingerprint type as NCMEC names it in feedback URLs (MD5, SHA1, PDNA, PDQ, TMK_PDQF…) → value.
   * Large fingerprints, which the query leaves out, map to LARGE_FINGERPRINT.
   */
  fingerprints: Record<string, string>;
}

/** The value kept for a large fingerprint: NCMEC says not to store its retrieval URL. */
export const LARGE_FINGERPRINT = 'held by NCMEC (large fingerprint, not downloaded)';

export interface NcmecEntriesPage {
  entries: NcmecEntry[];
  /** Entries that could not be read, named by position (images[3]) or key, with why. */
  unreadable: { item: string; reason: string }[];
  /** The paging link to the next page of the same query, relative to the environment's root. */
  next?: string;
}

/** A document whose XML parses but is not the shape the API documents. */
export class NcmecFormatError extends Error {}

/** Element names without a namespace prefix (ns2:image → image). */
const localName = (element: XmlElement) => element.name.slice(element.name.indexOf(':') + 1);
const children = (element: XmlElement, name: string) => element.children.filter((child) => localName(child) === name);
const child = (element: XmlElement, name: string) => element.children.find((candidate) => localName(candidate) === name);

/** Reads one page of GET v2/entries. Throws XmlParseError or NcmecFormatError for a document it cannot use. */
export function parseEntriesPage(xml: string): NcmecEntriesPage {
  const root = parseXml(xml);
  if (localName(root) !== 'queryResult') throw new NcmecFormatError(`expected <queryResult>, got <${root.name}>`);
  const page: NcmecEntriesPage = { entries: [], unreadable: [] };
  for (const element of root.children) {
    const name = localName(element);
    if (name === 'images' || name === 'videos') readEntries(element, name === 'images' ? 'image' : 'video', page);
    else if (name === 'paging') {
      const next = child(element, 'next')?.text?.trim();
      if (next) page.next = next;
    }
  }
  return page;
}

function readEntries(block: XmlElement, kind: 'image' | 'video', page: NcmecEntriesPage): void {
  const deletedName = kind === 'image' ? 'deletedImage' : 'deletedVideo';
  block.children.forEach((element, index) => {
    const where = `${localName(block)}[${index}]`;
    const name = localName(element);
    if (name !== kind && name !== deletedName) {
      page.unreadable.push({ item: where, reason: `unexpected <${element.name}> in <${block.name}>` });
      return;
    }
    const id = child(element, 'id')?.text?.trim();
    const member = child(element, 'member')?.attributes.id?.trim();
    if (!id) return void page.unreadable.push({ item: where, reason: `<${name}> has no <id>` });
    if (!member || !/^\d+$/.test(member)) return void page.unreadable.push({ item: where, reason: `<${name}> ${id} has no numeric <member id>` });
    const entry: NcmecEntry = { kind, deleted: name === deletedName, id, member, fingerprints: {} };
    const classification = child(element, 'classification')?.text?.trim();
    if (classification) entry.classification = classification;
    const timestamp = child(element, 'timestamp')?.text?.trim();
    if (timestamp) {
      const parsed = parseNcmecTime(timestamp);
      if (!parsed) return void page.unreadable.push({ item: `${member}-${id}`, reason: `<timestamp> ${JSON.stringify(timestamp)} is not a UTC date-time` });
      entry.timestamp = parsed;
    }
    for (const fingerprint of child(element, 'fingerprints')?.children ?? []) {
      const type = localName(fingerprint).toUpperCase().replace(/-/g, '_');
      const value = fingerprint.text?.trim();
      if (value) entry.fingerprints[type] = value;
      else if (fingerprint.attributes.href !== undefined) entry.fingerprints[type] = LARGE_FINGERPRINT;
    }
    page.entries.push(entry);
  });
}

/** The next link's query: where the next page starts, its size, and how many the query holds. */
export function nextLinkInfo(next: string): { start: number; size: number; max: number } | undefined {
  const query = next.includes('?') ? next.slice(next.indexOf('?') + 1) : next;
  const params = new URLSearchParams(query);
  const [start, size, max] = ['start', 'size', 'max'].map((name) => Number.parseInt(params.get(name) ?? '', 10));
  if (![start, size, max].every(Number.isFinite)) return undefined;
  return { start, size, max };
}

/** yyyy-MM-ddTHH:mm:ss[.SSS]Z, always UTC (python-threatexchange formats local time with a Z; Bulwark does not). */
export function formatNcmecTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function parseNcmecTime(text: string): Date | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/.test(text)) return undefined;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

export interface FeedbackReason {
  guid: string;
  name: string;
}

/** GET v2/feedback/{TYPE}/reasons: <availableFeedbackReasons><reason guid name type/>…</availableFeedbackReasons>. */
export function parseFeedbackReasons(xml: string): FeedbackReason[] {
  const root = parseXml(xml);
  if (localName(root) !== 'availableFeedbackReasons') throw new NcmecFormatError(`expected <availableFeedbackReasons>, got <${root.name}>`);
  return children(root, 'reason').map((reason, index) => {
    const { guid, name } = reason.attributes;
    if (!guid) throw new NcmecFormatError(`reason[${index}] has no guid`);
    return { guid, name: name ?? guid };
  });
}

/** The body of PUT v2/entries/{esp}/{entry}/{TYPE}/feedback. */
export function feedbackSubmissionXml(vote: { affirmative: true } | { negativeReasonIds: string[] }): string {
  const body = 'affirmative' in vote
    ? el('affirmative', {})
    : el('negative', {}, el('reasonIds', {}, ...vote.negativeReasonIds.map((guid) => textEl('guid', guid))));
  return serializeXml(el('feedbackSubmission', { xmlns: HASH_SHARING_NAMESPACE }, body));
}
