import { DigestHasher, md5SignalType, sha256SignalType } from './exact.ts';
import { PdqHasher, pdqSignalType } from './pdq/signal.ts';
import { SignalRegistry } from './registry.ts';

/** The signal types and hashers Bulwark ships with. Add a new one here. */
export function defaultSignalRegistry(): SignalRegistry {
  return new SignalRegistry([pdqSignalType, md5SignalType, sha256SignalType], [new PdqHasher(), new DigestHasher()]);
}
