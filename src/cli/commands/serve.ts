import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Command, InvalidArgumentError, Option } from 'commander';
import sharp from 'sharp';
import { type Bulwark, type BulwarkConfig, openBulwark } from '../../app.ts';
import { registerEnvironmentKey } from '../../auth/api-keys.ts';
import { startDemoPlatform } from '../../demo/demo-platform.ts';
import { ncmecConfigFromEnv } from '../../reporting/ncmec/config.ts';
import { syntheticPlatform } from '../../demo/synthetic-platform.ts';
import type { PlatformEventInput } from '../../ingest/platform-events.ts';
import { encodeImage, shapesImage } from '../../demo/benign-images.ts';
import { buildServer, trustProxyFromEnv } from '../../http/server.ts';
import { hashContent } from '../../signals/hash-content.ts';
import { BulwarkError } from '../../errors.ts';
import { recordServerAddress } from '../../store/embedded-lock.ts';
import { migrate } from '../../store/migrate.ts';
import { openSql } from '../../store/sql.ts';
import { bulwarkConfig, globals, type GlobalOptions, hashingConfigFromEnv, videoConfigFromEnv } from '../context.ts';
import { printJson } from '../output.ts';
import { type Distributed, startDistributed } from '../../distributed/runtime.ts';
import { natsSettingsFromEnv, ROLES, type Role } from '../../distributed/settings.ts';
import { serveWorkerHealth } from '../../distributed/worker-health.ts';

interface ServeOptions {
  port: number;
  host: string;
  bodyLimit: number;
  hashWorkers?: number;
  hashQueue?: number;
  role?: Role;
  natsUrl?: string;
  healthPort?: number;
}

/** The instance configuration with serve's own hashing flags over the environment's. */
function serveConfig(command: Command, options: ServeOptions) {
  const config = bulwarkConfig(globals(command));
  return { ...config, hashing: hashingWithFlags(config.hashing, options) };
}

/** Hashing settings: the --hash-workers and --hash-queue flags over those from the environment. */
function hashingWithFlags(fromEnv: BulwarkConfig['hashing'], options: ServeOptions): BulwarkConfig['hashing'] {
  return {
    ...fromEnv,
    ...(options.hashWorkers !== undefined ? { workers: options.hashWorkers } : {}),
    ...(options.hashQueue !== undefined ? { maxQueue: options.hashQueue } : {}),
  };
}

const storeOf = (options: GlobalOptions) => (options.databaseUrl ? { databaseUrl: options.databaseUrl } : { dataDir: options.dataDir });

async function serve(bulwark: Bulwark, options: ServeOptions, distributed?: Distributed): Promise<string> {
  const envKey = process.env.BULWARK_API_KEY ? await registerEnvironmentKey(bulwark.apiKeys, process.env.BULWARK_API_KEY) : undefined;
  const app = await buildServer(bulwark, {
    bodyLimit: options.bodyLimit,
    logger: { level: process.env.BULWARK_LOG_LEVEL ?? 'info' },
    trustProxy: trustProxyFromEnv(process.env.BULWARK_TRUST_PROXY),
    distributed,
  });
  if (envKey) app.log[envKey.level](envKey.message);
  let address: string;
  try {
    address = await app.listen({ port: options.port, host: options.host });
  } catch (error) {
    await app.close();
    throw listenError(error, options);
  }
  recordServerAddress(address);
  const stop = async () => {
    await app.close();
    await distributed?.close();
    await bulwark.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return address;
}

/** A listen failure the person can fix with a flag says which one. */
function listenError(error: unknown, options: ServeOptions): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  const where = `${options.host}:${options.port}`;
  if (code === 'EADDRINUSE') {
    return new BulwarkError('unavailable', `cannot listen on ${where}: the port is already in use (by another program, or another bulwark serve); choose another with --port <n> or the PORT environment variable`);
  }
  if (code === 'EACCES') return new BulwarkError('unavailable', `cannot listen on ${where}: not permitted (ports below 1024 need privileges); choose another with --port <n> or the PORT environment variable`);
  if (code === 'EADDRNOTAVAIL') return new BulwarkError('unavailable', `cannot listen on ${where}: no such address on this machine; choose another with --host <host> or the BULWARK_HOST environment variable`);
  return error;
}

/**
 * The demo seeds its store for a while before it listens: trying the port first reports a
 * port in use in a moment rather than after that; listen still catches one taken since.
 */
async function assertPortFree(options: ServeOptions): Promise<void> {
  if (options.port === 0) return;
  const probe = createServer();
  try {
    await new Promise<void>((done, fail) => {
      probe.once('error', fail);
      probe.listen({ port: options.port, host: options.host, exclusive: true }, done);
    });
  } catch (error) {
    throw listenError(error, options);
  }
  await new Promise<void>((done) => probe.close(() => done()));
}

