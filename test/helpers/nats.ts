import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

export interface NatsServer {
  url: string;
  /** Stops the server as a crash would (SIGKILL); its JetStream store stays for start(). */
  kill(): Promise<void>;
  /** Starts it again on the same port and store. */
  start(): Promise<void>;
  close(): Promise<void>;
}

const hasBinary = () => spawnSync('nats-server', ['--version'], { stdio: 'ignore' }).status === 0;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** True when a server answers at url and its account has JetStream (the JetStream API answers). */
export async function hasJetStream(url: string): Promise<boolean> {
  let nc;
  try {
    nc = await connect({ servers: url, timeout: 2000, reconnect: false });
  } catch {
    return false;
  }
  try {
    await (await jetstreamManager(nc, { timeout: 2000 })).getAccountInfo();
    return true;
  } catch {
    return false;
  } finally {
    await nc.close();
  }
}

/**
 * A nats-server with JetStream of the test's own, on a free port with a scratch store, so a
 * test can kill and restart it. Without the nats-server binary the test is skipped, except
 * in CI (CI=true), where that fails the run.
 */
export async function startNatsServer(): Promise<NatsServer | undefined> {
  if (!hasBinary()) {
    if (process.env.CI === 'true') throw new Error('nats-server is required in CI but is not installed');
    process.stderr.write('note: nats-server not installed; NATS tests are skipped\n');
    return undefined;
  }
  const port = await freePort();
  const store = await mkdtemp(join(tmpdir(), 'bulwark-nats-'));
  const url = `nats://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', store], { stdio: 'ignore' });
    const exited = new Promise<never>((_, fail) => child!.once('exit', (code) => fail(new Error(`nats-server exited with ${code}`))));
    exited.catch(() => undefined);
    // Ready once its JetStream API answers, not after some fixed time.
    while (!(await Promise.race([hasJetStream(url), exited]))) await new Promise((resolve) => setImmediate(resolve));
  };
  const kill = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const gone = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL');
    await gone;
  };
  await start();
  return { url, kill, start, close: async () => {
    await kill();
    await rm(store, { recursive: true, force: true });
  } };
}

/** A namespace of subjects and streams no other test uses. */
export const testNamespace = () => `t${randomBytes(5).toString('hex')}`;
