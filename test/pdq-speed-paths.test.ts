import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { assembleWat, wasmSources } from '../scripts/assemble-wasm.ts';
import { noiseImage, seededRandom, shapesImage } from '../src/demo/benign-images.ts';
import { hash256ToHex } from '../src/signals/pdq/hash256.ts';
import { type Pixels, lumaFromPixels, pdqCoefficientsFromLuma, pdqCoefficientsFromPixels, pdqFromPixels } from '../src/signals/pdq/pdq.ts';
import { referenceHashes, writePnm } from './helpers/pdq-reference.ts';

/**
 * The fast paths of PDQ (the WebAssembly SIMD kernels of src/signals/pdq/jarosz.wat) against
 * Meta's C++ reference on the same pixels, on many seeded random images: every channel
 * layout the decoder hands over, sizes that hit every remainder of the 4-column and 8-row
 * groups, and buffers large enough to need a WebAssembly instance of their own. The float
 * luma path is checked against a plain transcription of the reference in test/pdq.test.ts;
 * here the pixel path must equal it too.
 */

const scratch = resolve(import.meta.dirname, '.tmp', 'pdq-speed-paths');

/** A benign test picture of the given size and channel layout, from a seed. */
function randomPixels(seed: number, width: number, height: number, channels: number): Pixels {
  const random = seededRandom(seed);
  const kind = seed % 4;
  const rgb =
    kind === 0
      ? noiseImage(seed, width, height).pixels
      : kind === 1
        ? shapesImage(seed, width, height).pixels
        : Buffer.from(Array.from({ length: width * height * 3 }, (_, i) => {
            const p = Math.floor(i / 3);
            const x = p % width;
            const y = Math.floor(p / width);
            return kind === 2 ? Math.round(127.5 + 127 * Math.sin(x / 7 + (i % 3)) * Math.cos(y / 5)) : (x * 3 + y * 5 + (i % 3) * 40) & 255;
          }));
  const data = new Uint8Array(width * height * channels);
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < channels; c++) data[p * channels + c] = c < 3 ? rgb[p * 3 + Math.min(c, 2)] : Math.floor(random() * 256);
  }
  return { data, width, height, channels };
}

/** The pixels as the reference reads them: PGM of the first channel when grey, else PPM of RGB. */
function writeForReference(path: string, pixels: Pixels, grey: boolean): void {
  const { data, width, height, channels } = pixels;
  if (!grey) return writePnm(path, data, width, height, channels);
  const first = new Uint8Array(width * height);
  for (let p = 0; p < first.length; p++) first[p] = data[p * channels];
  writePnm(path, first, width, height, 1);
}

const firstDifference = (a: Float32Array, b: Float32Array) => a.findIndex((value, i) => !Object.is(value, b[i]));

describe('PDQ fast paths', () => {
  it('runs the committed jarosz.wasm, which is jarosz.wat assembled', async () => {
    for (const source of wasmSources) {
      const committed = readFileSync(new URL(source.href.replace(/\.wat$/, '.wasm')));
      const assembled = await assembleWat(source);
      assert.ok(committed.equals(assembled), `${source.pathname}: re-assemble with node --import tsx scripts/assemble-wasm.ts`);
    }
  });

  it("equals the C++ reference's hash and quality on 120 random images: 1 to 4 channels, grey or colour, odd sizes", () => {
    rmSync(scratch, { recursive: true, force: true });
    mkdirSync(scratch, { recursive: true });
    const random = seededRandom(2026);
    const special: [number, number][] = [
      [5, 5], [6, 7], [64, 64], [65, 64], [64, 65], [63, 63], [8, 8], [9, 1000], [1000, 9], [127, 129], [129, 127],
      [256, 256], [257, 255], [1, 1], [4, 300], [301, 3], [1601, 1003], [2048, 17], [17, 2048], [700, 701],
    ];
    const cases = Array.from({ length: 120 }, (_, i) => {
      const [width, height] = special[i] ?? [5 + Math.floor(random() ** 2 * 900), 5 + Math.floor(random() ** 2 * 900)];
      const channels = 1 + Math.floor(random() * 4);
      const grey = channels < 3 || random() < 0.15;
      return { seed: 1000 + i, width, height, channels, grey };
    });
    const files: string[] = [];
    const ours = cases.map((c, i) => {
      const pixels = randomPixels(c.seed, c.width, c.height, c.channels);
      const file = join(scratch, `${i}.pnm`);
      writeForReference(file, pixels, c.grey);
      files.push(file);
      const result = pdqFromPixels(pixels, { grey: c.grey });
      // The pixel path equals the float luma path (itself checked against the plain transcription).
      const viaPixels = pdqCoefficientsFromPixels(pixels, { grey: c.grey });
      const viaLuma = pdqCoefficientsFromLuma(lumaFromPixels(pixels.data, c.width, c.height, c.channels, { grey: c.grey }), c.width, c.height);
      assert.equal(viaPixels === undefined, viaLuma === undefined);
      if (viaPixels && viaLuma) {
        assert.equal(firstDifference(viaPixels.block, viaLuma.block), -1, `${c.width}x${c.height}x${c.channels}: same 64x64 block`);
        assert.equal(firstDifference(viaPixels.coefficients, viaLuma.coefficients), -1, `${c.width}x${c.height}x${c.channels}: same DCT`);
        assert.equal(viaPixels.quality, viaLuma.quality);
      }
      return result;
    });
    const reference = referenceHashes(files);
    for (const [i, c] of cases.entries()) {
      const name = `${c.width}x${c.height}, ${c.channels} channel(s)${c.grey ? ', grey' : ''}, seed ${c.seed}`;
      assert.equal(hash256ToHex(ours[i].hash), reference[i].hex, `${name}: hash`);
      assert.equal(ours[i].quality, reference[i].quality, `${name}: quality`);
    }
    rmSync(scratch, { recursive: true, force: true });
  });

  it('gives the same result when hashed again, after larger and smaller images, and for buffers past the kept instance', () => {
    // 400,000 x 6 pixels need about 80 MB of buffers: more than the instance kept between
    // calls, so they get one of their own. Hash it between two ordinary images.
    mkdirSync(scratch, { recursive: true });
    const images = [randomPixels(7, 333, 211, 3), randomPixels(8, 400_000, 6, 3), randomPixels(9, 97, 1500, 4), randomPixels(7, 333, 211, 3)];
    const hashes = images.map((pixels) => pdqFromPixels(pixels));
    const files = images.map((pixels, i) => {
      const file = join(scratch, `again-${i}.ppm`);
      writeForReference(file, pixels, false);
      return file;
    });
    const reference = referenceHashes(files);
    hashes.forEach((result, i) => {
      assert.equal(hash256ToHex(result.hash), reference[i].hex, `image ${i}`);
      assert.equal(result.quality, reference[i].quality, `image ${i} quality`);
    });
    assert.equal(hash256ToHex(pdqFromPixels(images[1]).hash), reference[1].hex, 'the large image again');
    rmSync(scratch, { recursive: true, force: true });
  });
});
