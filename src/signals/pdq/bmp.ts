import type { Pixels } from './pdq.ts';

/**
 * A small, strict reader of Windows bitmaps (BMP), because the libvips that sharp bundles
 * has no BMP loader. It reads what cameras, scanners and screenshot tools write without
 * compression: 1-, 4- and 8-bit palette images, 24-bit BGR and 32-bit BGRX/BGRA (plain, or
 * with byte-aligned bit masks), bottom-up or top-down, with any of the common header
 * versions (OS/2 core 12 bytes, BITMAPINFOHEADER 40, V2 52, V3 56, OS/2 2.x 64, V4 108,
 * V5 124). It refuses, by name, what it does not read: RLE compression, 16-bit pixels,
 * embedded JPEG or PNG, unusual bit masks.
 *
 * The header is read first and on its own (readBmpHeader), so the caller checks the
 * declared size against its limits before a single pixel buffer is allocated. The pixels
 * come out as Pillow reads them: palette colours, the fourth byte of 32-bit pixels ignored;
 * when every palette entry is grey, the grey value alone, as other greyscale sources are
 * hashed.
 */

/** A BMP this reader cannot read: 'unsupported' messages read "X is not supported: why". */
export class BmpError extends Error {
  constructor(
    message: string,
    readonly reason: 'corrupt' | 'unsupported',
  ) {
    super(message);
    this.name = 'BmpError';
  }
}

const HEADER_SIZES = new Set([12, 40, 52, 56, 64, 108, 124]);

const BI_RGB = 0;
const BI_RLE8 = 1;
const BI_RLE4 = 2;
const BI_BITFIELDS = 3;
const BI_JPEG = 4;
const BI_PNG = 5;
const BI_ALPHABITFIELDS = 6;

export interface BmpHeader {
  width: number;
  height: number;
  topDown: boolean;
  bitsPerPixel: 1 | 4 | 8 | 24 | 32;
  /** Where the first stored row starts. */
  dataOffset: number;
  /** Bytes from one stored row to the next (rows are padded to 4 bytes). */
  rowStride: number;
  /** RGB triples, for 1-, 4- and 8-bit images. */
  palette?: Uint8Array;
  /** Bit shift of the red, green and blue bytes in a 32-bit pixel (little-endian). */
  shifts?: [number, number, number];
}

