import { IDEMPOTENCY_HEADER, SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from '../actions/signature.ts';
import type { BlobStore } from '../preservation/blob-store.ts';
import { type Checkpoint, checkpointJson, type CheckpointSink } from './checkpoints.ts';

const PREFIX = 'audit-checkpoints';
/** Wide enough that object names sort in count order for a billion entries and more. */
const countKey = (count: number) => `${PREFIX}/${String(count).padStart(15, '0')}.json`;
const LATEST = `${PREFIX}/latest.json`;

/**
 * Checkpoints as objects in a blob store (the preservation store: S3-compatible storage or a
 * folder), one object per checkpoint named by its entry count, plus `latest.json`. Point it at
 * a bucket with object lock (WORM) or another account's storage, so whoever can write the
 * database cannot rewrite them. Blob stores here cannot list, so `lines()` gives the latest
 * one, which is what verification and the next checkpoint start from.
 */
export class BlobCheckpointSink implements CheckpointSink {
  constructor(private readonly store: BlobStore) {}

  get name(): string {
    return `${this.store.kind} blob store (${PREFIX}/)`;
  }

  async append(checkpoint: Checkpoint): Promise<void> {
    const body = Buffer.from(`${checkpointJson(checkpoint)}\n`);
    // The numbered object first: if the pointer write fails, the checkpoint still exists.
    await this.store.put(countKey(checkpoint.count), body);
    await this.store.put(LATEST, body);
  }

  async lines(): Promise<{ text: string; source: string }[]> {
    const latest = await this.store.get(LATEST);
    return latest ? [{ text: latest.toString('utf8').trim(), source: `${this.name} ${LATEST}` }] : [];
  }
}

/**
 * Checkpoints sent to a webhook (a log collector, a notary service, a partner who keeps them),
 * signed like enforcement webhooks (X-Bulwark-Signature over timestamp and body) with an
 * Idempotency-Key of the count and head, so a resend is recognisable. Write-only: verifying
 * against them means asking the receiver for its copy (`verify --checkpoint FILE`).
 */
export class WebhookCheckpointSink implements CheckpointSink {
  constructor(
    private readonly url: string,
    private readonly secret: string,
    private readonly fetchFn: typeof fetch = fetch,
    private readonly now: () => Date = () => new Date(),
  ) {}

  get name(): string {
    return `webhook ${new URL(this.url).origin}`;
  }

  async append(checkpoint: Checkpoint): Promise<void> {
    const body = checkpointJson(checkpoint);
    const timestamp = Math.floor(this.now().getTime() / 1000);
    const response = await this.fetchFn(this.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [TIMESTAMP_HEADER]: String(timestamp),
        [SIGNATURE_HEADER]: signWebhook(this.secret, timestamp, body),
        [IDEMPOTENCY_HEADER]: `audit-checkpoint-${checkpoint.count}-${checkpoint.head.slice(0, 16)}`,
      },
      body,
    });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`the checkpoint webhook answered ${response.status}`);
  }

  async lines(): Promise<{ text: string; source: string }[]> {
    return [];
  }
}
