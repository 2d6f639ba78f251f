import { HASH256_WORDS, type Hash256, setBit } from './hash256.ts';

/**
 * PDQ (Meta, 2017) from luminance: a two-pass Jarosz (box-filter) blur, decimation to
 * 64x64, a quality metric, the 16x16 low-frequency corner of the 2D DCT, and one bit per
 * coefficient: above the median or not.
 *
 * Arithmetic is in double precision, as in the Python reference that produced the
 * published test vectors; its results agree with the float C++ reference on them too.
 */

export interface PdqResult {
  hash: Hash256;
  /** 0-100: how much gradient the image has; flat or nearly flat images hash unreliably. */
  quality: number;
}

export const DIHEDRAL_NAMES = ['original', 'rotate90', 'rotate180', 'rotate270', 'flipX', 'flipY', 'flipPlus1', 'flipMinus1'] as const;
export type DihedralName = (typeof DIHEDRAL_NAMES)[number];

export interface PdqDihedral {
  quality: number;
  /** In DIHEDRAL_NAMES order: the hashes of the image rotated and flipped, without re-hashing. */
  variants: { name: DihedralName; hash: Hash256 }[];
}

/** Images smaller than this in either dimension get the zero hash and quality 0. */
export const MIN_HASHABLE_DIMENSION = 5;

const LUMA_FROM_R = 0.299;
const LUMA_FROM_G = 0.587;
const LUMA_FROM_B = 0.114;

const DCT_64_TO_16 = (() => {
  const matrix = new Float64Array(16 * 64);
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 64; j++) matrix[i * 64 + j] = Math.cos((Math.PI / 2 / 64) * (i + 1) * (2 * j + 1));
  }
  return matrix;
})();

/** Luminance of interleaved 8-bit pixels; one or two channels are read as grey. */
export function lumaFromPixels(pixels: Uint8Array, width: number, height: number, channels: number): Float64Array {
  const luma = new Float64Array(width * height);
  if (channels < 3) {
    for (let p = 0, o = 0; p < luma.length; p++, o += channels) {
      const v = pixels[o];
      luma[p] = LUMA_FROM_R * v + LUMA_FROM_G * v + LUMA_FROM_B * v;
    }
  } else {
    for (let p = 0, o = 0; p < luma.length; p++, o += channels) {
      luma[p] = LUMA_FROM_R * pixels[o] + LUMA_FROM_G * pixels[o + 1] + LUMA_FROM_B * pixels[o + 2];
    }
  }
  return luma;
}

/** Half of a 64-sample block per pass, rounded up: two passes make a tent over a whole block. */
const jaroszWindow = (dimension: number) => Math.floor((dimension + 128 - 1) / 128);

interface BoxPhases {
  prefill: number;
  growing: number;
  sliding: number;
  shrinking: number;
}

/** The reference's box filter, as four phases of one running sum (reproduced for identical sums). */
function boxPhases(length: number, window: number): BoxPhases {
  const half = Math.floor((window + 2) / 2);
  return { prefill: half - 1, growing: window - half + 1, sliding: length - window, shrinking: half - 1 };
}

function boxAlongRows(input: Float64Array, output: Float64Array, rows: number, cols: number, window: number): void {
  const { prefill, growing, sliding, shrinking } = boxPhases(cols, window);
  for (let row = 0; row < rows; row++) {
    let left = row * cols;
    let right = left;
    let out = left;
    let sum = 0;
    let count = 0;
    for (let k = 0; k < prefill; k++, count++) sum += input[right++];
    for (let k = 0; k < growing; k++) {
      sum += input[right++];
      output[out++] = sum / ++count;
    }
    for (let k = 0; k < sliding; k++) {
      sum += input[right++];
      sum -= input[left++];
      output[out++] = sum / count;
    }
    for (let k = 0; k < shrinking; k++) {
      sum -= input[left++];
      output[out++] = sum / --count;
    }
  }
}

/**
 * The same filter down each column, swept a row at a time with one running sum per
 * column: the sums are the ones a column-by-column pass makes, but memory is read in order.
 */
function boxAlongCols(input: Float64Array, output: Float64Array, rows: number, cols: number, window: number, sums: Float64Array): void {
  const { prefill, growing, sliding, shrinking } = boxPhases(rows, window);
  sums.fill(0);
  let right = 0;
  let left = 0;
  let out = 0;
  let count = 0;
  for (let k = 0; k < prefill; k++, right += cols, count++) {
    for (let c = 0; c < cols; c++) sums[c] += input[right + c];
  }
  for (let k = 0; k < growing; k++, right += cols, out += cols) {
    count++;
    for (let c = 0; c < cols; c++) output[out + c] = (sums[c] += input[right + c]) / count;
  }
  for (let k = 0; k < sliding; k++, right += cols, left += cols, out += cols) {
    for (let c = 0; c < cols; c++) {
      let sum = sums[c] + input[right + c];
      sum -= input[left + c];
      sums[c] = sum;
      output[out + c] = sum / count;
    }
  }
  for (let k = 0; k < shrinking; k++, left += cols, out += cols) {
    count--;
    for (let c = 0; c < cols; c++) output[out + c] = (sums[c] -= input[left + c]) / count;
  }
}

