import fc from 'fast-check';

/**
 * Damage to a valid file, for fuzzing decoders: overwrite, insert or delete a few bytes, or
 * cut the file short; half the positions fall within the first 64 bytes, where headers are.
 */
export type Mutation =
  | { kind: 'overwrite'; at: number; bytes: Uint8Array }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'cut'; at: number };

export const position = fc.oneof(fc.nat({ max: 63 }), fc.nat());
export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('overwrite' as const), at: position, bytes: fc.uint8Array({ minLength: 1, maxLength: 4 }) }),
  fc.record({ kind: fc.constant('overwrite' as const), at: position, bytes: fc.constantFrom(Uint8Array.of(0xff), Uint8Array.of(0, 0), Uint8Array.of(0xff, 0xff, 0xff, 0x7f), Uint8Array.of(0x80, 0, 0, 0)) }),
  fc.record({ kind: fc.constant('insert' as const), at: position, bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: position, length: fc.integer({ min: 1, max: 32 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
);

export function mutate(file: Buffer, mutations: Mutation[]): Buffer {
  let bytes = Buffer.from(file);
  for (const m of mutations) {
    const at = bytes.length === 0 ? 0 : m.at % bytes.length;
    if (m.kind === 'overwrite') bytes.set(m.bytes.subarray(0, bytes.length - at), at);
    else if (m.kind === 'insert') bytes = Buffer.concat([bytes.subarray(0, at), m.bytes, bytes.subarray(at)]);
    else if (m.kind === 'delete') bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.length)]);
    else bytes = bytes.subarray(0, at);
  }
  return bytes;
}

