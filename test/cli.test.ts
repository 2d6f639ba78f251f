import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { encodeImage, shapesImage } from '../src/demo/benign-images.ts';

const repoRoot = resolve(import.meta.dirname, '..');
const vectors = resolve(repoRoot, '..', 'shared', 'pdq-vectors');

describe('bulwark command line', () => {
  let dir: string;
  let dataDir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bulwark-cli-'));
    dataDir = join(dir, 'data');
    mkdirSync(join(dir, 'images', 'nested'), { recursive: true });
    writeFileSync(join(dir, 'images', 'a.png'), await encodeImage(shapesImage(11, 300, 200), 'png'));
    writeFileSync(join(dir, 'images', 'nested', 'b.jpg'), await encodeImage(shapesImage(12, 300, 200), 'jpeg'));
    writeFileSync(join(dir, 'images', 'notes.txt'), 'not an image, and not walked');
    writeFileSync(join(dir, 'broken.png'), Buffer.from('not really a png'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const run = (...args: string[]) => {
    const result = spawnSync(process.execPath, [join(repoRoot, 'bin', 'bulwark.js'), '--data-dir', dataDir, ...args], { encoding: 'utf8', cwd: dir });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  const jsonLines = (text: string) => text.trim().split('\n').map((line) => JSON.parse(line));

  it('lists every subcommand in --help', () => {
    const help = run('--help');
    assert.equal(help.code, 0);
    for (const command of ['serve', 'demo', 'hash', 'match', 'bank', 'events', 'terms', 'account', 'network', 'audit', 'apikey', 'reviewer', 'cases', 'audit-log', 'notices', 'trusted-flagger', 'appeals', 'actions', 'rules', 'migrate']) {
      assert.match(help.stdout, new RegExp(`\\b${command}\\b`));
    }
  });

  it('loads a rule file, creates a reviewer with a password shown once, and verifies the audit log', () => {
    const loaded = run('--json', 'rules', 'load', join(repoRoot, 'test', 'fixtures', 'rules', 'example.yaml'));
    assert.equal(loaded.code, 0, loaded.stderr);
    assert.deepEqual(JSON.parse(loaded.stdout).queues, ['known-media', 'networks', 'accounts', 'reports']);
    const broken = join(dir, 'broken-rules.yaml');
    writeFileSync(broken, 'version: 1\nqueues: []\nrules:\n  - id: x\n    on: content.matched\n    then: { case: { queue: nowhere } }\n');
    const refused = run('rules', 'load', broken);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /broken-rules\.yaml:6:\d+/);
    const created = run('--json', 'reviewer', 'create', 'cli-reviewer', '--role', 'lead', '--team', 'known-media-specialists');
    assert.equal(created.code, 0, created.stderr);
    const reviewer = JSON.parse(created.stdout);
    assert.equal(reviewer.role, 'lead');
    assert.ok(reviewer.password.length >= 16, 'a generated password is printed once');
    assert.equal(run('reviewer', 'create', 'cli-reviewer').code, 4, 'a duplicate is a conflict');
    const queues = JSON.parse(run('--json', 'cases', 'queues').stdout);
    assert.deepEqual(queues.map((q: { name: string }) => q.name), ['accounts', 'appeals', 'bank-entries', 'escalations', 'known-media', 'networks', 'notices', 'reports']);
    const verified = run('--json', 'audit-log', 'verify');
    assert.equal(verified.code, 0, verified.stderr);
    assert.equal(JSON.parse(verified.stdout).intact, true);
  });

  it('hashes reference images as the reference does, one JSON object per file', () => {
    const result = run('--json', 'hash', join(vectors, 'misc-images', 'c.png'));
    assert.equal(result.code, 0, result.stderr);
    const [row] = jsonLines(result.stdout);
    // The full-resolution reference (../shared/pdq-vectors/expected-fullres.tsv).
    assert.equal(row.pdq, 'e64cc9d91c623882f8d1f1d9a398e78c9f199b3bd83924f2b7e11e0bf861b064');
    assert.equal(row.pdq_quality, 100);
    assert.deepEqual(Object.keys(row).sort(), ['file', 'md5', 'pdq', 'pdq_quality', 'sha256']);
    const bytes = readFileSync(join(vectors, 'misc-images', 'c.png'));
    assert.equal(row.sha256, createHash('sha256').update(bytes).digest('hex'));
    assert.equal(row.md5, createHash('md5').update(bytes).digest('hex'));
  });

  it('walks directories for images and reports files it cannot hash without stopping', () => {
    const result = run('hash', '--json', join(dir, 'images'), join(dir, 'broken.png'));
    assert.equal(result.code, 2);
    const rows = jsonLines(result.stdout);
    assert.deepEqual(rows.map((row) => row.file.slice(dir.length + 1)), ['images/a.png', 'images/nested/b.jpg', 'broken.png']);
    assert.match(rows[2].error, /not a supported image/i);
    assert.match(result.stderr, /1 of 3 files could not be hashed/);
  });

  it('creates a bank, imports a list, matches against it and exports it', async () => {
    assert.equal(run('bank', 'create', 'known', '--description', 'benign test list').code, 0);
    const hashes = jsonLines(run('--json', 'hash', join(dir, 'images', 'a.png')).stdout);
    writeFileSync(join(dir, 'list.csv'), `signal_type,value,source,tags\npdq,${hashes[0].pdq},unit,alpha;beta\nmd5,${hashes[0].md5},unit,\n`);
    const imported = run('--json', 'bank', 'import', 'known', join(dir, 'list.csv'));
    assert.equal(imported.code, 0, imported.stderr);
    assert.deepEqual(JSON.parse(imported.stdout), { bank: 'known', import_id: 1, rows_read: 2, rows_added: 2, rows_duplicate: 0 });

    writeFileSync(join(dir, 'near.jpg'), await sharp(join(dir, 'images', 'a.png')).resize(220).jpeg({ quality: 70 }).toBuffer());
    const matched = run('--json', 'match', join(dir, 'near.jpg'), join(dir, 'images', 'nested', 'b.jpg'));
    assert.equal(matched.code, 0, matched.stderr);
    const [near, other] = jsonLines(matched.stdout);
    assert.equal(near.matched, true);
    assert.equal(near.matches[0].bank, 'known');
    assert.ok(near.matches[0].distance <= 31);
    assert.deepEqual(near.matches[0].tags, ['alpha', 'beta']);
    assert.equal(other.matched, false);

    const exported = run('bank', 'export', 'known', '--format', 'csv');
    assert.equal(exported.stdout.trim().split('\n').length, 3);
    const listed = JSON.parse(run('--json', 'bank', 'list').stdout);
    assert.deepEqual(listed[0].entry_counts, { pdq: 1, md5: 1 });
  });

  it('refuses a bad import with the line and leaves the bank as it was', () => {
    writeFileSync(join(dir, 'bad.tsv'), `md5\t${'a'.repeat(32)}\nmd5\t${'b'.repeat(31)}\n`);
    const result = run('bank', 'import', 'known', join(dir, 'bad.tsv'));
    assert.equal(result.code, 2);
    assert.match(result.stderr, /line 2: invalid md5 value: expected 32 hex digits, got 31 characters/);
    assert.deepEqual(JSON.parse(run('--json', 'bank', 'list').stdout)[0].entry_counts, { pdq: 1, md5: 1 });
  });

  it('answers unknown banks and duplicates with clear errors and exit codes', () => {
    const missing = run('bank', 'add', 'nope', 'md5', 'c'.repeat(32));
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /no bank named "nope"/);
    assert.equal(run('bank', 'add', 'known', 'md5', 'c'.repeat(32)).code, 0);
    const duplicate = run('--json', 'bank', 'add', 'known', 'md5', 'C'.repeat(32));
    assert.equal(duplicate.code, 4);
    assert.equal(JSON.parse(duplicate.stdout).error.kind, 'conflict');
  });

  it('disables and re-enables an entry, and sets a bank’s kind, share of traffic and flood limit', () => {
    const added = JSON.parse(run('--json', 'bank', 'add', 'known', 'md5', 'd'.repeat(32)).stdout);
    const disabled = run('--json', 'bank', 'disable-entry', 'known', String(added.id), '--reason', 'false positive in a test', '--for', '2h');
    assert.equal(disabled.code, 0, disabled.stderr);
    const entry = JSON.parse(disabled.stdout);
    assert.equal(entry.disabled_reason, 'false positive in a test');
    assert.ok(Date.parse(entry.disabled_until) > Date.now() + 3600_000, 'two hours from now');
    const bankNamed = (name: string) => JSON.parse(run('--json', 'bank', 'list').stdout).find((bank: { name: string }) => bank.name === name);
    assert.equal(run('bank', 'disable-entry', 'known', String(added.id), '--reason', 'x', '--for', 'soon').code, 2, 'a bad duration is refused');
    const enabled = run('--json', 'bank', 'enable-entry', 'known', String(added.id));
    assert.equal(enabled.code, 0, enabled.stderr);
    assert.equal(JSON.parse(enabled.stdout).disabled_until, null);
    const updated = run('--json', 'bank', 'update', 'known', '--enabled-ratio', '0.25', '--flood-limit', '50', '--kind', 'allow');
    assert.equal(updated.code, 0, updated.stderr);
    assert.deepEqual((({ kind, enabled_ratio, flood_limit }) => ({ kind, enabled_ratio, flood_limit }))(JSON.parse(updated.stdout)), { kind: 'allow', enabled_ratio: 0.25, flood_limit: 50 });
    assert.equal(bankNamed('known').enabled_ratio, 0.25, 'bank list shows it');
    assert.equal(JSON.parse(run('--json', 'bank', 'update', 'known', '--flood-limit', 'default', '--kind', 'block', '--enabled-ratio', '1').stdout).flood_limit, null);
    assert.equal(run('bank', 'update', 'known', '--enabled-ratio', '2').code, 2, 'a ratio over 1 is refused');
  });
});
