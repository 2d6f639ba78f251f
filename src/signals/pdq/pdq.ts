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
 * Every float operation of the reference is a float32 operation; each one here is a double
 * operation rounded back with Math.fround (or by storing into a Float32Array), which gives
 * the same result for +, -, * and / because a double holds more than twice float32's
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
// Jarosz filter and decimation, streamed.
//
// The reference blurs the whole image four times (rows, columns, rows, columns) and then
// samples 64x64 values. Here the four passes run as one pipeline over the image, a few rows
// at a time, so that nothing image-sized is allocated and memory is read about once:
//
//   input row ──row box──▶ ring ──column box──▶ blurred row ──row box, sampled──▶ 64 values
//        ──column box over 64 columns, sampled──▶ the 64x64 block
//
// Every running sum still sees exactly the values, in exactly the order, the reference's
// does; only the values no later step reads (pass 2 away from the sampled rows and
// columns) are never divided out or stored.
// ---------------------------------------------------------------------------------------

/** Window per pass: half a 64th of the dimension, rounded up, so two passes span a block. */
export const jaroszWindow = (dimension: number) => Math.floor((dimension + 2 * 64 - 1) / (2 * 64));

/**
 * fround(sum / n) is computed as fround(sum * (1 / n)): for a float32 sum and an integer n
 * below 2^20 the quotient never lies within 2^-45 (relative) of a float32 rounding
 * boundary, while the double product is within 2^-52 of it, so both round alike. A
 * multiply is several times cheaper than a divide, and there is one per pixel per pass.
 */
let reciprocals = new Float64Array(0);
function reciprocalsUpTo(n: number): Float64Array {
  if (reciprocals.length <= n) reciprocals = Float64Array.from({ length: n + 1 }, (_, i) => (i === 0 ? 0 : 1 / i));
  return reciprocals;
}

/**
 * The reference's box filter keeps a running sum through four phases: it adds half-1
 * values without writing, then writes while the window grows, slides the full window, and
 * writes while the window shrinks at the end. Written per output index it is: add the
 * value at out + half - 1 (while inside the vector), subtract the one at out - window + half
 * - 1 (once past the growing phase), then divide by the number of values summed.
 */
interface BoxGeometry {
  window: number;
  half: number;
  /** Values added before the first output. */
  prefill: number;
  /** Last output index written without a subtraction (the window still grows). */
  lastGrowing: number;
  /** Last output index with an addition (later ones only subtract). */
  lastAdding: number;
}

function boxGeometry(length: number, window: number): BoxGeometry {
  const half = Math.trunc((window + 2) / 2);
  return { window, half, prefill: half - 1, lastGrowing: window - half, lastAdding: length - half };
}

/**
 * Box filter along four rows at once. The running sum is a chain of dependent float
 * roundings; four independent chains let the CPU overlap them, which roughly halves the
 * time of a row pass. Rows may repeat (to pad the last group) as long as their outputs do.
 */
function boxFourRows(
  input: Float32Array,
  in0: number,
  in1: number,
  in2: number,
  in3: number,
  output: Float32Array,
  out0: number,
  out1: number,
  out2: number,
  out3: number,
  length: number,
  { window, prefill, lastGrowing, lastAdding }: BoxGeometry,
  recip: Float64Array,
): void {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let right = 0;
  let left = 0;
  let count = 0;
  for (; right < prefill; right++, count++) {
    s0 = fround(s0 + input[in0 + right]);
    s1 = fround(s1 + input[in1 + right]);
    s2 = fround(s2 + input[in2 + right]);
    s3 = fround(s3 + input[in3 + right]);
  }
  let out = 0;
  for (; out <= lastGrowing; out++, right++) {
    s0 = fround(s0 + input[in0 + right]);
    s1 = fround(s1 + input[in1 + right]);
    s2 = fround(s2 + input[in2 + right]);
    s3 = fround(s3 + input[in3 + right]);
    const r = recip[++count];
    output[out0 + out] = s0 * r;
    output[out1 + out] = s1 * r;
    output[out2 + out] = s2 * r;
    output[out3 + out] = s3 * r;
  }
  const r = recip[window];
  for (; out <= lastAdding; out++, right++, left++) {
    s0 = fround(fround(s0 + input[in0 + right]) - input[in0 + left]);
    s1 = fround(fround(s1 + input[in1 + right]) - input[in1 + left]);
    s2 = fround(fround(s2 + input[in2 + right]) - input[in2 + left]);
    s3 = fround(fround(s3 + input[in3 + right]) - input[in3 + left]);
    output[out0 + out] = s0 * r;
    output[out1 + out] = s1 * r;
    output[out2 + out] = s2 * r;
    output[out3 + out] = s3 * r;
  }
  count = window;
  for (; out < length; out++, left++) {
    s0 = fround(s0 - input[in0 + left]);
    s1 = fround(s1 - input[in1 + left]);
    s2 = fround(s2 - input[in2 + left]);
    s3 = fround(s3 - input[in3 + left]);
    const r = recip[--count];
    output[out0 + out] = s0 * r;
    output[out1 + out] = s1 * r;
    output[out2 + out] = s2 * r;
    output[out3 + out] = s3 * r;
  }
}

