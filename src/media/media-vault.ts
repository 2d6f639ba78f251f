import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { invalid } from '../errors.ts';
import type { SqlClient } from '../store/sql.ts';

/**
 * Media that reviewers must see is kept sealed with AES-256-GCM under a key from the
 * environment (BULWARK_MEDIA_KEY), so a copy of the database alone shows nothing. Without a
 * key Bulwark keeps no media at all, and reviewers see hashes and what the platform holds.
 */
export class MediaVault {
  private readonly key: Buffer;
  readonly keyId: string;

  constructor(key: string) {
    this.key = parseKey(key);
    this.keyId = createHash('sha256').update(this.key).digest('hex').slice(0, 12);
  }

  async store(tx: SqlClient, contentId: string, mediaType: string, media: Buffer): Promise<void> {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    // The content id is bound in as associated data: sealed bytes moved to another row do not open.
    cipher.setAAD(Buffer.from(contentId));
    const sealed = Buffer.concat([cipher.update(media), cipher.final()]);
    await tx.query(
      `INSERT INTO content_media (content_id, media_type, nonce, sealed, tag, key_id) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (content_id) DO NOTHING`,
      [contentId, mediaType, nonce, sealed, cipher.getAuthTag(), this.keyId],
    );
  }

  async has(client: SqlClient, contentId: string): Promise<boolean> {
    const result = await client.query('SELECT 1 FROM content_media WHERE content_id = $1', [contentId]);
    return result.rows.length > 0;
  }

  /** The media and its type, or undefined when none is kept or it was sealed under another key. */
  async open(client: SqlClient, contentId: string): Promise<{ mediaType: string; media: Buffer } | undefined> {
    const result = await client.query<{ media_type: string; nonce: Uint8Array; sealed: Uint8Array; tag: Uint8Array; key_id: string }>(
      'SELECT media_type, nonce, sealed, tag, key_id FROM content_media WHERE content_id = $1',
      [contentId],
    );
    const row = result.rows[0];
    if (!row || row.key_id !== this.keyId) return undefined;
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(row.nonce));
    decipher.setAAD(Buffer.from(contentId));
    decipher.setAuthTag(Buffer.from(row.tag));
    return { mediaType: row.media_type, media: Buffer.concat([decipher.update(Buffer.from(row.sealed)), decipher.final()]) };
  }
}

/** 32 bytes, as 64 hex characters or base64. */
function parseKey(text: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-f]{64}$/i.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (key.length !== 32) throw invalid('the media key (BULWARK_MEDIA_KEY) must be 32 bytes, as 64 hex characters or base64');
  return key;
}

/** The image type by its magic bytes; reviewers' browsers need it to show the media. */
export function sniffMediaType(media: Buffer): string {
  if (media.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (media[0] === 0xff && media[1] === 0xd8) return 'image/jpeg';
  if (media.subarray(0, 4).toString('latin1') === 'RIFF' && media.subarray(8, 12).toString('latin1') === 'WEBP') return 'image/webp';
  if (media.subarray(0, 4).toString('latin1') === 'GIF8') return 'image/gif';
  const tiff = media.subarray(0, 4).toString('hex');
  if (tiff === '49492a00' || tiff === '4d4d002a') return 'image/tiff';
  return 'application/octet-stream';
}
