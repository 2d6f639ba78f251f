/** The operator's side of publishing a feed from the command line: publish a bank, give a peer a feed key. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { openBulwark } from '../src/app.ts';

const repoRoot = resolve(import.meta.dirname, '..');

describe('publishing a feed from the command line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-feed-cli-'));
  const dataDir = join(dir, 'data');
  after(() => rmSync(dir, { recursive: true, force: true }));
  const run = (...args: string[]) => {
    const result = spawnSync(process.execPath, [join(repoRoot, 'bin', 'bulwark.js'), '--data-dir', dataDir, ...args], { encoding: 'utf8', cwd: dir });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  };

  it('publishes a bank and creates a feed key limited to it', async () => {
    // Each command opens the store anew: the bank is made in-process to keep the test to four of them.
    const setup = await openBulwark({ dataDir });
    await setup.banks.create('shared');
    await setup.banks.addEntry('shared', { signalType: 'md5', value: '0123456789abcdef0123456789abcdef', source: 'case:17' });
    await setup.close();
    const both = run('bank', 'update', 'shared', '--publish', '--unpublish');
    assert.equal(both.code, 2, both.stderr);
    assert.match(both.stderr, /--publish or --unpublish, not both/);
    const published = run('--json', 'bank', 'update', 'shared', '--publish');
    assert.equal(published.code, 0, published.stderr);
    assert.equal(JSON.parse(published.stdout).published, true);

    const created = run('--json', 'apikey', 'create', 'peer platform', '--feed-banks', 'shared');
    assert.equal(created.code, 0, created.stderr);
    const key = JSON.parse(created.stdout);
    assert.deepEqual({ scope: key.scope, feed_banks: key.feed_banks }, { scope: 'feed', feed_banks: ['shared'] });
    const listed = JSON.parse(run('--json', 'apikey', 'list').stdout);
    assert.deepEqual(listed.map((row: { name: string; scope: string }) => [row.name, row.scope]), [['peer platform', 'feed:shared']]);

    const bulwark = await openBulwark({ dataDir });
    try {
      assert.equal((await bulwark.apiKeys.create('operator')).info.scope, 'full', 'keys are full unless made for a feed');
      const peer = await bulwark.apiKeys.verify(key.key);
      const page = await bulwark.feeds.readPage('shared', peer, undefined);
      assert.deepEqual(page.items, [{ op: 'add', signal_type: 'md5', value: '0123456789abcdef0123456789abcdef', tags: [] }]);
    } finally {
      await bulwark.close();
    }
  });
});
