import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';

const repoRoot = resolve(import.meta.dirname, '..');
const at = (minute: number) => new Date(Date.UTC(2026, 5, 1, 9, minute)).toISOString();

describe('bulwark command line: events, terms, networks, audit', () => {
  let dir: string;
  let dataDir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'bulwark-cli-net-'));
    dataDir = join(dir, 'data');
    const events: object[] = [];
    for (let i = 0; i < 5; i++) {
      events.push({ event_id: `f${i}`, type: 'follow', occurred_at: at(i), actor: `buyer-${i}`, target: 'seller', via: 'recommendation:suggested' });
      events.push({ event_id: `m${i}`, type: 'message', occurred_at: at(i), actor: `buyer-${i}`, target: 'seller' });
      events.push({ event_id: `h${i}`, type: 'hashtag', occurred_at: at(i), actor: `buyer-${i}`, hashtag: '#Term_Alpha' });
      events.push({ event_id: `r${i}`, type: 'recommendation_impression', occurred_at: at(i), viewer: `buyer-${i}`, shown: 'seller', surface: 'recommendation:suggested' });
    }
    events.push({ event_id: 'l', type: 'profile_link', occurred_at: at(1), actor: 'seller', url: 'offsite.example/shop' });
    writeFileSync(join(dir, 'events.jsonl'), `${events.map((e) => JSON.stringify(e)).join('\n')}\n`);
    writeFileSync(join(dir, 'bad.jsonl'), `${JSON.stringify(events[0])}\n{"type": "follow"\n${JSON.stringify({ type: 'like', occurred_at: at(0), actor: 'x' })}\n`);
    writeFileSync(join(dir, 'terms.txt'), '# placeholder terms only\nterm-alpha\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const run = (...args: string[]) => {
    const result = spawnSync(process.execPath, [join(repoRoot, 'bin', 'bulwark.js'), '--data-dir', dataDir, ...args], { encoding: 'utf8', cwd: dir });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  };

  it('refuses a file with bad lines, naming them, and imports nothing', () => {
    const result = run('--json', 'events', 'import', join(dir, 'bad.jsonl'));
    assert.equal(result.code, 2, result.stderr);
    const error = JSON.parse(result.stdout).error;
    assert.match(error.message, /2 bad lines; nothing was imported/);
    assert.deepEqual(error.details.problems.map((p: { line: number }) => p.line), [2, 3]);
    assert.equal(run('account', 'show', 'buyer-0').code, 3, 'the good first line was not applied either');
  });

  it('loads terms, imports events, detects, lists and audits', () => {
    const terms = run('--json', 'terms', 'load', 'test-signals', join(dir, 'terms.txt'), '--action', 'signal');
    assert.equal(terms.code, 0, terms.stderr);
    assert.equal(JSON.parse(terms.stdout).term_count, 1);

    const imported = run('--json', 'events', 'import', join(dir, 'events.jsonl'));
    assert.equal(imported.code, 0, imported.stderr);
    const result = JSON.parse(imported.stdout);
    assert.equal(result.applied, 21);
    assert.match(imported.stderr, /imported 21 of 21 lines in [\d.]+ s/, 'not on a terminal, the import still says what it did');
    assert.equal(typeof result.eventsPerSecond, 'number');
    assert.equal(result.termMatches, 5, 'each hashtag use matched the placeholder term');
    assert.equal(JSON.parse(run('--json', 'events', 'import', join(dir, 'events.jsonl')).stdout).duplicates, 21, 're-importing is safe');

    assert.equal(run('account', 'label', 'buyer-0', 'confirmed', '--note', 'test').code, 0);
    const detected = run('--json', 'network', 'detect', '--min-network-size', '3');
    assert.equal(detected.code, 0, detected.stderr);
    const summary = JSON.parse(detected.stdout);
    assert.equal(summary.networks.length, 1);
    assert.equal(summary.networks[0].sellers, 1);

    const shown = JSON.parse(run('--json', 'network', 'show', String(summary.networks[0].id)).stdout);
    assert.deepEqual(shown.members.filter((m: { role: string }) => m.role === 'seller').map((m: { account: string }) => m.account), ['seller']);
    const leads = run('network', 'leads');
    assert.equal(leads.code, 0);
    assert.match(leads.stdout, /seller/);
    assert.equal(run('network', 'show', '999').code, 3);

    const html = join(dir, 'audit.html');
    const audit = run('--json', 'audit', 'recommendations', '--html', html);
    assert.equal(audit.code, 0, audit.stderr);
    const report = JSON.parse(audit.stdout);
    assert.equal(report.before.impressions, 5);
    assert.equal(report.after.impressions, 0);
    assert.match(readFileSync(html, 'utf8'), /Recommendation audit/);
    assert.equal(run('audit', 'recommendations', '--from', 'last tuesday').code, 2);
  });

  it('labels accounts in bulk from a file in one run and shows detection defaults in help', () => {
    const help = run('network', 'detect', '--help');
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /--lead-limit <n>\s+leads to keep \(default: \d+\)/);
    assert.match(help.stdout, /--min-network-size <n>\s+smallest network reported \(default: \d+\)/);

    const labels = join(dir, 'labels.csv');
    writeFileSync(labels, 'account,label,note\nbulk-1,confirmed,"from review, batch 3"\nbulk-2,famous\n{"account": "bulk-3", "label": "suspected"}\n');
    const labelled = run('--json', 'account', 'label', '--file', labels);
    assert.equal(labelled.code, 2, 'a bad line makes the exit code say so');
    const outcome = JSON.parse(labelled.stdout);
    assert.equal(outcome.applied, 2);
    assert.deepEqual(outcome.problems.map((p: { line: number }) => p.line), [3]);
  });
});