function serveOptions(command: Command): Command {
  return command
    .option('--port <n>', 'port to listen on', (v) => Number.parseInt(v, 10), Number(process.env.PORT ?? 8080))
    .option('--host <host>', 'address to listen on', process.env.BULWARK_HOST ?? '127.0.0.1')
    .option('--body-limit <bytes>', 'largest request body', (v) => Number.parseInt(v, 10), 32 * 1024 * 1024)
    .option('--hash-workers <n>', 'threads that decode and hash media (default: one per core; env BULWARK_HASH_WORKERS)', wholeNumber)
    .option('--hash-queue <n>', 'uploads that may wait for a hashing thread before the API answers 503 (default: 4 per thread; env BULWARK_HASH_QUEUE)', wholeNumber);
}

function wholeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`expected a whole number, got ${JSON.stringify(value)}`);
  return n;
}

export function serveCommand(program: Command): void {
  serveOptions(program.command('serve').description('start the Bulwark HTTP API, its background work, or both (--role)'))
    .addOption(new Option('--role <role>', 'api: HTTP only; worker: outbox consumers, action delivery and JetStream events, no HTTP API; all: both in one process').choices(ROLES).env('BULWARK_ROLE').default('all'))
    .addOption(new Option('--nats-url <url>', 'NATS server with JetStream (comma-separated for a cluster): platform events from JetStream, wake-ups between processes').env('BULWARK_NATS_URL'))
    .option('--health-port <n>', 'worker only: answer GET /healthz on this port', wholeNumber)
    .action(async (options: ServeOptions, command: Command) => {
      const role = options.role ?? 'all';
      const config = serveConfig(command, options);
      if (role !== 'all' && !config.databaseUrl) {
        throw new BulwarkError('invalid', `--role ${role} needs PostgreSQL (--database-url or BULWARK_DATABASE_URL): the embedded store belongs to one process, so api and worker processes cannot share it; use --role all`);
      }
      const nats = natsSettingsFromEnv(options.natsUrl);
      const bulwark = await openBulwark({
        ...config,
        role,
        // A worker receives no uploads, so it needs no hashing threads.
        ...(role === 'worker' ? { hashing: { workers: 0 } } : {}),
        // Events of other processes reach the consumers through a NATS wake-up, or else this poll.
        ...(config.databaseUrl && (role !== 'all' || nats) ? { outboxPollMs: nats ? 5000 : 1000 } : {}),
      });
      const log = (level: 'warn' | 'error', message: string) => process.stderr.write(`${level}: ${message}\n`);
      const distributed = nats ? startDistributed(bulwark, nats, role, log) : undefined;
      let address: string;
      try {
        address = role === 'worker' ? await serveWorkerHealth(bulwark, distributed, options.healthPort, options.host) : await serve(bulwark, options, distributed);
      } catch (error) {
        // Its worker threads and timers would keep the process alive after the error is printed.
        await distributed?.close();
        await bulwark.close();
        throw error;
      }
      if (role === 'worker') process.stderr.write(`Bulwark worker running${address ? ` (health: ${address}/healthz)` : ''}\n`);
      else process.stderr.write(`Bulwark listening on ${address} (OpenAPI: ${address}/openapi.json)${role === 'api' ? ' as api only' : ''}\n`);
    });
}

export function migrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('apply database migrations and exit')
    .action(async (_options: object, command: Command) => {
      const options = globals(command);
      const sql = await openSql(storeOf(options));
      try {
        const applied = await migrate(sql);
        if (options.json) printJson({ applied });
        else process.stdout.write(applied.length > 0 ? `applied ${applied.join(', ')}\n` : 'schema is up to date\n');
      } finally {
        await sql.close();
      }
    });
}

/**
 * The network half of the demo: a small synthetic platform (benign, seeded) with planted
 * networks, two buyers of each labelled confirmed, a placeholder term list, and one
 * detection run. Done once per demo store.
 */
