import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { type GeneratedImage, seededRandom, shapesImage } from '../src/demo/benign-images.ts';
import { hamming256, hash256ToHex } from '../src/signals/pdq/hash256.ts';
import { ImageDecodeError, PDQ_IMAGE_FORMATS, decodeLuma, decodePixelsForPdq, pdqFromImage } from '../src/signals/pdq/image.ts';
import { lumaFromPixels, pdqFromLuma } from '../src/signals/pdq/pdq.ts';
import { bmpFile, cmykJpeg, naiveCmyk, tiffFile, withoutJpegSegments } from './helpers/image-files.ts';

const raw = (image: GeneratedImage) => sharp(image.pixels, { raw: { width: image.width, height: image.height, channels: 3 } });
const png = (image: GeneratedImage) => raw(image).png().toBuffer();
const lumaOf = (image: GeneratedImage) => lumaFromPixels(image.pixels, image.width, image.height, 3);
const SUPPORTED = 'jpeg, png, webp, gif, tiff, avif, bmp';

/** Pictures of benign shapes, of sizes that exercise row padding and JPEG block edges. */
const PICTURES: [seed: number, width: number, height: number][] = [
  [21, 640, 480],
  [22, 321, 241],
  [23, 1920, 1080],
  [25, 500, 500],
];

async function refuses(bytes: Uint8Array, message: RegExp, reason: ImageDecodeError['reason']): Promise<void> {
  await assert.rejects(decodePixelsForPdq(bytes), (error: unknown) => {
    assert.ok(error instanceof ImageDecodeError, `expected ImageDecodeError, got ${error}`);
    assert.match(error.message, message);
    assert.equal(error.reason, reason);
    assert.ok(error.message.length < 300, 'short message');
    return true;
  });
}

