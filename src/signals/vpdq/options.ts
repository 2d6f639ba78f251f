import { invalid } from '../../errors.ts';
import type { HashOptions } from '../types.ts';

/** One frame hashed per second of video, as python-threatexchange's VPDQSignal.hash_from_file. */
export const DEFAULT_SECONDS_PER_HASH = 1;
/** 30 minutes: about 54,000 frames to decode at 30 fps. */
export const DEFAULT_MAX_VIDEO_SECONDS = 1800;
export const DEFAULT_MAX_VIDEO_BYTES = 1024 ** 3;
/**
 * Frames with more pixels are refused unless HashOptions.maxPixels says otherwise: 8K UHD.
 * Hashing holds one frame as RGB (3 bytes a pixel, 100 MB here), and a copy of its picture
 * inside black bars when it has some.
 */
export const DEFAULT_MAX_FRAME_PIXELS = 7680 * 4320;
/** A stated frame rate above this is not a real video's (and would make the frame limit meaningless). */
export const MAX_FRAME_RATE = 1000;

export interface ResolvedVideoOptions {
  secondsPerHash: number;
  maxDurationSeconds: number;
  maxBytes: number;
  maxPixels: number;
  barsVariant: boolean;
}

/** The options with their defaults, checked: a bad setting is the caller's error, not the video's. */
export function resolveVideoOptions(options: HashOptions = {}): ResolvedVideoOptions {
  const video = options.video ?? {};
  const resolved = {
    secondsPerHash: video.secondsPerHash ?? DEFAULT_SECONDS_PER_HASH,
    maxDurationSeconds: video.maxDurationSeconds ?? DEFAULT_MAX_VIDEO_SECONDS,
    maxBytes: video.maxBytes ?? DEFAULT_MAX_VIDEO_BYTES,
    maxPixels: options.maxPixels ?? DEFAULT_MAX_FRAME_PIXELS,
    barsVariant: video.barsVariant ?? true,
  };
  if (!Number.isFinite(resolved.secondsPerHash) || resolved.secondsPerHash < 0) {
    throw invalid(`seconds per hash must be 0 (every frame) or a positive number of seconds, got ${resolved.secondsPerHash}`);
  }
  if (!Number.isFinite(resolved.maxDurationSeconds) || resolved.maxDurationSeconds <= 0) {
    throw invalid(`the maximum video duration must be a positive number of seconds, got ${resolved.maxDurationSeconds}`);
  }
  if (!Number.isSafeInteger(resolved.maxBytes) || resolved.maxBytes <= 0) throw invalid(`the maximum video size must be a positive number of bytes, got ${resolved.maxBytes}`);
  if (!Number.isSafeInteger(resolved.maxPixels) || resolved.maxPixels <= 0) throw invalid(`the maximum frame size must be a positive number of pixels, got ${resolved.maxPixels}`);
  return resolved;
}

/**
 * Which frames are hashed, as the reference decides: frame i (0-based, in decoding order) when
 * i % max(1, floor(secondsPerHash * frameRate)) == 0, every frame for secondsPerHash 0.
 */
export function frameStep(secondsPerHash: number, frameRate: number): number {
  return Math.max(1, Math.floor(secondsPerHash * frameRate));
}
