import { seededRandom } from '../../src/demo/benign-images.ts';
import type { PlatformEventInput } from '../../src/ingest/platform-events.ts';
import type { TermListInput } from '../../src/terms/term-matcher.ts';

/**
 * A small platform for seedless discovery, with placeholder codes only: a benign
 * background (topical communities, celebrities everyone follows, hashtags used by
 * thousands, a small shop and a mid-sized creator with links and audiences, a few
 * accounts that use a coded term once), a dense benign community with its own hashtag
 * and shared link and heavy messaging, a sparse network of 60 tied by coded hashtags and
 * searches with few follows, and an unseeded seller-buyer star whose sellers share an
 * off-platform link and half of whose buyers were created in one day, a benign shop whose
 * page a friend also links. No account is
 * labelled: everything planted must be found without seeds.
 */
export interface SeedlessPlatform {
  events: PlatformEventInput[];
  termLists: TermListInput[];
  sparse: string[];
  star: { sellers: string[]; buyers: string[] };
  /** With `bridged`: a second star, its own link, and 6 of the first star's buyers turning to it too. */
  secondStar?: { sellers: string[]; buyers: string[] };
  /** With `sharedTermNetworks`: two circles of 24 that use the same listed terms, each with its own hashtag. */
  termCircles?: string[][];
  /** A benign shop's hub, a friend linking the same page, and the hub's followers. */
  benignShop: { hub: string; friend: string; audience: string[] };
  denseCommunity: string[];
  celebrities: string[];
  oneOffTermUsers: string[];
}

export const CODED_TERMS: TermListInput = {
  name: 'codes',
  action: 'signal',
  terms: [
    { id: 't1', term: 'tag-alpha' },
    { id: 't2', term: 'term-alpha' },
  ],
};

const DAY = 24 * 3600 * 1000;
const EPOCH = Date.UTC(2025, 0, 1);

