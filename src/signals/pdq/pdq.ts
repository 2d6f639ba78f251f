import { readFileSync } from 'node:fs';
import { HASH256_WORDS, type Hash256, setBit } from './hash256.ts';

/**
 * PDQ (Meta, 2017) from luminance, bit for bit as Meta's C++ reference computes it in
 * single precision:
 *
 *   1. Jarosz filter: a box filter along rows, then along columns, twice (a tent filter),
 *      with a window of about half a 64th of the image per axis;
 *   2. decimation to 64x64 by sampling at block centres;
 *   3. a quality metric from the 64x64 buffer;
 *   4. the 16x16 low-frequency corner of its 2D DCT (T = D·A, then B = T·Dᵀ);
 *   5. one bit per coefficient: above the median or not.
 *
 * Every float operation of the reference is a float32 operation. Steps 1-4 run in
 * WebAssembly SIMD (jarosz.wat), where each lane does exactly the reference's float32 adds,
 * subtracts, multiplies and divides; the JS luma below (for callers that want a luma
 * plane) does each as a double operation rounded back with Math.fround, which gives the
 * same result for +, -, * and / because a double holds more than twice float32's
 * precision. Sums are accumulated in the reference's order, since float addition is not
 * associative.
 *
 * This module is pure computation; image decoding lives in image.ts.
 */

export interface PdqResult {
  hash: Hash256;
  /** 0-100: how much gradient the image has. Flat or nearly flat images hash unreliably. */
  quality: number;
}

/**
 * The dihedral variants, in the order pdqDihedralFromLuma returns them. Each is the hash of
 * the image after that transform, named as the reference names them and as its test files
 * (reg-test-input/dih) show: rotate90 turns the image a quarter turn anticlockwise and
 * rotate270 clockwise; flipX turns it upside down (mirror about the horizontal axis), flipY
 * mirrors it left to right; flipPlus1 is the transpose (mirror about the main diagonal) and
 * flipMinus1 the anti-transpose.
 */
export const PDQ_DIHEDRAL_NAMES = ['original', 'rotate90', 'rotate180', 'rotate270', 'flipX', 'flipY', 'flipPlus1', 'flipMinus1'] as const;
export type PdqDihedralName = (typeof PDQ_DIHEDRAL_NAMES)[number];

export interface PdqDihedralVariant {
  name: PdqDihedralName;
  hash: Hash256;
}

export interface PdqDihedral {
  quality: number;
  /** One per name, in PDQ_DIHEDRAL_NAMES order. */
  variants: PdqDihedralVariant[];
}

/** Images narrower or shorter than this get the all-zero hash and quality 0, as in the reference. */
export const MIN_HASHABLE_DIMENSION = 5;

const fround = Math.fround;

const LUMA_FROM_R = fround(0.299);
const LUMA_FROM_G = fround(0.587);
const LUMA_FROM_B = fround(0.114);

/** fround(coefficient * v) for every 8-bit v: the reference's three products, looked up. */
const lumaTable = (coefficient: number) => Float32Array.from({ length: 256 }, (_, v) => fround(coefficient * v));
const LUMA_R = lumaTable(LUMA_FROM_R);
const LUMA_G = lumaTable(LUMA_FROM_G);
const LUMA_B = lumaTable(LUMA_FROM_B);

export interface LumaOptions {
  /** Read the first channel as the grey value. Default: when there are fewer than 3 channels. */
  grey?: boolean;
  /** Where to write, instead of a new array. */
  output?: Float32Array;
}

/**
 * Luminance of interleaved 8-bit pixels as the reference computes it: 0.299 R + 0.587 G +
 * 0.114 B in float32 for colour (a fourth channel, alpha, is ignored), and the grey value
 * itself for greyscale.
 */
export function lumaFromPixels(pixels: Uint8Array, width: number, height: number, channels: number, options: LumaOptions = {}): Float32Array {
  const count = width * height;
  if (!Number.isInteger(channels) || channels < 1 || channels > 4) throw new RangeError(`channels must be 1 to 4, got ${channels}`);
  if (pixels.length < count * channels) throw new RangeError(`expected ${count * channels} bytes of pixels, got ${pixels.length}`);
  const grey = options.grey ?? channels < 3;
  if (!grey && channels < 3) throw new RangeError(`colour pixels need 3 or 4 channels, got ${channels}`);
  const luma = options.output ?? new Float32Array(count);
  if (luma.length < count) throw new RangeError(`output holds ${luma.length} values, need ${count}`);
  if (grey) {
    for (let p = 0, o = 0; p < count; p++, o += channels) luma[p] = pixels[o];
  } else {
    for (let p = 0, o = 0; p < count; p++, o += channels) {
      luma[p] = fround(LUMA_R[pixels[o]] + LUMA_G[pixels[o + 1]]) + LUMA_B[pixels[o + 2]];
    }
  }
  return luma;
}

