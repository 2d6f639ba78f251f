import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AuditKeyring, CheckpointSigner, newMacKey, newSigningKeyPem, parsePublicKey, parseSigningKey, TrustedCheckpointKeys } from './audit-keys.ts';
import type { BlobStore } from '../preservation/blob-store.ts';
import { blobStoreFromEnv } from '../preservation/config.ts';
import { BlobCheckpointSink, WebhookCheckpointSink } from './checkpoint-sinks.ts';
import { type CheckpointSink, FileCheckpointSink } from './checkpoints.ts';

type Env = Record<string, string | undefined>;

/** The audit log's keys and where its checkpoints go. Secrets come only from the environment (or, for the embedded store, key files beside it). */
export interface AuditConfig {
  /** HMAC key for new entries (BULWARK_AUDIT_KEY: 32 bytes, hex or base64). */
  key?: string;
  /** Keys of earlier entries, accepted when verifying (BULWARK_AUDIT_KEYS_PREVIOUS, comma- or space-separated). */
  previousKeys?: string[];
  /** Ed25519 private key that signs checkpoints (BULWARK_AUDIT_SIGNING_KEY: PEM, or the 32-byte seed in hex or base64). */
  signingKey?: string;
  /** More public keys whose checkpoints are believed, e.g. a rotated-out signing key (BULWARK_AUDIT_CHECKPOINT_KEYS). */
  checkpointKeys?: string[];
  /** Append-only JSON-lines file of checkpoints (BULWARK_AUDIT_CHECKPOINT_FILE). */
  checkpointFile?: string;
  /**
   * Also store checkpoints in the preservation blob store (BULWARK_AUDIT_CHECKPOINT_STORE=preservation):
   * S3-compatible storage when BULWARK_S3_ENDPOINT is set, else BULWARK_PRESERVATION_DIR.
   */
  checkpointBlobStore?: BlobStore;
  /** Also send checkpoints to a webhook (BULWARK_AUDIT_CHECKPOINT_WEBHOOK_URL, signed with BULWARK_AUDIT_CHECKPOINT_WEBHOOK_SECRET). */
  checkpointWebhook?: { url: string; secret: string };
  /** How often a server writes a checkpoint (BULWARK_AUDIT_CHECKPOINT_SECONDS, default 300). */
  checkpointIntervalMs?: number;
  /** Settings that fell back to files beside the embedded store, to say so at start. */
  defaulted?: string[];
}

const list = (text: string | undefined, separator = /[\s,]+/) => (text ?? '').split(separator).map((item) => item.trim()).filter(Boolean);

/** A key file beside the embedded store, created (mode 0600) with a fresh key the first time. */
async function keyFile(path: string, generate: () => string): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    const key = generate();
    await writeFile(path, `${key.trim()}\n`, { mode: 0o600, flag: 'wx' }).catch(async (raced: NodeJS.ErrnoException) => {
      if (raced.code !== 'EEXIST') throw raced;
    });
    return (await readFile(path, 'utf8')).trim();
  }
}

/**
 * The audit settings from the environment. On the embedded store (a data dir), what the
 * environment leaves unset defaults to files in `<data dir>/audit/`: `mac.key`,
 * `signing-key.pem` and `checkpoints.jsonl`. That makes the demo tamper-evident against edits
 * through the database alone; whoever can read the data dir has the keys too, so a real
 * deployment sets the keys in the environment and the checkpoint file on other storage.
 * On PostgreSQL nothing is defaulted: without keys the chain is unkeyed and no checkpoints are made.
 */
