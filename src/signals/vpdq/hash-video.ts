import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { BulwarkError, invalid } from '../../errors.ts';
import { hash256ToHex } from '../pdq/hash256.ts';
import { pdqFromPixels } from '../pdq/pdq.ts';
import type { HashOptions } from '../types.ts';
import { barsCrop, cropPixels } from './bars.ts';
import { decodeFrames } from './decode.ts';
import type { VpdqFrame } from './frames.ts';
import { frameStep, resolveVideoOptions } from './options.ts';
import { probeVideo, type VideoInfo } from './probe.ts';
import { sniffFile } from './sniff.ts';

export interface VideoHash {
  /** The hashed frames, in order: the vPDQ value is formatVpdqFrames(frames). */
  frames: VpdqFrame[];
  /**
   * The same frames hashed without their black bars (frames without bars as they are), when
   * some frame had bars and the barsVariant option is on.
   */
  withoutBars?: VpdqFrame[];
  /** How many hashed frames had bars. */
  framesWithBars: number;
  /** MD5 of the file's bytes, lowercase hex (HMA's video_md5). */
  md5: string;
  info: VideoInfo;
  secondsPerHash: number;
  /** Every step-th frame was hashed. */
  step: number;
}

export interface VideoTools {
  ffmpeg: string;
  ffprobe: string;
}

const DEFAULT_TOOLS: VideoTools = { ffmpeg: 'ffmpeg', ffprobe: 'ffprobe' };

/** MD5 of a file, streamed. */
export async function md5OfFile(path: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The reference's timestamp: float(frameNumber) / float(frameRate) in single precision. */
export function frameTimestamp(frameNumber: number, frameRate: number): number {
  return Math.fround(Math.fround(frameNumber) / Math.fround(frameRate));
}

/**
 * vPDQ and MD5 of a video file, as ThreatExchange's vPDQ computes them: every step-th frame of
 * the first video stream, at native size, PDQ-hashed at full resolution.
 *
 * Errors are BulwarkErrors: 'too_large' for a file, frame or duration over the limits (checked
 * before decoding when the file states them, and while decoding otherwise), 'unsupported_media'
 * for still images, audio, unknown containers and codecs, 'invalid' for empty, truncated or
 * unreadable files, 'unavailable' when ffmpeg is not installed.
 */
export async function hashVideoFile(path: string, options: HashOptions = {}, tools: VideoTools = DEFAULT_TOOLS): Promise<VideoHash> {
  const limits = resolveVideoOptions(options);
  const file = await stat(path).catch(() => undefined);
  if (!file) throw invalid('the video file does not exist or cannot be read');
  if (!file.isFile()) throw invalid('the video is not a regular file');
  if (file.size === 0) throw invalid('media is empty (0 bytes)');
  if (file.size > limits.maxBytes) {
    throw new BulwarkError('too_large', `the video is ${file.size} bytes, over the limit of ${limits.maxBytes}`, { bytes: file.size, max_bytes: limits.maxBytes });
  }
  const sniffed = await sniffFile(path);
  if (sniffed?.kind === 'image') {
    throw new BulwarkError('unsupported_media', `the file is a still image (${sniffed.format}), not a video: send it as a photo`, { format: sniffed.format });
  }

  const info = await probeVideo(path, { ffprobe: tools.ffprobe, maxPixels: limits.maxPixels });
  const pixels = info.width * info.height;
  if (pixels > limits.maxPixels) {
    throw new BulwarkError('too_large', `video frames of ${info.width}x${info.height} have more than ${limits.maxPixels} pixels`, {
      width: info.width,
      height: info.height,
      max_pixels: limits.maxPixels,
    });
  }
  if (info.durationSeconds !== undefined && info.durationSeconds > limits.maxDurationSeconds) {
    throw new BulwarkError('too_large', `the video lasts ${info.durationSeconds} s, over the limit of ${limits.maxDurationSeconds} s`, {
      duration_seconds: info.durationSeconds,
      max_duration_seconds: limits.maxDurationSeconds,
    });
  }

  const step = frameStep(limits.secondsPerHash, info.frameRate);
  // Frames 0 .. limit-1 last at most maxDurationSeconds at the stream's frame rate.
  const limit = Math.floor(limits.maxDurationSeconds * info.frameRate + 1e-9);
  const md5 = md5OfFile(path);
  md5.catch(() => undefined); // awaited below; a decoding error must not leave it unhandled
  const frames: VpdqFrame[] = [];
  const withoutBars: VpdqFrame[] = [];
  let framesWithBars = 0;
  const outcome = await decodeFrames(
    path,
    info,
    { step, limit, maxPixels: limits.maxPixels },
    (frameNumber, rgb) => {
      const { hash, quality } = pdqFromPixels({ data: rgb, width: info.width, height: info.height, channels: 3 });
      const frame = { frameNumber, quality, hash: hash256ToHex(hash), timestamp: frameTimestamp(frameNumber, info.frameRate) };
      frames.push(frame);
      if (!limits.barsVariant) return;
      const crop = barsCrop(rgb, info.width, info.height);
      if (!crop) return void withoutBars.push(frame);
      framesWithBars++;
      const picture = pdqFromPixels({ data: cropPixels(rgb, info.width, crop), width: crop.width, height: crop.height, channels: 3 });
      withoutBars.push({ ...frame, quality: picture.quality, hash: hash256ToHex(picture.hash) });
    },
    tools.ffmpeg,
  );
  if (outcome.overLimit) {
    throw new BulwarkError('too_large', `the video lasts longer than the limit of ${limits.maxDurationSeconds} s (found while decoding; stopped there)`, {
      max_duration_seconds: limits.maxDurationSeconds,
      frame_limit: limit,
    });
  }
  if (outcome.truncated) throw invalid('the video is truncated: its data ends before its index says (a cut-off upload?)', { frames_decoded: outcome.kept * step });
  if (outcome.kept === 0) throw invalid('no frame of the video could be decoded');
  return {
    frames,
    ...(framesWithBars > 0 ? { withoutBars } : {}),
    framesWithBars,
    md5: await md5,
    info,
    secondsPerHash: limits.secondsPerHash,
    step,
  };
}
