import { DigestHasher, md5SignalType, sha256SignalType } from './exact.ts';
import { PdqHasher, pdqSignalType } from './pdq/signal.ts';
import { SignalRegistry } from './registry.ts';
import { VideoHasher, videoMd5SignalType, vpdqSignalType } from './vpdq/signal.ts';

/** The signal types and hashers Bulwark ships with. Add a new one here. */
export function defaultSignalRegistry(): SignalRegistry {
  return new SignalRegistry(
    [pdqSignalType, md5SignalType, sha256SignalType, vpdqSignalType, videoMd5SignalType],
    [new PdqHasher(), new DigestHasher(), new VideoHasher()],
  );
}
