import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { randomPdq } from './helpers/fake-exchange.ts';

const repoRoot = resolve(import.meta.dirname, '..');

describe('bulwark exchange (command line)', () => {
  let dir: string;
  const [kept, dropped] = [randomPdq(), randomPdq()];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'bulwark-cli-exchange-'));
    writeFileSync(join(dir, 'list.txt'), `pdq ${kept}\npdq ${dropped}\npdq not-a-hash\n`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const run = (...args: string[]) => {
    const result = spawnSync(process.execPath, [join(repoRoot, 'bin', 'bulwark.js'), '--data-dir', join(dir, 'data'), ...args], {
      encoding: 'utf8',
      cwd: dir,
      env: { ...process.env, BULWARK_EXCHANGE_FILE_DIR: dir },
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  };

  it('adds a file exchange, fetches it, shows its status, and removes it', () => {
    const added = run('--json', 'exchange', 'add', 'local', '--type', 'file', '--bank', 'local', '--path', join(dir, 'list.txt'), '--tag', 'partner');
    assert.equal(added.code, 0, added.stderr);
    assert.deepEqual(JSON.parse(added.stdout).config, { path: join(dir, 'list.txt'), tags: ['partner'] });
    const fetched = run('--json', 'exchange', 'fetch', 'local');
    assert.equal(fetched.code, 0, fetched.stderr);
    assert.deepEqual(JSON.parse(fetched.stdout), { exchange: 'local', pages: 1, items: 2, skipped: 1, entries_added: 2, entries_removed: 0, error: null, stopped: false });
    writeFileSync(join(dir, 'list.txt'), `pdq ${kept}\n`);
    assert.equal(JSON.parse(run('--json', 'exchange', 'fetch', 'local').stdout).entries_removed, 1);
    const status = run('exchange', 'status', 'local');
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /1 live, 1 deleted/);
    assert.match(status.stdout, /pdq not-a-hash: signals\[0\]: invalid pdq value/);
    const exported = run('bank', 'export', 'local');
    assert.match(exported.stdout, new RegExp(kept));
    assert.doesNotMatch(exported.stdout, new RegExp(dropped));
    assert.equal(run('exchange', 'remove', 'local').code, 0);
    assert.equal(run('exchange', 'status', 'local').code, 3, 'gone: not found');
  });

  it('refuses a bad configuration with the invalid exit code, naming the field', () => {
    const refused = run('exchange', 'add', 'bad', '--type', 'file', '--bank', 'b', '--url', 'ftp://example.invalid/list');
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /config\.url/);
  });
});
