import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { ComputedSignal, ContentHasher, SignalHit, SignalIndex, SignalIndexEntry, SignalQuery, SignalType } from './types.ts';
import { describeHexProblem } from './hex.ts';
import { InvalidSignalError } from './types.ts';

/** Index for exact-match signal types: value → entry ids. */
export class ExactValueIndex implements SignalIndex {
  private readonly idsByValue = new Map<string, number[]>();
  private readonly valueById = new Map<number, string>();

  constructor(entries: Iterable<SignalIndexEntry> = []) {
    for (const entry of entries) this.add(entry);
  }

  get size(): number {
    return this.valueById.size;
  }

  add(entry: SignalIndexEntry): void {
    if (this.valueById.has(entry.entryId)) return;
    this.valueById.set(entry.entryId, entry.value);
    const ids = this.idsByValue.get(entry.value);
    if (ids) ids.push(entry.entryId);
    else this.idsByValue.set(entry.value, [entry.entryId]);
  }

  remove(entryId: number): void {
    const value = this.valueById.get(entryId);
    if (value === undefined) return;
    this.valueById.delete(entryId);
    const remaining = (this.idsByValue.get(value) ?? []).filter((id) => id !== entryId);
    if (remaining.length > 0) this.idsByValue.set(value, remaining);
    else this.idsByValue.delete(value);
  }

  search(query: SignalQuery): SignalHit[] {
    return (this.idsByValue.get(query.value) ?? []).map((entryId) => ({ entryId, distance: 0 }));
  }
}

/** A cryptographic digest of the content's bytes, written as lowercase hex. */
export class DigestSignalType implements SignalType {
  readonly matching = 'exact' as const;
  readonly defaultMaxDistance = 0;

  constructor(
    readonly name: string,
    readonly description: string,
    readonly algorithm: string,
    private readonly hexLength: number,
  ) {}

  normalize(raw: string): string {
    const value = raw.trim().toLowerCase();
    const problem = describeHexProblem(value, this.hexLength);
    if (problem) throw new InvalidSignalError(this.name, problem);
    return value;
  }

  createIndex(entries: Iterable<SignalIndexEntry>): SignalIndex {
    return new ExactValueIndex(entries);
  }

  digest(bytes: Buffer): string {
    return createHash(this.algorithm).update(bytes).digest('hex');
  }
}

export const md5SignalType = new DigestSignalType('md5', 'MD5 digest of the file bytes (exact match)', 'md5', 32);
export const sha256SignalType = new DigestSignalType('sha256', 'SHA-256 digest of the file bytes (exact match)', 'sha256', 64);

/** Digests of the raw bytes: they apply to any content type. */
export class DigestHasher implements ContentHasher {
  readonly name = 'digests';
  readonly contentTypes = ['photo', 'video', 'file'] as const;
  readonly signalTypes: readonly string[];

  constructor(private readonly types: readonly DigestSignalType[] = [md5SignalType, sha256SignalType]) {
    this.signalTypes = types.map((type) => type.name);
  }

  async hash(bytes: Buffer): Promise<ComputedSignal[]> {
    return this.types.map((type) => ({ signalType: type.name, value: type.digest(bytes) }));
  }

  /** Digests a file read once, in chunks: a video is never held in memory whole. */
  async hashFile(path: string): Promise<ComputedSignal[]> {
    const digests = this.types.map((type) => createHash(type.algorithm));
    for await (const chunk of createReadStream(path)) for (const digest of digests) digest.update(chunk as Buffer);
    return this.types.map((type, i) => ({ signalType: type.name, value: digests[i].digest('hex') }));
  }
}
