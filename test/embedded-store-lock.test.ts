import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LOCK_FILE } from '../src/store/embedded-lock.ts';

const repoRoot = resolve(import.meta.dirname, '..');
const bulwarkJs = join(repoRoot, 'bin', 'bulwark.js');
const API_KEY = 'lock-test-key-0123456789abcdef0123456789';

// The children see none of the caller's BULWARK_* settings; hashing inline spares the shared CPU.
const childEnv = {
  ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('BULWARK_') && name !== 'PORT')),
  BULWARK_HASH_WORKERS: '0',
  BULWARK_LOG_LEVEL: 'warn',
};

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Everything a child printed, once it has exited. */
function finished(child: ChildProcess): Promise<Finished> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((done, fail) => {
    child.once('error', fail);
    child.once('close', (code, signal) => done({ code, signal, stdout, stderr }));
  });
}

/** Resolves with the match once the child has printed the pattern; rejects if it exits first. */
function printed(child: ChildProcess, stream: 'stdout' | 'stderr', pattern: RegExp): Promise<RegExpMatchArray> {
  let text = '';
  return new Promise((done, fail) => {
    const onData = (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const match = text.match(pattern);
      if (match) {
        child[stream]!.off('data', onData);
        child.off('close', onClose);
        done(match);
      }
    };
    const onClose = (code: number | null) => fail(new Error(`exited (${code}) before printing ${pattern}:\n${text}`));
    child[stream]!.on('data', onData);
    child.once('close', onClose);
  });
}

const bulwark = (dataDir: string, args: string[], env: Record<string, string> = {}) =>
  spawn(process.execPath, [bulwarkJs, '--data-dir', dataDir, ...args], { cwd: repoRoot, env: { ...childEnv, ...env } });
const run = (dataDir: string, ...args: string[]) => finished(bulwark(dataDir, args));
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A pid that surely belonged to a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await finished(child);
  return child.pid!;
}

function writeLock(dataDir: string, record: Record<string, unknown>): string {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, LOCK_FILE);
  writeFileSync(path, `${JSON.stringify({ host: hostname(), token: `written-by-test-${Math.random()}`, opened_at: new Date().toISOString(), ...record })}\n`);
  return path;
}

