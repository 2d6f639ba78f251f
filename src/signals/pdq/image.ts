import sharp, { type Metadata } from 'sharp';
import { BmpError, decodeBmp, looksLikeBmp, readBmpHeader } from './bmp.ts';
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
 * - CMYK becomes RGB by the plain formula the reference's decoders use, never through
 *   colour profiles (see cmykToRgbInPlace).
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

const ALL_PDQ_IMAGE_FORMATS = ['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif', 'bmp'] as const;
export type PdqImageFormat = (typeof ALL_PDQ_IMAGE_FORMATS)[number];

/**
 * AVIF is read by libvips' HEIF loader, which sharp's prebuilt libvips has (libheif with an
 * AV1 decoder, no HEVC one); a libvips built without it cannot read AVIF, and says so.
 */
const HEIF_LOADER = sharp.format.heif?.input?.buffer === true;

/** The formats this process decodes for PDQ. BMP is read by ./bmp.ts, the rest by libvips. */
export const PDQ_IMAGE_FORMATS: readonly PdqImageFormat[] = ALL_PDQ_IMAGE_FORMATS.filter((format) => format !== 'avif' || HEIF_LOADER);

/** Decompression-bomb guard: larger images are refused from their header, before decoding. */
export const DEFAULT_MAX_PIXELS = 50_000_000;

/**
 * Longest side an image may declare. Within the pixel limit an image can still be absurdly
 * long (a 49,000,000 x 1 PNG decodes for 10-15 s of CPU and hashes to nothing, since PDQ
 * needs 5 pixels on each side); 65,500 is libjpeg's own limit, so no JPEG is refused by it.
 */
export const DEFAULT_MAX_DIMENSION = 65_500;

export interface DecodeLumaOptions {
  /** Most pixels (width x height, first frame) an image may declare. Default 50 megapixels. */
  maxPixels?: number;
  /** Longest width or height an image may declare. Default 65,500. */
  maxDimension?: number;
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

// ---------------------------------------------------------------------------------------
// Recognising formats.
// ---------------------------------------------------------------------------------------

type Sniffed = { format: PdqImageFormat } | { unsupported: string; why: string };

const NO_DECODER = 'the libvips bundled with sharp has no decoder for it';

/** ISO base media file (HEIF, AVIF, MP4, QuickTime): the brands of its leading ftyp box. */
function ftypBrands(bytes: Uint8Array): Set<string> | undefined {
  const text = (at: number) => String.fromCharCode(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]);
  if (bytes.length < 12 || text(4) !== 'ftyp') return undefined;
  const size = ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0;
  const brands = new Set([text(8)]);
  // Compatible brands follow the major brand and its minor version; a bounded look.
  const end = Math.min(bytes.length, size, 16 + 4 * 64);
  for (let at = 16; at + 4 <= end; at += 4) brands.add(text(at));
  return brands;
}

