import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { encodeImage, shapesImage } from '../src/demo/benign-images.ts';
import { bmpFile } from './helpers/image-files.ts';

const repoRoot = resolve(import.meta.dirname, '..');

describe('bulwark hash: symbolic links, formats and exit status', () => {
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bulwark-cli-hash-'));
    mkdirSync(join(dir, 'real'));
    for (let i = 0; i < 6; i++) writeFileSync(join(dir, 'real', `photo-${i}.png`), await encodeImage(shapesImage(80 + i, 160, 120), 'png'));
    writeFileSync(join(dir, 'real', 'photo-6.jpg'), await encodeImage(shapesImage(86, 160, 120), 'jpeg'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const run = (...args: string[]) => {
    const result = spawnSync(process.execPath, [join(repoRoot, 'bin', 'bulwark.js'), '--data-dir', join(dir, 'data'), ...args], { encoding: 'utf8', cwd: dir });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  const rows = (text: string) => text.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line));
  const relative = (path: string) => path.slice(dir.length + 1);
  const fresh = (name: string) => {
    const path = join(dir, name);
    mkdirSync(path);
    return path;
  };

  it('hashes a directory made only of symbolic links to images, as the images themselves', () => {
    const links = fresh('only-links');
    for (let i = 0; i < 6; i++) symlinkSync(join('..', 'real', `photo-${i}.png`), join(links, `link-${i}.png`));
    symlinkSync(join('..', 'real', 'photo-6.jpg'), join(links, 'no-extension')); // the target's name says JPEG
    const linked = run('--json', 'hash', links);
    assert.equal(linked.code, 0, linked.stderr);
    const direct = rows(run('--json', 'hash', join(dir, 'real')).stdout);
    assert.deepEqual(
      rows(linked.stdout).map((row) => [relative(row.file), row.pdq, row.sha256]),
      [...direct.slice(0, 6).map((row, i) => [`only-links/link-${i}.png`, row.pdq, row.sha256]), ['only-links/no-extension', direct[6].pdq, direct[6].sha256]],
    );
  });

  it('follows links to directories and walks a directory reached again (a link loop) once', () => {
    const tree = fresh('tree');
    mkdirSync(join(tree, 'photos'));
    symlinkSync(join('..', '..', 'real', 'photo-0.png'), join(tree, 'photos', 'x.png'));
    symlinkSync('photos', join(tree, 'alias'));
    symlinkSync('..', join(tree, 'photos', 'up')); // back to tree: a loop
    const result = run('--json', 'hash', tree);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(rows(result.stdout).map((row) => relative(row.file)), ['tree/alias/x.png']);
    assert.match(result.stderr, /tree\/alias\/up: walked once only \(a symbolic link loop, or a second link to the same directory\)/);
    assert.match(result.stderr, /tree\/photos: walked once only/);
  });

  it('reports dangling links and link loops as files that could not be hashed, and exits non-zero', () => {
    const mixed = fresh('mixed');
    symlinkSync(join('..', 'real', 'photo-1.png'), join(mixed, 'a-good.png'));
    symlinkSync('missing.png', join(mixed, 'b-dangling.png'));
    symlinkSync('c-loop.jpg', join(mixed, 'c-loop.jpg'));
    symlinkSync('missing-notes', join(mixed, 'd-notes.txt')); // not an image by name: not walked
    const result = run('--json', 'hash', mixed);
    assert.equal(result.code, 2);
    assert.deepEqual(
      rows(result.stdout).map((row) => [relative(row.file), row.error ?? 'hashed']),
      [
        ['mixed/a-good.png', 'hashed'],
        ['mixed/b-dangling.png', 'dangling symbolic link (to missing.png)'],
        ['mixed/c-loop.jpg', 'symbolic link loop (to c-loop.jpg)'],
      ],
    );
    assert.match(result.stderr, /2 of 3 files could not be hashed/);

    const named = run('hash', join(mixed, 'b-dangling.png'));
    assert.equal(named.code, 2);
    assert.match(named.stderr, /b-dangling\.png: dangling symbolic link \(to missing\.png\)/);
    assert.match(named.stderr, /1 of 1 files could not be hashed/);
  });

  it('never exits 0 having hashed nothing: no image found is an error', () => {
    const empty = fresh('empty');
    writeFileSync(join(empty, 'notes.txt'), 'not an image');
    const result = run('hash', empty);
    assert.equal(result.code, 2);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /no image (or video )?files found in .*empty: nothing was hashed/);
    const json = run('--json', 'hash', empty);
    assert.equal(json.code, 2);
    assert.equal(JSON.parse(json.stdout).error.kind, 'invalid');
  });

  it('walks BMP and AVIF files and hashes them; names the HEIC it cannot read', async () => {
    const formats = fresh('formats');
    const image = shapesImage(90, 160, 120);
    writeFileSync(join(formats, 'a.bmp'), bmpFile(160, 120, { bitsPerPixel: 24, pixels: image.pixels }));
    writeFileSync(join(formats, 'b.avif'), await sharp(image.pixels, { raw: { width: 160, height: 120, channels: 3 } }).avif({ lossless: true }).toBuffer());
    writeFileSync(join(formats, 'c.png'), await encodeImage(image, 'png'));
    const heic = Buffer.alloc(24);
    heic.writeUInt32BE(24, 0);
    heic.write('ftypheic\0\0\0\0mif1heic', 4, 'latin1');
    writeFileSync(join(formats, 'd.heic'), heic);
    const result = run('--json', 'hash', formats);
    assert.equal(result.code, 2);
    const [bmp, avif, png, heicRow] = rows(result.stdout);
    assert.deepEqual([bmp.pdq, avif.pdq], [png.pdq, png.pdq], 'the same picture in BMP, lossless AVIF and PNG');
    assert.match(heicRow.error, /^HEIC is not supported: .* \(supported: jpeg, png, webp, gif, tiff, avif, bmp\)$/);
    assert.match(result.stderr, /1 of 4 files could not be hashed/);
  });

  it('says in --help that links are followed and when the exit status is not 0', () => {
    const help = run('hash', '--help');
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Symbolic links are followed, to files and to directories/);
    assert.match(help.stdout, /non-zero when no file was found/);
    assert.match(help.stdout, /\.avif/);
  });
});