export function seedlessPlatform(options: { background?: number; seed?: number; bridged?: boolean; sharedTermNetworks?: boolean } = {}): SeedlessPlatform {
  const random = seededRandom(options.seed ?? 11);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
  const events: PlatformEventInput[] = [];
  let counter = 0;
  const at = (time: number) => new Date(time).toISOString();
  const push = (event: PlatformEventInput) => events.push({ ...event, event_id: `s-${counter++}` });
  const created = (account: string, time: number) => push({ type: 'account_created', occurred_at: at(time), account });
  const spread = () => EPOCH + Math.floor(random() * 700) * DAY + Math.floor(random() * DAY);
  const later = () => at(EPOCH + 710 * DAY + Math.floor(random() * 10 * DAY));

  const background = Array.from({ length: options.background ?? 3000 }, (_, i) => `user-${i}`);
  const celebrities = ['celebrity-0', 'celebrity-1', 'celebrity-2'];
  for (const account of [...background, ...celebrities]) created(account, spread());
  celebrities.forEach((celebrity, i) => push({ type: 'profile_link', occurred_at: later(), actor: celebrity, url: `https://celebrity${i}.example/home` }));
  const communities = 10;
  background.forEach((account, i) => {
    const community = i % communities;
    for (let k = 0; k < 8; k++) {
      const other = background[(Math.floor(random() * (background.length / communities)) * communities + community) % background.length];
      if (other !== account) push({ type: 'follow', occurred_at: later(), actor: account, target: other });
    }
    for (const celebrity of celebrities) if (random() < 0.5) push({ type: 'follow', occurred_at: later(), actor: account, target: celebrity });
    push({ type: 'hashtag', occurred_at: later(), actor: account, hashtag: `#topic-${community}` });
    if (random() < 0.7) push({ type: 'hashtag', occurred_at: later(), actor: account, hashtag: '#daily' });
    if (random() < 0.1) push({ type: 'hashtag', occurred_at: later(), actor: account, hashtag: '#garden' });
    if (random() < 0.3) push({ type: 'search', occurred_at: later(), actor: account, query: pick(['weather', 'recipes', 'football scores']) });
    if (random() < 0.2) push({ type: 'message', occurred_at: later(), actor: account, target: pick(background) });
  });
  // A small shop and a creator: audiences and links, but nothing else.
  push({ type: 'profile_link', occurred_at: later(), actor: 'user-5', url: 'https://shop.example/pottery' });
  for (let k = 0; k < 30; k++) push({ type: 'follow', occurred_at: later(), actor: pick(background), target: 'user-5' });
  push({ type: 'profile_link', occurred_at: later(), actor: 'user-6', url: 'https://creator.example/videos' });
  for (let k = 0; k < 600; k++) push({ type: 'follow', occurred_at: later(), actor: pick(background), target: 'user-6' });
  // Benign accounts that use a coded term once (term lists match some ordinary speech).
  const oneOffTermUsers = background.filter((_, i) => i % 300 === 17);
  oneOffTermUsers.forEach((account, i) =>
    push(i % 2 ? { type: 'hashtag', occurred_at: later(), actor: account, hashtag: '#tag-alpha' } : { type: 'search', occurred_at: later(), actor: account, query: 'term-alpha' }),
  );

  // Dense benign community: heavy messaging, its own rare hashtag and shared link.
  const denseCommunity = Array.from({ length: 80 }, (_, i) => `choir-${i}`);
  for (const account of denseCommunity) {
    created(account, spread());
    for (let k = 0; k < 20; k++) {
      const other = pick(denseCommunity);
      if (other === account) continue;
      push({ type: 'message', occurred_at: later(), actor: account, target: other });
      if (k < 10) push({ type: 'follow', occurred_at: later(), actor: account, target: other });
    }
    push({ type: 'hashtag', occurred_at: later(), actor: account, hashtag: '#choir-club' });
    if (random() < 0.25) push({ type: 'profile_link', occurred_at: later(), actor: account, url: 'https://club.example/choir' });
    if (random() < 0.7) push({ type: 'hashtag', occurred_at: later(), actor: account, hashtag: '#daily' });
  }

  // Sparse network: tied by coded hashtags and searches, few follows, camouflaged by popular hashtags.
  const sparse = Array.from({ length: 60 }, (_, i) => `quiet-${i}`);
  const codedUses = [
    (actor: string) => push({ type: 'hashtag', occurred_at: later(), actor, hashtag: '#tag-alpha' }),
    (actor: string) => push({ type: 'hashtag', occurred_at: later(), actor, hashtag: '#tag-beta' }),
    (actor: string) => push({ type: 'hashtag', occurred_at: later(), actor, hashtag: '#tag-gamma' }),
    (actor: string) => push({ type: 'search', occurred_at: later(), actor, query: 'term-alpha' }),
    (actor: string) => push({ type: 'search', occurred_at: later(), actor, query: 'term-beta' }),
  ];
  for (const account of sparse) {
    created(account, spread());
    const uses = 2 + Math.floor(random() * 3);
    const order = codedUses.map((use) => ({ use, key: random() })).sort((a, b) => a.key - b.key);
    for (const { use } of order.slice(0, uses)) use(account);
    if (random() < 0.3) push({ type: 'follow', occurred_at: later(), actor: account, target: pick(sparse) });
    for (let k = 0; k < 5; k++) push({ type: 'follow', occurred_at: later(), actor: account, target: pick(background) });
    push({ type: 'follow', occurred_at: later(), actor: account, target: pick(celebrities) });
    if (random() < 0.7) push({ type: 'hashtag', occurred_at: later(), actor: account, hashtag: '#daily' });
  }

  // Unseeded star: sellers share a link; buyers turn to them; half the buyers are one day old.
  const sellers = ['vendor-0', 'vendor-1', 'vendor-2'];
  const buyers = Array.from({ length: 40 }, (_, i) => `patron-${i}`);
  const burstDay = EPOCH + 600 * DAY;
  for (const seller of sellers) {
    created(seller, spread());
    push({ type: 'profile_link', occurred_at: later(), actor: seller, url: 'https://offsite.example/alpha-shop' });
  }
  buyers.forEach((buyer, i) => {
    created(buyer, i % 2 === 0 ? burstDay + Math.floor(random() * DAY) : spread());
    const first = pick(sellers);
    push({ type: 'follow', occurred_at: later(), actor: buyer, target: first });
    if (random() < 0.5) push({ type: 'message', occurred_at: later(), actor: buyer, target: first });
    if (random() < 0.4) push({ type: 'follow', occurred_at: later(), actor: buyer, target: pick(sellers) });
    for (let k = 0; k < 5; k++) push({ type: 'follow', occurred_at: later(), actor: buyer, target: pick(background) });
    push({ type: 'follow', occurred_at: later(), actor: buyer, target: pick(celebrities) });
  });
  let secondStar: SeedlessPlatform['secondStar'];
  if (options.bridged) {
    secondStar = { sellers: ['merchant-0', 'merchant-1', 'merchant-2', 'merchant-3'], buyers: Array.from({ length: 45 }, (_, i) => `client-${i}`) };
    for (const seller of secondStar.sellers) {
      created(seller, spread());
      push({ type: 'profile_link', occurred_at: later(), actor: seller, url: 'https://elsewhere.example/beta-store' });
    }
    for (const buyer of secondStar.buyers) {
      created(buyer, burstDay + 100 * DAY + Math.floor(random() * DAY));
      push({ type: 'follow', occurred_at: later(), actor: buyer, target: pick(secondStar.sellers) });
      push({ type: 'message', occurred_at: later(), actor: buyer, target: pick(secondStar.sellers) });
      for (let k = 0; k < 5; k++) push({ type: 'follow', occurred_at: later(), actor: buyer, target: pick(background) });
    }
    for (const bridge of buyers.slice(0, 6)) push({ type: 'follow', occurred_at: later(), actor: bridge, target: pick(secondStar.sellers) });
  }
  // A benign shop: a seller's shape (an audience it does not follow back, a link), and a
  // friend who links the same page and shares some of its followers. Nothing else.
  const shopFollowers = background.filter((_, i) => i % 50 === 9).slice(0, 60);
  push({ type: 'profile_link', occurred_at: later(), actor: 'user-7', url: 'https://bakery.example/home' });
  push({ type: 'profile_link', occurred_at: later(), actor: 'user-8', url: 'https://bakery.example/home' });
  push({ type: 'follow', occurred_at: later(), actor: 'user-8', target: 'user-7' });
  for (const follower of shopFollowers) push({ type: 'follow', occurred_at: later(), actor: follower, target: 'user-7' });
  for (const follower of shopFollowers.slice(0, 10)) push({ type: 'follow', occurred_at: later(), actor: follower, target: 'user-8' });
  const benignShop = { hub: 'user-7', friend: 'user-8', audience: shopFollowers };

  // With `sharedTermNetworks`: two separate circles that use the same listed terms (as the
  // sparse network does), each with its own hashtag, dense inside and not tied to each other.
  let termCircles: SeedlessPlatform['termCircles'];
  if (options.sharedTermNetworks) {
    termCircles = ['delta', 'epsilon'].map((name) => {
      const circle = Array.from({ length: 24 }, (_, i) => `${name}-${i}`);
      for (const account of circle) {
        created(account, spread());
        if (random() < 0.7) push({ type: 'search', occurred_at: later(), actor: account, query: 'term-alpha' });
        if (random() < 0.7) push({ type: 'hashtag', occurred_at: later(), actor: account, hashtag: '#tag-alpha' });
        push({ type: 'hashtag', occurred_at: later(), actor: account, hashtag: `#tag-${name}` });
        for (let k = 0; k < 4; k++) {
          const other = pick(circle);
          if (other !== account) push({ type: 'follow', occurred_at: later(), actor: account, target: other });
        }
        for (let k = 0; k < 2; k++) push({ type: 'message', occurred_at: later(), actor: account, target: pick(circle) });
        for (let k = 0; k < 4; k++) push({ type: 'follow', occurred_at: later(), actor: account, target: pick(background) });
      }
      return circle;
    });
  }
  return { events, termLists: [CODED_TERMS], sparse, star: { sellers, buyers }, secondStar, termCircles, benignShop, denseCommunity, celebrities, oneOffTermUsers };
}
