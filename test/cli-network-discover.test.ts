import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openBulwark } from '../src/app.ts';
import { seedlessPlatform } from './helpers/seedless-platform.ts';

const repoRoot = resolve(import.meta.dirname, '..');

/** One command-line process (each takes seconds to open the store): the store is filled in-process first. */
describe('bulwark network discover', () => {
  const platform = seedlessPlatform({ background: 600, seed: 3 });
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bulwark-cli-discover-'));
    const bulwark = await openBulwark({ dataDir: join(dir, 'data') });
    for (const list of platform.termLists) await bulwark.terms.replace(list.name, list.action, list.terms);
    for (let start = 0; start < platform.events.length; start += 5000) await bulwark.platformEvents.ingest(platform.events.slice(start, start + 5000));
    await bulwark.close();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('finds the planted networks as candidates and prints them as JSON', () => {
    const result = spawnSync(process.execPath, [join(repoRoot, 'bin', 'bulwark.js'), '--data-dir', join(dir, 'data'), '--json', 'network', 'discover', '--min-candidate-size', '5'], {
      encoding: 'utf8',
      cwd: dir,
    });
    assert.equal(result.status, 0, result.stderr);
    const summary = JSON.parse(result.stdout);
    assert.equal(summary.runId, 1);
    assert.ok(summary.candidates.length >= 2, result.stdout);
    assert.ok(summary.candidates.every((c: { text: string }) => /not confirmed/.test(c.text)));
    assert.ok(summary.candidates.some((c: { text: string }) => c.text.includes('offsite.example/alpha-shop')), 'the star is found by its shared link');
    assert.ok(summary.stats.termMatchedAccounts > 0);
  });
});