export async function auditConfigFromEnv(env: Env = process.env, dataDir?: string): Promise<AuditConfig> {
  const seconds = env.BULWARK_AUDIT_CHECKPOINT_SECONDS;
  if (seconds !== undefined && !/^\d+$/.test(seconds.trim())) throw new Error('BULWARK_AUDIT_CHECKPOINT_SECONDS is a whole number of seconds');
  const config: AuditConfig = {
    key: env.BULWARK_AUDIT_KEY || undefined,
    previousKeys: list(env.BULWARK_AUDIT_KEYS_PREVIOUS),
    signingKey: env.BULWARK_AUDIT_SIGNING_KEY || undefined,
    // PEM keys hold spaces and newlines, so several are separated by commas only.
    checkpointKeys: list(env.BULWARK_AUDIT_CHECKPOINT_KEYS, /,/),
    checkpointFile: env.BULWARK_AUDIT_CHECKPOINT_FILE || undefined,
    checkpointIntervalMs: seconds !== undefined ? Number(seconds) * 1000 : undefined,
    defaulted: [],
  };
  const store = env.BULWARK_AUDIT_CHECKPOINT_STORE;
  if (store) {
    if (store !== 'preservation') throw new Error('BULWARK_AUDIT_CHECKPOINT_STORE is `preservation` (the preservation blob store) or unset');
    config.checkpointBlobStore = blobStoreFromEnv(env, dataDir);
  }
  if (env.BULWARK_AUDIT_CHECKPOINT_WEBHOOK_URL) {
    const url = env.BULWARK_AUDIT_CHECKPOINT_WEBHOOK_URL;
    if (!/^https?:\/\//.test(url)) throw new Error('BULWARK_AUDIT_CHECKPOINT_WEBHOOK_URL is an http(s) URL');
    const secret = env.BULWARK_AUDIT_CHECKPOINT_WEBHOOK_SECRET;
    if (!secret) throw new Error('BULWARK_AUDIT_CHECKPOINT_WEBHOOK_SECRET is needed to sign checkpoints sent to BULWARK_AUDIT_CHECKPOINT_WEBHOOK_URL');
    config.checkpointWebhook = { url, secret };
  }
  if (dataDir) {
    const dir = join(dataDir, 'audit');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    if (!config.key) {
      config.key = await keyFile(join(dir, 'mac.key'), newMacKey);
      config.defaulted!.push(join(dir, 'mac.key'));
    }
    if (!config.signingKey) {
      config.signingKey = await keyFile(join(dir, 'signing-key.pem'), newSigningKeyPem);
      config.defaulted!.push(join(dir, 'signing-key.pem'));
    }
    if (!config.checkpointFile) {
      config.checkpointFile = join(dir, 'checkpoints.jsonl');
      config.defaulted!.push(config.checkpointFile);
    }
  }
  return config;
}

export interface AuditParts {
  keyring: AuditKeyring;
  signer?: CheckpointSigner;
  trusted: TrustedCheckpointKeys;
  sinks: CheckpointSink[];
}

/** Parses the keys (a malformed one stops start-up) and builds the sinks. */
export function auditParts(config: AuditConfig): AuditParts {
  const keyring = new AuditKeyring(config.key, config.previousKeys ?? []);
  const signer = config.signingKey ? new CheckpointSigner(parseSigningKey(config.signingKey)) : undefined;
  const trusted = new TrustedCheckpointKeys([...(signer ? [signer.publicKey] : []), ...(config.checkpointKeys ?? []).map((key) => parsePublicKey(key))]);
  const sinks: CheckpointSink[] = [];
  if (config.checkpointFile) sinks.push(new FileCheckpointSink(config.checkpointFile));
  if (config.checkpointBlobStore) sinks.push(new BlobCheckpointSink(config.checkpointBlobStore));
  if (config.checkpointWebhook) sinks.push(new WebhookCheckpointSink(config.checkpointWebhook.url, config.checkpointWebhook.secret));
  return { keyring, signer, trusted, sinks };
}

/** What protection is missing, one sentence each, for the start-up log and `verify`. */
export function auditWarnings(parts: AuditParts, config: AuditConfig): string[] {
  const warnings: string[] = [];
  if (!parts.keyring.current) warnings.push('no audit key (BULWARK_AUDIT_KEY): new entries are chained with plain SHA-256, which anyone who can write the database can recompute after changing an entry');
  if (!parts.signer) warnings.push('no checkpoint signing key (BULWARK_AUDIT_SIGNING_KEY): no checkpoints are made, so cutting off the newest entries goes unnoticed');
  else if (parts.sinks.length === 0) warnings.push('no checkpoint file, store or webhook (BULWARK_AUDIT_CHECKPOINT_FILE, _STORE, _WEBHOOK_URL): no checkpoints are exported, so cutting off the newest entries goes unnoticed');
  if (config.defaulted?.length) warnings.push(`audit keys and checkpoints default to files in the data dir (${config.defaulted.join(', ')}): they protect against changes made through the database only; set them in the environment and keep checkpoints on other storage for real use`);
  return warnings;
}
