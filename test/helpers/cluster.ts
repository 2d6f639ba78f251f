import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import pg from 'pg';
import { openBulwark } from '../../src/app.ts';
import { type BulwarkProcess, startBulwarkProcess } from './bulwark-process.ts';
import { matchRuleFile } from './match-rules.ts';
import type { NatsServer } from './nats.ts';
import { PlatformWebhook } from './platform-webhook.ts';
import { scratchDatabase } from './postgres-scratch.ts';

/**
 * Bulwark processes (api, workers) on one scratch PostgreSQL and a real nats-server, seeded as
 * an operator would before starting them: a bank of random PDQ hashes and a rule that removes
 * matched content (a case and a webhook per match), with the platform's webhook stand-in.
 */
export class Cluster {
  readonly apiKey = `cluster-test-${randomBytes(16).toString('hex')}`;
  readonly bankHashes: string[];
  readonly platform: PlatformWebhook;
  readonly processes: BulwarkProcess[] = [];
  db!: Awaited<ReturnType<typeof scratchDatabase>>;
  client!: pg.Client;
  nc!: NatsConnection;

  constructor(
    private readonly nats: NatsServer,
    readonly bank: string,
    private readonly options: { bankSize: number; env?: Record<string, string> },
  ) {
    this.bankHashes = Array.from({ length: options.bankSize }, () => randomBytes(32).toString('hex'));
    this.platform = new PlatformWebhook(`${bank}-webhook-${randomBytes(8).toString('hex')}`);
  }

  async setUp(): Promise<void> {
    this.db = await scratchDatabase();
    const setup = await openBulwark({ databaseUrl: this.db.url, hashing: { workers: 0 }, role: 'api' });
    await setup.banks.create(this.bank, 'random PDQ hashes');
    await setup.banks.importRows(this.bank, this.bankHashes.map((value, i) => ({ line: i + 1, signalType: 'pdq', value, tags: [] })), { sourceName: 'test', format: 'generated' });
    await setup.rules.activate(matchRuleFile({ bank: this.bank, remove: true }), `${this.bank}-rules.yaml`);
    await setup.close();
    this.client = new pg.Client({ connectionString: this.db.url });
    await this.client.connect();
    this.nc = await connect({ servers: this.nats.url });
    await this.platform.start();
  }

  /** Starts a process of the role; the platform's URL is known only once setUp() has started it. */
  async start(role: 'api' | 'worker'): Promise<BulwarkProcess> {
    const env = {
      BULWARK_API_KEY: this.apiKey,
      BULWARK_NATS_ACK_WAIT_MS: '3000',
      BULWARK_HASH_WORKERS: '1',
      BULWARK_WEBHOOK_URL: this.platform.url,
      BULWARK_WEBHOOK_SECRET: this.platform.secret,
      ...this.options.env,
    };
    const started = await startBulwarkProcess(role, { databaseUrl: this.db.url, natsUrl: this.nats.url, env });
    this.processes.push(started);
    return started;
  }

  async count(query: string, params: unknown[] = []): Promise<number> {
    return Number((await this.client.query<{ n: string | null }>(query, params)).rows[0].n ?? 0);
  }

  async tearDown(): Promise<void> {
    for (const process of this.processes) await process.stop();
    await this.nc?.close();
    await this.client?.end();
    await this.nats.close();
    await this.platform.stop();
    await this.db?.drop();
  }
}
