import { BulwarkError, type ErrorKind } from '../../errors.ts';
import type { ComputedSignal, ContentHasher, HashOptions, SignalType } from '../types.ts';
import { InvalidSignalError } from '../types.ts';
import { describeHex256Problem, hash256ToHex } from './hash256.ts';
import { ImageDecodeError, pdqDihedralFromImage, pdqFromImage } from './image.ts';
import { PdqSignalIndex } from './pdq-index.ts';

export { PdqBatch, PdqSignalIndex } from './pdq-index.ts';

export const pdqSignalType: SignalType = {
  name: 'pdq',
  description: "Meta's PDQ perceptual photo hash (256 bits, Hamming distance)",
  matching: 'distance',
  defaultMaxDistance: 31,
  hex256: true,
  normalize(raw: string): string {
    const value = raw.trim().toLowerCase();
    const problem = describeHex256Problem(value);
    if (problem) throw new InvalidSignalError('pdq', problem);
    return value;
  },
  createIndex: (entries) => new PdqSignalIndex(entries),
};

const ERROR_KIND_BY_REASON: Record<ImageDecodeError['reason'], ErrorKind> = {
  empty: 'invalid',
  corrupt: 'invalid',
  unsupported: 'unsupported_media',
  'too-large': 'too_large',
};

/** Turns an image decoding failure into the domain error the shells know how to report. */
export function decodeFailure(error: unknown): never {
  if (error instanceof ImageDecodeError) throw new BulwarkError(ERROR_KIND_BY_REASON[error.reason], error.message);
  throw error;
}

export class PdqHasher implements ContentHasher {
  readonly name = 'pdq';
  readonly contentTypes = ['photo'] as const;
  readonly signalTypes = ['pdq'] as const;

  async hash(bytes: Buffer, options: HashOptions = {}): Promise<ComputedSignal[]> {
    try {
      if (options.variants) {
        const dihedral = await pdqDihedralFromImage(bytes, { maxPixels: options.maxPixels });
        const [original, ...others] = dihedral.variants;
        return [
          {
            signalType: 'pdq',
            value: hash256ToHex(original.hash),
            quality: dihedral.quality,
            variants: others.map((variant) => ({ name: variant.name, value: hash256ToHex(variant.hash) })),
          },
        ];
      }
      const { hash, quality } = await pdqFromImage(bytes, { maxPixels: options.maxPixels });
      return [{ signalType: 'pdq', value: hash256ToHex(hash), quality }];
    } catch (error) {
      decodeFailure(error);
    }
  }
}
