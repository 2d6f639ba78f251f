import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import type { Bulwark } from '../app.ts';
import type { PlatformEventInput } from '../ingest/platform-events.ts';
import { hashContent } from '../signals/hash-content.ts';
import { encodeImage, shapesImage } from './benign-images.ts';
import { syntheticPlatform } from './synthetic-platform.ts';

/** What the demo reports while it seeds: a stage starts, then (for long stages) advances towards its total. */
export interface SeedProgress {
  stage(label: string, total?: number): void;
  advance(done: number): void;
}

export const DEMO_BANK = 'demo-known-media';

/**
 * Where the demo's notices point: locations on a made-up platform (the .example domain),
 * turned into the content or account they name, so a notice from the public form becomes a
 * case. BULWARK_NOTICE_LOCATION_PATTERNS replaces these.
 */
export const DEMO_NOTICE_LOCATION_PATTERNS = '^https://platform\\.example/content/(?<content>[\\w-]+) ^https://platform\\.example/accounts/(?<account>[\\w-]+)';

/** The seeding stages, in order, so the progress display can number them. */
export const SEED_STAGES = ['known-media bank', 'rules', 'synthetic platform', 'network detection', 'uploads and a report', 'reviewer accounts'] as const;

/** The demo's media key lives beside its store, so media sealed in one run opens in the next. */
export async function demoMediaKey(dir: string): Promise<string> {
  if (process.env.BULWARK_MEDIA_KEY) return process.env.BULWARK_MEDIA_KEY;
  const file = join(dir, 'media.key');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    const key = randomBytes(32).toString('hex');
    await writeFile(file, `${key}\n`, { mode: 0o600 });
    return key;
  }
}

/**
 * A bank of hashes of 20 generated pictures (tagged demo) standing in for known media, and
 * sample images beside the store: the first picture as is and re-encoded, and an unrelated one.
 */
export async function seedBank(bulwark: Bulwark, samples: string, progress: SeedProgress): Promise<void> {
  progress.stage(SEED_STAGES[0], 20);
  await mkdir(samples, { recursive: true });
  if ((await bulwark.banks.list()).some((bank) => bank.name === DEMO_BANK)) return;
  await bulwark.banks.create(DEMO_BANK, 'Demo bank: hashes of benign generated pictures standing in for known media');
  const rows = [];
  for (let seed = 1; seed <= 20; seed++) {
    const png = await encodeImage(shapesImage(seed, 480, 360), 'png');
    if (seed === 1) await writeFile(join(samples, 'known-original.png'), png);
    for (const signal of await hashContent(bulwark.signals, 'photo', png)) {
      rows.push({ line: seed, signalType: signal.signalType, value: signal.value, source: 'demo generator', tags: ['demo'] });
    }
    progress.advance(seed);
  }
  await bulwark.banks.importRows(DEMO_BANK, rows, { sourceName: 'demo generator', format: 'generated' });
  const original = await encodeImage(shapesImage(1, 480, 360), 'png');
  await writeFile(join(samples, 'known-resized.jpg'), await sharp(original).resize(400).jpeg({ quality: 70 }).toBuffer());
  await writeFile(join(samples, 'unrelated.png'), await encodeImage(shapesImage(999, 480, 360), 'png'));
}

/** The rule file goes live before anything else arrives, so detection and uploads open cases. */
export async function activateDemoRules(bulwark: Bulwark, progress: SeedProgress): Promise<void> {
  progress.stage(SEED_STAGES[1]);
  if (bulwark.rules.current()) return;
  const source = await readFile(fileURLToPath(new URL('./demo-rules.yaml', import.meta.url)), 'utf8');
  await bulwark.rules.activate(source, 'demo-rules.yaml', 'demo');
}

export interface NetworkDemo {
  accounts: number;
  networks: { id: number; size: number; sellers: number; minorContacts: number }[];
  minor: string;
  seller: string;
  ordinary: string;
}

/**
 * The network half of the demo: a small synthetic platform (benign, seeded) with planted
 * networks, two buyers of each labelled confirmed, a placeholder term list, and one
 * detection run. Done once per demo store.
 */
