import sharp, { type Metadata } from 'sharp';
import { type PdqDihedral, type PdqResult, lumaFromPixels, pdqDihedralFromLuma, pdqFromLuma } from './pdq-hash.ts';
import { type Box, type Pixels, jpegDraftScale, pillowThumbnail, thumbnailSize } from './thumbnail.ts';

export class ImageDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageDecodeError';
  }
}

export const SUPPORTED_IMAGE_FORMATS = ['jpeg', 'png', 'webp', 'gif', 'tiff'] as const;
export const DEFAULT_MAX_PIXELS = 50_000_000;

export interface DecodeOptions {
  /** Decompression-bomb guard: images declaring more pixels than this are refused before decoding. */
  maxPixels?: number;
}

export interface DecodedImage {
  /** The pixels PDQ hashes: the image itself, or its thumbnail when larger than 512 on a side. */
  pixels: Pixels;
  /** The original image's size, before the thumbnail step. */
  sourceWidth: number;
  sourceHeight: number;
}

function describeSharpFailure(error: unknown): ImageDecodeError {
  const message = error instanceof Error ? error.message : String(error);
  if (/unsupported image format|bad seek|not a known file format/i.test(message)) return new ImageDecodeError('not a supported image format');
  if (/pixel limit/i.test(message)) return new ImageDecodeError('image exceeds the pixel limit');
  // libvips messages name the loader and the fault, never the bytes; keep the first line.
  return new ImageDecodeError(`image is truncated or corrupt: ${message.split('\n')[0].slice(0, 200)}`);
}

/**
 * Decodes an image and brings it to the pixels PDQ's reference hashes: images larger than
 * 512 on a side are shrunk as Pillow's thumbnail() does (see thumbnail.ts), colour
 * profiles and EXIF orientation are ignored, and only the first frame is read.
 */
export async function decodeForPdq(bytes: Buffer, options: DecodeOptions = {}): Promise<DecodedImage> {
  if (bytes.length === 0) throw new ImageDecodeError('empty input (0 bytes)');
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const open = () => sharp(bytes, { limitInputPixels: maxPixels, failOn: 'truncated', pages: 1, ignoreIcc: true });
  let metadata: Metadata;
  try {
    // Reads the header only, so the size can be checked (and named) before anything is decoded.
    metadata = await sharp(bytes, { limitInputPixels: false, pages: 1 }).metadata();
  } catch (error) {
    throw describeSharpFailure(error);
  }
  const format = metadata.format as string | undefined;
  if (!format || !(SUPPORTED_IMAGE_FORMATS as readonly string[]).includes(format)) {
    throw new ImageDecodeError(`not a supported image format${format ? ` (${format})` : ''}; expected ${SUPPORTED_IMAGE_FORMATS.join(', ')}`);
  }
  const width = metadata.width ?? 0;
  const height = metadata.pageHeight ?? metadata.height ?? 0;
  if (width <= 0 || height <= 0) throw new ImageDecodeError('image has no pixels');
  if (width * height > maxPixels) {
    throw new ImageDecodeError(`image exceeds the pixel limit (${width} x ${height} > ${maxPixels.toLocaleString('en-US')} pixels)`);
  }

  const target = thumbnailSize(width, height);
  const draftScale = target && format === 'jpeg' ? jpegDraftScale(width, height, target) : 1;
  let pixels: Pixels;
  try {
    let pipeline = open();
    if (draftScale > 1) {
      // The decoder's own DCT scaling, as Pillow's draft mode asks of libjpeg.
      pipeline = pipeline.resize(Math.ceil(width / draftScale), Math.ceil(height / draftScale), { kernel: 'nearest', fit: 'fill', fastShrinkOnLoad: true });
    }
    const { data, info } = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    pixels = { data, width: info.width, height: info.height, channels: info.channels };
  } catch (error) {
    throw describeSharpFailure(error);
  }

  if (target) {
    const box: Box | undefined = draftScale > 1 ? [0, 0, width / draftScale, height / draftScale] : undefined;
    pixels = pillowThumbnail(pixels, target, {
      box,
      palette: format === 'gif' || metadata.isPalette === true,
      alpha: pixels.channels === 2 || pixels.channels === 4,
    });
  }
  return { pixels, sourceWidth: width, sourceHeight: height };
}

const lumaOf = ({ pixels }: DecodedImage) => lumaFromPixels(pixels.data, pixels.width, pixels.height, pixels.channels);

export async function pdqFromImage(bytes: Buffer, options: DecodeOptions = {}): Promise<PdqResult> {
  const image = await decodeForPdq(bytes, options);
  return pdqFromLuma(lumaOf(image), image.pixels.width, image.pixels.height);
}

export async function pdqDihedralFromImage(bytes: Buffer, options: DecodeOptions = {}): Promise<PdqDihedral> {
  const image = await decodeForPdq(bytes, options);
  return pdqDihedralFromLuma(lumaOf(image), image.pixels.width, image.pixels.height);
}
