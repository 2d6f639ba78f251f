/** The synthetic platform's event stream, rebuilt from the model and the seed one hour at a time. */
import type { PlatformEventInput } from '../ingest/platform-events.ts';
import type { Model } from './synthetic-model.ts';
import { fmix32, hex128, Rng } from './synthetic-random.ts';
import { COMMUNITY_TAGS, E_ATTRIBUTES, E_COMMENT, E_CREATED, E_DELETED, E_DEVICE, E_EMAIL, E_FOLLOW, E_HANDLE, E_IMPRESSION, E_IP24, E_LIKE, E_LINK_ACCOUNT, E_LINK_STRING, E_MESSAGE, E_PHONE, E_SEARCH, E_SEARCH_STRING, E_SHARE, E_TAG, E_TAG_STRING, FLAG_ESTIMATED, FLAG_LINK, FLAG_MINOR, FLAG_PHONE, FLAG_VERIFIED, GLOBAL_TAGS, HOUR, PLAIN_QUERIES, RANDOM_INTERACTIONS, RANDOM_KINDS, STREAM_TICK, SURFACES, VIA_NAMES } from './synthetic-codes.ts';


/** One hour's events as compact rows, put in time order by a counting sort on the second. */
export class HourBuffer {
  offset = new Int32Array(1 << 14);
  type = new Int32Array(1 << 14);
  a = new Int32Array(1 << 14);
  b = new Int32Array(1 << 14);
  aux = new Int32Array(1 << 14);
  order = new Int32Array(1 << 14);
  length = 0;
  private readonly bySecond = new Int32Array(HOUR + 1);

  push(offset: number, type: number, a: number, b: number, aux: number): void {
    if (this.length === this.offset.length) this.grow();
    const k = this.length++;
    this.offset[k] = offset;
    this.type[k] = type;
    this.a[k] = a;
    this.b[k] = b;
    this.aux[k] = aux;
  }

  private grow(): void {
    const double = (array: Int32Array) => {
      const next = new Int32Array(array.length * 2);
      next.set(array);
      return next;
    };
    this.offset = double(this.offset);
    this.type = double(this.type);
    this.a = double(this.a);
    this.b = double(this.b);
    this.aux = double(this.aux);
    this.order = new Int32Array(this.offset.length);
  }

  sort(): void {
    const count = this.bySecond;
    count.fill(0);
    for (let k = 0; k < this.length; k++) count[this.offset[k] + 1]++;
    for (let s = 0; s < HOUR; s++) count[s + 1] += count[s];
    for (let k = 0; k < this.length; k++) this.order[count[this.offset[k]]++] = k;
  }
}

export function* streamEvents(m: Model): Generator<PlatformEventInput> {
  const rng = new Rng();
  const hour = new HourBuffer();
  const seconds = Array.from({ length: HOUR }, (_, s) => `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}.000Z`);
  const aligned = m.startMs % (HOUR * 1000) === 0;
  let serial = 0;
  const idPrefix = `syn-${m.seed}-`;

  for (let t = 0; t < m.ticks; t++) {
    hour.length = 0;
    rng.reseed(m.seed, STREAM_TICK, t);
    const base = t * HOUR;

    for (let i = m.createdBefore[t]; i < m.createdBefore[t + 1]; i++) {
      const offset = m.createdSec[i] - base;
      hour.push(offset, E_CREATED, i, -1, 0);
      hour.push(offset, E_ATTRIBUTES, i, -1, 0);
      hour.push(offset, E_DEVICE, i, -1, 0);
      hour.push(offset, E_EMAIL, i, -1, 0);
      if (m.flags[i] & FLAG_PHONE) hour.push(offset, E_PHONE, i, -1, 0);
      hour.push(offset, E_IP24, i, -1, 0);
      if (m.flags[i] & FLAG_LINK) hour.push(offset, E_LINK_ACCOUNT, i, -1, 0);
    }

    for (let k = m.followStart[t]; k < m.followStart[t + 1]; k++) hour.push(rng.int(HOUR), E_FOLLOW, m.followSrc[k], m.followDst[k], m.followVia[k]);

    // Likes, comments, messages and shares along follows that exist by now, half of them on
    // recent ones; a pick touching a removed account is drawn again.
    const edges = m.followStart[t];
    const recent = Math.max(1, Math.floor(edges / 8));
    for (let k = 0; k < RANDOM_INTERACTIONS.length; k++) {
      const code = RANDOM_INTERACTIONS[k].code;
      for (let n = m.randomCounts[t * RANDOM_KINDS + k]; n > 0; n--) {
        let e = m.safeEdge;
        for (let tries = 0; tries < 64; tries++) {
          const pick = rng.chance(0.5) ? edges - 1 - rng.int(Math.min(edges, recent)) : rng.int(edges);
          if (m.deleteTick[m.followSrc[pick]] > t && m.deleteTick[m.followDst[pick]] > t) {
            e = pick;
            break;
          }
        }
        let a = m.followSrc[e];
        let b = m.followDst[e];
        if (code === E_MESSAGE && rng.chance(0.5)) [a, b] = [b, a];
        hour.push(rng.int(HOUR), code, a, b, rng.int(8));
      }
    }

    const existing = m.createdBefore[t];
    const pickAccount = () => {
      for (let tries = 0; tries < 64; tries++) {
        const i = rng.int(existing);
        if (m.deleteTick[i] > t) return i;
      }
      return m.safeAccount;
    };
    for (let n = m.randomCounts[t * RANDOM_KINDS + RANDOM_INTERACTIONS.length]; n > 0; n--) {
      const a = pickAccount();
      // Community topics mostly, the platform-wide favourites sometimes.
      const tag = rng.chance(0.15) ? -1 - rng.skewed(GLOBAL_TAGS) : m.community[a] * 16 + rng.skewed(COMMUNITY_TAGS);
      hour.push(rng.int(HOUR), E_TAG, a, -1, tag);
    }
    for (let n = m.randomCounts[t * RANDOM_KINDS + RANDOM_INTERACTIONS.length + 1]; n > 0; n--) {
      hour.push(rng.int(HOUR), E_SEARCH, pickAccount(), -1, rng.skewed(PLAIN_QUERIES));
    }

    const s = m.schedule;
    for (let k = s.start[t]; k < s.start[t + 1]; k++) hour.push(s.offset[k], s.type[k], s.a[k], s.b[k], s.aux[k]);

    hour.sort();
    const prefix = aligned ? new Date(m.startMs + base * 1000).toISOString().slice(0, 14) : '';
    for (let j = 0; j < hour.length; j++) {
      const k = hour.order[j];
      const offset = hour.offset[k];
      const at = aligned ? prefix + seconds[offset] : new Date(m.startMs + (base + offset) * 1000).toISOString();
      yield materialise(m, idPrefix + serial++, at, hour.type[k], hour.a[k], hour.b[k], hour.aux[k]);
    }
  }
}