/**
 * Writes one sampled output of four rows: to position j, and to the following positions
 * too when the same column is sampled more than once (rows shorter than 64). Returns the
 * next position to fill.
 */
function writeSample(
  output: Float32Array,
  out0: number,
  out1: number,
  out2: number,
  out3: number,
  samples: Int32Array,
  j: number,
  v0: number,
  v1: number,
  v2: number,
  v3: number,
): number {
  const column = samples[j];
  do {
    output[out0 + j] = v0;
    output[out1 + j] = v1;
    output[out2 + j] = v2;
    output[out3 + j] = v3;
    j++;
  } while (j < 64 && samples[j] === column);
  return j;
}

/**
 * The same filter along four rows, keeping only the outputs at the sampled columns
 * (`samples`: 64 ascending indices, repeats allowed when the row is shorter than 64).
 * Output j of each row goes to out + j. The running sums still take in every value.
 */
function boxFourRowsSampled(
  input: Float32Array,
  in0: number,
  in1: number,
  in2: number,
  in3: number,
  output: Float32Array,
  out0: number,
  out1: number,
  out2: number,
  out3: number,
  length: number,
  { window, prefill, lastGrowing, lastAdding }: BoxGeometry,
  recip: Float64Array,
  samples: Int32Array,
): void {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let right = 0;
  let left = 0;
  let count = 0;
  let j = 0;
  let next = samples[0];
  for (; right < prefill; right++, count++) {
    s0 = fround(s0 + input[in0 + right]);
    s1 = fround(s1 + input[in1 + right]);
    s2 = fround(s2 + input[in2 + right]);
    s3 = fround(s3 + input[in3 + right]);
  }
  let out = 0;
  for (; out <= lastGrowing; out++, right++) {
    s0 = fround(s0 + input[in0 + right]);
    s1 = fround(s1 + input[in1 + right]);
    s2 = fround(s2 + input[in2 + right]);
    s3 = fround(s3 + input[in3 + right]);
    count++;
    if (out === next) {
      const r = recip[count];
      j = writeSample(output, out0, out1, out2, out3, samples, j, s0 * r, s1 * r, s2 * r, s3 * r);
      next = j < 64 ? samples[j] : -1;
    }
  }
  const r = recip[window];
  for (; out <= lastAdding; out++, right++, left++) {
    s0 = fround(fround(s0 + input[in0 + right]) - input[in0 + left]);
    s1 = fround(fround(s1 + input[in1 + right]) - input[in1 + left]);
    s2 = fround(fround(s2 + input[in2 + right]) - input[in2 + left]);
    s3 = fround(fround(s3 + input[in3 + right]) - input[in3 + left]);
    if (out === next) {
      j = writeSample(output, out0, out1, out2, out3, samples, j, s0 * r, s1 * r, s2 * r, s3 * r);
      next = j < 64 ? samples[j] : -1;
    }
  }
  count = window;
  for (; out < length; out++, left++) {
    s0 = fround(s0 - input[in0 + left]);
    s1 = fround(s1 - input[in1 + left]);
    s2 = fround(s2 - input[in2 + left]);
    s3 = fround(s3 - input[in3 + left]);
    count--;
    if (out === next) {
      const r = recip[count];
      j = writeSample(output, out0, out1, out2, out3, samples, j, s0 * r, s1 * r, s2 * r, s3 * r);
      next = j < 64 ? samples[j] : -1;
    }
  }
}