async function seedNetworkDemo(bulwark: Bulwark): Promise<{ accounts: number; summary: string; minor: string; seller: string; ordinary: string }> {
  const platform = syntheticPlatform({ seed: 2, accounts: 2000, networks: 3, impressionViewers: 300 });
  const minor = platform.truth.minors[0];
  const seller = platform.truth.networks[0].sellers[0];
  const members = new Set(platform.truth.networks.flatMap((n) => n.members));
  const minors = new Set(platform.truth.minors);
  let ordinary = '';
  for (let i = 0; !ordinary || members.has(ordinary) || minors.has(ordinary); i++) ordinary = `acct-${String(i).padStart(6, '0')}`;
  const existing = await bulwark.sql.query<{ n: number }>('SELECT count(*) AS n FROM accounts');
  if (Number(existing.rows[0].n) === 0) {
    process.stderr.write('loading the network demo (a synthetic platform)…\n');
    await bulwark.terms.replace('demo-terms', 'block', [{ id: 'alpha', term: 'term-alpha' }]);
    let batch: PlatformEventInput[] = [];
    for (const event of platform.events()) {
      batch.push(event);
      if (batch.length === 5000) {
        await bulwark.platformEvents.ingest(batch);
        batch = [];
      }
    }
    if (batch.length > 0) await bulwark.platformEvents.ingest(batch);
    for (const network of platform.truth.networks) for (const buyer of network.buyers.slice(0, 2)) await bulwark.accounts.label(buyer, 'confirmed', 'demo');
    await bulwark.detection.run();
    await bulwark.guardrail.refresh();
  }
  const networks = await bulwark.detection.networks();
  const summary = `${networks.length} networks found (${networks.map((n) => `${n.summary.size} accounts, ${n.summary.sellers} sellers`).join('; ')})`;
  return { accounts: platform.accountCount, summary, minor, seller, ordinary };
}

