import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseVpdqFrames } from '../src/signals/vpdq/frames.ts';
import { VPDQ_VECTORS, makeVideo, videoTestsSkipReason } from './helpers/video.ts';

const repoRoot = resolve(import.meta.dirname, '..');
const skip = videoTestsSkipReason();

describe('bulwark command line with videos', { skip }, () => {
  let dir: string;
  let dataDir: string;
  let clip: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'bulwark-vpdq-cli-'));
    dataDir = join(dir, 'data');
    mkdirSync(join(dir, 'media'));
    mkdirSync(join(dir, 'lists'));
    clip = makeVideo(join(dir, 'media', 'clip.webm'), ['-f', 'lavfi', '-i', 'testsrc2=s=128x96:r=20', '-t', '3', '-c:v', 'libvpx-vp9', '-b:v', '200k']);
    // No extension: the first bytes say it is a video.
    copyFileSync(makeVideo(join(dir, 'bars.mp4'), ['-f', 'lavfi', '-i', 'smptebars=s=160x120:r=10', '-t', '2', '-vf', 'pad=200:120:20:0', '-c:v', 'libx264']), join(dir, 'media', 'upload-1234'));
    writeFileSync(join(dir, 'media', 'broken.mp4'), 'not a video');
    for (const name of ['doorknob-hd-no-bar', 'pattern-hd-no-bar']) copyFileSync(join(VPDQ_VECTORS, 'hashes', `${name}.txt`), join(dir, 'lists', `${name}.txt`));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const run = (...args: string[]) => {
    const result = spawnSync(process.execPath, [join(repoRoot, 'bin', 'bulwark.js'), '--data-dir', dataDir, ...args], { encoding: 'utf8', cwd: dir });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  };

  it('hashes a video: frame count, video MD5 and (with --json) the vPDQ frame list', () => {
    const human = run('hash', clip);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /vpdq\s+3 frames/);
    const md5 = createHash('md5').update(readFileSync(clip)).digest('hex');
    assert.match(human.stdout, new RegExp(`video_md5\\s+${md5}`));
    const json = run('--json', 'hash', '--seconds-per-hash', '0', clip);
    assert.equal(json.code, 0, json.stderr);
    const result = JSON.parse(json.stdout);
    assert.equal(result.vpdq_frames, 60);
    assert.equal(result.video_md5, md5);
    assert.deepEqual(parseVpdqFrames(result.vpdq).map((frame) => frame.frameNumber), Array.from({ length: 60 }, (_, i) => i));
  });

  it('walks a directory for videos, tells a video by its bytes, and reports one it cannot hash', () => {
    const walked = run('--json', 'hash', join(dir, 'media'));
    assert.equal(walked.code, 2, 'one file could not be hashed');
    const lines = walked.stdout.trim().split('\n').map((line) => JSON.parse(line));
    assert.deepEqual(lines.map((line) => [line.file.split('/').pop(), line.vpdq_frames ?? null, line.error ? 'error' : 'ok']), [
      ['broken.mp4', null, 'error'],
      ['clip.webm', 3, 'ok'],
    ]);
    assert.match(lines[0].error, /not a video Bulwark can read/);
    const sniffed = run('--json', 'hash', join(dir, 'media', 'upload-1234'));
    assert.equal(sniffed.code, 0, sniffed.stderr);
    assert.equal(JSON.parse(sniffed.stdout).vpdq_frames, 2);
  });

  it('imports vPDQ hash files into a bank, a directory at once or one file, and matches videos against them', () => {
    // Each command opens the embedded store, which takes a few seconds: as few commands as will do.
    assert.equal(run('bank', 'create', 'videos').code, 0);
    const one = run('--json', 'bank', 'import', 'videos', join(dir, 'lists', 'pattern-hd-no-bar.txt'), '--signal-type', 'vpdq');
    assert.equal(one.code, 0, one.stderr);
    assert.deepEqual(JSON.parse(one.stdout), { bank: 'videos', import_id: 1, rows_read: 1, rows_added: 1, rows_duplicate: 0 });
    const all = run('--json', 'bank', 'import', 'videos', join(dir, 'lists'));
    assert.equal(all.code, 0, all.stderr);
    assert.deepEqual(JSON.parse(all.stdout), { bank: 'videos', import_id: 2, rows_read: 2, rows_added: 1, rows_duplicate: 1 });
    writeFileSync(join(dir, 'bad.txt'), '0,100,abc,0.000\n');
    const refused = run('bank', 'import', 'videos', join(dir, 'bad.txt'), '--format', 'vpdq');
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /bad\.txt: invalid vpdq value: line 1: PDQ hash/);
    // The pillarboxed grey copy of the pattern video matches the banked source without bars.
    const matched = run('match', join(VPDQ_VECTORS, 'videos', 'pattern-sd-grey-bar.mp4'), join(dir, 'media', 'clip.webm'));
    assert.equal(matched.code, 0, matched.stderr);
    assert.match(matched.stdout, /pattern-sd-grey-bar\.mp4: MATCH\n  bank videos  vpdq  distance [\d.]+  100% of its frames, [\d.]+% of the banked video's  \(bars_removed\)  entry 1\n/);
    assert.match(matched.stdout, /clip\.webm: no match\n/);
  });
});
