/**
 * Hashing uploads in the api process (its worker threads) against sending them to hashing
 * worker processes over NATS JetStream (BULWARK_HASHING=jetstream), with 1 and 2 workers, in
 * one run. The same generated images (benign shapes, JPEG and PNG) are hashed by each, --concurrency
 * at a time as concurrent uploads would be; figures are images hashed per second as the api sees
 * them (send, hash, answer), not whole HTTP uploads.
 *
 *   npm run bench:remote-hashing -- [--images 300] [--concurrency 16] [--threads 2]
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { encodeImage, shapesImage } from '../src/demo/benign-images.ts';
import { JetStreamHashing } from '../src/distributed/hash-jobs/remote-hashing.ts';
import { DEFAULT_REMOTE_HASHING } from '../src/distributed/hash-jobs/settings.ts';
import { DEFAULT_NATS } from '../src/distributed/settings.ts';
import { defaultSignalRegistry } from '../src/signals/default-registry.ts';
import { InlineHashing } from '../src/signals/hashing/inline.ts';
import type { MediaHashing } from '../src/signals/hashing/media-hashing.ts';
import { WorkerPoolHashing } from '../src/signals/hashing/worker-pool.ts';
import { hashJobWorkerProcess, type WorkerProcess } from '../test/helpers/hash-job-workers.ts';
import { startNatsServer, testNamespace } from '../test/helpers/nats.ts';

const { values } = parseArgs({ options: { images: { type: 'string', default: '300' }, concurrency: { type: 'string', default: '16' }, threads: { type: 'string', default: String(availableParallelism()) } } });
const count = Number(values.images);
const concurrency = Number(values.concurrency);
const threads = Number(values.threads);

const images: Buffer[] = [];
for (let i = 0; i < count; i++) images.push(await encodeImage(shapesImage(1000 + i, 640 + (i % 5) * 160, 480 + (i % 3) * 120), i % 2 ? 'png' : 'jpeg'));
const megabytes = images.reduce((sum, image) => sum + image.length, 0) / 1e6;

/** Hashes every image, `concurrency` at a time; seconds taken. */
async function run(hashing: MediaHashing, list: Buffer[]): Promise<number> {
  const started = process.hrtime.bigint();
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < list.length) await hashing.hash('photo', list[next++]);
  }));
  return Number(process.hrtime.bigint() - started) / 1e9;
}

const rows: { what: string; processes: string; seconds: number }[] = [];
// Threads start on the first jobs: a warm-up of a few images before each measured run.
const warmUp = images.slice(0, 2 * threads);

const pool = new WorkerPoolHashing({ workers: threads, maxQueue: concurrency });
await run(pool, warmUp);
rows.push({ what: 'local: api worker threads', processes: `1 api (${threads} threads)`, seconds: await run(pool, images) });
await pool.close();

const nats = await startNatsServer();
if (!nats) throw new Error('nats-server is needed for this benchmark');
const local = new InlineHashing(defaultSignalRegistry());
try {
  for (const workers of [1, 2]) {
    const settings = { ...DEFAULT_NATS, url: nats.url, namespace: testNamespace() };
    const processes: WorkerProcess[] = Array.from({ length: workers }, () => hashJobWorkerProcess(settings, 'pool', threads));
    await Promise.all(processes.map((worker) => worker.line('ready')));
    const api = new JetStreamHashing(local, { ...DEFAULT_REMOTE_HASHING, nats: settings, fallback: 'refuse', maxInFlight: concurrency });
    while (!api.stats().jetstream!.ready) await new Promise((resolve) => setTimeout(resolve, 20));
    await run(api, warmUp.concat(warmUp));
    rows.push({ what: 'jetstream: worker processes', processes: `1 api + ${workers} worker${workers > 1 ? 's' : ''} (${threads} threads each)`, seconds: await run(api, images) });
    const stats = api.stats().jetstream!;
    if (stats.fallbacks > 0) throw new Error(`${stats.fallbacks} jobs fell back: the figures would not be remote hashing`);
    await api.close();
    await Promise.all(processes.map((worker) => worker.kill()));
  }
} finally {
  await local.close();
  await nats.close();
}

const [one, five, fifteen] = loadavg().map((value) => value.toFixed(1));
console.log(`${cpus().length} cores; ${count} images (${megabytes.toFixed(1)} MB), ${concurrency} at a time; load average ${one} ${five} ${fifteen} at the end\n`);
console.log('| hashing                      | processes                          | seconds | images/s | vs local |');
console.log('|------------------------------|------------------------------------|---------|----------|----------|');
const reference = count / rows[0].seconds;
for (const row of rows) {
  const rate = count / row.seconds;
  console.log(`| ${row.what.padEnd(28)} | ${row.processes.padEnd(34)} | ${row.seconds.toFixed(1).padStart(7)} | ${rate.toFixed(0).padStart(8)} | ${(rate / reference).toFixed(2).padStart(8)} |`);
}