// ---------------------------------------------------------------------------------------
// Jarosz filter and decimation: WebAssembly SIMD kernels (jarosz.wat), streamed.
//
// The reference blurs the whole image four times (rows, columns, rows, columns) and then
// samples 64x64 values. Here the four passes run as one pipeline over the image, eight rows
// at a time, so that nothing image-sized is allocated and memory is read about once:
//
//   8 input rows ──luma──▶ ──row box──▶ ring ──column box──▶ 8 blurred rows
//        ──row box, sampled──▶ 8 x 64 values ──column box over 64 columns, sampled──▶ block
//
// Every running sum sees exactly the values, in exactly the order, the reference's does,
// in float32; only the values no later step reads (pass 2 away from the sampled rows and
// columns) are never divided out or stored. The kernels work on independent lanes: 8 rows
// side by side in the row passes, 4 neighbouring columns in the column passes (see
// jarosz.wat); this module lays out their buffers and drives them.
// ---------------------------------------------------------------------------------------

/** Window per pass: half a 64th of the dimension, rounded up, so two passes span a block. */
export const jaroszWindow = (dimension: number) => Math.floor((dimension + 2 * 64 - 1) / (2 * 64));

/** The part of the WebAssembly JS API used here (the project's TypeScript libs do not declare it). */
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: object };
};

interface JaroszKernels {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  luma4(src: number, rowBytes: number, width: number, channels: number, grey: number, mask: number, dst: number, pitch: number): void;
  transpose(src: number, srcStep: number, srcStride: number, dst: number, dstStep: number, dstStride: number, blocks: number): void;
  boxRows(input: number, output: number, length: number, window: number, divide: number): void;
  sampleColumns(sums: number, columns: number, counts: number, dst: number): void;
  columnStep(sums: number, add: number, sub: number, out: number, count: number, bytes: number): void;
  dct(block: number, matrix: number, transposed: number, partial: number, out: number): void;
  gradientSum(block: number): number;
}

/**
 * Rows 1-16 of the 64-point DCT-II matrix (row 0, the mean, carries no pattern). The scale
 * is rounded to float32 before the double multiply, as in the reference.
 */
const DCT_MATRIX = (() => {
  const scale = fround(Math.sqrt(2 / 64));
  const matrix = new Float32Array(16 * 64);
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 64; j++) matrix[i * 64 + j] = scale * Math.cos((Math.PI / 2 / 64) * (i + 1) * (2 * j + 1));
  }
  return matrix;
})();

/** Where every instance keeps the DCT matrix and its transpose (offsets below it stay unused). */
const MATRIX_AT = 64;
const TRANSPOSED_AT = MATRIX_AT + 16 * 64 * 4;
const CONSTANTS_END = TRANSPOSED_AT + 64 * 16 * 4;

function instantiate(): JaroszKernels {
  const kernels = new WebAssembly.Instance(jaroszModule).exports as unknown as JaroszKernels;
  const floats = new Float32Array(kernels.memory.buffer);
  floats.set(DCT_MATRIX, MATRIX_AT / 4);
  for (let i = 0; i < 16; i++) for (let k = 0; k < 64; k++) floats[TRANSPOSED_AT / 4 + k * 16 + i] = DCT_MATRIX[i * 64 + k];
  return kernels;
}

const jaroszModule = new WebAssembly.Module(readFileSync(new URL('./jarosz.wasm', import.meta.url)));

/**
 * One instance is kept per thread for the common case; an image whose buffers need more
 * than this gets an instance of its own, dropped afterwards, since a WebAssembly memory
 * never shrinks.
 */
const KEPT_MEMORY_BYTES = 64 << 20;
let keptKernels: JaroszKernels | undefined;