describe('CMYK images are converted as the reference decoders convert them', () => {
  it("uses Pillow's cmyk2rgb exactly: R = (255 - K) - round(C x (255 - K) / 255), for every C and K", async () => {
    // A 256 x 256 CMYK TIFF whose pixel (x, y) has C = x, M = 255 - x, Y = 7x mod 256, K = y.
    const samples = new Uint8Array(256 * 256 * 4);
    for (let k = 0; k < 256; k++) for (let c = 0; c < 256; c++) samples.set([c, 255 - c, (c * 7) % 256, k], (k * 256 + c) * 4);
    const { pixels, grey } = await decodePixelsForPdq(tiffFile(256, 256, samples, { photometric: 5, samplesPerPixel: 4 }));
    assert.equal(grey, false);
    assert.equal(pixels.channels, 3);
    const plain = (ink: number, k: number) => 255 - k - Math.round((ink * (255 - k)) / 255);
    let checked = 0;
    for (let i = 0; i < 256 * 256; i++) {
      const [c, m, y, k] = samples.subarray(i * 4, i * 4 + 4);
      assert.deepEqual([...pixels.data.subarray(i * 3, i * 3 + 3)], [plain(c, k), plain(m, k), plain(y, k)], `C=${c} M=${m} Y=${y} K=${k}`);
      checked++;
    }
    assert.equal(checked, 65536);
  });

  it('reads 16-bit CMYK by the high byte of each sample', async () => {
    const image = shapesImage(31, 64, 48);
    const eight = naiveCmyk(image, 'full-black');
    const sixteen = Uint16Array.from(eight, (v, i) => (v << 8) | ((i * 37) & 0xff));
    const a = await decodePixelsForPdq(tiffFile(64, 48, eight, { photometric: 5, samplesPerPixel: 4 }));
    const b = await decodePixelsForPdq(tiffFile(64, 48, sixteen, { photometric: 5, samplesPerPixel: 4, bitsPerSample: 16 }));
    assert.deepEqual([b.pixels.width, b.pixels.height, b.pixels.channels], [64, 48, 3]);
    assert.deepEqual(Buffer.from(b.pixels.data), Buffer.from(a.pixels.data));
  });

  it('hashes a CMYK TIFF made with the plain formulas exactly as the same picture in RGB', async () => {
    for (const black of ['pillow', 'full-black'] as const) {
      const image = shapesImage(32, 400, 300);
      const tiff = tiffFile(400, 300, naiveCmyk(image, black), { photometric: 5, samplesPerPixel: 4 });
      assert.equal(hash256ToHex((await pdqFromImage(tiff)).hash), hash256ToHex((await pdqFromImage(await png(image))).hash), black);
    }
  });

  it('hashes CMYK JPEGs within 4 bits of the same picture as PNG (measured 0-2; through libvips ICC conversion 10-56)', async (t) => {
    let worst = 0;
    for (const [seed, width, height] of PICTURES) {
      const image = shapesImage(seed, width, height);
      const expected = (await pdqFromImage(await png(image))).hash;
      const rgbJpeg = hamming256((await pdqFromImage(await raw(image).jpeg({ quality: 90 }).toBuffer())).hash, expected);
      for (const black of ['pillow', 'full-black'] as const) {
        const jpeg = await cmykJpeg(width, height, naiveCmyk(image, black));
        const metadata = await sharp(jpeg).metadata();
        assert.deepEqual([metadata.format, metadata.space, metadata.channels], ['jpeg', 'cmyk', 4]);
        const result = await pdqFromImage(jpeg);
        const distance = hamming256(result.hash, expected);
        t.diagnostic(`${width}x${height} ${black}: CMYK JPEG ${distance} bits from the PNG (the RGB JPEG at the same quality: ${rgbJpeg})`);
        assert.ok(distance <= 4, `${width}x${height} ${black}: ${distance} bits`);
        assert.equal(result.quality, 100);
        worst = Math.max(worst, distance);
      }
    }
    t.diagnostic(`worst CMYK JPEG distance: ${worst} bits`);
  });

  it('inverts every CMYK JPEG, with or without the Adobe marker, as Pillow, ImageMagick and libvips do', async () => {
    const image = shapesImage(33, 200, 160);
    const jpeg = await cmykJpeg(200, 160, naiveCmyk(image, 'pillow'));
    const bare = withoutJpegSegments(jpeg, 0xee);
    assert.ok(jpeg.includes(Buffer.from('Adobe')) && !bare.includes(Buffer.from('Adobe')), 'the APP14 marker is gone');
    assert.deepEqual((await decodePixelsForPdq(bare)).pixels, (await decodePixelsForPdq(jpeg)).pixels);
  });

  it('ignores an embedded CMYK profile, as the reference decoders do', async () => {
    const image = shapesImage(34, 200, 160);
    // sharp converts to CMYK through its built-in profile and embeds it.
    const profiled = await raw(image).toColourspace('cmyk').withIccProfile('cmyk').jpeg().toBuffer();
    assert.ok((await sharp(profiled).metadata()).icc, 'the JPEG carries a profile');
    const bare = withoutJpegSegments(profiled, 0xe2);
    assert.equal((await sharp(bare).metadata()).icc, undefined, 'the profile is gone');
    assert.deepEqual((await decodePixelsForPdq(profiled)).pixels, (await decodePixelsForPdq(bare)).pixels);
  });
});

describe('AVIF', () => {
  it('is decoded by the libvips that sharp bundles', () => {
    assert.equal(sharp.format.heif.input.buffer, true);
    assert.deepEqual(PDQ_IMAGE_FORMATS.join(', '), SUPPORTED);
  });

  it('lossless AVIF hashes exactly as the PNG of the same picture; lossy AVIF (quality 60) within 10 bits (measured 0-4)', async (t) => {
    // AVIF encoding is slow (lossless 1920x1080 takes seconds): smaller pictures here.
    for (const [seed, width, height] of [[21, 640, 480], [22, 321, 241], [24, 300, 400]] as const) {
      const image = shapesImage(seed, width, height);
      const expected = await pdqFromImage(await png(image));
      const lossless = await raw(image).avif({ lossless: true }).toBuffer();
      const decoded = await decodeLuma(lossless);
      assert.equal(decoded.format, 'avif');
      assert.deepEqual(decoded.luma, lumaOf(image), 'lossless AVIF decodes to the original pixels');
      assert.equal(hash256ToHex((await pdqFromImage(lossless)).hash), hash256ToHex(expected.hash));
      const lossy = await pdqFromImage(await raw(image).avif({ quality: 60 }).toBuffer());
      const distance = hamming256(lossy.hash, expected.hash);
      t.diagnostic(`${width}x${height} AVIF quality 60: ${distance} bits`);
      assert.ok(distance <= 10, `${width}x${height}: ${distance} bits`);
    }
  });
});

