/**
 * What PDQ hashing costs beside decoding, on one core (sharp.concurrency(1), calls awaited
 * one at a time, libvips' operation cache off so every decode is real).
 *
 *   node --import tsx bench/hash-throughput.ts [--runs 9]
 *
 * Images are benign pictures generated at run time (gradients and shapes, scaled up, with
 * noise for photo-like texture), saved as JPEG at the usual sizes, plus the JPEGs among the
 * shared PDQ vectors. Every figure is the median of --runs timed runs, after a warm-up.
 *
 * Table 1 is PDQ on the decoded pixels at full size (luminance + pdqFromLuma), beside a
 * plain sharp decode to raw pixels (sharp's defaults, which apply an embedded ICC profile;
 * pdqFromImage ignores profiles, as the reference does, so on a file with one it can beat
 * the plain decode). Table 2 is pdqFromImage as Bulwark runs it: decode,
 * the 512x512 thumbnail step that makes hashes equal the reference vectors, then PDQ.
 * Table 3 is the extra cost of the 8 dihedral variants. Table 4 sizes the price of
 * exactness: libvips' own shrink to 512 instead of the reference's thumbnail. Table 5 is the
 * reference itself: the same files through Pillow (C), decode alone and decode with its
 * thumbnail((512, 512)), when Debian's python3-pil is installed (bench/pillow-reference.py).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { seededRandom, shapesImage } from '../src/demo/benign-images.ts';
import { hamming256 } from '../src/signals/pdq/hash256.ts';
import { averageBlocks, pdqFromImage } from '../src/signals/pdq/image.ts';
import { lumaFromPixels, pdqDihedralFromLuma, pdqFromLuma } from '../src/signals/pdq/pdq.ts';
import { jpegDraftScale, pillowThumbnail, thumbnailSize, type Pixels } from '../src/signals/pdq/thumbnail.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '9' } } });
const runs = Math.max(1, Number(values.runs));

sharp.concurrency(1);
sharp.cache(false);

interface Sample {
  name: string;
  bytes: Buffer;
}

/** A photo-like benign JPEG: shapes and gradients drawn small, scaled up, with sensor-like noise. */
async function generatedJpeg(width: number, height: number): Promise<Sample> {
  const drawn = shapesImage(width + height, Math.ceil(width / 4), Math.ceil(height / 4));
  const pixels = await sharp(drawn.pixels, { raw: { width: drawn.width, height: drawn.height, channels: 3 } }).resize(width, height, { fit: 'fill' }).raw().toBuffer();
  const random = seededRandom(width * height);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.max(0, Math.min(255, pixels[i] + Math.round((random() - 0.5) * 24)));
  const bytes = await sharp(pixels, { raw: { width, height, channels: 3 } }).jpeg({ quality: 88 }).toBuffer();
  return { name: `generated ${width}x${height}`, bytes };
}

const vectors = resolve(import.meta.dirname, '..', '..', 'shared', 'pdq-vectors');
const vectorJpegs = ['reg-test-input/dih/bridge-1-original.jpg', 'bridge-mods/shrink-a-little.jpg', 'misc-images/small.jpg', 'reg-test-input/labelme-subset/q0122.jpg'];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Runs each step once per round, interleaved, so that a noisy neighbour slows all of them alike. */
async function timeSteps(steps: Record<string, () => unknown>): Promise<Record<string, number>> {
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(steps).map((name) => [name, []]));
  for (let round = -1; round < runs; round++) {
    for (const [name, step] of Object.entries(steps)) {
      const start = performance.now();
      await step();
      if (round >= 0) times[name].push(performance.now() - start);
    }
  }
  return Object.fromEntries(Object.entries(times).map(([name, list]) => [name, median(list)]));
}

const decodeRaw = async (bytes: Buffer): Promise<Pixels> => {
  const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
};

/** The thumbnail step of image.ts, on already decoded pixels (JPEG, so never palette or alpha). */
function thumbnailStep(pixels: Pixels): Pixels {
  const target = thumbnailSize(pixels.width, pixels.height);
  if (!target) return pixels;
  const scale = jpegDraftScale(pixels.width, pixels.height, target);
  if (scale === 1) return pillowThumbnail(pixels, target);
  return pillowThumbnail(averageBlocks(pixels, scale), target, { box: [0, 0, pixels.width / scale, pixels.height / scale] });
}

