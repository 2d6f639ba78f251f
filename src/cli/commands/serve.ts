import { createServer } from 'node:net';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { type Bulwark, type BulwarkConfig, openBulwark } from '../../app.ts';
import { registerEnvironmentKey } from '../../auth/api-keys.ts';
import { buildServer, trustProxyFromEnv } from '../../http/server.ts';
import { BulwarkError } from '../../errors.ts';
import { recordServerAddress } from '../../store/embedded-lock.ts';
import { migrate } from '../../store/migrate.ts';
import { openSql } from '../../store/sql.ts';
import { bulwarkConfig, globals, type GlobalOptions } from '../context.ts';
import { printJson } from '../output.ts';
import { type Distributed, startDistributed } from '../../distributed/runtime.ts';
import { natsSettingsFromEnv, ROLES, type Role } from '../../distributed/settings.ts';
import { serveWorkerHealth } from '../../distributed/worker-health.ts';
import { remoteHashingFromEnv } from '../../distributed/hash-jobs/settings.ts';

export interface ServeOptions {
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
export function hashingWithFlags(fromEnv: BulwarkConfig['hashing'], options: ServeOptions): BulwarkConfig['hashing'] {
  return {
    ...fromEnv,
    ...(options.hashWorkers !== undefined ? { workers: options.hashWorkers } : {}),
    ...(options.hashQueue !== undefined ? { maxQueue: options.hashQueue } : {}),
  };
}

const storeOf = (options: GlobalOptions) => (options.databaseUrl ? { databaseUrl: options.databaseUrl } : { dataDir: options.dataDir });

/**
 * Listens until SIGINT or SIGTERM. The request log's level is BULWARK_LOG_LEVEL, else
 * defaultLogLevel (the demo keeps its console quiet with warn).
 */
export async function serve(bulwark: Bulwark, options: ServeOptions, distributed?: Distributed, defaultLogLevel = 'info'): Promise<string> {
  const envKey = process.env.BULWARK_API_KEY ? await registerEnvironmentKey(bulwark.apiKeys, process.env.BULWARK_API_KEY) : undefined;
  const app = await buildServer(bulwark, {
    bodyLimit: options.bodyLimit,
    logger: { level: process.env.BULWARK_LOG_LEVEL || defaultLogLevel },
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
export async function assertPortFree(options: ServeOptions): Promise<void> {
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

export function serveOptions(command: Command): Command {
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
    .addOption(new Option('--nats-url <url>', 'NATS server with JetStream (comma-separated for a cluster): platform events and the pipeline stages (BULWARK_PIPELINE_TRANSPORT) from JetStream, wake-ups between processes').env('BULWARK_NATS_URL'))
    .option('--health-port <n>', 'worker only: answer GET /healthz on this port', wholeNumber)
    .action(async (options: ServeOptions, command: Command) => {
      const role = options.role ?? 'all';
      const config = serveConfig(command, options);
      if (role !== 'all' && !config.databaseUrl) {
        throw new BulwarkError('invalid', `--role ${role} needs PostgreSQL (--database-url or BULWARK_DATABASE_URL): the embedded store belongs to one process, so api and worker processes cannot share it; use --role all`);
      }
      const nats = natsSettingsFromEnv(options.natsUrl);
      const remoteHashing = role === 'worker' ? undefined : remoteHashingFromEnv(nats);
      const bulwark = await openBulwark({
        ...config,
        role,
        // A worker receives no uploads, so it needs no hashing threads unless api processes send it hash jobs over NATS.
        ...(role === 'worker' && !nats ? { hashing: { workers: 0 } } : {}),
        ...(remoteHashing ? { hashing: { ...config.hashing, remote: remoteHashing } } : {}),
        // Events of other processes reach the consumers through a NATS wake-up, or else this poll.
        ...(config.databaseUrl && (role !== 'all' || nats) ? { outboxPollMs: nats ? 5000 : 1000 } : {}),
        pipelineOnJetStream: nats?.pipeline === 'jetstream',
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