function kernelsWith(bytes: number): JaroszKernels {
  const reuse = bytes <= KEPT_MEMORY_BYTES;
  const kernels = reuse && keptKernels ? keptKernels : instantiate();
  if (reuse) keptKernels = kernels;
  const missing = bytes - kernels.memory.buffer.byteLength;
  if (missing > 0) kernels.memory.grow(Math.ceil(missing / 65536));
  return kernels;
}

/** floor(((i + 0.5) * dimension) / 64) for i < 64: the block centres the reference samples. */
function sampleIndices(dimension: number): Int32Array {
  const indices = new Int32Array(64);
  for (let i = 0; i < 64; i++) indices[i] = Math.trunc(((i + 0.5) * dimension) / 64);
  return indices;
}

/** How many values the box filter's sum holds at output `index` (its divisor there). */
function boxCount(index: number, length: number, window: number): number {
  const half = Math.trunc((window + 2) / 2);
  if (index <= window - half) return index + half;
  if (index <= length - half) return window;
  return window - (index - (length - half));
}

/** What the first row pass reads: decoded 8-bit pixels, or float luma (one value per pixel). */
type Source = { pixels: Uint8Array; channels: number; grey: boolean } | { luma: Float32Array };

const roundUp = (value: number, multiple: number) => Math.ceil(value / multiple) * multiple;

/** The 64x64 block, the DCT's 16x64 and 16x16 outputs, and 16 bytes the gradient sum reads past the block. */
const BLOCK_AND_DCT_BYTES = (64 * 64 + 16 * 64 + 16 * 16) * 4 + 64;

/** Rows move through the pipeline in groups of eight: two 4-lane vectors per row pass step. */
const GROUP = 8;

interface Blurred {
  kernels: JaroszKernels;
  /** Offset of the 64x64 block, followed by room for the DCT: 16x64 then 16x16 floats. */
  blockAt: number;
}