export type EventOf<K extends PlatformEventInput['type']> = Extract<PlatformEventInput, { type: K }>;

export function materialise(m: Model, event_id: string, occurred_at: string, type: number, a: number, b: number, aux: number): PlatformEventInput {
  const { ids } = m;
  switch (type) {
    case E_CREATED:
      return { event_id, occurred_at, type: 'account_created', account: ids(a) };
    case E_ATTRIBUTES: {
      const f = m.flags[a];
      const event: EventOf<'account_attributes'> = { event_id, occurred_at, type: 'account_attributes', account: ids(a), minor: (f & FLAG_MINOR) !== 0 };
      if (f & FLAG_MINOR) event.minor_basis = f & FLAG_ESTIMATED ? 'estimated' : 'declared';
      if (f & FLAG_VERIFIED) event.verified = true;
      return event;
    }
    case E_DEVICE:
      return { event_id, occurred_at, type: 'identifier', account: ids(a), kind: 'device', value: hex128(m.deviceSource.get(a) ?? a, m.salts.device) };
    case E_EMAIL:
      return { event_id, occurred_at, type: 'identifier', account: ids(a), kind: 'email', value: hex128(m.emailSource.get(a) ?? a, m.salts.email) };
    case E_PHONE:
      return { event_id, occurred_at, type: 'identifier', account: ids(a), kind: 'phone', value: hex128(m.phoneSource.get(a) ?? a, m.salts.phone) };
    case E_IP24: {
      const r = m.ipRange[a];
      return { event_id, occurred_at, type: 'identifier', account: ids(a), kind: 'ip24', value: `${10 + (r >>> 16)}.${(r >>> 8) & 255}.${r & 255}.0/24` };
    }
    case E_HANDLE:
      return { event_id, occurred_at, type: 'identifier', account: ids(a), kind: 'offsite_handle', value: m.strings[aux] };
    case E_LINK_ACCOUNT: {
      // Ordinary accounts link out too, some to the same site as sellers, so a domain alone proves nothing.
      const h = fmix32(a ^ m.salts.link);
      const u = h % 10;
      const url = u < 6 ? `https://links.example/u/${ids(a)}` : u < 8 ? `https://offsite.example/page-${h % 500}` : `https://site-${h % 50}.example/`;
      return { event_id, occurred_at, type: 'profile_link', actor: ids(a), url };
    }
    case E_LINK_STRING:
      return { event_id, occurred_at, type: 'profile_link', actor: ids(a), url: m.strings[aux] };
    case E_FOLLOW: {
      const via = VIA_NAMES[aux];
      return via === undefined
        ? { event_id, occurred_at, type: 'follow', actor: ids(a), target: ids(b) }
        : { event_id, occurred_at, type: 'follow', actor: ids(a), target: ids(b), via };
    }
    case E_MESSAGE:
      return { event_id, occurred_at, type: 'message', actor: ids(a), target: ids(b) };
    case E_LIKE:
      return { event_id, occurred_at, type: 'like', actor: ids(a), target: ids(b), content_id: `post-${ids(b)}-${aux & 15}` };
    case E_SHARE:
      return { event_id, occurred_at, type: 'share', actor: ids(a), target: ids(b), content_id: `post-${ids(b)}-${aux & 15}` };
    case E_COMMENT: {
      const text = (aux >> 4) - 1;
      const event: EventOf<'comment'> = { event_id, occurred_at, type: 'comment', actor: ids(a), target: ids(b), content_id: `post-${ids(b)}-${aux & 15}` };
      if (text >= 0) event.text = m.strings[text];
      return event;
    }
    case E_TAG:
      return { event_id, occurred_at, type: 'hashtag', actor: ids(a), hashtag: aux < 0 ? `tag-${-aux - 1}` : `tag-${aux >> 4}-${aux & 15}` };
    case E_TAG_STRING:
      return { event_id, occurred_at, type: 'hashtag', actor: ids(a), hashtag: m.strings[aux] };
    case E_SEARCH:
      return { event_id, occurred_at, type: 'search', actor: ids(a), query: `query-${aux}` };
    case E_SEARCH_STRING:
      return { event_id, occurred_at, type: 'search', actor: ids(a), query: m.strings[aux] };
    case E_IMPRESSION:
      return { event_id, occurred_at, type: 'recommendation_impression', viewer: ids(a), shown: ids(b), surface: SURFACES[aux] };
    case E_DELETED:
      return { event_id, occurred_at, type: 'account_deleted', account: ids(a), reason: 'enforcement' };
    default:
      throw new Error(`unknown synthetic event code ${type}`);
  }
}
