import { invalid } from '../errors.ts';
import type { ContentHasher, SignalType } from './types.ts';
import { InvalidSignalError } from './types.ts';

/** The signal types and content hashers one Bulwark instance knows. */
export class SignalRegistry {
  private readonly types = new Map<string, SignalType>();

  constructor(types: Iterable<SignalType>, readonly hashers: readonly ContentHasher[]) {
    for (const type of types) {
      if (this.types.has(type.name)) throw new Error(`signal type ${type.name} registered twice`);
      this.types.set(type.name, type);
    }
  }

  get names(): string[] {
    return [...this.types.keys()];
  }

  all(): SignalType[] {
    return [...this.types.values()];
  }

  get(name: string): SignalType {
    const type = this.types.get(name.toLowerCase());
    if (!type) throw invalid(`unknown signal type ${JSON.stringify(name)}; known types: ${this.names.join(', ')}`, { signal_type: name });
    return type;
  }

  /** The canonical value, or a domain "invalid" error that names the type and the problem. */
  normalize(signalType: string, value: string): { signalType: string; value: string } {
    const type = this.get(signalType);
    try {
      return { signalType: type.name, value: type.normalize(value) };
    } catch (error) {
      if (error instanceof InvalidSignalError) throw invalid(error.message, { signal_type: type.name, reason: error.reason });
      throw error;
    }
  }

  hashersFor(contentType: string): ContentHasher[] {
    return this.hashers.filter((hasher) => hasher.contentTypes.includes(contentType));
  }
}