describe('BMP', () => {
  const image = shapesImage(41, 123, 77); // 123 x 3 = 369: rows need padding
  const rgbHash = () => pdqFromLuma(lumaOf(image), image.width, image.height);

  /** The picture with each channel rounded to one of `levels` values, and its palette indices. */
  function paletted(levelsPerChannel: number): { picture: GeneratedImage; palette: Uint8Array; indices: Uint8Array } {
    const level = (v: number) => Math.round((v / 255) * (levelsPerChannel - 1));
    const value = (l: number) => Math.round((l * 255) / (levelsPerChannel - 1));
    const palette = new Uint8Array(levelsPerChannel ** 3 * 3);
    for (let i = 0; i < levelsPerChannel ** 3; i++) {
      palette.set([value(Math.floor(i / levelsPerChannel ** 2)), value(Math.floor(i / levelsPerChannel) % levelsPerChannel), value(i % levelsPerChannel)], i * 3);
    }
    const indices = new Uint8Array(image.width * image.height);
    const pixels = Buffer.alloc(image.pixels.length);
    for (let i = 0; i < indices.length; i++) {
      const [r, g, b] = [0, 1, 2].map((c) => level(image.pixels[i * 3 + c]));
      indices[i] = (r * levelsPerChannel + g) * levelsPerChannel + b;
      pixels.set(palette.subarray(indices[i] * 3, indices[i] * 3 + 3), i * 3);
    }
    return { picture: { width: image.width, height: image.height, pixels }, palette, indices };
  }

  it('24- and 32-bit BMP, bottom-up and top-down, every header version: the same pixels and hash as PNG', async () => {
    const variants = {
      '24-bit': bmpFile(123, 77, { bitsPerPixel: 24, pixels: image.pixels }),
      '24-bit top-down': bmpFile(123, 77, { bitsPerPixel: 24, pixels: image.pixels, topDown: true }),
      '24-bit OS/2 core header': bmpFile(123, 77, { bitsPerPixel: 24, pixels: image.pixels, headerSize: 12 }),
      '24-bit V4 header': bmpFile(123, 77, { bitsPerPixel: 24, pixels: image.pixels, headerSize: 108 }),
      '32-bit BGRX': bmpFile(123, 77, { bitsPerPixel: 32, pixels: image.pixels }),
      '32-bit bit fields': bmpFile(123, 77, { bitsPerPixel: 32, pixels: image.pixels, masks: [0xff0000, 0xff00, 0xff] }),
      '32-bit bit fields RGBX, V5 header': bmpFile(123, 77, { bitsPerPixel: 32, pixels: image.pixels, masks: [0xff, 0xff00, 0xff0000], headerSize: 124, topDown: true }),
      '32-bit bit fields XRGB': bmpFile(123, 77, { bitsPerPixel: 32, pixels: image.pixels, masks: [0xff000000, 0xff0000, 0xff00] }),
    };
    for (const [name, bytes] of Object.entries(variants)) {
      const decoded = await decodeLuma(bytes);
      assert.equal(decoded.format, 'bmp', name);
      assert.deepEqual([decoded.width, decoded.height], [123, 77], name);
      assert.deepEqual(decoded.luma, lumaOf(image), `${name}: the original pixels`);
      assert.equal(hash256ToHex((await pdqFromImage(bytes)).hash), hash256ToHex(rgbHash().hash), name);
    }
    const fromPng = await decodeLuma(await png(image));
    assert.deepEqual(fromPng.luma, (await decodeLuma(variants['24-bit'])).luma, 'BMP and PNG of the same picture decode alike');
  });

  it('8-, 4- and 1-bit palette BMP: the palette colours, as the PNG of the same colours', async () => {
    for (const [bits, levels] of [[8, 6], [4, 2], [1, 0]] as const) {
      let picture: GeneratedImage;
      let palette: Uint8Array;
      let indices: Uint8Array;
      if (bits === 1) {
        // Two colours: a dark blue and a light orange, by brightness.
        palette = Uint8Array.from([20, 30, 90, 240, 180, 90]);
        indices = Uint8Array.from({ length: image.width * image.height }, (_, i) => (image.pixels[i * 3] + image.pixels[i * 3 + 1] > 255 ? 1 : 0));
        const pixels = Buffer.alloc(image.pixels.length);
        indices.forEach((index, i) => pixels.set(palette.subarray(index * 3, index * 3 + 3), i * 3));
        picture = { width: image.width, height: image.height, pixels };
      } else ({ picture, palette, indices } = paletted(levels));
      const bmp = bmpFile(123, 77, { bitsPerPixel: bits, palette, pixels: indices });
      const { pixels, grey } = await decodePixelsForPdq(bmp);
      assert.equal(grey, false);
      assert.deepEqual(Buffer.from(pixels.data), picture.pixels, `${bits}-bit`);
      assert.equal(hash256ToHex((await pdqFromImage(bmp)).hash), hash256ToHex((await pdqFromImage(await png(picture))).hash), `${bits}-bit`);
    }
  });

  it('a grey-palette BMP hashes its grey values, as a greyscale PNG does', async () => {
    const random = seededRandom(42);
    const grey = Uint8Array.from({ length: 64 * 40 }, () => Math.floor(random() * 256));
    const ramp = Uint8Array.from({ length: 256 * 3 }, (_, i) => Math.floor(i / 3));
    const bmp = bmpFile(64, 40, { bitsPerPixel: 8, palette: ramp, pixels: grey });
    const decoded = await decodeLuma(bmp);
    assert.deepEqual(decoded.luma, Float32Array.from(grey));
    const greyPng = await sharp(Buffer.from(grey), { raw: { width: 64, height: 40, channels: 1 } }).toColourspace('b-w').png().toBuffer();
    assert.equal(hash256ToHex((await pdqFromImage(bmp)).hash), hash256ToHex((await pdqFromImage(greyPng)).hash));
  });

  it('refuses, by name, the BMP variants it does not read, and damaged ones as damaged', async () => {
    const named = (what: string) => new RegExp(`^${what} is not supported: [^()]+ \\(supported: ${SUPPORTED}\\)$`);
    const rle = bmpFile(16, 16, { bitsPerPixel: 8, palette: new Uint8Array(768), pixels: new Uint8Array(256), compression: 1 });
    await refuses(rle, named('RLE-compressed BMP'), 'unsupported');
    const sixteen = bmpFile(16, 16, { bitsPerPixel: 24, pixels: new Uint8Array(768) });
    sixteen.writeUInt16LE(16, 28);
    await refuses(sixteen, named('16-bit BMP'), 'unsupported');
    const jpegInside = bmpFile(16, 16, { bitsPerPixel: 24, pixels: new Uint8Array(768), compression: 4 });
    await refuses(jpegInside, named('BMP holding a JPEG'), 'unsupported');
    const oddMasks = bmpFile(16, 16, { bitsPerPixel: 32, pixels: new Uint8Array(768), masks: [0x3ff00000, 0xffc00, 0x3ff] });
    await refuses(oddMasks, named('BMP with bit masks 0x3ff00000, 0xffc00, 0x3ff'), 'unsupported');

    const whole = bmpFile(123, 77, { bitsPerPixel: 24, pixels: image.pixels });
    await refuses(whole.subarray(0, whole.length - 500), /^image is truncated or corrupt: BMP pixel data is truncated \(needs \d+ bytes, has \d+\)$/, 'corrupt');
    await refuses(whole.subarray(0, 30), /^image is truncated or corrupt: BMP is truncated in its header \(30 bytes\)$/, 'corrupt');
    const palette = bmpFile(16, 16, { bitsPerPixel: 8, palette: new Uint8Array(768), pixels: new Uint8Array(256) });
    await refuses(palette.subarray(0, 100), /^image is truncated or corrupt: BMP is truncated in its palette/, 'corrupt');
    const empty = bmpFile(16, 16, { bitsPerPixel: 24, pixels: new Uint8Array(768) });
    empty.writeInt32LE(0, 22);
    await refuses(empty, /^image is truncated or corrupt: BMP declares no pixels \(16 x 0\)$/, 'corrupt');
  });

  it('refuses a BMP declaring too many pixels from its header, before allocating them', async () => {
    const header = bmpFile(16, 16, { bitsPerPixel: 24, pixels: new Uint8Array(768) }).subarray(0, 54);
    const bomb = Buffer.from(header);
    bomb.writeInt32LE(100_000, 18);
    bomb.writeInt32LE(-100_000, 22);
    await refuses(bomb, /^image exceeds the pixel limit \(100000 x 100000 > 50000000 pixels\)$/, 'too-large');
    const long = Buffer.from(header);
    long.writeInt32LE(40_000_000, 18);
    long.writeInt32LE(1, 22);
    await refuses(long, /^image exceeds the side limit \(40000000 x 1: a side over 65500 pixels\)$/, 'too-large');
  });
});

