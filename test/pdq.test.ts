import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { crc32, deflateSync } from 'node:zlib';
import fc from 'fast-check';
import sharp, { type Sharp } from 'sharp';
import { type GeneratedImage, encodeImage, flatImage, noiseImage, seededRandom, shapesImage } from '../src/demo/benign-images.ts';
import { HASH256_WORDS, type Hash256, hamming256, hash256ToHex, hexToHash256, setBit } from '../src/signals/pdq/hash256.ts';
import { referenceHashes, writePnm } from './helpers/pdq-reference.ts';
import { ImageDecodeError, decodeLuma, decodePixelsForPdq, pdqDihedralFromImage, pdqFromImage } from '../src/signals/pdq/image.ts';
import {
  MIN_HASHABLE_DIMENSION,
  PDQ_DIHEDRAL_NAMES,
  type PdqDihedralName,
  jaroszWindow,
  lumaFromPixels,
  pdqCoefficientsFromLuma,
  pdqDihedralFromLuma,
  pdqFromLuma,
} from '../src/signals/pdq/pdq.ts';

const repoRoot = resolve(import.meta.dirname, '..');
const vectors = resolve(repoRoot, '..', 'shared', 'pdq-vectors');
/** The full-resolution reference (pdqHash256FromFloatLuma, as pdqhash/HMA): file → hash and quality. */
const expected = new Map(
  readFileSync(join(vectors, 'expected-fullres.tsv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => {
      const [file, hex, quality] = line.split('\t');
      return [file, { hex, quality: Number(quality) }] as const;
    }),
);
const vector = (file: string) => readFileSync(join(vectors, file));
const distanceTo = (hash: Hash256, hex: string) => hamming256(hash, hexToHash256(hex));
const png = (image: GeneratedImage) => sharp(image.pixels, { raw: { width: image.width, height: image.height, channels: 3 } }).png().toBuffer();
const lumaOf = (image: GeneratedImage) => lumaFromPixels(image.pixels, image.width, image.height, 3);

// ---------------------------------------------------------------------------------------
// The reference written out plainly, as an oracle: the C++ reference's loops in its order,
// one float32 rounding per C++ float operation, real divisions, Torben's median. The
// optimised module must agree with it bit for bit.
// ---------------------------------------------------------------------------------------

const f32 = Math.fround;

function referenceBox1D(input: Float32Array, inStart: number, output: Float32Array, outStart: number, length: number, stride: number, window: number): void {
  const half = Math.trunc((window + 2) / 2);
  let left = 0;
  let right = 0;
  let out = 0;
  let sum = 0;
  let count = 0;
  for (let i = 0; i < half - 1; i++, right += stride, count++) sum = f32(sum + input[inStart + right]);
  for (let i = 0; i < window - half + 1; i++, right += stride, out += stride) {
    sum = f32(sum + input[inStart + right]);
    output[outStart + out] = f32(sum / ++count);
  }
  for (let i = 0; i < length - window; i++, left += stride, right += stride, out += stride) {
    sum = f32(sum + input[inStart + right]);
    sum = f32(sum - input[inStart + left]);
    output[outStart + out] = f32(sum / count);
  }
  for (let i = 0; i < half - 1; i++, left += stride, out += stride) {
    sum = f32(sum - input[inStart + left]);
    output[outStart + out] = f32(sum / --count);
  }
}

