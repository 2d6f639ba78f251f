import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { type MergeTask, mergeAndBuild } from './hash-segments.ts';

// A build can wait; queries cannot. On Linux a thread's nice value is its own, so this lowers
// only the build's claim on a core shared with the thread that answers queries.
try {
  setPriority(10);
} catch {
  // Not permitted or not supported here: the build runs at the ordinary priority.
}

// One merge per thread: the thread is started for the build and ended after it, so an idle
// server holds no build thread and no memory of a past build.
parentPort!.once('message', (task: MergeTask) => {
  const output = mergeAndBuild(task);
  // Hashes and ids sit on shared memory and need no transfer; the tables move without a copy.
  const transfer = output.tables ? [output.tables.offsets.buffer as ArrayBuffer, output.tables.entries.buffer as ArrayBuffer] : [];
  parentPort!.postMessage(output, transfer);
});
