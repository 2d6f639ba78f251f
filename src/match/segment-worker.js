// The entry point of an index build thread. Workers start without the parent's TypeScript
// loader, so this plain module registers tsx before importing the build's code.
import { register } from 'tsx/esm/api';

register();
await import('./segment-worker.ts');
