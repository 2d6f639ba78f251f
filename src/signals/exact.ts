import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { ComputedSignal, ContentHasher, SignalHit, SignalIndex, SignalIndexBatch, SignalIndexEntry, SignalQuery, SignalType } from './types.ts';
import { describeHexProblem } from './hex.ts';
import { InvalidSignalError } from './types.ts';

/** Index for exact-match signal types: value → entry ids. */
export class ExactValueIndex implements SignalIndex {
  private idsByValue = new Map<string, number[]>();
  private valueById = new Map<number, string>();
  /** Bumped by every change, so a batch can tell whether the maps it copied are still current. */
  private version = 0;

  constructor(entries: Iterable<SignalIndexEntry> = []) {
    for (const entry of entries) this.add(entry);
  }

  get size(): number {
    return this.valueById.size;
  }

  add(entry: SignalIndexEntry): void {
    if (this.valueById.has(entry.entryId)) return;
    this.version++;
    this.valueById.set(entry.entryId, entry.value);
    const ids = this.idsByValue.get(entry.value);
    // A new array rather than a push: a batch being prepared may share the old one.
    this.idsByValue.set(entry.value, ids ? [...ids, entry.entryId] : [entry.entryId]);
  }

  remove(entryId: number): void {
    const value = this.valueById.get(entryId);
    if (value === undefined) return;
    this.version++;
    this.valueById.delete(entryId);
    const remaining = (this.idsByValue.get(value) ?? []).filter((id) => id !== entryId);
    if (remaining.length > 0) this.idsByValue.set(value, remaining);
    else this.idsByValue.delete(value);
  }

  search(query: SignalQuery): SignalHit[] {
    return (this.idsByValue.get(query.value) ?? []).map((entryId) => ({ entryId, distance: 0 }));
  }

  batch(): SignalIndexBatch {
    return new ExactBatch(this, (next, version) => {
      if (version !== this.version) return false;
      this.idsByValue = next.idsByValue;
      this.valueById = next.valueById;
      this.version++;
      return true;
    }, () => ({ idsByValue: this.idsByValue, valueById: this.valueById, version: this.version }));
  }
}

/** Beyond this many additions, adding them in place at apply would hold up searches for too long. */
const IN_PLACE_LIMIT = 50_000;
/** Map operations between two yields to the event loop while a large batch is prepared. */
const SLICE = 50_000;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

type ExactMaps = { idsByValue: Map<string, number[]>; valueById: Map<number, string> };

/**
 * A small batch is added in place when applied. A large one copies the index's maps and adds
 * to the copy in slices, yielding to searches between them; apply() then swaps the copy in,
 * unless the index changed meanwhile, when it falls back to adding in place.
 */
class ExactBatch implements SignalIndexBatch {
  private readonly added: SignalIndexEntry[] = [];
  private readonly removed: number[] = [];
  private prepared: { maps: ExactMaps; version: number } | undefined;

  constructor(
    private readonly index: ExactValueIndex,
    private readonly swap: (next: ExactMaps, version: number) => boolean,
    private readonly current: () => ExactMaps & { version: number },
  ) {}

  get size(): number {
    return this.added.length + this.removed.length;
  }

  add(entry: SignalIndexEntry): void {
    this.added.push(entry);
  }

  remove(entryId: number): void {
    this.removed.push(entryId);
  }

  async prepare(): Promise<void> {
    if (this.added.length <= IN_PLACE_LIMIT) return;
    const { idsByValue, valueById, version } = this.current();
    const maps: ExactMaps = { idsByValue: new Map(), valueById: new Map() };
    let done = 0;
    for (const [value, ids] of idsByValue) {
      maps.idsByValue.set(value, ids);
      if (++done % SLICE === 0) await nextTurn();
    }
    for (const [id, value] of valueById) {
      maps.valueById.set(id, value);
      if (++done % SLICE === 0) await nextTurn();
    }
    for (const entry of this.added) {
      if (!maps.valueById.has(entry.entryId)) {
        maps.valueById.set(entry.entryId, entry.value);
        const ids = maps.idsByValue.get(entry.value);
        maps.idsByValue.set(entry.value, ids ? [...ids, entry.entryId] : [entry.entryId]);
      }
      if (++done % SLICE === 0) await nextTurn();
    }
    this.prepared = { maps, version };
  }

  apply(): void {
    if (!this.prepared || !this.swap(this.prepared.maps, this.prepared.version)) for (const entry of this.added) this.index.add(entry);
    for (const entryId of this.removed) this.index.remove(entryId);
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
