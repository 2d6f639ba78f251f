import sharp from 'sharp';
import type { GeneratedImage } from '../../src/demo/benign-images.ts';

/**
 * Writers of test images in the formats sharp cannot write (BMP) or cannot write the way
 * we need (CMYK samples chosen by the test, uninverted TIFF), from benign generated
 * pictures. Written from the formats' published layouts, for tests only.
 */

export interface TiffOptions {
  /** 2 = RGB, 5 = separated (CMYK). */
  photometric: 2 | 5;
  samplesPerPixel: number;
  bitsPerSample?: 8 | 16;
}

/** An uncompressed little-endian baseline TIFF with one strip. 16-bit samples are little-endian. */
export function tiffFile(width: number, height: number, samples: Uint8Array | Uint16Array, options: TiffOptions): Buffer {
  const bits = options.bitsPerSample ?? 8;
  const n = options.samplesPerPixel;
  const data = Buffer.alloc(width * height * n * (bits / 8));
  for (let i = 0; i < width * height * n; i++) {
    if (bits === 8) data[i] = samples[i];
    else data.writeUInt16LE(samples[i], i * 2);
  }
  const bitsPerSample = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) bitsPerSample.writeUInt16LE(bits, i * 2);
  const SHORT = 3;
  const LONG = 4;
  // tag, type, count, value (or a blob written after the directory)
  const entries: [number, number, number, number | Buffer][] = [
    [256, LONG, 1, width],
    [257, LONG, 1, height],
    [258, SHORT, n, n > 2 ? bitsPerSample : bits],
    [259, SHORT, 1, 1],
    [262, SHORT, 1, options.photometric],
    [273, LONG, 1, -1], // strip offset, filled in below
    [277, SHORT, 1, n],
    [278, LONG, 1, height],
    [279, LONG, 1, data.length],
    [284, SHORT, 1, 1],
  ];
  const directorySize = 2 + entries.length * 12 + 4;
  const blobs: Buffer[] = [];
  let blobAt = 8 + directorySize;
  const dataAt = blobAt + entries.reduce((sum, [, , , value]) => sum + (Buffer.isBuffer(value) ? value.length : 0), 0);
  const directory = Buffer.alloc(directorySize);
  directory.writeUInt16LE(entries.length, 0);
  entries.forEach(([tag, type, count, value], i) => {
    const at = 2 + i * 12;
    directory.writeUInt16LE(tag, at);
    directory.writeUInt16LE(type, at + 2);
    directory.writeUInt32LE(count, at + 4);
    if (Buffer.isBuffer(value)) {
      directory.writeUInt32LE(blobAt, at + 8);
      blobs.push(value);
      blobAt += value.length;
    } else if (tag === 273) directory.writeUInt32LE(dataAt, at + 8);
    else if (type === SHORT) directory.writeUInt16LE(value, at + 8);
    else directory.writeUInt32LE(value, at + 8);
  });
  return Buffer.concat([Buffer.from([0x49, 0x49, 0x2a, 0x00, 0x08, 0x00, 0x00, 0x00]), directory, ...blobs, data]);
}

/**
 * CMYK samples of an RGB picture by the naive forward formulas (no colour profile):
 * 'pillow' is Pillow's convert("CMYK"), C = 255 - R with no black; 'full-black' takes
 * K = 255 - max(R, G, B) and the inks from what is left, so the plain inverse
 * R = (255 - C)(255 - K) / 255 gives the picture back within a rounding.
 */
export function naiveCmyk(image: GeneratedImage, black: 'pillow' | 'full-black'): Uint8Array {
  const out = new Uint8Array(image.width * image.height * 4);
  for (let i = 0; i < image.width * image.height; i++) {
    const rgb = [image.pixels[i * 3], image.pixels[i * 3 + 1], image.pixels[i * 3 + 2]];
    if (black === 'pillow') {
      out.set([255 - rgb[0], 255 - rgb[1], 255 - rgb[2], 0], i * 4);
    } else {
      const max = Math.max(...rgb);
      const k = 255 - max;
      out.set([...rgb.map((v) => (max === 0 ? 0 : Math.round(255 - (255 * v) / max))), k], i * 4);
    }
  }
  return out;
}

/** A CMYK JPEG holding exactly the given samples (libvips writes them inverted, with an Adobe marker). */
export async function cmykJpeg(width: number, height: number, cmyk: Uint8Array, quality = 90): Promise<Buffer> {
  const tiff = tiffFile(width, height, cmyk, { photometric: 5, samplesPerPixel: 4 });
  return sharp(tiff).pipelineColourspace('cmyk').toColourspace('cmyk').jpeg({ quality }).toBuffer();
}

