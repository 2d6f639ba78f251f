import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { BulwarkError, invalid } from '../errors.ts';

/** AES-256-GCM output: 12-byte nonce, ciphertext, 16-byte tag. */
export interface Sealed {
  nonce: Buffer;
  sealed: Buffer;
  tag: Buffer;
}

export function seal(key: Buffer, plaintext: Buffer, associatedData: string): Sealed {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  // Associated data binds the ciphertext to its place: moved to another record it does not open.
  cipher.setAAD(Buffer.from(associatedData));
  const sealed = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { nonce, sealed, tag: cipher.getAuthTag() };
}

export function open(key: Buffer, box: Sealed, associatedData: string): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, box.nonce);
  decipher.setAAD(Buffer.from(associatedData));
  decipher.setAuthTag(box.tag);
  return Buffer.concat([decipher.update(box.sealed), decipher.final()]);
}

/** nonce ‖ sealed ‖ tag in one buffer, for blobs and wrapped keys. */
export function pack(box: Sealed): Buffer {
  return Buffer.concat([box.nonce, box.sealed, box.tag]);
}

export function unpack(bytes: Buffer): Sealed {
  if (bytes.length < 28) throw invalid('sealed data is truncated');
  return { nonce: bytes.subarray(0, 12), sealed: bytes.subarray(12, bytes.length - 16), tag: bytes.subarray(bytes.length - 16) };
}

/** 32 bytes, as 64 hex characters or base64; `name` says which setting was wrong. */
export function parseKeyText(text: string, name: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-f]{64}$/i.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (key.length !== 32) throw invalid(`${name} must be 32 bytes, as 64 hex characters or base64`);
  return key;
}

/** A key's id: a short digest that names it in stored rows without revealing it. */
export const keyIdOf = (key: Buffer) => createHash('sha256').update('bulwark-preservation-kek').update(key).digest('hex').slice(0, 16);

export interface WrappedKey {
  kekId: string;
  wrapped: Buffer;
}

/**
 * The key-encryption keys: the current one wraps every new record's data key; old ones are
 * kept only to unwrap records sealed before a rotation, until they are re-wrapped.
 */
export class KeyRing {
  private readonly keys = new Map<string, Buffer>();
  readonly currentId: string | undefined;

  constructor(current: string | undefined, old: string[] = []) {
    if (current !== undefined && current.trim() !== '') {
      const key = parseKeyText(current, 'the preservation key (BULWARK_PRESERVATION_KEY)');
      this.currentId = keyIdOf(key);
      this.keys.set(this.currentId, key);
    }
    for (const text of old) {
      if (text.trim() === '') continue;
      const key = parseKeyText(text, 'each old preservation key (BULWARK_PRESERVATION_OLD_KEYS)');
      const id = keyIdOf(key);
      if (!this.keys.has(id)) this.keys.set(id, key);
    }
  }

  get configured(): boolean {
    return this.currentId !== undefined;
  }

  /** Refuses clearly when no key is configured: evidence is never kept unencrypted. */
  assertConfigured(): void {
    if (!this.configured) {
      throw new BulwarkError(
        'unavailable',
        'evidence preservation needs an encryption key: set BULWARK_PRESERVATION_KEY to 32 random bytes (64 hex characters or base64); nothing was preserved',
      );
    }
  }

  wrap(dataKey: Buffer, recordId: number): WrappedKey {
    this.assertConfigured();
    const kekId = this.currentId!;
    return { kekId, wrapped: pack(seal(this.keys.get(kekId)!, dataKey, `preservation-key:${recordId}:${kekId}`)) };
  }

  unwrap(wrapped: WrappedKey, recordId: number): Buffer {
    const kek = this.keys.get(wrapped.kekId);
    if (!kek) {
      throw new BulwarkError(
        'unavailable',
        `preservation record ${recordId} is sealed under key ${wrapped.kekId}, which is neither BULWARK_PRESERVATION_KEY nor one of BULWARK_PRESERVATION_OLD_KEYS`,
        { record_id: recordId, key_id: wrapped.kekId },
      );
    }
    try {
      return open(kek, unpack(wrapped.wrapped), `preservation-key:${recordId}:${wrapped.kekId}`);
    } catch (error) {
      if (error instanceof BulwarkError) throw error;
      throw new BulwarkError('unavailable', `the data key of preservation record ${recordId} does not open: it was altered or moved`, { record_id: recordId });
    }
  }
}
