import { BulwarkError } from '../errors.ts';
import type { SignalRegistry } from './registry.ts';
import type { ComputedSignal, HashOptions } from './types.ts';

/** Runs every hasher registered for the content type over the bytes. */
export async function hashContent(
  registry: SignalRegistry,
  contentType: string,
  bytes: Buffer,
  options: HashOptions = {},
): Promise<ComputedSignal[]> {
  if (bytes.length === 0) throw new BulwarkError('invalid', 'media is empty (0 bytes)');
  const hashers = registry.hashersFor(contentType);
  if (hashers.length === 0) throw new BulwarkError('invalid', `no hasher handles content type ${JSON.stringify(contentType)}`);
  const results = await Promise.all(hashers.map((hasher) => hasher.hash(bytes, options)));
  return results.flat();
}
