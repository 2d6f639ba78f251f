import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { NatsLink } from '../../src/distributed/connection.ts';
import { DeadLetters } from '../../src/distributed/dead-letters.ts';
import { type HashJobWorker, startHashJobWorker } from '../../src/distributed/hash-jobs/job-worker.ts';
import type { NatsSettings } from '../../src/distributed/settings.ts';
import { ensureStreams } from '../../src/distributed/streams.ts';
import type { MediaHashing } from '../../src/signals/hashing/media-hashing.ts';

/** A hash-job worker in this process, with its own NATS link, hashing in `hashing`. */
export async function hashJobWorkerHere(settings: NatsSettings, hashing: MediaHashing): Promise<{ worker: HashJobWorker; dead: DeadLetters; close(): Promise<void> }> {
  const link = new NatsLink(settings.url, `test-hash-worker-${process.pid}`);
  const nc = await link.ready;
  const jsm = await jetstreamManager(nc);
  await ensureStreams(jsm, settings);
  const js = jetstream(nc);
  const dead = new DeadLetters(js, jsm, settings);
  const worker = await startHashJobWorker(link, nc, js, jsm, hashing, dead, settings, () => undefined);
  return {
    worker,
    dead,
    close: async () => {
      await worker.stop();
      await link.close();
    },
  };
}

export interface WorkerProcess {
  child: ChildProcess;
  /** Resolves with the next line the process prints that starts with `prefix`. */
  line(prefix: string): Promise<string>;
  /** SIGKILL, as a crash; resolves once it has exited. */
  kill(): Promise<void>;
}

/**
 * A hash-job worker in a process of its own (test/fixtures/processes/hash-job-worker.ts).
 * `stall`: it takes jobs and never answers, printing `job <id>` for each, so a test can kill it mid-job.
 */
export function hashJobWorkerProcess(settings: NatsSettings, mode: 'pool' | 'stall', threads = 1): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('../fixtures/processes/hash-job-worker.ts', import.meta.url).pathname], {
    env: { ...process.env, TEST_NATS: JSON.stringify(settings), TEST_MODE: mode, TEST_HASH_THREADS: String(threads) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const waiting: { prefix: string; resolve(line: string): void }[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const index = waiting.findIndex((w) => line.startsWith(w.prefix));
    if (index >= 0) waiting.splice(index, 1)[0].resolve(line);
    else lines.push(line);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    line: (prefix) => {
      const index = lines.findIndex((line) => line.startsWith(prefix));
      if (index >= 0) return Promise.resolve(lines.splice(index, 1)[0]);
      return new Promise((resolve, reject) => {
        waiting.push({ prefix, resolve });
        void exited.then(() => reject(new Error(`the worker process exited before printing ${prefix}`)));
      });
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