/** The JPEG without its segments of one marker (0xee = APP14 "Adobe", 0xe2 = APP2 ICC profile). */
export function withoutJpegSegments(jpeg: Buffer, marker: number): Buffer {
  const parts = [jpeg.subarray(0, 2)];
  let at = 2;
  while (at + 4 <= jpeg.length && jpeg[at] === 0xff) {
    const type = jpeg[at + 1];
    if (type === 0xda) break;
    const length = jpeg.readUInt16BE(at + 2);
    if (type !== marker) parts.push(jpeg.subarray(at, at + 2 + length));
    at += 2 + length;
  }
  parts.push(jpeg.subarray(at));
  return Buffer.concat(parts);
}

export interface BmpOptions {
  bitsPerPixel: 1 | 4 | 8 | 24 | 32;
  /** Header size: 12 (OS/2 core), 40 (BITMAPINFOHEADER), 108 (V4) or 124 (V5). Default 40. */
  headerSize?: 12 | 40 | 108 | 124;
  topDown?: boolean;
  /** RGB triples, for 1-, 4- and 8-bit images. */
  palette?: Uint8Array;
  /** Palette indices (1 per pixel) for palette images; RGB (3 per pixel) otherwise. */
  pixels: Uint8Array;
  /** 32-bit only: store with BI_BITFIELDS and these red, green, blue masks. */
  masks?: [number, number, number];
  /** Overrides written into the header after it is built: compression, or bits per pixel. */
  compression?: number;
}

/** A Windows bitmap of the given pixels, laid out as the format describes (rows padded to 4 bytes). */
export function bmpFile(width: number, height: number, options: BmpOptions): Buffer {
  const { bitsPerPixel, palette, pixels, masks } = options;
  const headerSize = options.headerSize ?? 40;
  const core = headerSize === 12;
  const paletteEntry = core ? 3 : 4;
  const colours = bitsPerPixel <= 8 ? (palette?.length ?? 0) / 3 : 0;
  const separateMasks = masks && headerSize === 40 ? 12 : 0;
  const dataOffset = 14 + headerSize + separateMasks + colours * paletteEntry;
  const stride = Math.ceil((width * bitsPerPixel) / 32) * 4;
  const file = Buffer.alloc(dataOffset + stride * height);
  file.write('BM', 0, 'latin1');
  file.writeUInt32LE(file.length, 2);
  file.writeUInt32LE(dataOffset, 10);
  file.writeUInt32LE(headerSize, 14);
  if (core) {
    file.writeUInt16LE(width, 18);
    file.writeUInt16LE(height, 20);
    file.writeUInt16LE(1, 22);
    file.writeUInt16LE(bitsPerPixel, 24);
  } else {
    file.writeInt32LE(width, 18);
    file.writeInt32LE(options.topDown ? -height : height, 22);
    file.writeUInt16LE(1, 26);
    file.writeUInt16LE(bitsPerPixel, 28);
    file.writeUInt32LE(options.compression ?? (masks ? 3 : 0), 30);
    file.writeUInt32LE(stride * height, 34);
    file.writeUInt32LE(colours, 46);
    if (masks) masks.forEach((mask, i) => file.writeUInt32LE(mask, 54 + i * 4));
  }
  for (let i = 0; i < colours; i++) {
    const at = 14 + headerSize + separateMasks + i * paletteEntry;
    file[at] = palette![i * 3 + 2];
    file[at + 1] = palette![i * 3 + 1];
    file[at + 2] = palette![i * 3];
  }
  for (let y = 0; y < height; y++) {
    const row = dataOffset + (options.topDown ? y : height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (bitsPerPixel <= 8) {
        const perByte = 8 / bitsPerPixel;
        const shift = 8 - bitsPerPixel * ((x % perByte) + 1);
        file[row + Math.floor(x / perByte)] |= pixels[i] << shift;
      } else if (bitsPerPixel === 24) {
        file[row + x * 3] = pixels[i * 3 + 2];
        file[row + x * 3 + 1] = pixels[i * 3 + 1];
        file[row + x * 3 + 2] = pixels[i * 3];
      } else {
        const [r, g, b] = masks ?? [0xff0000, 0xff00, 0xff];
        const place = (value: number, mask: number) => (value << Math.log2(mask & -mask)) >>> 0;
        const value = (place(pixels[i * 3], r) | place(pixels[i * 3 + 1], g) | place(pixels[i * 3 + 2], b) | (masks ? 0 : 0x7f << 24)) >>> 0;
        file.writeUInt32LE(value >>> 0, row + x * 4);
      }
    }
  }
  return file;
}