function referenceCoefficients(luma: Float32Array, width: number, height: number) {
  const block = new Float32Array(64 * 64);
  if (width === 64 && height === 64) {
    block.set(luma);
  } else {
    const buffer1 = Float32Array.from(luma.subarray(0, width * height));
    const buffer2 = new Float32Array(width * height);
    const alongRows = Math.trunc((width + 128 - 1) / 128);
    const alongColumns = Math.trunc((height + 128 - 1) / 128);
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < height; i++) referenceBox1D(buffer1, i * width, buffer2, i * width, width, 1, alongRows);
      for (let j = 0; j < width; j++) referenceBox1D(buffer2, j, buffer1, j, height, width, alongColumns);
    }
    for (let i = 0; i < 64; i++) {
      const row = Math.trunc(((i + 0.5) * height) / 64);
      for (let j = 0; j < 64; j++) block[i * 64 + j] = buffer1[row * width + Math.trunc(((j + 0.5) * width) / 64)];
    }
  }
  let gradientSum = 0;
  const quantised = (u: number, v: number) => Math.abs(Math.trunc(f32(f32(f32(u - v) * 100) / 255)));
  for (let i = 0; i < 63; i++) for (let j = 0; j < 64; j++) gradientSum += quantised(block[i * 64 + j], block[(i + 1) * 64 + j]);
  for (let i = 0; i < 64; i++) for (let j = 0; j < 63; j++) gradientSum += quantised(block[i * 64 + j], block[i * 64 + j + 1]);
  const quality = Math.min(100, Math.trunc(gradientSum / 90));

  const scale = f32(Math.sqrt(2 / 64));
  const dct = new Float32Array(16 * 64);
  for (let i = 0; i < 16; i++) for (let j = 0; j < 64; j++) dct[i * 64 + j] = scale * Math.cos((Math.PI / 2 / 64) * (i + 1) * (2 * j + 1));
  const partial = new Float32Array(16 * 64);
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 64; j++) {
      let sum = 0;
      for (let k = 0; k < 64; k++) sum = f32(sum + f32(dct[i * 64 + k] * block[k * 64 + j]));
      partial[i * 64 + j] = sum;
    }
  }
  const coefficients = new Float32Array(256);
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 16; j++) {
      let sum = 0;
      for (let k = 0; k < 64; k++) sum = f32(sum + f32(partial[i * 64 + k] * dct[j * 64 + k]));
      coefficients[i * 16 + j] = sum;
    }
  }
  return { block, coefficients, quality };
}

/** Torben Mogensen's median, as the reference uses it (float32 arithmetic). */
function torbenMedian(m: Float32Array): number {
  const n = m.length;
  let min = m[0];
  let max = m[0];
  for (let i = 1; i < n; i++) {
    if (m[i] < min) min = m[i];
    if (m[i] > max) max = m[i];
  }
  let less = 0;
  let greater = 0;
  let equal = 0;
  let guess = 0;
  let maxLessThanGuess = 0;
  let minGreaterThanGuess = 0;
  for (;;) {
    guess = f32(f32(min + max) / 2);
    less = greater = equal = 0;
    maxLessThanGuess = min;
    minGreaterThanGuess = max;
    for (let i = 0; i < n; i++) {
      if (m[i] < guess) {
        less++;
        if (m[i] > maxLessThanGuess) maxLessThanGuess = m[i];
      } else if (m[i] > guess) {
        greater++;
        if (m[i] < minGreaterThanGuess) minGreaterThanGuess = m[i];
      } else equal++;
    }
    if (less <= Math.trunc((n + 1) / 2) && greater <= Math.trunc((n + 1) / 2)) break;
    else if (less > greater) max = maxLessThanGuess;
    else min = minGreaterThanGuess;
  }
  if (less >= Math.trunc((n + 1) / 2)) return maxLessThanGuess;
  if (less + equal >= Math.trunc((n + 1) / 2)) return guess;
  return minGreaterThanGuess;
}

function referenceBits(coefficients: Float32Array): Hash256 {
  const median = torbenMedian(coefficients);
  const hash = new Uint32Array(HASH256_WORDS);
  for (let k = 0; k < 256; k++) if (coefficients[k] > median) setBit(hash, k);
  return hash;
}

/** Benign luma test patterns from a seed: noise, smooth waves, and 8-bit RGB through the luma formula. */
function syntheticLuma(seed: number, width: number, height: number): Float32Array {
  const random = seededRandom(seed);
  const luma = new Float32Array(width * height);
  const kind = seed % 3;
  const fx = 0.01 + random() * 0.3;
  const fy = 0.01 + random() * 0.3;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (kind === 0) luma[i] = random() * 255;
      else if (kind === 1) luma[i] = 127.5 + 100 * Math.sin(x * fx) * Math.cos(y * fy) + random();
      else luma[i] = f32(f32(f32(f32(0.299) * Math.floor(random() * 256)) + f32(f32(0.587) * ((x * 7 + y) & 255))) + f32(f32(0.114) * (y & 255)));
    }
  }
  return luma;
}

