import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import sharp from 'sharp';
import { type GeneratedImage, shapesImage } from '../src/demo/benign-images.ts';
import { HASH256_WORDS } from '../src/signals/pdq/hash256.ts';
import { ImageDecodeError, PDQ_IMAGE_FORMATS, decodePixelsForPdq, pdqFromImage } from '../src/signals/pdq/image.ts';
import { bmpFile, cmykJpeg, naiveCmyk, tiffFile } from './helpers/image-files.ts';
import { mutate, mutation } from './helpers/mutations.ts';

/**
 * Every outcome of decoding damaged input is a hash or an ImageDecodeError: valid small
 * files of every supported format (and the CMYK and palette variants), damaged by
 * overwriting, inserting, deleting and cutting bytes, half the time within the first 64
 * bytes where the headers are. Seeds are fixed so that a run is repeatable; fast-check
 * prints the seed and the shrunk counterexample of any failure.
 */

const image = shapesImage(71, 48, 36);
const raw = (picture: GeneratedImage) => sharp(picture.pixels, { raw: { width: picture.width, height: picture.height, channels: 3 } });

async function validFiles(): Promise<Record<string, Buffer>> {
  const indices = Uint8Array.from({ length: 48 * 36 }, (_, i) => (image.pixels[i * 3] >> 5) * 8 + (image.pixels[i * 3 + 1] >> 5));
  const palette = Uint8Array.from({ length: 256 * 3 }, (_, i) => (i % 3 === 0 ? (Math.floor(i / 3) >> 3) << 5 : i % 3 === 1 ? (Math.floor(i / 3) & 7) << 5 : 128));
  return {
    png: await raw(image).png().toBuffer(),
    'png palette': await raw(image).png({ palette: true, colours: 16 }).toBuffer(),
    jpeg: await raw(image).jpeg({ quality: 80 }).toBuffer(),
    'jpeg progressive': await raw(image).jpeg({ quality: 80, progressive: true }).toBuffer(),
    'jpeg cmyk': await cmykJpeg(48, 36, naiveCmyk(image, 'full-black'), 80),
    webp: await raw(image).webp({ quality: 80 }).toBuffer(),
    'webp lossless': await raw(image).webp({ lossless: true }).toBuffer(),
    gif: await raw(image).gif().toBuffer(),
    tiff: await raw(image).tiff({ compression: 'lzw' }).toBuffer(),
    'tiff cmyk': tiffFile(48, 36, naiveCmyk(image, 'pillow'), { photometric: 5, samplesPerPixel: 4 }),
    avif: await raw(image).avif({ quality: 60 }).toBuffer(),
    'bmp 24-bit': bmpFile(48, 36, { bitsPerPixel: 24, pixels: image.pixels }),
    'bmp 32-bit bit fields': bmpFile(48, 36, { bitsPerPixel: 32, pixels: image.pixels, masks: [0xff0000, 0xff00, 0xff], headerSize: 124 }),
    'bmp 8-bit palette': bmpFile(48, 36, { bitsPerPixel: 8, palette, pixels: indices }),
  };
}

describe('decoding damaged images of every format', () => {
  it('covers every supported format', async () => {
    const formats = new Set<string>();
    for (const bytes of Object.values(await validFiles())) formats.add((await decodePixelsForPdq(bytes)).format);
    assert.deepEqual([...formats].sort(), [...PDQ_IMAGE_FORMATS].sort());
  });

  it('gives a hash or an ImageDecodeError, never anything else, for mutated files', async (t) => {
    const files = await validFiles();
    const totals = { hashed: 0, refused: 0 };
    for (const [index, [name, file]] of Object.entries(files).entries()) {
      const counts = { hashed: 0, refused: 0 } as Record<string, number>;
      await fc.assert(
        fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 4 }), async (mutations) => {
          const bytes = mutate(file, mutations);
          try {
            const { hash, quality } = await pdqFromImage(bytes, { maxPixels: 2_000_000 });
            assert.equal(hash.length, HASH256_WORDS);
            assert.ok(Number.isInteger(quality) && quality >= 0 && quality <= 100, `quality ${quality}`);
            counts.hashed++;
          } catch (error) {
            if (!(error instanceof ImageDecodeError)) throw error;
            assert.ok(error.message.length > 0 && error.message.length < 300, error.message);
            counts[error.reason] = (counts[error.reason] ?? 0) + 1;
            counts.refused++;
          }
        }),
        { numRuns: 150, seed: 0x5eed + index },
      );
      t.diagnostic(`${name}: ${JSON.stringify(counts)}`);
      totals.hashed += counts.hashed;
      totals.refused += counts.refused;
    }
    assert.ok(totals.hashed > 0 && totals.refused > 0, `both outcomes occur: ${JSON.stringify(totals)}`);
  });

  it('gives an ImageDecodeError for random bytes behind every signature', async () => {
    const files = await validFiles();
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...Object.values(files)), fc.integer({ min: 2, max: 40 }), fc.uint8Array({ maxLength: 600 }), async (file, keep, tail) => {
        const bytes = Buffer.concat([file.subarray(0, keep), tail]);
        try {
          await pdqFromImage(bytes, { maxPixels: 2_000_000 });
        } catch (error) {
          if (!(error instanceof ImageDecodeError)) throw error;
          refused++;
        }
      }),
      { numRuns: 300, seed: 0xb0a7 },
    );
    assert.ok(refused >= 290, `${refused} of 300 refused`);
  });
});
