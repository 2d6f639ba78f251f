import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Role } from '../../src/distributed/settings.ts';

const BIN = fileURLToPath(new URL('../../bin/bulwark.js', import.meta.url));

export interface BulwarkProcess {
  role: Role;
  /** The HTTP API's address (api, all) or the worker's health address. */
  url: string;
  child: ChildProcess;
  /** Everything it wrote to stderr, to show when a test fails. */
  log(): string;
  /** kill -9: no chance to finish a transaction or ack a message. */
  crash(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * `bulwark serve --role <role>` (on PostgreSQL, or for role all the embedded store in dataDir) as a child process on a free port, resolved once it says it
 * is listening (api) or running (worker).
 */
export async function startBulwarkProcess(
  role: Role,
  options: ({ databaseUrl: string } | { dataDir: string }) & { natsUrl?: string; env?: NodeJS.ProcessEnv },
): Promise<BulwarkProcess> {
  const store = 'databaseUrl' in options ? ['--database-url', options.databaseUrl] : ['--data-dir', options.dataDir];
  const args = [BIN, ...store, 'serve', '--role', role, '--port', '0', ...(role === 'worker' ? ['--health-port', '0'] : [])];
  if (options.natsUrl) args.push('--nats-url', options.natsUrl);
  const child = spawn(process.execPath, args, { env: { ...process.env, BULWARK_LOG_LEVEL: 'warn', ...options.env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      stderr += chunk;
      const found = /listening on (http:\/\/\S+)/.exec(stderr) ?? /worker running \(health: (http:\/\/\S+)\/healthz\)/.exec(stderr);
      if (found) resolve(found[1]);
    });
    void exited.then((code) => reject(new Error(`bulwark serve --role ${role} exited with ${code} before it was ready:\n${stderr}`)));
  });
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    await exited;
  };
  return { role, url, child, log: () => stderr, crash: () => end('SIGKILL'), stop: () => end('SIGTERM') };
}