/** Rows move through the pipeline in groups of four, the number the row passes interleave. */
const OUTPUT_ROWS = 4;

/**
 * The box filter down every column of a stream of rows, one running sum per column, fed a
 * row at a time in order (so memory is read along rows). The caller writes input row k at
 * `slot(k)` of `ring` and then calls push(); the ring keeps the window's rows for
 * subtracting plus `lookahead` rows the caller may fill ahead. Output row i is written to
 * `output` at (i % OUTPUT_ROWS) * width and reported to `onRow`, unless `wanted` says no
 * one reads it: then the sums are updated and nothing is written.
 */
class ColumnBox {
  readonly ring: Float32Array;
  readonly output: Float32Array;
  private readonly ringRows: number;
  private readonly sums: Float32Array;
  private readonly geometry: BoxGeometry;
  private pushed = 0;

  constructor(
    private readonly width: number,
    private readonly length: number,
    window: number,
    lookahead: number,
    private readonly recip: Float64Array,
    private readonly onRow: (row: number, offset: number) => void,
    private readonly wanted?: Uint8Array,
  ) {
    this.geometry = boxGeometry(length, window);
    this.ringRows = window + lookahead;
    this.ring = new Float32Array(this.ringRows * width);
    this.output = new Float32Array(OUTPUT_ROWS * width);
    this.sums = new Float32Array(width);
  }

  slot(row: number): number {
    return (row % this.ringRows) * this.width;
  }

  /** Takes in the next input row, already written at slot(row). */
  push(): void {
    const row = this.pushed++;
    const { width, sums, ring, output } = this;
    const { window, prefill, lastGrowing } = this.geometry;
    const add = this.slot(row);
    if (row < prefill) {
      for (let c = 0; c < width; c++) sums[c] = sums[c] + ring[add + c];
      return;
    }
    const out = row - prefill;
    const target = this.targetOf(out);
    if (out <= lastGrowing) {
      if (target < 0) {
        for (let c = 0; c < width; c++) sums[c] = sums[c] + ring[add + c];
      } else {
        const r = this.recip[out + prefill + 1];
        for (let c = 0; c < width; c++) {
          const sum = fround(sums[c] + ring[add + c]);
          sums[c] = sum;
          output[target + c] = sum * r;
        }
      }
    } else {
      const subtract = this.slot(row - window);
      if (target < 0) {
        for (let c = 0; c < width; c++) sums[c] = fround(sums[c] + ring[add + c]) - ring[subtract + c];
      } else {
        const r = this.recip[window];
        for (let c = 0; c < width; c++) {
          const sum = fround(fround(sums[c] + ring[add + c]) - ring[subtract + c]);
          sums[c] = sum;
          output[target + c] = sum * r;
        }
      }
    }
    if (target >= 0) this.onRow(out, target);
  }

  /** The last outputs, after the final input row: the window shrinks, nothing is added. */
  finish(): void {
    const { width, sums, ring, output, length } = this;
    const { window, half, lastAdding } = this.geometry;
    let count = window;
    for (let out = lastAdding + 1; out < length; out++) {
      count--;
      const subtract = this.slot(out - window + half - 1);
      const target = this.targetOf(out);
      if (target < 0) {
        for (let c = 0; c < width; c++) sums[c] = sums[c] - ring[subtract + c];
        continue;
      }
      const r = this.recip[count];
      for (let c = 0; c < width; c++) {
        const sum = fround(sums[c] - ring[subtract + c]);
        sums[c] = sum;
        output[target + c] = sum * r;
      }
      this.onRow(out, target);
    }
  }

  private targetOf(out: number): number {
    return this.wanted && !this.wanted[out] ? -1 : (out % OUTPUT_ROWS) * this.width;
  }
}

/** floor(((i + 0.5) * dimension) / 64) for i < 64: the block centres the reference samples. */
function sampleIndices(dimension: number): Int32Array {
  const indices = new Int32Array(64);
  for (let i = 0; i < 64; i++) indices[i] = Math.trunc(((i + 0.5) * dimension) / 64);
  return indices;
}