describe('the embedded store is held by one process at a time', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'bulwark-lock-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a second process while bulwark serve holds the store, naming the server, and the server keeps working', async () => {
    const dataDir = join(dir, 'served');
    const created = await run(dataDir, 'bank', 'create', 'known');
    assert.equal(created.code, 0, created.stderr);

    const server = bulwark(dataDir, ['serve', '--port', '0'], { BULWARK_API_KEY: API_KEY });
    const exited = finished(server);
    try {
      const [, address] = await printed(server, 'stderr', /listening on (http:\/\/[^\s]+) /);
      assert.equal(JSON.parse(readFileSync(join(dataDir, LOCK_FILE), 'utf8')).address, address, 'the lock says where the server listens');

      const refused = await run(dataDir, 'bank', 'add', 'known', 'md5', 'a'.repeat(32));
      assert.equal(refused.code, 6, refused.stderr);
      assert.match(refused.stderr, new RegExp(`in use by another process: pid ${server.pid}, \`bulwark serve --port 0\` at ${escape(address)}\\.`));
      assert.match(refused.stderr, /only one process at a time .* would lose or misread data/);
      assert.match(refused.stderr, new RegExp(`Stop that server first, or do this through its HTTP API \\(${escape(address)}/openapi\\.json lists it\\), or use PostgreSQL \\(--database-url\\)`));

      const key = await run(dataDir, '--json', 'apikey', 'create', 'made-beside-the-server');
      assert.equal(key.code, 6, key.stderr);
      const { error } = JSON.parse(key.stdout);
      assert.equal(error.kind, 'unavailable');
      assert.equal(error.details.pid, server.pid);
      assert.equal(error.details.address, address);

      // The server was not disturbed: it still reads what was there and writes what it is sent.
      const headers = { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' };
      const banks = await fetch(`${address}/v1/banks`, { headers });
      assert.equal(banks.status, 200);
      assert.deepEqual(((await banks.json()) as { banks: { name: string }[] }).banks.map((bank) => bank.name), ['known']);
      const added = await fetch(`${address}/v1/banks/known/entries`, { method: 'POST', headers, body: JSON.stringify({ signal_type: 'md5', value: 'b'.repeat(32) }) });
      assert.equal(added.status, 201, await added.clone().text());
    } finally {
      server.kill('SIGTERM');
    }
    const stopped = await exited;
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.equal(existsSync(join(dataDir, LOCK_FILE)), false, 'released when the server stops');

    // What the server wrote is on disk, and the refused command wrote nothing.
    const exported = await run(dataDir, 'bank', 'export', 'known', '--format', 'csv');
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stdout, new RegExp('b'.repeat(32)));
    assert.doesNotMatch(exported.stdout, new RegExp('a'.repeat(32)));
  });

  it('takes over a lock left by a process that died, and releases it when done', async () => {
    const dataDir = join(dir, 'stale');
    const lock = writeLock(dataDir, { pid: await deadPid(), command: 'bulwark serve', address: 'http://127.0.0.1:9' });
    const created = await run(dataDir, '--json', 'bank', 'create', 'after-a-crash');
    assert.equal(created.code, 0, created.stderr);
    assert.equal(JSON.parse(created.stdout).name, 'after-a-crash');
    assert.equal(existsSync(lock), false);
  });

  it('names a live holder that is not a server, and refuses a lock file it cannot read', async () => {
    const dataDir = join(dir, 'busy');
    // This test's own process stands in for a long `bank import`: it is alive and holds no server.
    const lock = writeLock(dataDir, { pid: process.pid, command: 'bulwark bank import known big.csv' });
    const before = readFileSync(lock, 'utf8');
    const refused = await run(dataDir, 'bank', 'list');
    assert.equal(refused.code, 6, refused.stderr);
    assert.match(refused.stderr, new RegExp(`in use by another process: pid ${process.pid}, \`bulwark bank import known big\\.csv\`\\. `));
    assert.match(refused.stderr, /Let it finish or stop it, or use PostgreSQL \(--database-url\)/);
    assert.equal(readFileSync(lock, 'utf8'), before, 'a live holder’s lock is left alone');

    writeFileSync(lock, 'not a lock record');
    const unreadable = await run(dataDir, 'bank', 'list');
    assert.equal(unreadable.code, 6, unreadable.stderr);
    assert.match(unreadable.stderr, new RegExp(`its lock file ${escape(lock)} cannot be read.*delete that file`));
  });

  it('lets exactly one of several processes take over the same stale lock', async () => {
    const dataDir = join(dir, 'race');
    writeLock(dataDir, { pid: await deadPid(), command: 'bulwark serve' });
    // Each child tries the lock, says how it went, and holds what it got until its stdin closes.
    const script = `
      const { lockEmbeddedStore } = await import(process.argv[1]);
      try { lockEmbeddedStore(process.argv[2]); console.log('got'); }
      catch (error) { console.log('refused: ' + error.message); }
      process.stdin.resume();
      process.stdin.on('end', () => process.exit(0));`;
    const children = Array.from({ length: 4 }, () =>
      spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, join(repoRoot, 'src', 'store', 'embedded-lock.ts'), dataDir], { cwd: repoRoot, env: childEnv }),
    );
    const exits = children.map(finished);
    const answers = await Promise.all(children.map((child) => printed(child, 'stdout', /^(got|refused: .*)\n/)));
    for (const child of children) child.stdin!.end();
    await Promise.all(exits);
    const winners = children.filter((_, i) => answers[i][1] === 'got');
    assert.equal(winners.length, 1, answers.map((answer) => answer[1]).join('\n'));
    for (const answer of answers) if (answer[1] !== 'got') assert.match(answer[1], new RegExp(`pid ${winners[0].pid}, `));
    assert.equal(existsSync(join(dataDir, LOCK_FILE)), false, 'released when the holder exits');
  });
});

describe('bulwark serve and demo on a port in use', () => {
  let dir: string;
  const holder = createServer();
  let port: number;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bulwark-port-'));
    await new Promise<void>((done) => holder.listen(0, '127.0.0.1', done));
    port = (holder.address() as { port: number }).port;
  });
  after(async () => {
    await new Promise<void>((done) => holder.close(() => done()));
    rmSync(dir, { recursive: true, force: true });
  });

  const hint = () => new RegExp(`bulwark: cannot listen on 127\\.0\\.0\\.1:${port}: the port is already in use .*; choose another with --port <n> or the PORT environment variable\\n`);

  it('serve exits non-zero with a hint naming --port, having closed the store it opened', async () => {
    const dataDir = join(dir, 'data');
    const result = await run(dataDir, 'serve', '--port', String(port));
    assert.equal(result.code, 6, result.stderr);
    assert.match(result.stderr, hint());
    assert.equal(existsSync(join(dataDir, LOCK_FILE)), false, 'the store was closed, its lock released');
  });

  it('demo exits non-zero with the same hint', async () => {
    const result = await finished(spawn(process.execPath, [bulwarkJs, 'demo', '--dir', join(dir, 'demo'), '--port', String(port)], { cwd: dir, env: childEnv }));
    assert.equal(result.code, 6, result.stderr);
    assert.match(result.stderr, hint());
  });
});