function assertMatchesReference(width: number, height: number, seed: number): void {
  const luma = syntheticLuma(seed, width, height);
  const before = Float32Array.from(luma);
  const ours = pdqCoefficientsFromLuma(luma, width, height);
  const reference = referenceCoefficients(luma, width, height);
  assert.ok(ours, `${width}x${height} is hashable`);
  const firstDifference = (a: Float32Array, b: Float32Array) => a.findIndex((value, i) => !Object.is(value, b[i]));
  assert.equal(firstDifference(ours.block, reference.block), -1, `${width}x${height} seed ${seed}: 64x64 buffer identical`);
  assert.equal(firstDifference(ours.coefficients, reference.coefficients), -1, `${width}x${height} seed ${seed}: DCT output identical`);
  assert.equal(ours.quality, reference.quality, `${width}x${height} seed ${seed}: quality`);
  assert.equal(hash256ToHex(pdqFromLuma(luma, width, height).hash), hash256ToHex(referenceBits(reference.coefficients)), `${width}x${height} seed ${seed}: hash`);
  assert.equal(firstDifference(luma, before), -1, 'the input luma is left untouched');
}

const isNormalOrZero = (x: number) => Math.fround(x) === 0 || Math.abs(Math.fround(x)) >= 2 ** -126;

describe('PDQ computation is bit-exact with the reference', () => {
  it('matches the plain transcription on sizes covering every window size up to 6, short rows and edge cases', () => {
    const sizes: [number, number][] = [
      [5, 5], [5, 64], [64, 5], [6, 200], [63, 65], [64, 64], [65, 64], [127, 129], [128, 128], [129, 257],
      [256, 384], [385, 513], [512, 321], [321, 512], [700, 9], [9, 700], [641, 643],
    ];
    sizes.forEach(([width, height], i) => assertMatchesReference(width, height, i));
  });

  it('matches the plain transcription on random sizes and contents', () => {
    fc.assert(
      fc.property(fc.integer({ min: 5, max: 300 }), fc.integer({ min: 5, max: 300 }), fc.integer({ min: 1, max: 1_000_000 }), (width, height, seed) => {
        assertMatchesReference(width, height, seed);
      }),
      { numRuns: 40 },
    );
  });

  it('divides by multiplying with the reciprocal without changing any float32 result', () => {
    // The optimised box filter relies on this (see reciprocalsUpTo in pdq.ts).
    fc.assert(
      // Every value the filter divides is a sum or difference of float32 luma-derived values, so a
      // multiple of an ulp of at least ~1e-12: never a float32 subnormal (below 2^-126), where
      // the identity does not hold (-2.74e-40 / 234 differs in the last place) and which the
      // generator would otherwise draw now and then.
      fc.property(fc.float({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }).filter(isNormalOrZero), fc.integer({ min: 1, max: 4096 }), (sum, n) => {
        const s = f32(sum);
        return Object.is(f32(s * (1 / n)), f32(s / n));
      }),
      { numRuns: 20_000 },
    );
  });

  it('takes the 64x64 block as is for 64x64 input, as the reference does for pre-scaled frames', () => {
    const luma = syntheticLuma(3, 64, 64);
    assert.deepEqual(pdqCoefficientsFromLuma(luma, 64, 64)!.block, luma);
  });

  it('uses the reference window sizes', () => {
    assert.deepEqual([1, 128, 129, 256, 257, 512, 1004, 1600].map(jaroszWindow), [1, 1, 2, 2, 3, 4, 8, 13]);
  });

  it('computes luminance as the reference: float32 RGB weights, alpha ignored, grey taken as is', () => {
    const random = seededRandom(77);
    const rgba = Uint8Array.from({ length: 50 * 4 }, () => Math.floor(random() * 256));
    const luma = lumaFromPixels(rgba, 10, 5, 4);
    for (let p = 0; p < 50; p++) {
      const [r, g, b] = rgba.subarray(p * 4, p * 4 + 3);
      assert.equal(luma[p], f32(f32(f32(f32(0.299) * r) + f32(f32(0.587) * g)) + f32(f32(0.114) * b)));
    }
    assert.deepEqual(lumaFromPixels(Uint8Array.of(7, 200, 9, 100), 2, 1, 2), Float32Array.of(7, 9));
    assert.deepEqual(lumaFromPixels(Uint8Array.of(7, 7, 7, 30, 30, 30), 2, 1, 3, { grey: true }), Float32Array.of(7, 30));
  });

  it('gives images under 5 pixels on a side the zero hash and quality 0, in every variant', () => {
    for (const [width, height] of [[4, 4], [4, 100], [100, 4], [1, 1]]) {
      const luma = syntheticLuma(1, width, height);
      const result = pdqFromLuma(luma, width, height);
      assert.equal(hash256ToHex(result.hash), '0'.repeat(64));
      assert.equal(result.quality, 0);
      const dihedral = pdqDihedralFromLuma(luma, width, height);
      assert.equal(dihedral.quality, 0);
      for (const variant of dihedral.variants) assert.equal(hash256ToHex(variant.hash), '0'.repeat(64));
    }
    assert.equal(MIN_HASHABLE_DIMENSION, 5);
    assert.notEqual(hash256ToHex(pdqFromLuma(syntheticLuma(1, 5, 5), 5, 5).hash), '0'.repeat(64));
  });

  it('refuses luma that does not fit the stated size', () => {
    assert.throws(() => pdqFromLuma(new Float32Array(10), 5, 5), RangeError);
    assert.throws(() => pdqFromLuma(new Float32Array(25), 0, 5), RangeError);
    assert.throws(() => pdqFromLuma(new Float32Array(25), 2.5, 10), RangeError);
  });
});