/** Blurs and decimates to the reference's 64x64 buffer, in the kernels' memory. */
function blurredBlock(source: Source, width: number, height: number): Blurred {
  if (width === 64 && height === 64) {
    // As the reference: already 64x64 (e.g. a video frame scaled by ffmpeg), so no blur.
    const kernels = kernelsWith(CONSTANTS_END + BLOCK_AND_DCT_BYTES);
    const block = new Float32Array(kernels.memory.buffer, CONSTANTS_END, 64 * 64);
    if ('luma' in source) block.set(source.luma.subarray(0, 64 * 64));
    else lumaFromPixels(source.pixels, 64, 64, source.channels, { grey: source.grey, output: block });
    return { kernels, blockAt: CONSTANTS_END };
  }
  const rowWindow = jaroszWindow(width);
  const columnWindow = jaroszWindow(height);
  const columnHalf = Math.trunc((columnWindow + 2) / 2);
  const prefill = columnHalf - 1;
  const lastGrowing = columnWindow - columnHalf;
  const lastAdding = height - columnHalf;

  // Buffers, as byte offsets into the kernels' memory (0 stays unused: it means "none").
  // In all about 4 x width x (ringRows + 25) + 8 x width x channels bytes: 2.7 MB for
  // 7071x7071 RGB, about 13 MB at worst within 50 megapixels and a 65,500-pixel side.
  const pitch = roundUp(width, 4) * 4;
  const blocks = pitch / 16;
  const ringRows = roundUp(columnWindow + GROUP, GROUP);
  const channels = 'luma' in source ? 4 : source.channels;
  let end = CONSTANTS_END;
  const take = (bytes: number) => {
    const at = end;
    end += roundUp(bytes, 64);
    return at;
  };
  const mask = take(16);
  const columns = take(256);
  const counts = take(256);
  const input = take(GROUP * width * channels + 64);
  const interleavedA = take(pitch * GROUP);
  const interleavedB = take(pitch * GROUP);
  const ring1 = take(ringRows * pitch);
  const sums1 = take(pitch);
  const rows1 = take(GROUP * pitch);
  const ring2 = take(ringRows * 256);
  const sums2 = take(256);
  const blockAt = take(BLOCK_AND_DCT_BYTES);
  const k = kernelsWith(end);
  const bytes = new Uint8Array(k.memory.buffer);
  const floats = new Float32Array(k.memory.buffer);
  bytes.fill(0, sums1, sums1 + pitch);
  bytes.fill(0, sums2, sums2 + 256);

  const sampledColumns = sampleIndices(width);
  new Int32Array(k.memory.buffer, columns, 64).set(sampledColumns);
  new Float32Array(k.memory.buffer, counts, 64).set(Array.from(sampledColumns, (c) => boxCount(c, width, rowWindow)));
  /** For each row of the image, the first block row sampled from it, or -1. */
  const blockRowOf = new Int32Array(height).fill(-1);
  const sampledRows = sampleIndices(height);
  for (let i = 63; i >= 0; i--) blockRowOf[sampledRows[i]] = i;
  const grey = 'luma' in source ? false : source.grey;
  if (!('luma' in source)) {
    // Lane i takes pixel i's R, G and B (or its grey value alone) into its low bytes.
    for (let lane = 0; lane < 4; lane++) {
      const first = lane * source.channels;
      bytes.set(grey ? [first, 0x80, 0x80, 0x80] : [first, first + 1, first + 2, 0x80], mask + lane * 4);
    }
  }

  // Pass 2, columns, over the 64 sampled columns: written only at the sampled rows.
  const slot2 = (row: number) => ring2 + (row % ringRows) * 256;
  const emit2 = (row: number, sub: number, add: number, count: number) => {
    const first = blockRowOf[row];
    k.columnStep(sums2, add, sub, first < 0 ? 0 : blockAt + first * 256, first < 0 ? 0 : count, 256);
    for (let i = first + 1; first >= 0 && i < 64 && sampledRows[i] === row; i++) bytes.copyWithin(blockAt + i * 256, blockAt + first * 256, blockAt + first * 256 + 256);
  };
  const push2 = (row: number) => {
    if (row < prefill) return k.columnStep(sums2, slot2(row), 0, 0, 0, 256);
    const out = row - prefill;
    if (out <= lastGrowing) emit2(out, 0, slot2(row), row + 1);
    else emit2(out, slot2(row - columnWindow), slot2(row), columnWindow);
  };

  // Pass 2, rows: eight blurred rows at a time, only their sampled columns kept.
  const rowPass2 = (first: number, rows: number) => {
    k.transpose(rows1, 16, pitch, interleavedA, 128, 32, blocks);
    k.transpose(rows1 + 4 * pitch, 16, pitch, interleavedA + 16, 128, 32, blocks);
    k.boxRows(interleavedA, interleavedB, width, rowWindow, 0);
    k.sampleColumns(interleavedB, columns, counts, slot2(first));
    k.sampleColumns(interleavedB + 16, columns, counts, slot2(first + 4));
    for (let i = 0; i < rows; i++) push2(first + i);
  };

  // Pass 1, columns, over every column, feeding pass 2 eight rows at a time.
  const slot1 = (row: number) => ring1 + (row % ringRows) * pitch;
  const emit1 = (out: number, sub: number, add: number, count: number) => {
    k.columnStep(sums1, add, sub, rows1 + (out % GROUP) * pitch, count, pitch);
    if (out % GROUP === GROUP - 1 || out === height - 1) rowPass2(out - (out % GROUP), (out % GROUP) + 1);
  };
  const push1 = (row: number) => {
    if (row < prefill) return k.columnStep(sums1, slot1(row), 0, 0, 0, pitch);
    const out = row - prefill;
    if (out <= lastGrowing) emit1(out, 0, slot1(row), row + 1);
    else emit1(out, slot1(row - columnWindow), slot1(row), columnWindow);
  };

  // Pass 1, rows: luma of eight input rows at a time (the last repeated to fill a group).
  const rowBytes = width * channels;
  for (let first = 0; first < height; first += GROUP) {
    const rows = Math.min(GROUP, height - first);
    if ('luma' in source) {
      floats.set(source.luma.subarray(first * width, (first + rows) * width), input / 4);
    } else {
      bytes.set(source.pixels.subarray(first * rowBytes, (first + rows) * rowBytes), input);
    }
    for (let i = rows; i < GROUP; i++) bytes.copyWithin(input + i * rowBytes, input + (rows - 1) * rowBytes, input + rows * rowBytes);
    for (const half of [0, 4]) {
      if ('luma' in source) k.transpose(input + half * rowBytes, 16, rowBytes, interleavedA + half * 4, 128, 32, blocks);
      else k.luma4(input + half * rowBytes, rowBytes, width, channels, grey ? 1 : 0, mask, interleavedA + half * 4, 32);
    }
    k.boxRows(interleavedA, interleavedB, width, rowWindow, 1);
    k.transpose(interleavedB, 128, 32, slot1(first), 16, pitch, blocks);
    k.transpose(interleavedB + 16, 128, 32, slot1(first + 4), 16, pitch, blocks);
    for (let i = 0; i < rows; i++) push1(first + i);
  }
  // The last outputs of both column passes: the window shrinks, nothing is added.
  for (let out = lastAdding + 1, count = columnWindow - 1; out < height; out++, count--) emit1(out, slot1(out - columnWindow + columnHalf - 1), 0, count);
  for (let out = lastAdding + 1, count = columnWindow - 1; out < height; out++, count--) emit2(out, slot2(out - columnWindow + columnHalf - 1), 0, count);
  return { kernels: k, blockAt };
}

