import sharp, { type Metadata } from 'sharp';
import { type PdqDihedral, type PdqResult, type Pixels, lumaFromPixels, pdqDihedralFromPixels, pdqFromPixels } from './pdq.ts';

/**
 * Image bytes to the pixels PDQ hashes, the way the ecosystem's hashes are made: HMA and
 * python-threatexchange call the `pdqhash` library, which runs Meta's C++
 * pdqHash256FromFloatLuma on the image's full-resolution luminance, with no resize first.
 *
 * - Alpha is dropped, not composited, as the C++ loaders and Pillow's convert("RGB") do.
 * - Greyscale sources hash their grey value directly, as the C++ reference does for
 *   one-channel images (within a float rounding of the RGB formula applied to grey).
 * - 16-bit samples keep their high byte, as Pillow reads 16-bit RGB PNGs and as libvips
 *   casts them.
 * - Only the first frame or page is read, no EXIF rotation is applied and embedded colour
 *   profiles are ignored: the reference does none of these, and the vectors agree.
 */

/** Why an image could not be read. The message never includes the input's bytes. */
export class ImageDecodeError extends Error {
  constructor(
    message: string,
    readonly reason: 'empty' | 'unsupported' | 'corrupt' | 'too-large',
  ) {
    super(message);
    this.name = 'ImageDecodeError';
  }
}

export const PDQ_IMAGE_FORMATS = ['jpeg', 'png', 'webp', 'gif', 'tiff'] as const;
export type PdqImageFormat = (typeof PDQ_IMAGE_FORMATS)[number];

/** Decompression-bomb guard: larger images are refused from their header, before decoding. */
export const DEFAULT_MAX_PIXELS = 50_000_000;

export interface DecodeLumaOptions {
  /** Most pixels (width x height, first frame) an image may declare. Default 50 megapixels. */
  maxPixels?: number;
}

export interface DecodedPixels {
  /** The pixels PDQ hashes: the whole image at its own size; 8 bits, 1 to 4 channels. */
  pixels: Pixels;
  /** The source is greyscale (libvips delivers it as three equal channels). */
  grey: boolean;
  /** The image's own size, as declared in its header. */
  sourceWidth: number;
  sourceHeight: number;
  format: PdqImageFormat;
}

export interface DecodedLuma {
  /** Row-major luminance of the pixels PDQ hashes. */
  luma: Float32Array;
  width: number;
  height: number;
  sourceWidth: number;
  sourceHeight: number;
  format: PdqImageFormat;
}

/**
 * Recognises the formats PDQ accepts from their signatures, so that nothing else (SVG,
 * PDF, HEIF, ...) ever reaches a decoder, and so that a damaged file of a known format is
 * reported as damaged rather than as unknown.
 */
