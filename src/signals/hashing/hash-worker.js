// The entry point of a hashing worker thread. Workers start without the parent's TypeScript
// loader, so this plain module registers tsx before importing the job's code.
import { register } from 'tsx/esm/api';

register();
const { runHashJob } = await import('./hash-worker.ts');

export default runHashJob;