/**
 * Not what Bulwark does: libvips shrinks to fit 512x512 (with JPEG shrink-on-load), then
 * PDQ. Fast, but not the reference's pixels, so not the reference's hash; shown to size
 * what exactness costs.
 */
async function libvipsThumbnailPdq(bytes: Buffer) {
  const { data, info } = await sharp(bytes).resize(512, 512, { fit: 'inside', withoutEnlargement: true }).raw().toBuffer({ resolveWithObject: true });
  return pdqFromLuma(lumaFromPixels(data, info.width, info.height, info.channels), info.width, info.height);
}

const ms = (value: number) => value.toFixed(value < 10 ? 2 : 1);
const percent = (part: number, whole: number) => `${Math.round((100 * part) / whole)}%`;
const perSecond = (milliseconds: number) => (1000 / milliseconds).toFixed(milliseconds < 10 ? 0 : 1);

function table(title: string, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  console.log(`\n${title}\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const row of rows) console.log(line(row));
}

console.log(`PDQ hash throughput: node ${process.version}, sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}, ${cpus()[0]?.model ?? 'unknown CPU'}`);
console.log(`one core (sharp.concurrency(1), awaited serially), median of ${runs} runs after a warm-up`);
console.log('decode = sharp(bytes).raw() with sharp defaults (applies an embedded ICC profile, which pdqFromImage skips)');

const samples: Sample[] = [];
for (const [width, height] of [[640, 480], [1280, 720], [1920, 1080], [4000, 3000]]) samples.push(await generatedJpeg(width, height));
for (const file of vectorJpegs) samples.push({ name: `vector ${file.split('/').pop()}`, bytes: readFileSync(resolve(vectors, file)) });

// Warm the JIT on every code path first, so the first image measured is not charged for it.
for (let i = 0; i < 5; i++) {
  const decoded = await decodeRaw(samples[0].bytes);
  const luma = lumaFromPixels(decoded.data, decoded.width, decoded.height, decoded.channels);
  pdqFromLuma(luma, decoded.width, decoded.height);
  pdqDihedralFromLuma(luma, decoded.width, decoded.height);
  thumbnailStep(decoded);
  await pdqFromImage(samples[0].bytes);
}

const fullRows: string[][] = [];
const pipelineRows: string[][] = [];
const dihedralRows: string[][] = [];
const libvipsRows: string[][] = [];
for (const { name, bytes } of samples) {
  const decoded = await decodeRaw(bytes);
  const size = `${decoded.width}x${decoded.height}`;
  const fullLuma = lumaFromPixels(decoded.data, decoded.width, decoded.height, decoded.channels);
  const thumbnail = thumbnailStep(decoded);
  const thumbnailLuma = lumaFromPixels(thumbnail.data, thumbnail.width, thumbnail.height, thumbnail.channels);

  const t = await timeSteps({
    decode: () => decodeRaw(bytes),
    fullLuma: () => lumaFromPixels(decoded.data, decoded.width, decoded.height, decoded.channels, { output: fullLuma }),
    fullPdq: () => pdqFromLuma(fullLuma, decoded.width, decoded.height),
    fullDihedral: () => pdqDihedralFromLuma(fullLuma, decoded.width, decoded.height),
    pipeline: () => pdqFromImage(bytes),
    thumbnail: () => thumbnailStep(decoded),
    thumbnailPdq: () => pdqFromLuma(lumaFromPixels(thumbnail.data, thumbnail.width, thumbnail.height, thumbnail.channels), thumbnail.width, thumbnail.height),
    thumbnailHashOnly: () => pdqFromLuma(thumbnailLuma, thumbnail.width, thumbnail.height),
    thumbnailDihedral: () => pdqDihedralFromLuma(thumbnailLuma, thumbnail.width, thumbnail.height),
    libvipsThumbnailPdq: () => libvipsThumbnailPdq(bytes),
  });
  const libvipsDistance = hamming256((await libvipsThumbnailPdq(bytes)).hash, (await pdqFromImage(bytes)).hash);

  const fullHash = t.fullLuma + t.fullPdq;
  fullRows.push([name, size, ms(t.decode), ms(t.fullLuma), ms(t.fullPdq), ms(t.decode + fullHash), perSecond(t.decode + fullHash), percent(fullHash, t.decode)]);
  const overhead = t.pipeline - t.decode;
  pipelineRows.push([
    name,
    `${size} → ${thumbnail.width}x${thumbnail.height}`,
    ms(t.decode),
    ms(t.pipeline),
    perSecond(t.pipeline),
    ms(overhead),
    percent(overhead, t.decode),
    ms(t.thumbnail),
    ms(t.thumbnailPdq),
  ]);
  dihedralRows.push([name, ms(t.thumbnailHashOnly), ms(t.thumbnailDihedral), ms(t.fullPdq), ms(t.fullDihedral)]);
  libvipsRows.push([name, ms(t.decode), ms(t.pipeline), ms(t.libvipsThumbnailPdq), percent(t.libvipsThumbnailPdq - t.decode, t.decode), String(libvipsDistance)]);
}

table(
  'Table 1. PDQ on the decoded pixels at full size, beside a plain decode (sharp raw)',
  ['image', 'pixels', 'decode ms', 'luma ms', 'PDQ ms', 'total ms', 'images/s', 'hash / decode'],
  fullRows,
);
table(
  'Table 2. pdqFromImage (header, decode, 512x512 thumbnail as the reference, luma, PDQ), beside a plain decode',
  ['image', 'pixels hashed', 'decode ms', 'pdqFromImage ms', 'images/s', 'added ms', 'added / decode', 'of which thumbnail ms', 'luma+PDQ ms'],
  pipelineRows,
);
table(
  'Table 3. The 8 dihedral variants beside the plain hash (same luma; the variants reuse one blur and DCT)',
  ['image', 'PDQ 512 ms', 'dihedral 512 ms', 'PDQ full ms', 'dihedral full ms'],
  dihedralRows,
);
table(
  'Table 4. For scale only, not used: libvips shrinking to 512 instead of the reference thumbnail (hash differs from the reference)',
  ['image', 'decode ms', 'pdqFromImage ms', 'libvips 512 + PDQ ms', 'added / decode', 'bits from pdqFromImage'],
  libvipsRows,
);

/** Table 5: Pillow's own decode and thumbnail on the same files, or why it was skipped. */
function pillowReference(): void {
  const python = '/usr/bin/python3';
  const directory = mkdtempSync(join(tmpdir(), 'bulwark-pillow-'));
  try {
    const paths = samples.map((sample, i) => {
      const path = join(directory, `${i}.jpg`);
      writeFileSync(path, sample.bytes);
      return path;
    });
    const output = execFileSync(python, [resolve(import.meta.dirname, 'pillow-reference.py'), String(runs), ...paths], { encoding: 'utf8' });
    const measured = output.trim().split('\n').map((line) => JSON.parse(line) as { decode_ms: number; thumbnail_pipeline_ms: number });
    const version = execFileSync(python, ['-c', 'import PIL; print(PIL.__version__)'], { encoding: 'utf8' }).trim();
    table(
      `Table 5. The reference itself: Pillow ${version} (C, one core) decoding the same files, alone and with thumbnail((512, 512))`,
      ['image', 'Pillow decode ms', 'Pillow decode + thumbnail ms', 'thumbnail added / decode', 'Bulwark added / decode (Table 2)'],
      measured.map((m, i) => [samples[i].name, ms(m.decode_ms), ms(m.thumbnail_pipeline_ms), percent(m.thumbnail_pipeline_ms - m.decode_ms, m.decode_ms), pipelineRows[i][6]]),
    );
  } catch (error) {
    console.log(`\nTable 5 skipped: Pillow could not be run (${(error as Error).message.split('\n')[0]}); apt-get install -y python3-pil to include it.`);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
pillowReference();
