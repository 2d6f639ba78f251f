import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, randomBytes, sign, verify } from 'node:crypto';
import { invalid } from '../errors.ts';

export interface MacKey {
  /** Derived from the key (a truncated SHA-256 under a label), so rotating needs no naming. */
  id: string;
  secret: Buffer;
}

/** 32 bytes, as 64 hex characters or base64 (either alphabet). */
export function parseSecret32(text: string, name: string): Buffer {
  const trimmed = text.trim();
  const bytes = /^[0-9a-f]{64}$/i.test(trimmed) ? Buffer.from(trimmed, 'hex') : /^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed) ? Buffer.from(trimmed, 'base64') : Buffer.alloc(0);
  if (bytes.length !== 32) throw invalid(`${name} must be 32 bytes, as 64 hex characters or base64`);
  return bytes;
}

export const macKeyId = (secret: Buffer) => createHash('sha256').update('bulwark audit MAC key\n').update(secret).digest('hex').slice(0, 16);

/**
 * The keys of the audit chain: the current one writes, every one verifies. Entries name the
 * key that chained them, so a rotated-out key stays usable for verification only.
 */
export class AuditKeyring {
  readonly current?: MacKey;
  private readonly byId = new Map<string, MacKey>();

  constructor(current?: string, previous: string[] = []) {
    if (current) this.current = this.add(current, 'BULWARK_AUDIT_KEY');
    for (const key of previous) this.add(key, 'BULWARK_AUDIT_KEYS_PREVIOUS');
  }

  private add(text: string, name: string): MacKey {
    const secret = parseSecret32(text, name);
    const key = { id: macKeyId(secret), secret };
    if (!this.byId.has(key.id)) this.byId.set(key.id, key);
    return key;
  }

  get(id: string): MacKey | undefined {
    return this.byId.get(id);
  }

  get ids(): string[] {
    return [...this.byId.keys()];
  }
}

export const newMacKey = () => randomBytes(32).toString('hex');

// Ed25519 keys in DER: a fixed prefix before the 32 raw bytes (RFC 8410).
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

/** An Ed25519 private key: PEM (PKCS #8), or its 32-byte seed as hex or base64. */
export function parseSigningKey(text: string, name = 'BULWARK_AUDIT_SIGNING_KEY'): KeyObject {
  const trimmed = text.trim();
  const key = trimmed.startsWith('-----BEGIN')
    ? createPrivateKey(trimmed)
    : createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, parseSecret32(trimmed, name)]), format: 'der', type: 'pkcs8' });
  if (key.asymmetricKeyType !== 'ed25519') throw invalid(`${name} must be an Ed25519 private key`);
  return key;
}

/** An Ed25519 public key: PEM (SPKI), or its 32 raw bytes as hex or base64. */
export function parsePublicKey(text: string, name = 'BULWARK_AUDIT_CHECKPOINT_KEYS'): KeyObject {
  const trimmed = text.trim();
  const key = trimmed.startsWith('-----BEGIN')
    ? createPublicKey(trimmed)
    : createPublicKey({ key: Buffer.concat([SPKI_ED25519, parseSecret32(trimmed, name)]), format: 'der', type: 'spki' });
  if (key.asymmetricKeyType !== 'ed25519') throw invalid(`${name} must be Ed25519 public keys`);
  return key;
}

const publicOf = (key: KeyObject) => (key.type === 'public' ? key : createPublicKey(key));

export const rawPublicKey = (key: KeyObject) => (publicOf(key).export({ format: 'der', type: 'spki' }) as Buffer).subarray(SPKI_ED25519.length);

export const publicKeyId = (key: KeyObject) => createHash('sha256').update(rawPublicKey(key)).digest('hex').slice(0, 16);

export function newSigningKeyPem(): string {
  return generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
}

/** Signs checkpoints with one private key. */
export class CheckpointSigner {
  readonly keyId: string;
  readonly publicKey: KeyObject;

  constructor(private readonly privateKey: KeyObject) {
    this.publicKey = createPublicKey(privateKey);
    this.keyId = publicKeyId(this.publicKey);
  }

  sign(message: Buffer): string {
    return sign(null, message, this.privateKey).toString('base64');
  }
}

/** The public keys whose checkpoints are believed. */
export class TrustedCheckpointKeys {
  private readonly byId = new Map<string, KeyObject>();

  constructor(keys: KeyObject[]) {
    for (const key of keys) this.byId.set(publicKeyId(key), publicOf(key));
  }

  has(keyId: string): boolean {
    return this.byId.has(keyId);
  }

  get size(): number {
    return this.byId.size;
  }

  verify(keyId: string, message: Buffer, signature: string): boolean {
    const key = this.byId.get(keyId);
    return key !== undefined && verify(null, message, key, Buffer.from(signature, 'base64'));
  }
}