// ---------------------------------------------------------------------------------------
// Bits.
// ---------------------------------------------------------------------------------------


const sortScratch = new Float32Array(256);

/**
 * The reference thresholds at Torben's median, which for 256 values is always the 128th
 * smallest (it stops with at most 128 values on either side of its guess and returns the
 * largest value below it, or the guess itself when that is a value). Sorting a copy finds
 * the same value.
 */
function bitsAboveMedian(coefficients: Float32Array): Hash256 {
  sortScratch.set(coefficients);
  const median = sortScratch.sort()[127];
  const hash = new Uint32Array(HASH256_WORDS);
  for (let k = 0; k < 256; k++) if (coefficients[k] > median) setBit(hash, k);
  return hash;
}

/**
 * How each dihedral transform acts on the DCT coefficients (i = vertical frequency row,
 * j = horizontal column). A basis function of odd index is odd about the image centre, so
 * a mirror negates it; a transpose swaps the two frequencies. As the reference's
 * dct16OriginalTo* functions: `negate(i, j)` says whether coefficient (i, j) changes sign,
 * and with `transpose` it lands at (j, i).
 */
const DIHEDRAL_TRANSFORMS: Record<PdqDihedralName, { transpose: boolean; negate: (i: number, j: number) => boolean }> = {
  original: { transpose: false, negate: () => false },
  rotate90: { transpose: true, negate: (_i, j) => (j & 1) === 0 },
  rotate180: { transpose: false, negate: (i, j) => ((i + j) & 1) === 1 },
  rotate270: { transpose: true, negate: (i) => (i & 1) === 0 },
  flipX: { transpose: false, negate: (i) => (i & 1) === 0 },
  flipY: { transpose: false, negate: (_i, j) => (j & 1) === 0 },
  flipPlus1: { transpose: true, negate: () => false },
  flipMinus1: { transpose: true, negate: (i, j) => ((i + j) & 1) === 1 },
};

function transformCoefficients(name: PdqDihedralName, input: Float32Array, output: Float32Array): Float32Array {
  const { transpose, negate } = DIHEDRAL_TRANSFORMS[name];
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 16; j++) {
      const value = input[i * 16 + j];
      output[transpose ? j * 16 + i : i * 16 + j] = negate(i, j) ? -value : value;
    }
  }
  return output;
}

// ---------------------------------------------------------------------------------------
// Entry points.
// ---------------------------------------------------------------------------------------

export interface PdqCoefficients {
  /** The 16x16 DCT output, row-major (row = vertical frequency), before thresholding. */
  coefficients: Float32Array;
  /** The blurred 64x64 buffer the DCT and the quality metric read. */
  block: Float32Array;
  quality: number;
}

function checkLuma(luma: Float32Array, width: number, height: number): void {
  if (!Number.isInteger(width) || width < 1 || !Number.isInteger(height) || height < 1) {
    throw new RangeError(`width and height must be positive integers, got ${width} x ${height}`);
  }
  if (luma.length < width * height) throw new RangeError(`expected ${width * height} luma values for ${width} x ${height}, got ${luma.length}`);
}

