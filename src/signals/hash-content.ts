import { readFile, stat } from 'node:fs/promises';
import { BulwarkError } from '../errors.ts';
import type { SignalRegistry } from './registry.ts';
import type { ComputedSignal, ContentHasher, HashOptions, MediaInput } from './types.ts';

/** Runs every hasher registered for the content type over the media, in memory or on disk. */
export async function hashContent(
  registry: SignalRegistry,
  contentType: string,
  media: MediaInput,
  options: HashOptions = {},
): Promise<ComputedSignal[]> {
  const size = Buffer.isBuffer(media) ? media.length : (await stat(media.path)).size;
  if (size === 0) throw new BulwarkError('invalid', 'media is empty (0 bytes)');
  const hashers = registry.hashersFor(contentType);
  if (hashers.length === 0) throw new BulwarkError('invalid', `no hasher handles content type ${JSON.stringify(contentType)}`);
  let bytes: Promise<Buffer> | undefined;
  const run = (hasher: ContentHasher): Promise<ComputedSignal[]> => {
    if (Buffer.isBuffer(media)) return hasher.hash(media, options);
    if (hasher.hashFile) return hasher.hashFile(media.path, options);
    // Read once, however many hashers need the bytes.
    bytes ??= readFile(media.path);
    return bytes.then((buffer) => hasher.hash(buffer, options));
  };
  const results = await Promise.all(hashers.map(run));
  return results.flat();
}
