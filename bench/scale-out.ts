/**
 * Scale-out on one machine: platform events through NATS JetStream with 1 and 2 worker
 * processes, and uploads through 1 api process (with a worker running the outbox stages), all
 * on one PostgreSQL. Each run gets a fresh database and its own nats-server with JetStream.
 *
 * Events: the workers are started and ready, then events are published to their lanes as
 * fast as this process can (in messages of --batch events, and of 1 event); the time is from
 * the first publish to the last event committed. Uploads: autocannon POSTs /v1/content with
 * a PDQ hash (no media, so hashing is not what is measured), none or all matching the bank;
 * a match goes content.matched → rule (in a worker) → case. All-matching uploads run with 1
 * and 2 workers, with the pipeline's stages reading the outbox (before, one process per stage
 * at a time) and pulling JetStream work queues (after): besides the uploads/s it prints the
 * backlog when the load stopped (matched uploads without their case yet, the same measure for
 * both; and GET /v1/outbox/status's "behind", which counts outbox events, plus on JetStream
 * queued messages of one or more events each) and the stages' rate, matches turned into cases
 * per second from the first upload until the last case exists.
 *
 *   npm run bench:scale -- [--events 100000] [--single-events 10000] [--batch 250] [--seconds 10] [--connections 32] [--skip-events] [--pipeline-partitions 4]
 */
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { openBulwark } from '../src/app.ts';
import { publishPlatformEvents } from '../src/distributed/publish.ts';
import { DEFAULT_NATS } from '../src/distributed/settings.ts';
import type { PlatformEventInput } from '../src/ingest/platform-events.ts';
import { matchRuleFile } from '../test/helpers/match-rules.ts';
import { type BulwarkProcess, startBulwarkProcess } from '../test/helpers/bulwark-process.ts';
import { startNatsServer } from '../test/helpers/nats.ts';
import { scratchDatabase } from '../test/helpers/postgres-scratch.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '100000' },
    'single-events': { type: 'string', default: '10000' },
    batch: { type: 'string', default: '250' },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '32' },
    'skip-events': { type: 'boolean', default: false },
    'pipeline-partitions': { type: 'string', default: String(DEFAULT_NATS.pipelinePartitions) },
  },
});
const AT = '2026-11-25T10:00:00Z';
const API_KEY = `bench-scale-${randomBytes(16).toString('hex')}`;
const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const RULES = matchRuleFile({ bank: 'bench' });

interface Cluster {
  db: Awaited<ReturnType<typeof scratchDatabase>>;
  natsUrl: string;
  processes: BulwarkProcess[];
  count(query: string): Promise<number>;
  close(): Promise<void>;
}

async function cluster(roles: ('api' | 'worker')[], bankHashes: string[] = [], extraEnv: Record<string, string> = {}): Promise<Cluster> {
  const nats = (await startNatsServer())!;
  const db = await scratchDatabase();
  const setup = await openBulwark({ databaseUrl: db.url, hashing: { workers: 0 }, role: 'api' });
  if (bankHashes.length > 0) {
    await setup.banks.create('bench', 'random PDQ hashes');
    await setup.banks.importRows('bench', bankHashes.map((value, i) => ({ line: i + 1, signalType: 'pdq', value, tags: [] })), { sourceName: 'bench', format: 'generated' });
    await setup.rules.activate(RULES, 'bench-rules.yaml');
  }
  await setup.close();
  const env = { BULWARK_API_KEY: API_KEY, ...extraEnv };
  const processes = await Promise.all(roles.map((role) => startBulwarkProcess(role, { databaseUrl: db.url, natsUrl: nats.url, env })));
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  return {
    db,
    natsUrl: nats.url,
    processes,
    count: async (query) => Number((await client.query<{ n: string | null }>(query)).rows[0].n ?? 0),
    close: async () => {
      for (const process of processes) await process.stop();
      await client.end();
      await nats.close();
      await db.drop();
    },
  };
}