const AVIF_BRANDS = ['avif', 'avis'];
const HEVC_BRANDS = ['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'hevm', 'hevs'];
const HEIF_BRANDS = ['mif1', 'msf1', 'miaf'];
const VIDEO_BRANDS = ['isom', 'iso2', 'iso3', 'iso4', 'iso5', 'iso6', 'iso8', 'iso9', 'mp41', 'mp42', 'mp71', 'avc1', 'M4V ', 'M4VP', 'qt  ', '3gp4', '3gp5', '3gp6', '3g2a', 'dash', 'f4v ', 'MSNV', 'XAVC', 'mmp4'];

/**
 * Recognises the formats PDQ accepts from their signatures, so that nothing else (SVG,
 * PDF, HEIC, video, ...) ever reaches a decoder, and so that a damaged file of a known
 * format is reported as damaged rather than as unknown. Formats people commonly send that
 * cannot be read here are recognised too, so the refusal can name them.
 */
function sniffFormat(bytes: Uint8Array): Sniffed | undefined {
  const startsWith = (signature: number[], at = 0) => bytes.length >= at + signature.length && signature.every((b, i) => bytes[at + i] === b);
  const ascii = (text: string) => [...text].map((c) => c.charCodeAt(0));
  if (startsWith([0xff, 0xd8, 0xff])) return { format: 'jpeg' };
  if (startsWith([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return { format: 'png' };
  if (startsWith(ascii('GIF87a')) || startsWith(ascii('GIF89a'))) return { format: 'gif' };
  if (startsWith(ascii('RIFF')) && startsWith(ascii('WEBP'), 8)) return { format: 'webp' };
  // Classic and BigTIFF, little- and big-endian.
  if (startsWith([0x49, 0x49, 0x2a, 0x00]) || startsWith([0x4d, 0x4d, 0x00, 0x2a])) return { format: 'tiff' };
  if (startsWith([0x49, 0x49, 0x2b, 0x00]) || startsWith([0x4d, 0x4d, 0x00, 0x2b])) return { format: 'tiff' };
  if (looksLikeBmp(bytes)) return { format: 'bmp' };

  const brands = ftypBrands(bytes);
  if (brands) {
    const has = (list: string[]) => list.some((brand) => brands.has(brand));
    if (has(AVIF_BRANDS)) return HEIF_LOADER ? { format: 'avif' } : { unsupported: 'AVIF', why: NO_DECODER };
    if (has(HEVC_BRANDS)) return { unsupported: 'HEIC', why: 'the HEIF decoder bundled with sharp reads AV1-coded images (AVIF) only, not HEVC' };
    if (has(HEIF_BRANDS)) return { unsupported: 'HEIF other than AVIF', why: 'the HEIF decoder bundled with sharp reads AV1-coded images (AVIF) only' };
    if (has(VIDEO_BRANDS)) return { unsupported: 'MP4/QuickTime video', why: 'PDQ hashes still images' };
    if (has(['jp2 ', 'jpx ', 'jpm '])) return { unsupported: 'JPEG 2000', why: NO_DECODER };
    if (has(['crx '])) return { unsupported: 'Canon CR3 raw', why: NO_DECODER };
  }
  if (startsWith([0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50, 0x20, 0x20, 0x0d, 0x0a, 0x87, 0x0a]) || startsWith([0xff, 0x4f, 0xff, 0x51])) {
    return { unsupported: 'JPEG 2000', why: NO_DECODER };
  }
  if (startsWith([0xff, 0x0a]) || startsWith([0x00, 0x00, 0x00, 0x0c, 0x4a, 0x58, 0x4c, 0x20, 0x0d, 0x0a, 0x87, 0x0a])) {
    return { unsupported: 'JPEG XL', why: NO_DECODER };
  }
  if (startsWith(ascii('8BPS'))) return { unsupported: 'Photoshop (PSD)', why: NO_DECODER };
  if (startsWith(ascii('%PDF-'))) return { unsupported: 'PDF', why: 'it is a document, not a picture' };
  if (startsWith([0x1a, 0x45, 0xdf, 0xa3])) return { unsupported: 'WebM/Matroska video', why: 'PDQ hashes still images' };
  if (startsWith(ascii('RIFF')) && startsWith(ascii('AVI '), 8)) return { unsupported: 'AVI video', why: 'PDQ hashes still images' };
  if (bytes.length >= 3 && bytes[0] === 0x50 && bytes[1] >= 0x31 && bytes[1] <= 0x37 && (bytes[2] === 0x0a || bytes[2] === 0x20 || bytes[2] === 0x0d)) {
    return { unsupported: 'Netpbm (PPM/PGM)', why: NO_DECODER };
  }
  // SVG is text: look for its root element near the start, after any XML prologue.
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 1024)).toString('latin1');
  if (/^\s*(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*|<!DOCTYPE[^>]*>\s*)*<svg[\s>]/i.test(head)) {
    return { unsupported: 'SVG', why: 'a vector drawing has no pixels of its own' };
  }
  return undefined;
}

const supportedList = () => PDQ_IMAGE_FORMATS.join(', ');

function unsupported(name: string, why: string): ImageDecodeError {
  return new ImageDecodeError(`${name} is not supported: ${why} (supported: ${supportedList()})`, 'unsupported');
}

/** libvips names the loader and the fault, never pixel data; its first line is enough. */
function corrupt(error: unknown): ImageDecodeError {
  const detail = (error instanceof Error ? error.message : String(error)).split('\n')[0].trim().slice(0, 200);
  return new ImageDecodeError(`image is truncated or corrupt: ${detail || 'the decoder gave no reason'}`, 'corrupt');
}

function checkLimit(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
}

/** The declared size against the limits, before anything in proportion to it is allocated. */
function checkDeclaredSize(width: number, height: number, maxPixels: number, maxDimension: number): void {
  if (width * height > maxPixels) {
    throw new ImageDecodeError(`image exceeds the pixel limit (${width} x ${height} > ${maxPixels} pixels)`, 'too-large');
  }
  if (width > maxDimension || height > maxDimension) {
    throw new ImageDecodeError(`image exceeds the side limit (${width} x ${height}: a side over ${maxDimension} pixels)`, 'too-large');
  }
}

// ---------------------------------------------------------------------------------------
// CMYK.
// ---------------------------------------------------------------------------------------

/**
 * CMYK samples to RGB as the reference's decoders do it, in place: 4 samples (or more; any
 * alpha is dropped) per pixel in, 3 bytes per pixel out, at the front of the same buffer.
 *
 * Why this formula. Meta's C++ tools read images through CImg, which (built, as there,
 * without libjpeg) hands them to ImageMagick; ImageMagick reads every 4-component JPEG
 * as inverted ("Adobe") CMYK and converts with R = (QuantumRange - C)(QuantumRange - K) /
 * QuantumRange, without colour profiles. Pillow's convert("RGB"), the route Python users
 * of `pdqhash` take, does the same: its JPEG plugin inverts every CMYK JPEG ("CMYK;I",
 * "assume adobe conventions", whatever the APP14 marker says) and its cmyk2rgb is
 * R = (255 - K) - MULDIV255(C, 255 - K), with MULDIV255(a, b) = (t + (t >> 8)) >> 8,
 * t = a * b + 128. OpenCV's imread (the `pdqhash` README's example) is the same formula
 * with >> 8 in place of / 255. We use Pillow's integer form exactly; ImageMagick's
 * floating-point form differs from it by at most one level.
 *
 * libvips, left to itself, converts CMYK through an ICC profile (the file's, or a
 * built-in generic CMYK one even when profiles are ignored): a different picture, which
 * hashed 16-48 bits away from the same picture in RGB. Its JPEG loader does invert every
 * CMYK JPEG, as Pillow and ImageMagick do, so the samples it returns are the ones they
 * convert; CMYK TIFFs are stored uninverted and all three read them as stored.
 *
 * What we do not copy: python-threatexchange's pdq_from_bytes (HMA) does not convert
 * CMYK at all and hands the C, M and Y planes to pdqhash as if they were R, G and B,
 * which gives roughly the complement of the picture's hash. Matching that would make
 * every CMYK upload unmatchable against hashes of the same picture in RGB.
 */
function cmykToRgbInPlace(samples: Uint8Array | Uint16Array, pixelCount: number, channels: number, out: Uint8Array): void {
  // Each pixel's samples are read before its 3 bytes are written, and 3i + 2 < 4(i + 1),
  // so writing over the front of the buffer never clobbers a sample not yet read.
  const shift = samples instanceof Uint16Array ? 8 : 0;
  for (let i = 0, from = 0, to = 0; i < pixelCount; i++, from += channels) {
    const c = samples[from] >> shift;
    const m = samples[from + 1] >> shift;
    const y = samples[from + 2] >> shift;
    const notK = 255 - (samples[from + 3] >> shift);
    let t = c * notK + 128;
    out[to++] = notK - (((t >> 8) + t) >> 8);
    t = m * notK + 128;
    out[to++] = notK - (((t >> 8) + t) >> 8);
    t = y * notK + 128;
    out[to++] = notK - (((t >> 8) + t) >> 8);
  }
}

// ---------------------------------------------------------------------------------------
// Decoding.
// ---------------------------------------------------------------------------------------

function decodeBmpForPdq(bytes: Uint8Array, maxPixels: number, maxDimension: number): DecodedPixels {
  const fail = (error: unknown): never => {
    if (error instanceof BmpError) {
      throw error.reason === 'unsupported' ? new ImageDecodeError(`${error.message} (supported: ${supportedList()})`, 'unsupported') : corrupt(error);
    }
    throw error;
  };
  let header: ReturnType<typeof readBmpHeader>;
  try {
    header = readBmpHeader(bytes);
  } catch (error) {
    return fail(error);
  }
  checkDeclaredSize(header.width, header.height, maxPixels, maxDimension);
  try {
    const { pixels, grey } = decodeBmp(bytes, header);
    return { pixels, grey, sourceWidth: header.width, sourceHeight: header.height, format: 'bmp' };
  } catch (error) {
    return fail(error);
  }
}

/**
 * Decodes JPEG, PNG, WebP, GIF (first frame), TIFF (first page), AVIF (first image) or BMP
 * to the pixels PDQ hashes. Throws ImageDecodeError for empty, unrecognised, unsupported,
 * damaged or oversized input, and nothing else for any input bytes.
 */
export async function decodePixelsForPdq(bytes: Uint8Array, options: DecodeLumaOptions = {}): Promise<DecodedPixels> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const maxDimension = options.maxDimension ?? DEFAULT_MAX_DIMENSION;
  checkLimit('maxPixels', maxPixels);
  checkLimit('maxDimension', maxDimension);
  if (bytes.length === 0) throw new ImageDecodeError('empty input (0 bytes)', 'empty');
  const sniffed = sniffFormat(bytes);
  if (!sniffed) throw new ImageDecodeError(`not a supported image format (expected ${supportedList()})`, 'unsupported');
  if ('unsupported' in sniffed) throw unsupported(sniffed.unsupported, sniffed.why);
  const { format } = sniffed;
  if (format === 'bmp') return decodeBmpForPdq(bytes, maxPixels, maxDimension);

  // `failOn: 'error'` makes truncated and corrupt pixel data throw. sharp's default,
  // 'warning', also refuses files that decode completely but with a warning, which the
  // reference (Pillow) hashes; refusing them would let such uploads skip matching.
  // `unlimited: false` (the default, stated) keeps libvips' own guards against oversized
  // PNG text chunks and the like.
  const inputOptions = { failOn: 'error', pages: 1, ignoreIcc: true, unlimited: false } as const;
  let metadata: Metadata;
  try {
    // Header only: the declared size is checked, and named, before any pixel is decoded.
    metadata = await sharp(bytes, { ...inputOptions, limitInputPixels: false }).metadata();
  } catch (error) {
    throw corrupt(error);
  }
  const decodedAs = format === 'avif' ? 'heif' : format;
  if (metadata.format !== decodedAs) {
    throw corrupt(new Error(`looks like ${format} but decodes as ${metadata.format ?? 'nothing'}`));
  }
  if (format === 'avif' && metadata.compression !== 'av1') {
    throw unsupported('HEIC', 'the HEIF decoder bundled with sharp reads AV1-coded images (AVIF) only, not HEVC');
  }
  const width = metadata.width ?? 0;
  const height = metadata.pageHeight ?? metadata.height ?? 0;
  if (width < 1 || height < 1) throw corrupt(new Error(`declares no pixels (${width} x ${height})`));
  checkDeclaredSize(width, height, maxPixels, maxDimension);

  const cmyk = metadata.space === 'cmyk';
  let pixels: Pixels;
  try {
    const decoder = sharp(bytes, { ...inputOptions, limitInputPixels: maxPixels });
    if (cmyk) {
      // Keep libvips' CMYK samples as they are (no ICC conversion); 16-bit ones are kept
      // whole here, since a cast to 8 bits would clip them rather than take the high byte.
      const sixteen = metadata.depth === 'ushort';
      const { data, info } = await decoder.pipelineColourspace('cmyk').toColourspace('cmyk').raw({ depth: sixteen ? 'ushort' : 'uchar' }).toBuffer({ resolveWithObject: true });
      if (info.channels < 4) throw new Error(`CMYK decoded to ${info.channels} channels`);
      const pixelCount = info.width * info.height;
      const samples = sixteen ? new Uint16Array(data.byteOffset % 2 === 0 ? data.buffer : Uint8Array.from(data).buffer, data.byteOffset % 2 === 0 ? data.byteOffset : 0, data.length / 2) : data;
      const rgb = sixteen ? new Uint8Array(pixelCount * 3) : data;
      cmykToRgbInPlace(samples, pixelCount, info.channels, rgb);
      pixels = { data: rgb.subarray(0, pixelCount * 3), width: info.width, height: info.height, channels: 3 };
    } else {
      const { data, info } = await decoder.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
      pixels = { data, width: info.width, height: info.height, channels: info.channels };
    }
  } catch (error) {
    throw corrupt(error);
  }

  return { pixels, grey: !cmyk && (metadata.channels ?? 3) <= 2, sourceWidth: width, sourceHeight: height, format };
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
