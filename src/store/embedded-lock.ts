import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, realpathSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { BulwarkError } from '../errors.ts';

/**
 * PGlite is PostgreSQL compiled into this process: two processes opening the same data
 * dir each keep their own copy of the database in memory and overwrite each other's
 * files, so writes vanish and reads miss rows. A lock file in the data dir keeps it to
 * one process at a time.
 *
 * The lock file is only ever created whole (a fully written and synced file is hard-linked
 * into place, which fails if one is already there), so a reader never sees half a record.
 * A process that dies without releasing it leaves a stale lock; the next process sees the
 * pid is gone and takes over, replacing the record in one rename so there is no moment
 * without a lock for a third process to slip into.
 */
export const LOCK_FILE = 'bulwark.lock';

interface LockRecord {
  pid: number;
  /** Worker threads share the pid, and each has its own list of the locks it holds. */
  thread?: number;
  /** The command line, so the error can say what to stop. */
  command: string;
  host: string;
  /** With the process start below, tells a live owner from a later process given the same pid. */
  boot_id?: string;
  process_start?: string;
  /** Unique per lock taken: a takeover replaces only the very record it judged stale. */
  token: string;
  opened_at: string;
  /** Where a server listens, once it does: other processes are pointed at its API. */
  address?: string;
}

export interface EmbeddedStoreLock {
  readonly path: string;
  release(): void;
}

export class EmbeddedStoreInUseError extends BulwarkError {
  constructor(dataDir: string, lockPath: string, holder: LockRecord | undefined, reason: 'running' | 'elsewhere' | 'unreadable' | 'this process') {
    super('unavailable', inUseMessage(dataDir, lockPath, holder, reason), {
      data_dir: dataDir,
      lock_file: lockPath,
      ...(holder ? { pid: holder.pid, command: holder.command, host: holder.host, ...(holder.address ? { address: holder.address } : {}) } : {}),
    });
    this.name = 'EmbeddedStoreInUseError';
  }
}

function inUseMessage(dataDir: string, lockPath: string, holder: LockRecord | undefined, reason: string): string {
  const head = `the embedded store in ${dataDir} is in use`;
  const why = 'It can be open in only one process at a time (PGlite is a single-process database), so a second one would lose or misread data.';
  const postgres = 'or use PostgreSQL (--database-url) to share one store between processes';
  if (reason === 'this process') return `${head} by this process already. ${why}`;
  if (!holder) return `${head}: its lock file ${lockPath} cannot be read. ${why} If no Bulwark process uses this data dir, delete that file.`;
  if (reason === 'elsewhere') {
    return `${head} by pid ${holder.pid} on host ${holder.host}, \`${holder.command}\`. ${why} Stop it first, ${postgres}. If it is no longer running there, delete ${lockPath}.`;
  }
  if (holder.address) {
    return `${head} by another process: pid ${holder.pid}, \`${holder.command}\` at ${holder.address}. ${why} Stop that server first, or do this through its HTTP API (${holder.address}/openapi.json lists it), ${postgres}.`;
  }
  return `${head} by another process: pid ${holder.pid}, \`${holder.command}\`. ${why} Let it finish or stop it, ${postgres}.`;
}

const held = new Map<string, { path: string; record: LockRecord }>();

export function lockEmbeddedStore(dataDir: string): EmbeddedStoreLock {
  mkdirSync(dataDir, { recursive: true });
  const dir = realpathSync(dataDir);
  const path = join(dir, LOCK_FILE);
  if (held.has(dir)) throw new EmbeddedStoreInUseError(dir, path, held.get(dir)!.record, 'this process');
  const record = ownRecord();
  const staged = stage(dir, record);
  try {
    for (let attempt = 0; attempt < 100; attempt++) {
      if (createOnly(staged, path)) return hold(dir, path, record);
      const current = readRecord(path);
      if (current === 'missing') continue;
      if (current === 'unreadable') throw new EmbeddedStoreInUseError(dir, path, undefined, 'unreadable');
      const state = ownerState(current);
      if (state === 'alive') throw new EmbeddedStoreInUseError(dir, path, current, 'running');
      if (state === 'unknown') throw new EmbeddedStoreInUseError(dir, path, current, 'elsewhere');
      if (takeOver(dir, path, current, staged)) return hold(dir, path, record);
      // Another process is taking over the same stale lock; its outcome decides ours.
      pause(10);
    }
    throw new Error(`could not take the lock ${path}: it kept changing`);
  } finally {
    removeQuietly(staged);
  }
}

/** A server records where it listens, so a process refused the store can be pointed at its API. */
export function recordServerAddress(address: string): void {
  for (const lock of held.values()) {
    if (readRecordIn(lock.path)?.token !== lock.record.token) continue;
    lock.record.address = address;
    let staged: string | undefined;
    try {
      staged = stage(dirname(lock.path), lock.record);
      // Only this process replaces a live lock, so a rename over our own record is safe.
      renameSync(staged, lock.path);
    } catch {
      // The lock holds without the address; the refusal then just names no API to use.
      if (staged) removeQuietly(staged);
    }
  }
}