/** Everything before thresholding, or undefined for images too small to hash. */
function coefficientsFrom(source: Source, width: number, height: number): PdqCoefficients | undefined {
  if (width < MIN_HASHABLE_DIMENSION || height < MIN_HASHABLE_DIMENSION) return undefined;
  const { kernels, blockAt } = blurredBlock(source, width, height);
  const partialAt = blockAt + 64 * 64 * 4;
  const coefficientsAt = partialAt + 16 * 64 * 4;
  kernels.dct(blockAt, MATRIX_AT, TRANSPOSED_AT, partialAt, coefficientsAt);
  // Quality: the gradient sum counts significant gradients, not many small ones.
  const quality = Math.min(100, Math.trunc(kernels.gradientSum(blockAt) / 90));
  const block = new Float32Array(kernels.memory.buffer.slice(blockAt, blockAt + 64 * 64 * 4));
  const coefficients = new Float32Array(kernels.memory.buffer.slice(coefficientsAt, coefficientsAt + 256 * 4));
  return { coefficients, block, quality };
}

/**
 * Everything before thresholding, or undefined for images too small to hash. Exposed for
 * tests and diagnostics; the luma is left untouched.
 */
export function pdqCoefficientsFromLuma(luma: Float32Array, width: number, height: number): PdqCoefficients | undefined {
  checkLuma(luma, width, height);
  return coefficientsFrom({ luma }, width, height);
}

/** Decoded 8-bit pixels: interleaved, `channels` (1 to 4) per pixel, rows top to bottom. */
export interface Pixels {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

/**
 * pdqCoefficientsFromLuma of the pixels' luminance (lumaFromPixels), computed four rows at
 * a time: a 50-megapixel image needs its decoded bytes and no 200 MB float plane.
 */
export function pdqCoefficientsFromPixels({ data, width, height, channels }: Pixels, options: Omit<LumaOptions, 'output'> = {}): PdqCoefficients | undefined {
  if (!Number.isInteger(width) || width < 1 || !Number.isInteger(height) || height < 1) {
    throw new RangeError(`width and height must be positive integers, got ${width} x ${height}`);
  }
  if (!Number.isInteger(channels) || channels < 1 || channels > 4) throw new RangeError(`channels must be 1 to 4, got ${channels}`);
  if (data.length < width * height * channels) throw new RangeError(`expected ${width * height * channels} bytes of pixels, got ${data.length}`);
  const grey = options.grey ?? channels < 3;
  if (!grey && channels < 3) throw new RangeError(`colour pixels need 3 or 4 channels, got ${channels}`);
  return coefficientsFrom({ pixels: data, channels, grey }, width, height);
}

function hashOf(computed: PdqCoefficients | undefined): PdqResult {
  if (!computed) return { hash: new Uint32Array(HASH256_WORDS), quality: 0 };
  return { hash: bitsAboveMedian(computed.coefficients), quality: computed.quality };
}

/**
 * The hashes of the image and of its 7 rotations and mirror images, from one blur and one
 * DCT: each variant's coefficients are the original's with signs changed and/or
 * transposed, thresholded at their own median. Variants come in PDQ_DIHEDRAL_NAMES order.
 */
function dihedralOf(computed: PdqCoefficients | undefined): PdqDihedral {
  if (!computed) return { quality: 0, variants: PDQ_DIHEDRAL_NAMES.map((name) => ({ name, hash: new Uint32Array(HASH256_WORDS) })) };
  const transformed = new Float32Array(256);
  return {
    quality: computed.quality,
    variants: PDQ_DIHEDRAL_NAMES.map((name) => ({ name, hash: bitsAboveMedian(transformCoefficients(name, computed.coefficients, transformed)) })),
  };
}

/** PDQ hash and quality of a luminance image (row-major, width x height). */
export const pdqFromLuma = (luma: Float32Array, width: number, height: number): PdqResult => hashOf(pdqCoefficientsFromLuma(luma, width, height));

/** The 8 dihedral hashes of a luminance image (see dihedralOf). */
export const pdqDihedralFromLuma = (luma: Float32Array, width: number, height: number): PdqDihedral =>
  dihedralOf(pdqCoefficientsFromLuma(luma, width, height));

/** PDQ hash and quality of decoded pixels, as pdqFromLuma of their luminance. */
export const pdqFromPixels = (pixels: Pixels, options?: Omit<LumaOptions, 'output'>): PdqResult => hashOf(pdqCoefficientsFromPixels(pixels, options));

/** The 8 dihedral hashes of decoded pixels. */
export const pdqDihedralFromPixels = (pixels: Pixels, options?: Omit<LumaOptions, 'output'>): PdqDihedral =>
  dihedralOf(pdqCoefficientsFromPixels(pixels, options));