describe('formats that cannot be decoded are refused by name', () => {
  /** An ISO base media file: an ftyp box with these brands and a little junk after it. */
  const isoFile = (major: string, ...compatible: string[]) => {
    const size = 16 + 4 * compatible.length;
    const box = Buffer.alloc(size);
    box.writeUInt32BE(size, 0);
    box.write(`ftyp${major}`, 4, 'latin1');
    compatible.forEach((brand, i) => box.write(brand, 16 + i * 4, 'latin1'));
    return Buffer.concat([box, Buffer.from([0, 0, 0, 8, 0x6d, 0x65, 0x74, 0x61, 1, 2, 3, 4])]);
  };
  const named = (what: string) => new RegExp(`^${what.replace(/[()/]/g, '\\$&')} is not supported: .+ \\(supported: ${SUPPORTED}\\)$`);

  it('HEIC, other HEIF, JPEG XL, JPEG 2000, Photoshop, Netpbm, SVG and PDF', async () => {
    await refuses(isoFile('heic', 'mif1', 'heic'), named('HEIC'), 'unsupported');
    await refuses(isoFile('mif1', 'mif1', 'heix'), named('HEIC'), 'unsupported');
    await refuses(isoFile('mif1', 'mif1', 'miaf'), named('HEIF other than AVIF'), 'unsupported');
    await refuses(Buffer.from([0xff, 0x0a, 0xfa, 0x1f, 0x42, 0x09, 0x01]), named('JPEG XL'), 'unsupported');
    await refuses(Buffer.from([0, 0, 0, 0x0c, 0x4a, 0x58, 0x4c, 0x20, 0x0d, 0x0a, 0x87, 0x0a, 0, 0, 0, 0x14]), named('JPEG XL'), 'unsupported');
    await refuses(Buffer.from([0, 0, 0, 0x0c, 0x6a, 0x50, 0x20, 0x20, 0x0d, 0x0a, 0x87, 0x0a, 0, 0, 0, 0x14]), named('JPEG 2000'), 'unsupported');
    await refuses(Buffer.from([0xff, 0x4f, 0xff, 0x51, 0, 0x2f, 0, 0]), named('JPEG 2000'), 'unsupported');
    await refuses(Buffer.concat([Buffer.from('8BPS'), Buffer.alloc(30)]), named('Photoshop (PSD)'), 'unsupported');
    await refuses(Buffer.concat([Buffer.from('P6\n4 4\n255\n'), Buffer.alloc(48)]), named('Netpbm (PPM/PGM)'), 'unsupported');
    await refuses(Buffer.from('<?xml version="1.0"?>\n<!-- a drawing -->\n<svg xmlns="http://www.w3.org/2000/svg"></svg>'), named('SVG'), 'unsupported');
    await refuses(Buffer.from('%PDF-1.7\n'), named('PDF'), 'unsupported');
  });

  it('video sent as an image: MP4, QuickTime, WebM, AVI', async () => {
    await refuses(isoFile('isom', 'isom', 'iso2', 'avc1', 'mp41'), named('MP4/QuickTime video'), 'unsupported');
    await refuses(isoFile('qt  ', 'qt  '), named('MP4/QuickTime video'), 'unsupported');
    await refuses(Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01]), named('WebM/Matroska video'), 'unsupported');
    await refuses(Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('AVI LIST')]), named('AVI video'), 'unsupported');
  });

  it('an AVIF-branded file that is not AV1 inside is damaged, not HEIC', async () => {
    await refuses(isoFile('avif', 'mif1', 'avif'), /^image is truncated or corrupt: \S/, 'corrupt');
  });
});