function hold(dir: string, path: string, record: LockRecord): EmbeddedStoreLock {
  if (held.size === 0) watchExit();
  held.set(dir, { path, record });
  let released = false;
  return {
    path,
    release: () => {
      if (released) return;
      released = true;
      if (held.get(dir)?.record === record) held.delete(dir);
      if (held.size === 0) unwatchExit();
      // Never delete a lock that is no longer ours (taken over after a long stall, or removed by hand).
      if (readRecordIn(path)?.token === record.token) removeQuietly(path);
    },
  };
}

function releaseAll(): void {
  for (const [dir, lock] of [...held]) {
    held.delete(dir);
    if (readRecordIn(lock.path)?.token === lock.record.token) removeQuietly(lock.path);
  }
  unwatchExit();
}

// A signal nobody else handles ends the process without 'exit' handlers; release first,
// then die of the same signal so the exit status stays what the shell expects. When
// someone else listens (bulwark serve), that listener owns shutdown and closes the store.
const onSignal = (signal: NodeJS.Signals) => {
  if (process.listenerCount(signal) > 1) return;
  releaseAll();
  process.kill(process.pid, signal);
};

function watchExit(): void {
  process.on('exit', releaseAll);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

function unwatchExit(): void {
  process.off('exit', releaseAll);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
}

function ownRecord(): LockRecord {
  return {
    pid: process.pid,
    thread: threadId,
    command: commandLine(),
    host: hostname(),
    ...optional('boot_id', bootId()),
    ...optional('process_start', processStart(process.pid)),
    token: randomBytes(12).toString('hex'),
    opened_at: new Date().toISOString(),
  };
}

const optional = <K extends string>(key: K, value: string | undefined) => (value ? { [key]: value } : {}) as Partial<Record<K, string>>;

function commandLine(): string {
  const [, script = '', ...args] = process.argv;
  const name = basename(script) === 'bulwark.js' ? 'bulwark' : basename(script);
  // The data dir is in the message already; without it the command reads as typed, `bulwark serve`.
  const shown = args.filter((arg, i) => !arg.startsWith('--data-dir=') && arg !== '--data-dir' && args[i - 1] !== '--data-dir');
  const line = [name, ...shown].join(' ');
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

/** Writes the record to a fresh file beside the lock, synced, ready to be linked or renamed into place. */
function stage(dir: string, record: LockRecord): string {
  const staged = join(dir, `${LOCK_FILE}.${process.pid}.${randomBytes(6).toString('hex')}`);
  const fd = openSync(staged, 'wx', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(record)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return staged;
}

function createOnly(staged: string, path: string): boolean {
  try {
    linkSync(staged, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/**
 * Replaces a stale record with ours. Two processes could both judge the same record stale;
 * the takeover marker (created like the lock) lets only one of them replace it, and that
 * one checks the record is still the stale one before it does.
 */
function takeOver(dir: string, path: string, stale: LockRecord, staged: string): boolean {
  const marker = join(dir, `${LOCK_FILE}.takeover`);
  if (!createOnly(staged, marker)) {
    const taker = readRecord(marker);
    // A taker that died mid-takeover (a few system calls long) would block everyone for good.
    if (taker === 'unreadable' || (taker !== 'missing' && ownerState(taker) === 'dead')) removeQuietly(marker);
    return false;
  }
  try {
    const current = readRecord(path);
    if (current === 'missing' || current === 'unreadable' || current.token !== stale.token) return false;
    renameSync(staged, path);
    return true;
  } finally {
    removeQuietly(marker);
  }
}

/** Whether the process that wrote a record still runs; 'unknown' when it ran on another host. */
function ownerState(record: LockRecord): 'alive' | 'dead' | 'unknown' {
  if (record.host !== hostname()) return 'unknown';
  const boot = bootId();
  if (record.boot_id && boot && record.boot_id !== boot) return 'dead';
  // Our own pid in a lock this thread does not hold: an earlier process that had it (a
  // container restarts as pid 1 again), unless another thread of this process took it.
  if (record.pid === process.pid) return (record.thread ?? 0) === threadId ? 'dead' : 'alive';
  try {
    process.kill(record.pid, 0);
  } catch (error) {
    // EPERM: it exists, under another user.
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return 'dead';
  }
  const start = record.process_start ? processStart(record.pid) : undefined;
  if (start && start !== record.process_start) return 'dead';
  return 'alive';
}

function readRecord(path: string): LockRecord | 'missing' | 'unreadable' {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw error;
  }
  try {
    const record = JSON.parse(text) as LockRecord;
    if (!Number.isSafeInteger(record.pid) || record.pid <= 0 || typeof record.token !== 'string' || typeof record.host !== 'string') return 'unreadable';
    return { ...record, command: String(record.command ?? 'unknown command') };
  } catch {
    return 'unreadable';
  }
}

function readRecordIn(path: string): LockRecord | undefined {
  try {
    const record = readRecord(path);
    return typeof record === 'string' ? undefined : record;
  } catch {
    return undefined;
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone (renamed into place, or released).
  }
}

/** Linux only: a reboot gives every pid a new life. */
function bootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Linux only: the process's start time in clock ticks since boot, field 22 of /proc/<pid>/stat. */
function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses; fields after the last ')' do not.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