/**
 * Where the first row pass reads its input: `rows` rows of luma starting at row `first`,
 * row k at offset k * width of the returned array. Reading through this lets an image be
 * hashed from its decoded pixels without ever holding a full-size luma plane.
 */
type LumaRows = (first: number, rows: number) => Float32Array;

/** Blurs and decimates luma to the reference's 64x64 buffer, written into `block`. */
function downsampleTo64(lumaRows: LumaRows, width: number, height: number, block: Float32Array): void {
  if (width === 64 && height === 64) {
    // As the reference: already 64x64 (e.g. a video frame scaled by ffmpeg), so no blur.
    block.set(lumaRows(0, 64).subarray(0, 64 * 64));
    return;
  }
  const rowWindow = jaroszWindow(width);
  const columnWindow = jaroszWindow(height);
  const rowGeometry = boxGeometry(width, rowWindow);
  const recip = reciprocalsUpTo(Math.max(rowWindow, columnWindow));
  const sampledColumns = sampleIndices(width);
  const sampledRows = sampleIndices(height);
  const wantedRows = new Uint8Array(height);
  for (const row of sampledRows) wantedRows[row] = 1;

  // Pass 2, columns: over the 64 sampled columns only, written only at the sampled rows.
  const secondColumns: ColumnBox = new ColumnBox(64, height, columnWindow, OUTPUT_ROWS, recip, (row, offset) => {
    for (let i = 0; i < 64; i++) if (sampledRows[i] === row) block.set(secondColumns.output.subarray(offset, offset + 64), i * 64);
  }, wantedRows);

  // Pass 1, columns, feeding pass 2, rows, four blurred rows at a time.
  const firstColumns: ColumnBox = new ColumnBox(width, height, columnWindow, OUTPUT_ROWS, recip, (row) => {
    if (row % OUTPUT_ROWS !== OUTPUT_ROWS - 1 && row !== height - 1) return;
    const first = row - (row % OUTPUT_ROWS);
    const rows = row - first + 1;
    const from = (k: number) => Math.min(k, rows - 1) * width;
    const to = (k: number) => secondColumns.slot(first + Math.min(k, rows - 1));
    boxFourRowsSampled(firstColumns.output, from(0), from(1), from(2), from(3), secondColumns.ring, to(0), to(1), to(2), to(3), width, rowGeometry, recip, sampledColumns);
    for (let k = 0; k < rows; k++) secondColumns.push();
  });

  // Pass 1, rows, four input rows at a time into the first column filter's ring.
  for (let first = 0; first < height; first += OUTPUT_ROWS) {
    const rows = Math.min(OUTPUT_ROWS, height - first);
    const input = lumaRows(first, rows);
    const from = (k: number) => Math.min(k, rows - 1) * width;
    const to = (k: number) => firstColumns.slot(first + Math.min(k, rows - 1));
    boxFourRows(input, from(0), from(1), from(2), from(3), firstColumns.ring, to(0), to(1), to(2), to(3), width, rowGeometry, recip);
    for (let k = 0; k < rows; k++) firstColumns.push();
  }
  firstColumns.finish();
  secondColumns.finish();
}

// ---------------------------------------------------------------------------------------
// Quality, DCT, bits.
// ---------------------------------------------------------------------------------------