export async function seedNetworkDemo(bulwark: Bulwark, progress: SeedProgress): Promise<NetworkDemo> {
  const platform = syntheticPlatform({ seed: 2, accounts: 2000, networks: 3, impressionViewers: 300 });
  const minor = platform.truth.minors[0];
  const seller = platform.truth.networks[0].sellers[0];
  const members = new Set(platform.truth.networks.flatMap((n) => n.members));
  const minors = new Set(platform.truth.minors);
  let ordinary = '';
  for (let i = 0; !ordinary || members.has(ordinary) || minors.has(ordinary); i++) ordinary = `acct-${String(i).padStart(6, '0')}`;
  const existing = await bulwark.sql.query<{ n: number }>('SELECT count(*) AS n FROM accounts');
  const total = Object.values(platform.counts).reduce((sum, n) => sum + n, 0);
  progress.stage(SEED_STAGES[2], total);
  if (Number(existing.rows[0].n) === 0) {
    await bulwark.terms.replace('demo-terms', 'block', [{ id: 'alpha', term: 'term-alpha' }]);
    let batch: PlatformEventInput[] = [];
    let done = 0;
    for (const event of platform.events()) {
      batch.push(event);
      if (batch.length === 5000) {
        await bulwark.platformEvents.ingest(batch);
        progress.advance((done += batch.length));
        batch = [];
      }
    }
    if (batch.length > 0) await bulwark.platformEvents.ingest(batch);
    progress.stage(SEED_STAGES[3]);
    for (const network of platform.truth.networks) for (const buyer of network.buyers.slice(0, 2)) await bulwark.accounts.label(buyer, 'confirmed', 'demo');
    await bulwark.detection.run();
    await bulwark.guardrail.refresh();
  } else progress.stage(SEED_STAGES[3]);
  const networks = (await bulwark.detection.networks()).map((n) => ({ id: n.id, size: n.summary.size, sellers: n.summary.sellers, minorContacts: n.summary.minorContacts }));
  return { accounts: platform.accountCount, networks, minor, seller, ordinary };
}

/**
 * The review half of the demo: a few uploads (an exact copy of a bank picture, two
 * re-encoded ones, an unrelated one) and a trusted-flagger report arrive once per store;
 * a reviewer and a lead get fresh passwords every run.
 */
export async function seedReviewDemo(bulwark: Bulwark, progress: SeedProgress): Promise<{ reviewer: string; lead: string; password: string }> {
  progress.stage(SEED_STAGES[4], 4);
  const uploaded = await bulwark.sql.query('SELECT 1 FROM content LIMIT 1');
  if (uploaded.rows.length === 0) {
    const picture = (seed: number) => encodeImage(shapesImage(seed, 480, 360), 'png');
    const uploads: [string, Buffer][] = [
      ['demo-upload-1', await picture(3)],
      ['demo-upload-2', await sharp(await picture(5)).resize(420).jpeg({ quality: 75 }).toBuffer()],
      ['demo-upload-3', await sharp(await picture(8)).resize(360).jpeg({ quality: 60 }).toBuffer()],
      ['demo-upload-4', await picture(4242)],
    ];
    for (const [i, [contentId, media]] of uploads.entries()) {
      await bulwark.content.submit({ contentId, accountId: `uploader-${contentId.slice(-1)}`, contentType: 'photo', media });
      progress.advance(i + 1);
    }
    await bulwark.reports.submit({ reporter_kind: 'trusted_flagger', flagger: 'demo-hotline', category: 'child-safety', subject: { kind: 'account', id: 'uploader-3' } });
    await bulwark.rules.runner.drain();
  }
  progress.stage(SEED_STAGES[5]);
  const password = randomBytes(12).toString('base64url');
  const accounts: [string, 'reviewer' | 'lead'][] = [['demo-reviewer', 'reviewer'], ['demo-lead', 'lead']];
  const existing = new Set((await bulwark.reviewers.list()).map((reviewer) => reviewer.username));
  for (const [username, role] of accounts) {
    if (existing.has(username)) await bulwark.reviewers.setPassword(username, password, 'demo');
    else await bulwark.reviewers.create({ username, password, role, teams: ['known-media-specialists'] }, 'demo');
  }
  return { reviewer: 'demo-reviewer', lead: 'demo-lead', password };
}
