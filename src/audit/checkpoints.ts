import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { CheckpointSigner, TrustedCheckpointKeys } from './audit-keys.ts';

/**
 * A signed statement of the chain's head, in the manner of a transparency log's signed tree
 * head: "this log had `count` entries, the last being `headSeq` with link value `head`, at
 * `at`". Kept outside the database, it turns truncation and rewriting into a mismatch.
 */
export interface Checkpoint {
  count: number;
  headSeq: number;
  head: string;
  at: string;
  /** The signing key's id: a truncated SHA-256 of its raw public key. */
  keyId: string;
  signature: string;
}

/** What the signature covers: a fixed label and every field, one a line. */
export const checkpointMessage = (c: Omit<Checkpoint, 'keyId' | 'signature'> & { keyId: string }) =>
  Buffer.from(`bulwark audit checkpoint v1\n${c.keyId}\n${c.count}\n${c.headSeq}\n${c.head}\n${c.at}\n`);

export function signCheckpoint(signer: CheckpointSigner, head: { count: number; headSeq: number; head: string }, at: Date): Checkpoint {
  const unsigned = { ...head, at: at.toISOString(), keyId: signer.keyId };
  return { ...unsigned, signature: signer.sign(checkpointMessage(unsigned)) };
}

export const checkpointJson = (c: Checkpoint) =>
  JSON.stringify({ v: 1, count: c.count, head_seq: c.headSeq, head: c.head, at: c.at, key_id: c.keyId, signature: c.signature });

export interface ParsedCheckpoint extends Checkpoint {
  /** Where it came from, e.g. `checkpoints.jsonl:12`. */
  source: string;
}

export interface CheckpointProblem {
  source: string;
  reason: string;
}

/** Parses one checkpoint and checks its signature against the trusted keys. */
export function readCheckpoint(text: string, source: string, trusted: TrustedCheckpointKeys): ParsedCheckpoint | CheckpointProblem {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { source, reason: 'not JSON' };
  }
  const { count, head_seq: headSeq, head, at, key_id: keyId, signature } = raw ?? {};
  if (raw?.v !== 1 || !Number.isSafeInteger(count) || (count as number) < 1 || !Number.isSafeInteger(headSeq) || typeof head !== 'string' || typeof at !== 'string' || typeof keyId !== 'string' || typeof signature !== 'string') {
    return { source, reason: 'not a version 1 checkpoint' };
  }
  const checkpoint = { count: count as number, headSeq: headSeq as number, head, at, keyId, signature };
  if (!trusted.has(keyId)) return { source, reason: `signed by key ${keyId}, which is not a trusted checkpoint key` };
  if (!trusted.verify(keyId, checkpointMessage(checkpoint), signature)) return { source, reason: `signature does not verify under key ${keyId}` };
  return { ...checkpoint, source };
}

/** Every non-empty line of a JSON-lines file, each parsed and checked. */
export async function readCheckpointFile(path: string, trusted: TrustedCheckpointKeys): Promise<(ParsedCheckpoint | CheckpointProblem)[]> {
  const lines = (await readFile(path, 'utf8')).split('\n');
  return lines.flatMap((line, index) => (line.trim() === '' ? [] : [readCheckpoint(line, `${path}:${index + 1}`, trusted)]));
}

export const isProblem = (c: ParsedCheckpoint | CheckpointProblem): c is CheckpointProblem => 'reason' in c;

/** Somewhere checkpoints go that the database's writers cannot change. */
export interface CheckpointSink {
  readonly name: string;
  append(checkpoint: Checkpoint): Promise<void>;
  /** Every stored checkpoint line, oldest first, unparsed. */
  lines(): Promise<{ text: string; source: string }[]>;
}

/**
 * Appends one JSON line per checkpoint (O_APPEND, fsync). Put it on storage the database's
 * users cannot rewrite: another host, a volume mounted append-only (`chattr +a`), or a file
 * shipped off the machine by the log collector.
 */
export class FileCheckpointSink implements CheckpointSink {
  constructor(readonly path: string) {}

  get name(): string {
    return this.path;
  }

  async append(checkpoint: Checkpoint): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const handle = await open(this.path, 'a', 0o600);
    try {
      await handle.write(`${checkpointJson(checkpoint)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  async lines(): Promise<{ text: string; source: string }[]> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    return text.split('\n').flatMap((line, index) => (line.trim() === '' ? [] : [{ text: line, source: `${this.path}:${index + 1}` }]));
  }
}
