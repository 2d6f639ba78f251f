import { describeHexProblem } from '../hex.ts';

/**
 * A 256-bit perceptual hash held as eight 32-bit words.
 *
 * Word 0 holds the first eight hex digits of the canonical hex form, so the hex string
 * reads as one big-endian 256-bit number. PDQ's bit k (k = 16 * row + column of the
 * 16x16 DCT output) is the k-th least significant bit of that number.
 */
export type Hash256 = Uint32Array;

export const HASH256_WORDS = 8;
export const HASH256_HEX_LENGTH = 64;

export class InvalidHashError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidHashError';
  }
}

/** Explains what is wrong with a would-be 256-bit hex hash, or returns undefined when it is valid. */
export function describeHex256Problem(hex: string): string | undefined {
  return describeHexProblem(hex, HASH256_HEX_LENGTH);
}

export function hexToHash256(hex: string): Hash256 {
  const problem = describeHex256Problem(hex);
  if (problem) throw new InvalidHashError(problem);
  const words = new Uint32Array(HASH256_WORDS);
  for (let w = 0; w < HASH256_WORDS; w++) {
    words[w] = Number.parseInt(hex.slice(w * 8, w * 8 + 8), 16) >>> 0;
  }
  return words;
}

export function hash256ToHex(hash: Hash256): string {
  let out = '';
  for (let w = 0; w < HASH256_WORDS; w++) out += hash[w].toString(16).padStart(8, '0');
  return out;
}

/** Population count of a 32-bit integer (SWAR; JavaScript has no native popcount). */
export function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** Hamming distance between two 256-bit hashes stored at word offsets in flat arrays. */
export function hammingAt(a: Uint32Array, aOffset: number, b: Uint32Array, bOffset: number): number {
  return (
    popcount32(a[aOffset] ^ b[bOffset]) +
    popcount32(a[aOffset + 1] ^ b[bOffset + 1]) +
    popcount32(a[aOffset + 2] ^ b[bOffset + 2]) +
    popcount32(a[aOffset + 3] ^ b[bOffset + 3]) +
    popcount32(a[aOffset + 4] ^ b[bOffset + 4]) +
    popcount32(a[aOffset + 5] ^ b[bOffset + 5]) +
    popcount32(a[aOffset + 6] ^ b[bOffset + 6]) +
    popcount32(a[aOffset + 7] ^ b[bOffset + 7])
  );
}

export function hamming256(a: Hash256, b: Hash256): number {
  return hammingAt(a, 0, b, 0);
}

/** Bit k of the hash, k = 0 being the least significant bit of the last word. */
export function getBit(hash: Hash256, k: number): number {
  return (hash[7 - (k >>> 5)] >>> (k & 31)) & 1;
}

export function setBit(hash: Hash256, k: number): void {
  hash[7 - (k >>> 5)] |= 1 << (k & 31);
}
