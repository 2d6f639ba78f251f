import { BulwarkError } from '../../errors.ts';
import { INPUT_RESTRICTIONS, type VideoInfo, decoderPixelLimit, pixelLimitError } from './probe.ts';
import { ToolProcess, toolReason } from './process.ts';

/**
 * Decoding with the ffmpeg command: the chosen frames of the video stream, at native size, as
 * RGB24, streamed through a pipe one frame at a time (never the whole video in memory).
 *
 * The reference (vpdq/cpp/vpdq/cpp/hashing/ffmpegwrapper.cpp) decodes with libav and converts
 * each kept frame with sws_scale. ffmpeg here does the same with:
 *
 *   -noautorotate           frames as stored, not turned by the display matrix (as libav gives them);
 *   select                  frame n is kept when n % step == 0, n counting decoded frames from 0
 *                           (the reference's codec frame_num - 1); the rest are never converted;
 *   -fps_mode passthrough   no frame duplicated or dropped to fit a constant output rate;
 *   scale + format=rgb24    the conversion, pinned to the probed size so that every frame on the
 *                           pipe is exactly width x height x 3 bytes even if the stream changes size.
 *
 * Scaler flags: measured against Meta's hashes in ../shared/vpdq-vectors (every frame of the six
 * videos, FFmpeg 5.1), "bicubic+accurate_rnd" comes closest (at most 2 bits from the expected
 * hash, 0.05 on average); "area+accurate_rnd" is as close at most (2 bits, 0.09 on average);
 * without accurate_rnd the SIMD converters give frames up to 22 bits away.
 */
export const SCALER_FLAGS = 'bicubic+accurate_rnd';

export interface FrameSelection {
  /** Frame n is hashed when n % step == 0. */
  step: number;
  /** Frames numbered from this on are beyond the duration limit. */
  limit: number;
  /** The decoder refuses frames with more pixels than this. */
  maxPixels: number;
}

export interface DecodeOutcome {
  /** Frames handed to onFrame. */
  kept: number;
  /** The stream went on past selection.limit: decoding stopped there. */
  overLimit: boolean;
  /** The container's index points past the end of the file (a cut-off upload). */
  truncated: boolean;
}

/** The ffmpeg arguments for decoding the selected frames of a probed video. */
export function decodeArguments(path: string, info: VideoInfo, selection: FrameSelection): string[] {
  const allowed = Math.ceil(selection.limit / selection.step);
  // The first frame past the limit is let through as a sentinel: receiving more than
  // `allowed` frames means the video is too long. -frames:v stops ffmpeg right after it, so
  // a stream of unknown length is never decoded past the limit.
  const select = `select='max(not(mod(n,${selection.step})),eq(n,${selection.limit}))'`;
  return [
    '-nostdin', '-hide_banner', '-v', 'error', '-noautorotate', ...INPUT_RESTRICTIONS, ...decoderPixelLimit(selection.maxPixels),
    '-i', `file:${path}`,
    '-map', `0:${info.streamIndex}`, '-an', '-sn', '-dn',
    '-vf', `${select},scale=${info.width}:${info.height}:flags=${SCALER_FLAGS},format=rgb24`,
    '-sws_flags', SCALER_FLAGS, '-fps_mode', 'passthrough',
    '-frames:v', String(allowed + 1),
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1',
  ];
}

/**
 * Calls onFrame(frameNumber, rgb) for each selected frame in order; rgb is reused for the next
 * frame, so onFrame must be done with it when it returns. The ffmpeg child is killed and
 * awaited before this settles, whatever happened.
 */
export async function decodeFrames(
  path: string,
  info: VideoInfo,
  selection: FrameSelection,
  onFrame: (frameNumber: number, rgb: Buffer) => void,
  ffmpeg = 'ffmpeg',
): Promise<DecodeOutcome> {
  const frameBytes = info.width * info.height * 3;
  const allowed = Math.ceil(selection.limit / selection.step);
  const frame = Buffer.allocUnsafe(frameBytes);
  let filled = 0;
  let kept = 0;
  const tool = new ToolProcess(ffmpeg, decodeArguments(path, info, selection));
  try {
    for await (const chunk of tool.child.stdout as AsyncIterable<Buffer>) {
      for (let offset = 0; offset < chunk.length; ) {
        const take = Math.min(frameBytes - filled, chunk.length - offset);
        chunk.copy(frame, filled, offset, offset + take);
        filled += take;
        offset += take;
        if (filled < frameBytes) continue;
        filled = 0;
        if (kept === allowed) return { kept, overLimit: true, truncated: false };
        onFrame(kept * selection.step, frame);
        kept++;
      }
    }
    const exit = await tool.exited;
    tool.checkStarted();
    const tooLarge = pixelLimitError(tool.errorOutput, selection.maxPixels);
    if (tooLarge) throw tooLarge;
    if (exit.code !== 0) throw new BulwarkError('invalid', `could not decode the video: ${toolReason(tool.errorOutput, path)}`, { frames_decoded: kept });
    if (filled !== 0) throw new BulwarkError('invalid', 'could not decode the video: the decoder stopped in the middle of a frame', { frames_decoded: kept });
    return { kept, overLimit: false, truncated: /partial file/.test(tool.errorOutput) };
  } finally {
    await tool.stop();
  }
}