/** Sum of quantised neighbour differences: counts significant gradients, not many small ones. */
function qualityOf(block: Float32Array): number {
  let gradientSum = 0;
  for (let i = 0; i < 63; i++) {
    for (let j = 0; j < 64; j++) {
      gradientSum += Math.abs(Math.trunc(fround(fround(fround(block[i * 64 + j] - block[(i + 1) * 64 + j]) * 100) / 255)));
    }
  }
  for (let i = 0; i < 64; i++) {
    for (let j = 0; j < 63; j++) {
      gradientSum += Math.abs(Math.trunc(fround(fround(fround(block[i * 64 + j] - block[i * 64 + j + 1]) * 100) / 255)));
    }
  }
  return Math.min(100, Math.trunc(gradientSum / 90));
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

/**
 * B = D·A·Dᵀ as the reference computes it: T = D·A first, then B = T·Dᵀ, each sum taken
 * over k in increasing order. Four outputs are summed side by side for speed; each sum on
 * its own follows the reference's order exactly.
 */
function dct64To16(block: Float32Array, partial: Float32Array, coefficients: Float32Array): void {
  const d = DCT_MATRIX;
  for (let i = 0; i < 16; i++) {
    const row = i * 64;
    for (let j = 0; j < 64; j += 4) {
      let t0 = 0;
      let t1 = 0;
      let t2 = 0;
      let t3 = 0;
      for (let k = 0; k < 64; k++) {
        const dik = d[row + k];
        const a = k * 64 + j;
        t0 = fround(t0 + fround(dik * block[a]));
        t1 = fround(t1 + fround(dik * block[a + 1]));
        t2 = fround(t2 + fround(dik * block[a + 2]));
        t3 = fround(t3 + fround(dik * block[a + 3]));
      }
      partial[row + j] = t0;
      partial[row + j + 1] = t1;
      partial[row + j + 2] = t2;
      partial[row + j + 3] = t3;
    }
  }
  for (let i = 0; i < 16; i++) {
    const row = i * 64;
    for (let j = 0; j < 16; j += 4) {
      let b0 = 0;
      let b1 = 0;
      let b2 = 0;
      let b3 = 0;
      const d0 = j * 64;
      for (let k = 0; k < 64; k++) {
        const tik = partial[row + k];
        b0 = fround(b0 + fround(tik * d[d0 + k]));
        b1 = fround(b1 + fround(tik * d[d0 + 64 + k]));
        b2 = fround(b2 + fround(tik * d[d0 + 128 + k]));
        b3 = fround(b3 + fround(tik * d[d0 + 192 + k]));
      }
      coefficients[i * 16 + j] = b0;
      coefficients[i * 16 + j + 1] = b1;
      coefficients[i * 16 + j + 2] = b2;
      coefficients[i * 16 + j + 3] = b3;
    }
  }
}

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

/**
 * Everything before thresholding, or undefined for images too small to hash. Exposed for
 * tests and diagnostics; the luma is left untouched.
 */
function coefficientsFrom(lumaRows: LumaRows, width: number, height: number): PdqCoefficients | undefined {
  if (width < MIN_HASHABLE_DIMENSION || height < MIN_HASHABLE_DIMENSION) return undefined;
  const block = new Float32Array(64 * 64);
  downsampleTo64(lumaRows, width, height, block);
  const coefficients = new Float32Array(256);
  dct64To16(block, new Float32Array(16 * 64), coefficients);
  return { coefficients, block, quality: qualityOf(block) };
}

/**
 * Everything before thresholding, or undefined for images too small to hash. Exposed for
 * tests and diagnostics; the luma is left untouched.
 */
export function pdqCoefficientsFromLuma(luma: Float32Array, width: number, height: number): PdqCoefficients | undefined {
  checkLuma(luma, width, height);
  return coefficientsFrom((first, rows) => luma.subarray(first * width, (first + rows) * width), width, height);
}

/** Decoded 8-bit pixels: interleaved, `channels` (1 to 4) per pixel, rows top to bottom. */
export interface Pixels {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

/**
 * pdqCoefficientsFromLuma of the pixels' luminance (lumaFromPixels), computed a few rows
 * at a time: a 50-megapixel image needs its decoded bytes and no 200 MB float plane.
 */
export function pdqCoefficientsFromPixels({ data, width, height, channels }: Pixels, options: Omit<LumaOptions, 'output'> = {}): PdqCoefficients | undefined {
  if (!Number.isInteger(width) || width < 1 || !Number.isInteger(height) || height < 1) {
    throw new RangeError(`width and height must be positive integers, got ${width} x ${height}`);
  }
  if (data.length < width * height * channels) throw new RangeError(`expected ${width * height * channels} bytes of pixels, got ${data.length}`);
  const whole = width === 64 && height === 64;
  const scratch = new Float32Array(whole ? 64 * 64 : OUTPUT_ROWS * width);
  const rowBytes = width * channels;
  const lumaRows: LumaRows = (first, rows) =>
    lumaFromPixels(data.subarray(first * rowBytes, (first + rows) * rowBytes), width, rows, channels, { ...options, output: scratch });
  return coefficientsFrom(lumaRows, width, height);
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
