import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type BulwarkProcess, startBulwarkProcess } from './helpers/bulwark-process.ts';
import { PlatformWebhook } from './helpers/platform-webhook.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const DOC = join(REPO, 'docs', 'quickstart.md');
/** The comment in the guide before the block that starts the server: the test starts its own there. */
const SERVER_MARK = 'quickstart-test: the test starts the server here';

interface Block {
  /** 1-based line of the opening fence, for messages. */
  line: number;
  code: string;
  startsServer: boolean;
}

/** The guide's `sh` blocks in order, each marked when the comment before it says the test starts the server there. */
function shellBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^```sh\s*$/.test(lines[i])) continue;
    const end = lines.indexOf('```', i + 1);
    assert.ok(end > i, `the block at line ${i + 1} is not closed`);
    const before = lines.slice(0, i).reverse().find((line) => line.trim() !== '') ?? '';
    blocks.push({ line: i + 1, code: lines.slice(i + 1, end).join('\n'), startsServer: before.includes(SERVER_MARK) });
    i = end;
  }
  return blocks;
}

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs one block in bash (errors and failed pipes stop it) from the work folder, with the
 * variables the blocks before it set, and keeps the ones it sets for the next: as if they
 * were typed into one terminal, as the guide asks.
 */
function runBlock(block: Block, cwd: string, state: string, env: NodeJS.ProcessEnv): Promise<Ran> {
  const file = JSON.stringify(state);
  const script = [
    'set -eo pipefail',
    // Variables the shell and the environment start with are not the guide's.
    '__inherited=" $(compgen -v | tr \'\\n\' \' \') "',
    `source ${file}`,
    block.code,
    `for __name in $(compgen -v); do case "$__inherited" in *" $__name "*) ;; *) [[ $__name == __* ]] || declare -p "$__name" ;; esac; done > ${file}`,
    '',
  ].join('\n');
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A variable as the blocks left it (declare -p quotes a plain value as JSON would). */
function exported(state: string, name: string): string | undefined {
  const found = readFileSync(state, 'utf8').split('\n').map((line) => new RegExp(`^declare -[-x] ${name}=(".*")$`).exec(line)).find(Boolean);
  return found ? JSON.parse(found[1]) : undefined;
}

describe('docs/quickstart.md, run block by block against a fresh server', () => {
  // Inside the clone (under the ignored .bulwark folder) so that `npx bulwark` finds this project.
  const work = join(REPO, '.bulwark', `quickstart-test-${randomBytes(4).toString('hex')}`);
  const state = join(work, 'exported.sh');
  const secret = randomBytes(24).toString('hex');
  const webhook = new PlatformWebhook(secret);
  let server: BulwarkProcess | undefined;

  before(async () => {
    mkdirSync(work, { recursive: true });
    writeFileSync(state, '');
    await webhook.start();
  });
  after(async () => {
    await server?.stop();
    await webhook.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('takes an upload from key to signed webhook with the guide’s own commands', async () => {
    const blocks = shellBlocks(readFileSync(DOC, 'utf8'));
    assert.equal(blocks.filter((block) => block.startsServer).length, 1, 'the guide marks the block that starts the server');
    const dataDir = join(work, 'data');
    const env = { ...process.env, BULWARK_DATA_DIR: dataDir, BULWARK_LOG_LEVEL: 'warn' };
    const outputs: string[] = [];
    for (const block of blocks) {
      if (block.startsServer) {
        server = await startBulwarkProcess('all', { dataDir, env: { BULWARK_WEBHOOK_URL: webhook.url, BULWARK_WEBHOOK_SECRET: secret, BULWARK_LOG_LEVEL: 'warn' } });
        writeFileSync(state, `${readFileSync(state, 'utf8')}\nexport BULWARK_URL=${server.url} BULWARK_WEBHOOK_URL=${webhook.url} BULWARK_WEBHOOK_SECRET=${secret}\n`);
        outputs.push('');
        continue;
      }
      const ran = await runBlock(block, work, state, env);
      assert.equal(ran.code, 0, `the block at docs/quickstart.md:${block.line} failed (exit ${ran.code}):\n${block.code}\n--- stdout\n${ran.stdout}\n--- stderr\n${ran.stderr}${server ? `\n--- server\n${server.log()}` : ''}`);
      outputs.push(ran.stdout);
    }
    const [key, , rules, bank, hashes, imported, uploaded, theCase, decided] = outputs;

    assert.match(exported(state, 'BULWARK_KEY') ?? '', /^bwk_[\w-]{43}$/, 'step 1 exported the new key');
    assert.match(key, /created reviewer quickstart-reviewer/);
    assert.deepEqual(JSON.parse(rules).rules, 1, 'the rule file is live');
    assert.equal(JSON.parse(bank).name, 'my-list');
    assert.deepEqual(
      hashes.trim().split('\n').map((line) => line.split(',')[0]),
      ['signal_type', 'pdq', 'md5', 'sha256'],
      'the list holds the picture’s hashes',
    );
    assert.equal(JSON.parse(imported).rows_added, 3);
    const upload = JSON.parse(uploaded) as { content_id: string; matched: boolean; matches: { bank: string; signal_type: string; distance: number }[] };
    assert.equal(upload.matched, true, 'the re-encoded copy matches');
    assert.ok(upload.matches.some((match) => match.bank === 'my-list' && match.signal_type === 'pdq' && match.distance > 0), JSON.stringify(upload.matches));
    const caseId = Number(exported(state, 'CASE_ID'));
    assert.ok(Number.isSafeInteger(caseId) && caseId > 0, 'step 6 exported the case id');
    assert.match(theCase, new RegExp(`^case ${caseId}$`, 'm'));
    const shown = JSON.parse(theCase.slice(theCase.indexOf('{'))) as { id: number; queue: string; reasons: { rule: string }[] };
    assert.deepEqual([shown.id, shown.queue, shown.reasons.map((reason) => reason.rule)], [caseId, 'known-media', ['my-list-review']]);
    assert.match(decided, /^claimed by quickstart-reviewer$/m);
    assert.deepEqual(JSON.parse(decided.slice(decided.indexOf('{'))), { verdict: 'confirm', status: 'decided' });

    // The last block waited until Bulwark recorded the delivery; the receiver checked its signature.
    const action = await webhook.waitFor('remove_content', 'upload-1');
    assert.equal(action.body.decided_by, 'quickstart-reviewer');
    assert.match(action.idempotencyKey, /remove_content/);
    assert.deepEqual(webhook.refused, [], 'every delivery was signed with the shared secret');
  });
});
