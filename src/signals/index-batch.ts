import type { SignalIndex, SignalIndexBatch, SignalIndexEntry } from './types.ts';

/** The index's own batch, or one that applies its changes by add and remove when applied. */
export function batchOf(index: SignalIndex): SignalIndexBatch {
  const own = index.batch?.();
  if (own) return own;
  const added: SignalIndexEntry[] = [];
  const removed: number[] = [];
  return {
    get size() {
      return added.length + removed.length;
    },
    add: (entry) => void added.push(entry),
    remove: (entryId) => void removed.push(entryId),
    prepare: async () => undefined,
    apply: () => {
      for (const entry of added) index.add(entry);
      for (const entryId of removed) index.remove(entryId);
    },
  };
}