/** Waits until every worker pulls all its lanes (and pipeline stages), so start-up is not timed. */
async function workersReady(processes: BulwarkProcess[]): Promise<void> {
  for (const worker of processes.filter((p) => p.role === 'worker')) {
    for (;;) {
      const health = (await (await fetch(`${worker.url}/healthz`)).json()) as { status: string };
      if (health.status === 'ok') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

async function eventRun(workers: number, total: number, perMessage: number): Promise<{ seconds: number; rate: number }> {
  const run = await cluster(Array.from({ length: workers }, () => 'worker' as const));
  try {
    await workersReady(run.processes);
    const nc = await connect({ servers: run.natsUrl });
    const js = jetstream(nc);
    const event = (i: number): PlatformEventInput => ({ event_id: `ev-${i}`, type: 'message', actor: `acct-${i % 50_000}`, target: `acct-${(i * 7919) % 49_999}`, occurred_at: AT });
    const started = performance.now();
    // Up to 64 messages awaiting JetStream's answer at a time: a platform's publisher would pipeline too.
    const inFlight = new Set<Promise<unknown>>();
    for (let i = 0; i < total; i += perMessage) {
      const batch = Array.from({ length: Math.min(perMessage, total - i) }, (_, k) => event(i + k));
      const sent = publishPlatformEvents(js, DEFAULT_NATS, 'bench', batch).finally(() => inFlight.delete(sent));
      inFlight.add(sent);
      if (inFlight.size >= 64) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    while ((await run.count('SELECT count(*) AS n FROM platform_event_ids')) < total) await new Promise((resolve) => setTimeout(resolve, 20));
    const seconds = (performance.now() - started) / 1000;
    await nc.close();
    return { seconds, rate: total / seconds };
  } finally {
    await run.close();
  }
}

interface UploadResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  behind: number;
  /** Matches turned into cases per second, from the first upload until the last case existed (all-matching runs). */
  casesPerSecond?: number;
  /** Matched uploads without their case yet when the load stopped: the same measure of backlog for both transports. */
  caseless?: number;
}

/** How long the stages may take to catch up after the load before the bench gives up on the rate. */
const DRAIN_LIMIT_MS = 180_000;

async function uploadRun(matching: boolean, workers = 1, pipeline: 'outbox' | 'jetstream' = 'jetstream'): Promise<UploadResult> {
  const bankHashes = Array.from({ length: 1000 }, () => hex(32));
  const run = await cluster(['api', ...Array.from({ length: workers }, () => 'worker' as const)], bankHashes, { BULWARK_PIPELINE_TRANSPORT: pipeline, BULWARK_PIPELINE_PARTITIONS: values['pipeline-partitions']! });
  try {
    await workersReady(run.processes);
    const api = run.processes[0];
    let n = 0;
    const started = performance.now();
    const result = await autocannon({
      url: api.url,
      connections: Number(values.connections),
      duration: Number(values.seconds),
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      requests: [
        {
          method: 'POST',
          path: '/v1/content',
          setupRequest: (request) => {
            const i = n++;
            const value = matching ? bankHashes[i % bankHashes.length] : hex(32);
            return { ...request, body: JSON.stringify({ content_id: `up-${i}`, account_id: `acct-${i % 5000}`, signals: [{ signal_type: 'pdq', value, quality: 90 }] }) };
          },
        },
      ],
    });
    const status = (await (await fetch(`${api.url}/v1/outbox/status`, { headers: { authorization: `Bearer ${API_KEY}` } })).json()) as { consumers: { behind: number }[] };
    const out: UploadResult = { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors + result.non2xx, behind: status.consumers.reduce((sum, c) => sum + c.behind, 0) };
    if (matching) {
      const matched = await run.count("SELECT count(*) AS n FROM events WHERE type = 'content.matched'");
      const casesSql = "SELECT count(*) AS n FROM cases WHERE subject_kind = 'content'";
      out.caseless = matched - (await run.count(casesSql));
      while ((await run.count(casesSql)) < matched && performance.now() - started < Number(values.seconds) * 1000 + DRAIN_LIMIT_MS) await new Promise((resolve) => setTimeout(resolve, 50));
      out.casesPerSecond = (await run.count(casesSql)) / ((performance.now() - started) / 1000);
    }
    return out;
  } finally {
    await run.close();
  }
}

const events = Number(values.events);
const single = Number(values['single-events']);
const batch = Number(values.batch);
const rows: string[][] = [];
for (const [perMessage, total] of values['skip-events'] ? [] : ([[batch, events], [1, single]] as const)) {
  for (const workers of [1, 2]) {
    console.log(`events: ${total.toLocaleString()} in messages of ${perMessage}, ${workers} worker process${workers > 1 ? 'es' : ''}…`);
    const { seconds, rate } = await eventRun(workers, total, perMessage);
    rows.push([`JetStream events, ${perMessage}/message`, `${workers} worker${workers > 1 ? 's' : ''}`, total.toLocaleString(), seconds.toFixed(1), Math.round(rate).toLocaleString(), '', '', '']);
  }
}
console.log(`uploads (no match): 1 api + 1 worker, ${values.connections} connections, ${values.seconds} s…`);
const plain = await uploadRun(false);
rows.push(['POST /v1/content, no match', '1 api + 1 worker', '', values.seconds!, Math.round(plain.rps).toLocaleString(), `${plain.p50} / ${plain.p99}`, `${plain.behind} behind, ${plain.errors} errors`, '']);
for (const workers of [1, 2]) {
  for (const pipeline of ['outbox', 'jetstream'] as const) {
    const processes = `1 api + ${workers} worker${workers > 1 ? 's' : ''}`;
    console.log(`uploads (all match), stages on the ${pipeline}: ${processes}, ${values.connections} connections, ${values.seconds} s…`);
    const result = await uploadRun(true, workers, pipeline);
    rows.push([
      `POST /v1/content, all match → case, stages on ${pipeline === 'outbox' ? 'the outbox' : `JetStream (${values['pipeline-partitions']} partitions)`}`,
      processes,
      '',
      values.seconds!,
      Math.round(result.rps).toLocaleString(),
      `${result.p50} / ${result.p99}`,
      `${result.caseless} matches without a case, ${result.behind} behind, ${result.errors} errors`,
      result.casesPerSecond === undefined ? '' : Math.round(result.casesPerSecond).toLocaleString(),
    ]);
  }
}
const header = ['what', 'processes', 'items', 'seconds', 'per second', 'p50 / p99 ms', 'after the load', 'cases/s'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
// Everything shares this machine's cores (PostgreSQL, nats-server, the processes, this load generator), so say how busy it was.
console.log(`\n${cpus().length} cores; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} (1, 5, 15 min) at the end`);
console.log(`\n${line(header)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n${rows.map(line).join('\n')}`);