/** The demo's media key lives beside its store, so media sealed in one run opens in the next. */
async function demoMediaKey(dir: string): Promise<string> {
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
 * The review half of the demo (its rule file goes live before anything else arrives, so
 * detection and uploads open cases): a few uploads (an exact copy of a bank picture, two
 * re-encoded ones, an unrelated one) and a trusted-flagger report arrive once per store;
 * a reviewer and a lead get fresh passwords every run.
 */
async function activateDemoRules(bulwark: Bulwark): Promise<void> {
  if (bulwark.rules.current()) return;
  const source = await readFile(fileURLToPath(new URL('../../demo/demo-rules.yaml', import.meta.url)), 'utf8');
  await bulwark.rules.activate(source, 'demo-rules.yaml', 'demo');
}

async function seedReviewDemo(bulwark: Bulwark): Promise<{ reviewer: string; lead: string; password: string }> {
  const uploaded = await bulwark.sql.query('SELECT 1 FROM content LIMIT 1');
  if (uploaded.rows.length === 0) {
    const picture = (seed: number) => encodeImage(shapesImage(seed, 480, 360), 'png');
    const uploads: [string, Buffer][] = [
      ['demo-upload-1', await picture(3)],
      ['demo-upload-2', await sharp(await picture(5)).resize(420).jpeg({ quality: 75 }).toBuffer()],
      ['demo-upload-3', await sharp(await picture(8)).resize(360).jpeg({ quality: 60 }).toBuffer()],
      ['demo-upload-4', await picture(4242)],
    ];
    for (const [contentId, media] of uploads) await bulwark.content.submit({ contentId, accountId: `uploader-${contentId.slice(-1)}`, contentType: 'photo', media });
    await bulwark.reports.submit({ reporter_kind: 'trusted_flagger', flagger: 'demo-hotline', category: 'child-safety', subject: { kind: 'account', id: 'uploader-3' } });
    await bulwark.rules.runner.drain();
  }
  const password = randomBytes(12).toString('base64url');
  const accounts: [string, 'reviewer' | 'lead'][] = [['demo-reviewer', 'reviewer'], ['demo-lead', 'lead']];
  const existing = new Set((await bulwark.reviewers.list()).map((reviewer) => reviewer.username));
  for (const [username, role] of accounts) {
    if (existing.has(username)) await bulwark.reviewers.setPassword(username, password, 'demo');
    else await bulwark.reviewers.create({ username, password, role, teams: ['known-media-specialists'] }, 'demo');
  }
  return { reviewer: 'demo-reviewer', lead: 'demo-lead', password };
}

/**
 * The demo seeds a store with a bank of benign generated pictures, writes sample uploads
 * (one bank image re-encoded and resized, one unrelated picture) and starts the server.
 */
export function demoCommand(program: Command): void {
  serveOptions(program.command('demo').description('start Bulwark on the embedded store with a small demo bank of generated images'))
    .option('--dir <dir>', 'folder for the demo store and sample images', '.bulwark/demo')
    .action(async (options: ServeOptions & { dir: string }) => {
      const dir = resolve(options.dir);
      await assertPortFree(options);
      await mkdir(dir, { recursive: true });
      const webhookSecret = randomBytes(24).toString('base64url');
      const platform = await startDemoPlatform(webhookSecret, (line) => process.stderr.write(`${line}\n`));
      let bulwark: Bulwark | undefined;
      let address: string;
      let network: Awaited<ReturnType<typeof seedNetworkDemo>>;
      let review: Awaited<ReturnType<typeof seedReviewDemo>>;
      let key: string;
      let samples: string;
      try {
        bulwark = await openBulwark({
          dataDir: join(dir, 'data'),
          mediaKey: await demoMediaKey(dir),
          webhooks: { webhookUrl: platform.url, secret: webhookSecret },
          // Reports filed in the demo ask the demo platform for the account's identifiers (docs/ncmec.md).
          ncmec: { ...ncmecConfigFromEnv(process.env), accountDetails: { url: platform.accountDetailsUrl, secret: webhookSecret } },
          hashing: hashingWithFlags(hashingConfigFromEnv(process.env), options),
          video: videoConfigFromEnv(process.env),
        });
        samples = join(dir, 'samples');
        await mkdir(samples, { recursive: true });
        const banks = await bulwark.banks.list();
        if (!banks.some((bank) => bank.name === 'demo-known-media')) {
          await bulwark.banks.create('demo-known-media', 'Demo bank: hashes of benign generated pictures standing in for known media');
          const rows = [];
          for (let seed = 1; seed <= 20; seed++) {
            const png = await encodeImage(shapesImage(seed, 480, 360), 'png');
            if (seed === 1) await writeFile(join(samples, 'known-original.png'), png);
            for (const signal of await hashContent(bulwark.signals, 'photo', png)) {
              rows.push({ line: seed, signalType: signal.signalType, value: signal.value, source: 'demo generator', tags: ['demo'] });
            }
          }
          await bulwark.banks.importRows('demo-known-media', rows, { sourceName: 'demo generator', format: 'generated' });
          const original = await encodeImage(shapesImage(1, 480, 360), 'png');
          await writeFile(join(samples, 'known-resized.jpg'), await sharp(original).resize(400).jpeg({ quality: 70 }).toBuffer());
          await writeFile(join(samples, 'unrelated.png'), await encodeImage(shapesImage(999, 480, 360), 'png'));
        }
        await activateDemoRules(bulwark);
        network = await seedNetworkDemo(bulwark);
        review = await seedReviewDemo(bulwark);
        key = process.env.BULWARK_API_KEY ?? (await bulwark.apiKeys.create('demo')).key;
        address = await serve(bulwark, options);
      } catch (error) {
        // The demo platform's server, hashing threads and timers would keep the process alive after the error.
        await bulwark?.close();
        await platform.close();
        throw error;
      }
      const guardrailBody = JSON.stringify({ viewer: network.minor, candidates: [{ account_id: network.seller }, { account_id: network.ordinary }] });
      process.stderr.write(
        [
          '',
          `Bulwark demo listening on ${address}`,
          `  OpenAPI document: ${address}/openapi.json`,
          `  API key for this demo: ${key}`,
          `  sample images: ${samples}`,
          '',
          'Try:',
          `  curl -s -H "Authorization: Bearer ${key}" ${address}/v1/banks`,
          `  curl -s -H "Authorization: Bearer ${key}" -H "Content-Type: image/jpeg" --data-binary @${join(samples, 'known-resized.jpg')} ${address}/v1/match`,
          `  curl -s -H "Authorization: Bearer ${key}" -H "Content-Type: image/png" --data-binary @${join(samples, 'unrelated.png')} ${address}/v1/match`,
          '',
          `Network demo: a synthetic platform of ${network.accounts.toLocaleString()} accounts with planted networks; ${network.summary}`,
          `  curl -s -H "Authorization: Bearer ${key}" ${address}/v1/networks`,
          `  curl -s -H "Authorization: Bearer ${key}" "${address}/v1/detection/leads?limit=5"`,
          `  curl -s -H "Authorization: Bearer ${key}" -H "Content-Type: application/json" -d '${guardrailBody}' ${address}/v1/guardrails/recommendations`,
          `  curl -s -H "Authorization: Bearer ${key}" -H "Content-Type: application/json" -d '{"query":"T3RM alpha"}' ${address}/v1/guardrails/search`,
          `  curl -s -H "Authorization: Bearer ${key}" "${address}/v1/audit/recommendations?format=html" > audit.html`,
          '',
          `Review console: ${address.replace('127.0.0.1', 'localhost')}/console/  (media stays blurred and greyscale until you reveal it)`,
          `  reviewer: ${review.reviewer}  lead: ${review.lead}  password for both (this run): ${review.password}`,
          `  cases open: ${(await bulwark.cases.queues()).map((q) => `${q.name} ${q.open}`).join(', ')}; enforcement goes to a demo platform that prints what it receives`,
          `  curl -s -H "Authorization: Bearer ${key}" ${address}/v1/cases`,
          '',
          `DSA and NCMEC: the public notice form is at ${address}/notices; decisions give statements of reasons (${address}/v1/dsa/statements)`,
          `  curl -s -H "Authorization: Bearer ${key}" "${address}/v1/dsa/transparency-report?from=2026-01-01T00:00:00Z&to=2027-01-01T00:00:00Z&format=html" > transparency.html`,
          '',
        ].join('\n'),
      );
    });
}