/** Whether the bytes start like a BMP this reader would look at ("BM" and a known header size). */
export function looksLikeBmp(bytes: Uint8Array): boolean {
  if (bytes.length < 18 || bytes[0] !== 0x42 || bytes[1] !== 0x4d) return false;
  return HEADER_SIZES.has(view(bytes).getUint32(14, true));
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The byte shift of an 8-bit mask (0xff << 8k), or undefined for any other mask. */
function byteShift(mask: number): number | undefined {
  for (const shift of [0, 8, 16, 24]) if (mask === (0xff << shift) >>> 0) return shift;
  return undefined;
}

/** Reads and checks a BMP's headers and palette; allocates nothing in proportion to the image. */
export function readBmpHeader(bytes: Uint8Array): BmpHeader {
  if (!looksLikeBmp(bytes)) throw new BmpError('not a BMP file', 'corrupt');
  const data = view(bytes);
  const need = (end: number, what: string) => {
    if (bytes.length < end) throw new BmpError(`BMP is truncated in its ${what} (${bytes.length} bytes)`, 'corrupt');
  };
  const dataOffset = data.getUint32(10, true);
  const headerSize = data.getUint32(14, true);
  need(14 + headerSize, 'header');

  let width: number;
  let height: number;
  let bitsPerPixel: number;
  let compression = BI_RGB;
  let colours = 0;
  let paletteEntrySize = 4;
  let masksAt = 14 + headerSize;
  if (headerSize === 12) {
    width = data.getUint16(18, true);
    height = data.getUint16(20, true);
    bitsPerPixel = data.getUint16(24, true);
    paletteEntrySize = 3;
  } else {
    width = data.getInt32(18, true);
    height = data.getInt32(22, true);
    bitsPerPixel = data.getUint16(28, true);
    compression = data.getUint32(30, true);
    colours = data.getUint32(46, true);
    // In the V2 and later headers the masks are part of the header, right after the
    // BITMAPINFOHEADER fields; a plain 40-byte header is followed by them.
    if (headerSize > 40) masksAt = 54;
    if (headerSize === 64 && compression !== BI_RGB) {
      throw new BmpError(`OS/2 BMP with compression ${compression} is not supported: only uncompressed bitmaps are read`, 'unsupported');
    }
  }

  if (compression === BI_RLE8 || compression === BI_RLE4) throw new BmpError('RLE-compressed BMP is not supported: only uncompressed bitmaps are read', 'unsupported');
  if (compression === BI_JPEG || compression === BI_PNG) {
    throw new BmpError(`BMP holding a ${compression === BI_JPEG ? 'JPEG' : 'PNG'} is not supported: send the ${compression === BI_JPEG ? 'JPEG' : 'PNG'} itself`, 'unsupported');
  }
  if (compression !== BI_RGB && compression !== BI_BITFIELDS && compression !== BI_ALPHABITFIELDS) {
    throw new BmpError(`BMP compression type ${compression} is not supported: only uncompressed bitmaps are read`, 'unsupported');
  }
  if (width < 1 || height === 0) throw new BmpError(`BMP declares no pixels (${width} x ${height})`, 'corrupt');
  if (bitsPerPixel === 16) throw new BmpError('16-bit BMP is not supported: only 1-, 4-, 8-, 24- and 32-bit bitmaps are read', 'unsupported');
  if (bitsPerPixel !== 1 && bitsPerPixel !== 4 && bitsPerPixel !== 8 && bitsPerPixel !== 24 && bitsPerPixel !== 32) {
    throw new BmpError(`BMP with ${bitsPerPixel} bits per pixel is not supported: only 1-, 4-, 8-, 24- and 32-bit bitmaps are read`, 'unsupported');
  }

  let shifts: [number, number, number] | undefined;
  let paletteAt = 14 + headerSize;
  if (compression === BI_BITFIELDS || compression === BI_ALPHABITFIELDS) {
    if (bitsPerPixel !== 32) throw new BmpError(`BMP with bit masks at ${bitsPerPixel} bits per pixel is not supported: only 32-bit pixels with masks are read`, 'unsupported');
    need(masksAt + 12, 'bit masks');
    const masks = [0, 4, 8].map((at) => data.getUint32(masksAt + at, true));
    const found = masks.map(byteShift);
    if (found.some((shift) => shift === undefined) || new Set(found).size !== 3) {
      throw new BmpError(`BMP with bit masks ${masks.map((mask) => `0x${mask.toString(16)}`).join(', ')} is not supported: only byte-aligned 8-bit masks are read`, 'unsupported');
    }
    shifts = found as [number, number, number];
    if (headerSize === 40) paletteAt += compression === BI_ALPHABITFIELDS ? 16 : 12;
  } else if (bitsPerPixel === 32) {
    shifts = [16, 8, 0];
  }

  let palette: Uint8Array | undefined;
  if (bitsPerPixel <= 8) {
    const most = 1 << bitsPerPixel;
    const count = colours > 0 && colours < most ? colours : most;
    need(paletteAt + count * paletteEntrySize, 'palette');
    palette = new Uint8Array(most * 3); // Indices past the stored colours read as black.
    for (let i = 0; i < count; i++) {
      const at = paletteAt + i * paletteEntrySize;
      palette[i * 3] = bytes[at + 2];
      palette[i * 3 + 1] = bytes[at + 1];
      palette[i * 3 + 2] = bytes[at];
    }
  }

  const rows = Math.abs(height);
  const rowStride = Math.ceil((width * bitsPerPixel) / 32) * 4;
  return { width, height: rows, topDown: height < 0, bitsPerPixel, dataOffset, rowStride, palette, shifts };
}

/**
 * The pixels of a BMP whose header readBmpHeader returned: RGB, or grey when every palette
 * entry is grey. Throws BmpError if the pixel data is cut short.
 */
export function decodeBmp(bytes: Uint8Array, header: BmpHeader): { pixels: Pixels; grey: boolean } {
  const { width, height, topDown, bitsPerPixel, dataOffset, rowStride, palette, shifts } = header;
  const lastRowBytes = Math.ceil((width * bitsPerPixel) / 8);
  const end = dataOffset + rowStride * (height - 1) + lastRowBytes;
  if (end > bytes.length) throw new BmpError(`BMP pixel data is truncated (needs ${end} bytes, has ${bytes.length})`, 'corrupt');

  let grey = false;
  if (palette) {
    grey = true;
    for (let i = 0; i < palette.length; i += 3) if (palette[i] !== palette[i + 1] || palette[i] !== palette[i + 2]) grey = false;
  }
  const channels = grey ? 1 : 3;
  const out = new Uint8Array(width * height * channels);
  for (let row = 0; row < height; row++) {
    const from = dataOffset + row * rowStride;
    let to = (topDown ? row : height - 1 - row) * width * channels;
    if (palette) {
      const perByte = 8 / bitsPerPixel;
      const mask = (1 << bitsPerPixel) - 1;
      for (let x = 0; x < width; x++) {
        const byte = bytes[from + Math.floor(x / perByte)];
        const index = (byte >> (8 - bitsPerPixel * ((x % perByte) + 1))) & mask;
        if (grey) out[to++] = palette[index * 3];
        else {
          out[to++] = palette[index * 3];
          out[to++] = palette[index * 3 + 1];
          out[to++] = palette[index * 3 + 2];
        }
      }
    } else if (bitsPerPixel === 24) {
      for (let x = 0, at = from; x < width; x++, at += 3) {
        out[to++] = bytes[at + 2];
        out[to++] = bytes[at + 1];
        out[to++] = bytes[at];
      }
    } else {
      const [red, green, blue] = shifts!;
      for (let x = 0, at = from; x < width; x++, at += 4) {
        const pixel = (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0;
        out[to++] = (pixel >>> red) & 0xff;
        out[to++] = (pixel >>> green) & 0xff;
        out[to++] = (pixel >>> blue) & 0xff;
      }
    }
  }
  return { pixels: { data: out, width, height, channels }, grey };
}
