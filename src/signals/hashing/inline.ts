import { hashContent } from '../hash-content.ts';
import type { SignalRegistry } from '../registry.ts';
import type { ComputedSignal, HashOptions, MediaInput } from '../types.ts';
import type { HashingStats, MediaHashing } from './media-hashing.ts';

/**
 * Hashes on the calling thread. For one-off commands and tests: a server must not use it,
 * since a large image would hold up every other request while it decodes.
 */
export class InlineHashing implements MediaHashing {
  private running = 0;

  constructor(private readonly registry: SignalRegistry) {}

  async hash(contentType: string, media: MediaInput, options?: HashOptions): Promise<ComputedSignal[]> {
    this.running++;
    try {
      return await hashContent(this.registry, contentType, media, options);
    } finally {
      this.running--;
    }
  }

  stats(): HashingStats {
    return { mode: 'inline', workers: 0, running: this.running, queued: 0, maxQueue: 0, refused: 0, crashed: 0 };
  }

  async close(): Promise<void> {}
}