/** Blurs and samples the luminance down to 64x64 (consumes luma as scratch space). */
function downsampleTo64(luma: Float64Array, width: number, height: number): Float64Array {
  const scratch = new Float64Array(luma.length);
  const sums = new Float64Array(width);
  const rowWindow = jaroszWindow(width);
  const colWindow = jaroszWindow(height);
  for (let pass = 0; pass < 2; pass++) {
    boxAlongRows(luma, scratch, height, width, rowWindow);
    boxAlongCols(scratch, luma, height, width, colWindow, sums);
  }
  const block = new Float64Array(64 * 64);
  for (let i = 0; i < 64; i++) {
    const row = Math.trunc(((i + 0.5) * height) / 64) * width;
    for (let j = 0; j < 64; j++) block[i * 64 + j] = luma[row + Math.trunc(((j + 0.5) * width) / 64)];
  }
  return block;
}

/** Sum of quantised neighbour differences: counts significant gradients, not many small ones. */
function qualityOf(block: Float64Array): number {
  let gradientSum = 0;
  for (let i = 0; i < 63; i++) {
    for (let j = 0; j < 64; j++) gradientSum += Math.abs(Math.trunc(((block[i * 64 + j] - block[(i + 1) * 64 + j]) * 100) / 255));
  }
  for (let i = 0; i < 64; i++) {
    for (let j = 0; j < 63; j++) gradientSum += Math.abs(Math.trunc(((block[i * 64 + j] - block[i * 64 + j + 1]) * 100) / 255));
  }
  return Math.min(100, Math.trunc(gradientSum / 90));
}

/** The 16x16 low-frequency DCT coefficients (excluding the DC row and column) of the 64x64 block. */
function dct16(block: Float64Array): Float64Array {
  const partial = new Float64Array(16 * 64);
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 64; j++) {
      let sum = 0;
      for (let k = 0; k < 64; k++) sum += DCT_64_TO_16[i * 64 + k] * block[k * 64 + j];
      partial[i * 64 + j] = sum;
    }
  }
  const coefficients = new Float64Array(256);
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 16; j++) {
      let sum = 0;
      for (let k = 0; k < 64; k++) sum += partial[i * 64 + k] * DCT_64_TO_16[j * 64 + k];
      coefficients[i * 16 + j] = sum;
    }
  }
  return coefficients;
}

/** One bit per coefficient: set when above the median (the 128th smallest, as Torben's method returns). */
function bitsAboveMedian(coefficients: Float64Array): Hash256 {
  const median = Float64Array.from(coefficients).sort()[127];
  const hash = new Uint32Array(HASH256_WORDS);
  for (let k = 0; k < 256; k++) if (coefficients[k] > median) setBit(hash, k);
  return hash;
}

function coefficientsOf(luma: Float64Array, width: number, height: number): { coefficients: Float64Array; quality: number } | undefined {
  if (width < MIN_HASHABLE_DIMENSION || height < MIN_HASHABLE_DIMENSION) return undefined;
  const block = downsampleTo64(luma, width, height);
  return { coefficients: dct16(block), quality: qualityOf(block) };
}

/** PDQ of a luminance image. The luma buffer is used as scratch space. */
export function pdqFromLuma(luma: Float64Array, width: number, height: number): PdqResult {
  const computed = coefficientsOf(luma, width, height);
  if (!computed) return { hash: new Uint32Array(HASH256_WORDS), quality: 0 };
  return { hash: bitsAboveMedian(computed.coefficients), quality: computed.quality };
}

/**
 * How each dihedral transform of the image acts on its DCT coefficients: a transpose
 * and/or a sign that alternates with the row or column index (DCT basis functions are
 * even or odd about the image centre).
 */
const DIHEDRAL_TRANSFORMS: Record<DihedralName, (i: number, j: number) => { transpose: boolean; negate: boolean }> = {
  original: () => ({ transpose: false, negate: false }),
  rotate90: (_i, j) => ({ transpose: true, negate: (j & 1) === 0 }),
  rotate180: (i, j) => ({ transpose: false, negate: ((i + j) & 1) === 1 }),
  rotate270: (i) => ({ transpose: true, negate: (i & 1) === 0 }),
  flipX: (i) => ({ transpose: false, negate: (i & 1) === 0 }),
  flipY: (_i, j) => ({ transpose: false, negate: (j & 1) === 0 }),
  flipPlus1: () => ({ transpose: true, negate: false }),
  flipMinus1: (i, j) => ({ transpose: true, negate: ((i + j) & 1) === 1 }),
};

/** PDQ of the image and of its 7 rotated and flipped copies, from one pass over the pixels. */
export function pdqDihedralFromLuma(luma: Float64Array, width: number, height: number): PdqDihedral {
  const computed = coefficientsOf(luma, width, height);
  if (!computed) return { quality: 0, variants: DIHEDRAL_NAMES.map((name) => ({ name, hash: new Uint32Array(HASH256_WORDS) })) };
  const transformed = new Float64Array(256);
  const variants = DIHEDRAL_NAMES.map((name) => {
    const transform = DIHEDRAL_TRANSFORMS[name];
    for (let i = 0; i < 16; i++) {
      for (let j = 0; j < 16; j++) {
        const { transpose, negate } = transform(i, j);
        const value = computed.coefficients[i * 16 + j];
        transformed[transpose ? j * 16 + i : i * 16 + j] = negate ? -value : value;
      }
    }
    return { name, hash: bitsAboveMedian(transformed) };
  });
  return { quality: computed.quality, variants };
}
