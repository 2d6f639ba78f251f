import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BulwarkError } from '../../errors.ts';
import { DigestSignalType } from '../exact.ts';
import type { ComputedSignal, ContentHasher, HashOptions, SignalType } from '../types.ts';
import { VPDQ_SIGNAL_TYPE, formatVpdqFrames, normalizeVpdq } from './frames.ts';
import { type VideoTools, hashVideoFile } from './hash-video.ts';
import { VpdqSignalIndex } from './index.ts';
import { DEFAULT_MIN_MATCH_PERCENT, VPDQ_DISTANCE_THRESHOLD } from './match.ts';
import { resolveVideoOptions } from './options.ts';

export const vpdqSignalType: SignalType = {
  name: VPDQ_SIGNAL_TYPE,
  description:
    "Meta's vPDQ video hash: the PDQ hash of one frame per second, one 'frameNumber,quality,pdqHex,timestamp' line per frame; " +
    'a video matches when at least 80% of the query frames (quality >= 50, unique) are within the distance of its frames',
  matching: 'distance',
  /** Per frame: a query frame matches a banked frame within this Hamming distance. */
  defaultMaxDistance: VPDQ_DISTANCE_THRESHOLD,
  defaultMinMatchPercent: DEFAULT_MIN_MATCH_PERCENT,
  normalize: normalizeVpdq,
  createIndex: (entries) => new VpdqSignalIndex(entries),
};

/** The query variant of a video hashed without its black bars (see bars.ts). */
export const BARS_REMOVED_VARIANT = 'bars_removed';

export const videoMd5SignalType = new DigestSignalType('video_md5', "MD5 digest of a video file's bytes (exact match), as HMA's video_md5", 'md5', 32);

/**
 * Computes vpdq and video_md5 for videos with ffmpeg (see hash-video.ts). Files are hashed in
 * place; bytes in memory are written to a private temporary file first, removed afterwards.
 */
export class VideoHasher implements ContentHasher {
  readonly name = 'vpdq';
  readonly contentTypes = ['video'] as const;
  readonly signalTypes = [VPDQ_SIGNAL_TYPE, 'video_md5'] as const;

  constructor(private readonly tools?: VideoTools) {}

  async hash(bytes: Buffer, options: HashOptions = {}): Promise<ComputedSignal[]> {
    const { maxBytes } = resolveVideoOptions(options);
    if (bytes.length > maxBytes) {
      throw new BulwarkError('too_large', `the video is ${bytes.length} bytes, over the limit of ${maxBytes}`, { bytes: bytes.length, max_bytes: maxBytes });
    }
    const dir = await mkdtemp(join(tmpdir(), 'bulwark-video-'));
    try {
      const path = join(dir, 'upload');
      await writeFile(path, bytes, { mode: 0o600 });
      return await this.hashFile(path, options);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async hashFile(path: string, options: HashOptions = {}): Promise<ComputedSignal[]> {
    const video = await hashVideoFile(path, options, this.tools);
    return [
      {
        signalType: VPDQ_SIGNAL_TYPE,
        value: formatVpdqFrames(video.frames),
        frameCount: video.frames.length,
        ...(video.withoutBars ? { variants: [{ name: BARS_REMOVED_VARIANT, value: formatVpdqFrames(video.withoutBars) }] } : {}),
      },
      { signalType: videoMd5SignalType.name, value: video.md5 },
    ];
  }
}