describe('PDQ quality', () => {
  it('is 0 for a flat image', () => {
    assert.equal(pdqFromLuma(new Float32Array(200 * 150).fill(123.25), 200, 150).quality, 0);
  });

  it('counts one quantised step per neighbour pair on a 0-255 ramp: 64 x 63 / 90 = 44', () => {
    // Blurred and sampled every 4 pixels, neighbours differ by 3.75 to 4 grey levels,
    // which quantise to |int(400 / 255)| = 1; along the ramp's other axis they do not differ.
    const ramp = new Float32Array(256 * 256).map((_, i) => i % 256);
    assert.equal(pdqFromLuma(ramp, 256, 256).quality, 44);
    const transposed = new Float32Array(256 * 256).map((_, i) => Math.floor(i / 256));
    assert.equal(pdqFromLuma(transposed, 256, 256).quality, 44);
  });

  it('is 100 for busy pictures', () => {
    assert.equal(pdqFromLuma(lumaOf(noiseImage(4, 300, 300)), 300, 300).quality, 100);
    assert.equal(pdqFromLuma(lumaOf(shapesImage(4, 300, 300)), 300, 300).quality, 100);
  });
});

describe("PDQ against Meta's reference vectors", () => {
  it('has the 30 reference vectors', () => {
    assert.equal(expected.size, 30);
  });

  for (const [file, reference] of expected) {
    it(file, async (t) => {
      const { hash, quality } = await pdqFromImage(vector(file));
      const distance = distanceTo(hash, reference.hex);
      t.diagnostic(`distance ${distance} bits, quality ${quality} (reference ${reference.quality})`);
      if (file.endsWith('.png')) {
        assert.equal(hash256ToHex(hash), reference.hex, 'PNG hashes exactly to the reference');
        assert.equal(quality, reference.quality, 'PNG quality equals the reference');
      } else {
        assert.ok(distance <= 4, `JPEG within 4 bits of the reference, got ${distance}`);
        assert.ok(Math.abs(quality - reference.quality) <= 2, `JPEG quality ${quality} near the reference's ${reference.quality}`);
      }
    });
  }

  it('pairs each dihedral variant of the original with the file transformed that way', async (t) => {
    const files: Record<PdqDihedralName, string> = {
      original: '1-original', rotate90: '2-rotate-90', rotate180: '3-rotate-180', rotate270: '4-rotate-270',
      flipX: '5-flipx', flipY: '6-flipy', flipPlus1: '7-flip-plus-1', flipMinus1: '8-flip-minus-1',
    };
    const fileHashes = new Map<PdqDihedralName, Hash256>();
    for (const name of PDQ_DIHEDRAL_NAMES) fileHashes.set(name, (await pdqFromImage(vector(`reg-test-input/dih/bridge-${files[name]}.jpg`))).hash);
    const dihedral = await pdqDihedralFromImage(vector('reg-test-input/dih/bridge-1-original.jpg'));
    assert.deepEqual(dihedral.variants.map((v) => v.name), [...PDQ_DIHEDRAL_NAMES]);
    assert.equal(dihedral.quality, 100);
    for (const variant of dihedral.variants) {
      const own = hamming256(variant.hash, fileHashes.get(variant.name)!);
      const others = PDQ_DIHEDRAL_NAMES.filter((name) => name !== variant.name).map((name) => hamming256(variant.hash, fileHashes.get(name)!));
      t.diagnostic(`${variant.name}: ${own} bits from its file (reference: ${distanceTo(variant.hash, expected.get(`reg-test-input/dih/bridge-${files[variant.name]}.jpg`)!.hex)}), nearest other file ${Math.min(...others)}`);
      assert.ok(Math.min(...others) >= 90, `${variant.name} is far from every other orientation`);
      // At 1600x1004 the reference's row window (8) is even and its row sampling grid is
      // not mirror-symmetric, so an upside-down copy blurs a pixel differently and its own
      // hash, in the reference as here, sits up to 8 near-median bits from the variant.
      // The exact algebra of the variants is checked on symmetric geometry below.
      assert.ok(own <= 8, `${variant.name} within 8 bits of its file, got ${own}`);
    }
  });

  it('gives exactly the transformed images hashes when the geometry is symmetric', async (t) => {
    // 300x260: odd windows (3 and 3) and no sample on a pixel boundary, so every dihedral
    // transform commutes with blur and sampling.
    const source = await png(shapesImage(5, 300, 260));
    const transformed = async (first: (s: Sharp) => Sharp, second?: (s: Sharp) => Sharp) => {
      const once = await first(sharp(source)).png().toBuffer();
      return second ? second(sharp(once)).png().toBuffer() : once;
    };
    const files: Record<PdqDihedralName, Buffer> = {
      original: source,
      rotate90: await transformed((s) => s.rotate(270)),
      rotate180: await transformed((s) => s.rotate(180)),
      rotate270: await transformed((s) => s.rotate(90)),
      flipX: await transformed((s) => s.flip()),
      flipY: await transformed((s) => s.flop()),
      flipPlus1: await transformed((s) => s.rotate(90), (s) => s.flop()),
      flipMinus1: await transformed((s) => s.rotate(90), (s) => s.flip()),
    };
    const dihedral = await pdqDihedralFromImage(source);
    for (const variant of dihedral.variants) {
      const distance = hamming256(variant.hash, (await pdqFromImage(files[variant.name])).hash);
      t.diagnostic(`${variant.name}: ${distance} bits`);
      assert.equal(distance, 0, `${variant.name} equals the hash of the image transformed that way`);
    }
    assert.equal(hash256ToHex(dihedral.variants[0].hash), hash256ToHex((await pdqFromImage(source)).hash));
  });

  it('keeps every everyday edit of a photo within the match threshold (31) of the original', async (t) => {
    const original = (await pdqFromImage(vector('bridge-mods/aaa-orig.jpg'))).hash;
    const edits = readdirSync(join(vectors, 'bridge-mods')).filter((name) => name !== 'aaa-orig.jpg');
    assert.ok(edits.length >= 10, `found ${edits.length} edits`);
    for (const edit of edits) {
      const distance = hamming256(original, (await pdqFromImage(vector(`bridge-mods/${edit}`))).hash);
      t.diagnostic(`${edit}: ${distance} bits`);
      assert.ok(distance <= 31, `${edit} within 31 of the original, got ${distance}`);
    }
  });
});

