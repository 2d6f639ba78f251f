#!/usr/bin/env -S GLIBC_TUNABLES=glibc.malloc.hugetlb=1 node
// The tunable lets glibc ask for transparent huge pages on large allocations (the kernel's
// default "madvise" mode grants them only when asked): the match index's random reads then
// miss the TLB far less often; bench/match-index.ts prints whether they were granted.
// npm start and npm run demo run this file directly so the setting lives here only.
// Runs the TypeScript sources directly (through tsx) so a fresh clone needs no build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