function sniffFormat(bytes: Uint8Array): PdqImageFormat | undefined {
  const startsWith = (signature: number[], at = 0) => bytes.length >= at + signature.length && signature.every((b, i) => bytes[at + i] === b);
  const ascii = (text: string) => [...text].map((c) => c.charCodeAt(0));
  if (startsWith([0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(ascii('GIF87a')) || startsWith(ascii('GIF89a'))) return 'gif';
  if (startsWith(ascii('RIFF')) && startsWith(ascii('WEBP'), 8)) return 'webp';
  // Classic and BigTIFF, little- and big-endian.
  if (startsWith([0x49, 0x49, 0x2a, 0x00]) || startsWith([0x4d, 0x4d, 0x00, 0x2a])) return 'tiff';
  if (startsWith([0x49, 0x49, 0x2b, 0x00]) || startsWith([0x4d, 0x4d, 0x00, 0x2b])) return 'tiff';
  return undefined;
}

/** libvips names the loader and the fault, never pixel data; its first line is enough. */
function corrupt(error: unknown): ImageDecodeError {
  const detail = (error instanceof Error ? error.message : String(error)).split('\n')[0].trim().slice(0, 200);
  return new ImageDecodeError(`image is truncated or corrupt: ${detail || 'the decoder gave no reason'}`, 'corrupt');
}

function checkMaxPixels(maxPixels: number): void {
  if (!Number.isSafeInteger(maxPixels) || maxPixels < 1) throw new RangeError(`maxPixels must be a positive integer, got ${maxPixels}`);
}

/**
 * Decodes JPEG, PNG, WebP, GIF (first frame) or TIFF (first page) to the pixels PDQ
 * hashes. Throws ImageDecodeError for empty, unrecognised, damaged or oversized input.
 */
export async function decodePixelsForPdq(bytes: Uint8Array, options: DecodeLumaOptions = {}): Promise<DecodedPixels> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  checkMaxPixels(maxPixels);
  if (bytes.length === 0) throw new ImageDecodeError('empty input (0 bytes)', 'empty');
  const format = sniffFormat(bytes);
  if (!format) throw new ImageDecodeError(`not a supported image format (expected ${PDQ_IMAGE_FORMATS.join(', ')})`, 'unsupported');

  // `failOn: 'error'` makes truncated and corrupt pixel data throw. sharp's default,
  // 'warning', also refuses files that decode completely but with a warning, which the
  // reference (Pillow) hashes; refusing them would let such uploads skip matching.
  const inputOptions = { failOn: 'error', pages: 1, ignoreIcc: true } as const;
  let metadata: Metadata;
  try {
    // Header only: the declared size is checked, and named, before any pixel is decoded.
    metadata = await sharp(bytes, { ...inputOptions, limitInputPixels: false }).metadata();
  } catch (error) {
    throw corrupt(error);
  }
  if (metadata.format !== format) {
    throw corrupt(new Error(`looks like ${format} but decodes as ${metadata.format ?? 'nothing'}`));
  }
  const width = metadata.width ?? 0;
  const height = metadata.pageHeight ?? metadata.height ?? 0;
  if (width < 1 || height < 1) throw corrupt(new Error(`declares no pixels (${width} x ${height})`));
  if (width * height > maxPixels) {
    throw new ImageDecodeError(`image exceeds the pixel limit (${width} x ${height} > ${maxPixels} pixels)`, 'too-large');
  }

  let pixels: Pixels;
  try {
    const { data, info } = await sharp(bytes, { ...inputOptions, limitInputPixels: maxPixels }).raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    pixels = { data, width: info.width, height: info.height, channels: info.channels };
  } catch (error) {
    throw corrupt(error);
  }

  return { pixels, grey: (metadata.channels ?? 3) <= 2, sourceWidth: width, sourceHeight: height, format };
}

/** decodePixelsForPdq, then the reference's luminance as one full-size plane (for tests and diagnostics). */
export async function decodeLuma(bytes: Uint8Array, options: DecodeLumaOptions = {}): Promise<DecodedLuma> {
  const { pixels, grey, sourceWidth, sourceHeight, format } = await decodePixelsForPdq(bytes, options);
  const luma = lumaFromPixels(pixels.data, pixels.width, pixels.height, pixels.channels, { grey });
  return { luma, width: pixels.width, height: pixels.height, sourceWidth, sourceHeight, format };
}

/** PDQ hash and quality of an image file's bytes. */
export async function pdqFromImage(bytes: Uint8Array, options: DecodeLumaOptions = {}): Promise<PdqResult> {
  const { pixels, grey } = await decodePixelsForPdq(bytes, options);
  return pdqFromPixels(pixels, { grey });
}

/** PDQ hashes of an image file and of its 7 rotations and mirror images (see pdqDihedralFromLuma). */
export async function pdqDihedralFromImage(bytes: Uint8Array, options: DecodeLumaOptions = {}): Promise<PdqDihedral> {
  const { pixels, grey } = await decodePixelsForPdq(bytes, options);
  return pdqDihedralFromPixels(pixels, { grey });
}
