import { open } from 'node:fs/promises';
import { looksLikeBmp } from '../pdq/bmp.ts';

/**
 * What a file is, from its first bytes: enough to tell a still image sent as a video (and
 * say so) from a video container, and to pick a hasher for a file whose name says nothing.
 */
export type SniffedMedia = { kind: 'image' | 'video'; format: string };

/** How many leading bytes sniffMedia looks at. */
export const SNIFF_BYTES = 512;

const ascii = (bytes: Uint8Array, start: number, end: number) => String.fromCharCode(...bytes.subarray(start, end));
const startsWith = (bytes: Uint8Array, signature: readonly number[], offset = 0) =>
  bytes.length >= offset + signature.length && signature.every((byte, i) => bytes[offset + i] === byte);

/** ISO base media file brands of still images (HEIF/AVIF); other brands are video (mp4, mov, 3gp, …). */
const IMAGE_BRANDS = new Set(['avif', 'heic', 'heix', 'heim', 'heis', 'mif1']);
/** QuickTime files without an ftyp box start with one of these atoms. */
const QUICKTIME_ATOMS = new Set(['moov', 'mdat', 'wide', 'free', 'skip', 'pnot']);

export function sniffMedia(head: Uint8Array): SniffedMedia | undefined {
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return { kind: 'image', format: 'png' };
  if (startsWith(head, [0xff, 0xd8, 0xff])) return { kind: 'image', format: 'jpeg' };
  if (ascii(head, 0, 6) === 'GIF87a' || ascii(head, 0, 6) === 'GIF89a') return { kind: 'image', format: 'gif' };
  if (ascii(head, 0, 4) === 'RIFF' && ascii(head, 8, 12) === 'WEBP') return { kind: 'image', format: 'webp' };
  if (ascii(head, 0, 4) === 'II*\u0000' || ascii(head, 0, 4) === 'MM\u0000*') return { kind: 'image', format: 'tiff' };
  if (looksLikeBmp(head)) return { kind: 'image', format: 'bmp' };
  if (ascii(head, 4, 8) === 'ftyp') {
    const brand = ascii(head, 8, 12);
    return IMAGE_BRANDS.has(brand) ? { kind: 'image', format: brand === 'avif' ? 'avif' : 'heif' } : { kind: 'video', format: brand.startsWith('qt') ? 'mov' : 'mp4' };
  }
  if (QUICKTIME_ATOMS.has(ascii(head, 4, 8))) return { kind: 'video', format: 'mov' };
  if (startsWith(head, [0x1a, 0x45, 0xdf, 0xa3])) return { kind: 'video', format: 'matroska' };
  if (ascii(head, 0, 4) === 'RIFF' && ascii(head, 8, 12) === 'AVI ') return { kind: 'video', format: 'avi' };
  if (ascii(head, 0, 3) === 'FLV') return { kind: 'video', format: 'flv' };
  if (startsWith(head, [0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11])) return { kind: 'video', format: 'asf' };
  if (ascii(head, 0, 4) === 'OggS') return { kind: 'video', format: 'ogg' };
  if (ascii(head, 0, 4) === 'DKIF') return { kind: 'video', format: 'ivf' };
  if (startsWith(head, [0x00, 0x00, 0x01, 0xba])) return { kind: 'video', format: 'mpeg' };
  // MPEG transport stream: 188-byte packets, each starting with the sync byte 0x47.
  if (head.length > 188 && head[0] === 0x47 && head[188] === 0x47 && (head.length <= 376 || head[376] === 0x47)) return { kind: 'video', format: 'mpegts' };
  return undefined;
}

/** Sniffs the start of a file on disk. */
export async function sniffFile(path: string): Promise<SniffedMedia | undefined> {
  const file = await open(path, 'r');
  try {
    const head = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await file.read(head, 0, SNIFF_BYTES, 0);
    return sniffMedia(head.subarray(0, bytesRead));
  } finally {
    await file.close();
  }
}
