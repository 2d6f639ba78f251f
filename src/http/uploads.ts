import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { IncomingHttpHeaders } from 'node:http';
import { BulwarkError, invalid } from '../errors.ts';
import { DEFAULT_MAX_VIDEO_BYTES } from '../signals/vpdq/options.ts';

/** An upload written to a private temporary file, to be hashed from disk and then removed. */
export interface SpooledUpload {
  path: string;
  bytes: number;
  remove(): Promise<void>;
}

const tooLarge = (maxBytes: number) => new BulwarkError('too_large', `the upload exceeds the limit of ${maxBytes} bytes`, { max_bytes: maxBytes });

/**
 * Streams a request body to a temporary file, never holding it in memory whole (videos run
 * to gigabytes). More than maxBytes is refused as too large and nothing is kept. A body whose
 * declared length (the request's Content-Length) is already over the limit is refused before
 * a byte is read, so a client waiting for "100 Continue" gets the 413 instead and never sends
 * it (expect-continue.ts).
 */
export async function spoolUpload(body: Readable, maxBytes: number, declaredLength?: string | number): Promise<SpooledUpload> {
  const declared = declaredLength === undefined || declaredLength === '' ? NaN : Number(declaredLength);
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);
  const dir = await mkdtemp(join(tmpdir(), 'bulwark-upload-'));
  const remove = () => rm(dir, { recursive: true, force: true });
  const path = join(dir, 'media');
  let bytes = 0;
  const limit = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      if (bytes > maxBytes) done(tooLarge(maxBytes));
      else done(null, chunk);
    },
  });
  try {
    await pipeline(body, limit, createWriteStream(path, { mode: 0o600 }));
  } catch (error) {
    await remove();
    if (error instanceof BulwarkError) throw error;
    throw invalid('the upload ended before it was complete');
  }
  if (bytes === 0) {
    await remove();
    throw invalid('media is empty (0 bytes)');
  }
  return { path, bytes, remove };
}

/**
 * A video/* request body, streamed to a temporary file under the video size limit (default
 * 1 GiB), handed to `use` as a path, and removed afterwards whatever happens. Only videos
 * come this way: pictures arrive buffered, under the server's much smaller body limit.
 */
export async function withSpooledVideo<T>(body: Readable, headers: IncomingHttpHeaders, maxBytes: number | undefined, use: (path: string) => Promise<T>): Promise<T> {
  const upload = await spoolUpload(body, maxBytes ?? DEFAULT_MAX_VIDEO_BYTES, headers['content-length']);
  try {
    return await use(upload.path);
  } finally {
    await upload.remove();
  }
}
