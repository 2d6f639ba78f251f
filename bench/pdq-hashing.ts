/**
 * PDQ hashing throughput on one core, including decode, beside the plain decode of the
 * same bytes with sharp (the reference), so the hash's own cost is visible.
 *
 *   node --import tsx bench/pdq-hashing.ts [--rounds 20]
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { encodeImage, shapesImage } from '../src/demo/benign-images.ts';
import { decodeForPdq, pdqDihedralFromImage, pdqFromImage } from '../src/signals/pdq/decode.ts';
import { lumaFromPixels, pdqFromLuma } from '../src/signals/pdq/pdq-hash.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '20' } } });
const rounds = Number(values.rounds);
sharp.concurrency(1);
sharp.cache(false);

const vectors = resolve(import.meta.dirname, '..', '..', 'shared', 'pdq-vectors');
const inputs: { name: string; bytes: Buffer }[] = [];
for (const [width, height] of [
  [640, 480],
  [1280, 720],
  [1920, 1080],
  [4000, 3000],
]) {
  inputs.push({ name: `generated ${width}x${height} JPEG`, bytes: await encodeImage(shapesImage(width + height, width, height), 'jpeg', 85) });
}
inputs.push({ name: 'generated 1920x1080 PNG', bytes: await encodeImage(shapesImage(77, 1920, 1080), 'png') });
inputs.push({ name: 'reference bridge 1600x1004 JPEG', bytes: readFileSync(resolve(vectors, 'reg-test-input/dih/bridge-1-original.jpg')) });
inputs.push({ name: 'reference q0122 256x256 JPEG', bytes: readFileSync(resolve(vectors, 'reg-test-input/labelme-subset/q0122.jpg')) });

async function median(fn: () => Promise<unknown> | unknown): Promise<number> {
  for (let i = 0; i < 3; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const started = performance.now();
    await fn();
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

console.log(`one core (sharp.concurrency(1)), median of ${rounds} rounds, milliseconds per image\n`);
console.log(
  [
    'image'.padEnd(34),
    'decode'.padStart(8),
    'PDQ total'.padStart(10),
    'hash cost'.padStart(10),
    'overhead'.padStart(9),
    'thumbnail'.padStart(10),
    'DCT etc.'.padStart(9),
    'images/s'.padStart(9),
    '+dihedral'.padStart(10),
  ].join(' '),
);
for (const { name, bytes } of inputs) {
  const decode = await median(() => sharp(bytes).raw().toBuffer());
  const total = await median(() => pdqFromImage(bytes));
  const dihedral = await median(() => pdqDihedralFromImage(bytes));
  // Split the hash's own cost: the Pillow-exact thumbnail step, and blur + DCT + bits.
  const decoded = await decodeForPdq(bytes);
  const { pixels } = decoded;
  const core = await median(() => pdqFromLuma(lumaFromPixels(pixels.data, pixels.width, pixels.height, pixels.channels), pixels.width, pixels.height));
  const thumbnailAndDecode = await median(() => decodeForPdq(bytes));
  const cost = total - decode;
  console.log(
    [
      name.padEnd(34),
      decode.toFixed(1).padStart(8),
      total.toFixed(1).padStart(10),
      cost.toFixed(1).padStart(10),
      `${((cost / decode) * 100).toFixed(0)}%`.padStart(9),
      Math.max(0, thumbnailAndDecode - decode).toFixed(1).padStart(10),
      core.toFixed(1).padStart(9),
      (1000 / total).toFixed(0).padStart(9),
      (dihedral - total).toFixed(1).padStart(10),
    ].join(' '),
  );
}
console.log('\ndecode: sharp decode to raw pixels (the reference); PDQ total: decode + thumbnail (images over 512 px) + hash;');
console.log('hash cost = PDQ total - decode (target: under 20% of decode). Large JPEGs are decoded at a reduced scale, as the reference does.');