/** A PNG with exactly the given header and raw rows (filter byte 0 each). */
function pngFile(width: number, height: number, bitDepth: number, colourType: number, rows: Buffer): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([bitDepth, colourType, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('PDQ image decoding', () => {
  it('hashes PNG, JPEG, WebP, GIF and TIFF; lossless encodings to identical luma and hash', async (t) => {
    const image = shapesImage(21, 320, 240);
    const raw = () => sharp(image.pixels, { raw: { width: image.width, height: image.height, channels: 3 } });
    const reference = pdqFromLuma(lumaOf(image), image.width, image.height);
    assert.ok(reference.quality >= 50);
    const lossless = {
      png: await raw().png().toBuffer(),
      webp: await raw().webp({ lossless: true }).toBuffer(),
      tiff: await raw().tiff({ compression: 'lzw' }).toBuffer(),
    };
    for (const [format, bytes] of Object.entries(lossless)) {
      const decoded = await decodeLuma(bytes);
      assert.equal(decoded.format, format);
      assert.deepEqual([decoded.width, decoded.height], [320, 240]);
      assert.deepEqual(decoded.luma, lumaOf(image), `${format} decodes to the original pixels`);
      assert.equal(hash256ToHex((await pdqFromImage(bytes)).hash), hash256ToHex(reference.hash));
    }
    for (const format of ['jpeg', 'webp', 'gif', 'tiff'] as const) {
      const result = await pdqFromImage(await encodeImage(image, format));
      const distance = hamming256(result.hash, reference.hash);
      t.diagnostic(`lossy ${format}: ${distance} bits from the pixels' hash, quality ${result.quality}`);
      assert.ok(distance <= 31, `${format} within the match threshold, got ${distance}`);
      assert.ok(result.quality >= 50);
    }
  });

  it('tells unrelated pictures apart', async () => {
    const a = await pdqFromImage(await png(shapesImage(31, 300, 300)));
    const b = await pdqFromImage(await png(shapesImage(32, 300, 300)));
    const c = await pdqFromImage(await png(noiseImage(33)));
    assert.ok(hamming256(a.hash, b.hash) > 60);
    assert.ok(hamming256(a.hash, c.hash) > 60);
  });

  it('sets half the bits', async () => {
    const { hash } = await pdqFromImage(await png(shapesImage(41, 200, 200)));
    const ones = [...hash].reduce((n, word) => n + word.toString(2).replace(/0/g, '').length, 0);
    assert.equal(ones, 128);
  });

  it('rates a flat picture quality 0', async () => {
    assert.equal((await pdqFromImage(await png(flatImage()))).quality, 0);
  });

  it('ignores alpha: an RGBA image hashes from its colour channels', async () => {
    const image = shapesImage(42, 240, 180);
    const alpha = Buffer.from(Array.from({ length: 240 * 180 }, (_, i) => (i * 13) % 256));
    const rgba = await sharp(image.pixels, { raw: { width: 240, height: 180, channels: 3 } })
      .joinChannel(alpha, { raw: { width: 240, height: 180, channels: 1 } })
      .png()
      .toBuffer();
    assert.deepEqual((await decodeLuma(rgba)).luma, lumaOf(image));
  });

  it('reads greyscale (8 and 16 bit, with or without alpha) as its grey value, and 16-bit colour by its high byte', async () => {
    const width = 120;
    const height = 90;
    const random = seededRandom(43);
    const grey = Buffer.from(Array.from({ length: width * height }, () => Math.floor(random() * 256)));
    const greyPng = await sharp(grey, { raw: { width, height, channels: 1 } }).toColourspace('b-w').png().toBuffer();
    assert.deepEqual((await decodeLuma(greyPng)).luma, Float32Array.from(grey));

    const rows16 = (channels: number, sample: (x: number, y: number, c: number) => number) => {
      const rows = Buffer.alloc(height * (1 + width * channels * 2));
      for (let y = 0, o = 0; y < height; y++) {
        rows[o++] = 0;
        for (let x = 0; x < width; x++) for (let c = 0; c < channels; c++, o += 2) rows.writeUInt16BE(sample(x, y, c), o);
      }
      return rows;
    };
    const value16 = (x: number, y: number, c: number) => (grey[y * width + x] << 8) | ((x * 37 + y * 11 + c * 101) & 0xff);
    const grey16 = pngFile(width, height, 16, 0, rows16(1, value16));
    assert.deepEqual((await decodeLuma(grey16)).luma, Float32Array.from(grey), 'grey16: the high byte');
    const greyAlpha16 = pngFile(width, height, 16, 4, rows16(2, (x, y, c) => (c === 0 ? value16(x, y, 0) : 0x1234)));
    assert.deepEqual((await decodeLuma(greyAlpha16)).luma, Float32Array.from(grey), 'grey+alpha 16: the grey high byte');

    const rgb16 = pngFile(width, height, 16, 2, rows16(3, (x, y, c) => value16((x + c * 7) % width, y, c)));
    const highBytes = Buffer.alloc(width * height * 3);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < 3; c++) highBytes[(y * width + x) * 3 + c] = grey[y * width + ((x + c * 7) % width)];
    assert.deepEqual((await decodeLuma(rgb16)).luma, lumaFromPixels(highBytes, width, height, 3), 'rgb16: the high bytes');
  });

  it('hashes only the first frame of an animated GIF', async () => {
    const first = await png(shapesImage(44, 200, 150));
    const second = await png(shapesImage(45, 200, 150));
    const animated = await sharp([first, second], { join: { animated: true } }).gif().toBuffer();
    assert.equal((await sharp(animated, { pages: -1 }).metadata()).pages, 2);
    const decoded = await decodeLuma(animated);
    assert.deepEqual([decoded.width, decoded.height], [200, 150]);
    const hash = (await pdqFromImage(animated)).hash;
    assert.ok(hamming256(hash, (await pdqFromImage(first)).hash) <= 31, 'close to the first frame');
    assert.ok(hamming256(hash, (await pdqFromImage(second)).hash) > 60, 'far from the second frame');
  });

  it('does not apply EXIF orientation (the reference does not)', async () => {
    const image = shapesImage(46, 240, 160);
    const plain = await sharp(image.pixels, { raw: { width: 240, height: 160, channels: 3 } }).jpeg().toBuffer();
    const tagged = await sharp(image.pixels, { raw: { width: 240, height: 160, channels: 3 } }).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    assert.equal((await sharp(tagged).metadata()).orientation, 6);
    const decoded = await decodeLuma(tagged);
    assert.deepEqual([decoded.width, decoded.height], [240, 160]);
    assert.deepEqual(decoded.luma, (await decodeLuma(plain)).luma);
  });

  it('hashes large pictures at full resolution, exactly as the C++ reference does on the same pixels', async (t) => {
    const dir = join(repoRoot, 'test', '.tmp', 'pdq-fullres');
    mkdirSync(dir, { recursive: true });
    const cases: { name: string; bytes: Buffer }[] = [];
    for (const [seed, width, height] of [[61, 1920, 1080], [62, 1080, 1350], [63, 4032, 3024], [64, 2001, 999]] as const) {
      const image = shapesImage(seed, width, height);
      cases.push({ name: `${width}x${height}.png`, bytes: await png(image) });
      cases.push({ name: `${width}x${height}.jpg`, bytes: await encodeImage(image, 'jpeg') });
    }
    const files: string[] = [];
    for (const c of cases) {
      const { pixels } = await decodePixelsForPdq(c.bytes);
      assert.deepEqual([pixels.width, pixels.height], c.name.split('.')[0].split('x').map(Number), 'no resize');
      const file = join(dir, `${c.name}.ppm`);
      writePnm(file, pixels.data, pixels.width, pixels.height, pixels.channels);
      files.push(file);
    }
    const reference = referenceHashes(files);
    for (const [i, c] of cases.entries()) {
      const ours = await pdqFromImage(c.bytes);
      t.diagnostic(`${c.name}: ${hash256ToHex(ours.hash)} quality ${ours.quality}`);
      assert.equal(hash256ToHex(ours.hash), reference[i].hex, `${c.name} equals the reference's hash of the same pixels`);
      assert.equal(ours.quality, reference[i].quality, `${c.name} equals the reference's quality`);
    }
  });

  it('accepts a Uint8Array view into a larger buffer', async () => {
    const bytes = await png(shapesImage(49, 100, 80));
    const padded = new Uint8Array(bytes.length + 64);
    padded.set(bytes, 32);
    const view = padded.subarray(32, 32 + bytes.length);
    assert.equal(hash256ToHex((await pdqFromImage(view)).hash), hash256ToHex((await pdqFromImage(bytes)).hash));
  });
});

describe('PDQ refuses bad input with a clear ImageDecodeError', () => {
  const refuses = async (bytes: Uint8Array, message: RegExp, reason: ImageDecodeError['reason'], options?: { maxPixels?: number; maxDimension?: number }) => {
    await assert.rejects(pdqFromImage(bytes, options), (error: unknown) => {
      assert.ok(error instanceof ImageDecodeError, `expected ImageDecodeError, got ${error}`);
      assert.match(error.message, message);
      assert.equal(error.reason, reason);
      assert.ok(error.message.length < 300, 'short message');
      return true;
    });
  };

  it('empty input', async () => {
    await refuses(Buffer.alloc(0), /^empty input \(0 bytes\)$/, 'empty');
  });

  it('text, random bytes, SVG and PDF: not a supported format, never handed to a decoder', async () => {
    const unsupported = /^not a supported image format \(expected jpeg, png, webp, gif, tiff, avif, bmp\)$/;
    await refuses(Buffer.from('plain text, not an image'), unsupported, 'unsupported');
    await refuses(noiseImage(5, 16, 16).pixels, unsupported, 'unsupported');
    const named = (name: string) => new RegExp(`^${name} is not supported: [^()]+ \\(supported: jpeg, png, webp, gif, tiff, avif, bmp\\)$`);
    await refuses(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'), named('SVG'), 'unsupported');
    await refuses(Buffer.from('%PDF-1.4\n%âãÏÓ\n1 0 obj\n<<>>\nendobj\n'), named('PDF'), 'unsupported');
  });

  it('truncated PNG, JPEG, WebP, GIF and TIFF, and garbage behind a JPEG signature', async () => {
    const image = shapesImage(51, 300, 200);
    for (const format of ['png', 'jpeg', 'webp', 'gif', 'tiff'] as const) {
      const bytes = await encodeImage(image, format);
      await refuses(bytes.subarray(0, Math.floor(bytes.length / 2)), /^image is truncated or corrupt: \S/, 'corrupt');
    }
    await refuses(Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), noiseImage(6, 16, 16).pixels]), /^image is truncated or corrupt: \S/, 'corrupt');
  });

  it('never echoes the input in the message', async () => {
    const marker = 'MARKER-7f3a9c-THIS-MUST-NOT-APPEAR';
    for (const bytes of [Buffer.from(marker), Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from(marker.repeat(4))])]) {
      await assert.rejects(pdqFromImage(bytes), (error: unknown) => {
        assert.ok(error instanceof ImageDecodeError);
        assert.ok(!error.message.includes('MARKER'), error.message);
        return true;
      });
    }
  });

  it('decompression bombs: a tiny PNG declaring 10^10 pixels, and the configured pixel limit', async () => {
    const bomb = pngFile(100_000, 100_000, 8, 2, Buffer.alloc(16));
    assert.ok(bomb.length < 100, 'the bomb is tiny on disk');
    await refuses(bomb, /^image exceeds the pixel limit \(100000 x 100000 > 50000000 pixels\)$/, 'too-large');
    const small = await png(shapesImage(53, 300, 200));
    await refuses(small, /^image exceeds the pixel limit \(300 x 200 > 10000 pixels\)$/, 'too-large', { maxPixels: 10_000 });
    assert.equal((await pdqFromImage(small, { maxPixels: 60_000 })).quality, 100, 'exactly at the limit is allowed');
    await assert.rejects(pdqFromImage(small, { maxPixels: 0 }), RangeError);
  });

  it('bombs under the pixel limit: a 49,000,000 x 1 PNG is refused by the side limit from its header; a 7000 x 7000 PNG is hashed', async () => {
    // Decoding the first took 10-15 s of CPU before the side limit; it hashes to nothing anyway (PDQ needs 5 pixels a side).
    await refuses(pngFile(49_000_000, 1, 8, 2, Buffer.alloc(16)), /^image exceeds the side limit \(49000000 x 1: a side over 65500 pixels\)$/, 'too-large');
    await refuses(pngFile(1, 49_000_000, 8, 0, Buffer.alloc(16)), /^image exceeds the side limit \(1 x 49000000: a side over 65500 pixels\)$/, 'too-large');
    const small = await png(shapesImage(54, 300, 200));
    await refuses(small, /^image exceeds the side limit \(300 x 200: a side over 299 pixels\)$/, 'too-large', { maxDimension: 299 });
    assert.equal((await pdqFromImage(small, { maxDimension: 300 })).quality, 100, 'exactly at the limit is allowed');
    await assert.rejects(pdqFromImage(small, { maxDimension: 1.5 }), RangeError);

    // 49 megapixels, 0.7 MB on disk: under the default limit it is decoded and hashed; under a lower one it is refused unread.
    const big = await sharp({ create: { width: 7000, height: 7000, channels: 3, background: { r: 90, g: 120, b: 150 } } }).png().toBuffer();
    await refuses(big, /^image exceeds the pixel limit \(7000 x 7000 > 40000000 pixels\)$/, 'too-large', { maxPixels: 40_000_000 });
    assert.equal((await pdqFromImage(big)).quality, 0, 'hashed: a flat picture');
  });

  it('truncated AVIF, and files whose signature belongs to another format', async () => {
    const image = shapesImage(55, 200, 150);
    const avif = await sharp(image.pixels, { raw: { width: 200, height: 150, channels: 3 } }).avif().toBuffer();
    await refuses(avif.subarray(0, Math.floor(avif.length / 2)), /^image is truncated or corrupt: \S/, 'corrupt');
    const pngBytes = await png(image);
    await refuses(Buffer.concat([Buffer.from('GIF89a'), pngBytes]), /^image is truncated or corrupt: \S/, 'corrupt');
    await refuses(Buffer.concat([Buffer.from('RIFF\0\0\0\0WEBP'), pngBytes]), /^image is truncated or corrupt: \S/, 'corrupt');
    await refuses(Buffer.concat([Buffer.from([0x49, 0x49, 0x2a, 0x00]), pngBytes]), /^image is truncated or corrupt: \S/, 'corrupt');
    // A PNG named or sent as anything else is still a PNG: formats are recognised from the bytes.
    assert.equal(hash256ToHex((await pdqFromImage(pngBytes)).hash), hash256ToHex(pdqFromLuma(lumaOf(image), 200, 150).hash));
  });
});
