import { BulwarkError } from '../../errors.ts';
import { MAX_FRAME_RATE } from './options.ts';
import { runTool, toolReason } from './process.ts';

/**
 * Stream information from ffprobe, read before anything is decoded.
 *
 * ffprobe and ffmpeg open files only through the "file" protocol and only with the demuxers
 * below: a playlist (HLS, concat) or an image sequence uploaded as a "video" cannot make them
 * read URLs or other local files, and rarely used demuxers stay out of reach of uploads.
 */

/** Demuxers (container formats) video is read with. */
export const VIDEO_DEMUXERS = ['mov', 'matroska', 'avi', 'flv', 'mpegts', 'mpeg', 'asf', 'ogg', 'ivf', 'h264', 'hevc', 'm4v', 'mpegvideo'] as const;

/** Video codecs decoded; others are refused as unsupported before decoding. */
export const VIDEO_CODECS = [
  'h264', 'hevc', 'vp8', 'vp9', 'av1', 'mpeg4', 'mpeg1video', 'mpeg2video', 'h263', 'msmpeg4v2', 'msmpeg4v3',
  'wmv1', 'wmv2', 'wmv3', 'vc1', 'theora', 'flv1', 'mjpeg', 'prores',
] as const;

/** Options that keep ffprobe and ffmpeg to local files and the demuxers above. */
export const INPUT_RESTRICTIONS = ['-protocol_whitelist', 'file', '-format_whitelist', VIDEO_DEMUXERS.join(',')];

export interface VideoInfo {
  /** The container as ffprobe names it ("mov,mp4,m4a,3gp,3g2,mj2"). */
  container: string;
  /** Absolute index of the video stream hashed: the first video stream that is not a cover picture. */
  streamIndex: number;
  codec: string;
  width: number;
  height: number;
  /** avg_frame_rate, else r_frame_rate, as the reference chooses. */
  frameRate: number;
  /** The stream's duration, else the container's; undefined when the file does not say (raw streams, live recordings). */
  durationSeconds?: number;
  /** How many frames the container says the stream has, when it says. */
  statedFrames?: number;
}

interface ProbeStream {
  index?: number;
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  duration?: string;
  nb_frames?: string;
  disposition?: { attached_pic?: number };
}

interface ProbeOutput {
  streams?: ProbeStream[];
  format?: { format_name?: string; duration?: string };
}

/** "30000/1001" as a number; 0 for "0/0", missing or malformed rates. */
export function parseRate(rate: string | undefined): number {
  const match = /^(\d+)\/(\d+)$/.exec(rate ?? '');
  if (!match) return 0;
  const [num, den] = [Number(match[1]), Number(match[2])];
  return num === 0 || den === 0 ? 0 : num / den;
}

function positiveNumber(text: string | undefined): number | undefined {
  const value = Number(text);
  return text !== undefined && text !== '' && Number.isFinite(value) && value > 0 ? value : undefined;
}

/** ffprobe's answer about the file, as VideoInfo; throws a BulwarkError saying what is wrong. */
export function videoInfoFrom(output: ProbeOutput): VideoInfo {
  const container = output.format?.format_name ?? 'unknown';
  const videos = (output.streams ?? []).filter((stream) => stream.codec_type === 'video');
  const stream = videos.find((s) => s.disposition?.attached_pic !== 1);
  if (!stream) {
    const what = videos.length > 0 ? 'only a cover picture' : (output.streams ?? []).some((s) => s.codec_type === 'audio') ? 'only audio' : 'no streams Bulwark can use';
    throw new BulwarkError('unsupported_media', `no video stream: the file holds ${what}`, { container });
  }
  const codec = stream.codec_name ?? 'unknown';
  if (!(VIDEO_CODECS as readonly string[]).includes(codec)) {
    throw new BulwarkError('unsupported_media', `video codec ${JSON.stringify(codec)} is not supported; supported: ${VIDEO_CODECS.join(', ')}`, { codec, container });
  }
  const width = stream.width ?? 0;
  const height = stream.height ?? 0;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new BulwarkError('invalid', `the video stream states no frame size (${width}x${height})`, { codec, container });
  }
  const frameRate = parseRate(stream.avg_frame_rate) || parseRate(stream.r_frame_rate);
  if (!(frameRate > 0)) throw new BulwarkError('invalid', 'the video stream states no frame rate', { codec, container });
  if (frameRate > MAX_FRAME_RATE) {
    throw new BulwarkError('invalid', `the video stream states ${frameRate} frames per second, above the ${MAX_FRAME_RATE} any real video has`, { codec, container });
  }
  if (stream.index === undefined) throw new BulwarkError('invalid', 'ffprobe did not number the video stream', { container });
  const durationSeconds = positiveNumber(stream.duration) ?? positiveNumber(output.format?.duration);
  const statedFrames = positiveNumber(stream.nb_frames);
  return {
    container,
    streamIndex: stream.index,
    codec,
    width,
    height,
    frameRate,
    ...(durationSeconds !== undefined ? { durationSeconds } : {}),
    ...(statedFrames !== undefined ? { statedFrames } : {}),
  };
}

/** ffprobe's output is a few hundred bytes a stream; more than this is not a video worth reading. */
const MAX_PROBE_OUTPUT = 1 << 20;

/**
 * The decoders' own guard against decompression bombs: a frame with more pixels than this is
 * refused before its memory is allocated, in ffprobe (which decodes a frame or two to learn
 * about streams) as in ffmpeg.
 */
export const decoderPixelLimit = (maxPixels: number) => ['-max_pixels', String(maxPixels)];

/** A 'too_large' error when a decoder refused a frame for its size, as its error output says. */
export function pixelLimitError(stderr: string, maxPixels: number): BulwarkError | undefined {
  const match = /Picture size (\d+)x(\d+) exceeds specified max pixel count/.exec(stderr);
  if (!match) return undefined;
  const [width, height] = [Number(match[1]), Number(match[2])];
  return new BulwarkError('too_large', `video frames of ${width}x${height} have more than ${maxPixels} pixels`, { width, height, max_pixels: maxPixels });
}

export async function probeVideo(path: string, options: { ffprobe?: string; maxPixels: number }): Promise<VideoInfo> {
  const args = [
    '-v', 'error', '-hide_banner', ...INPUT_RESTRICTIONS, ...decoderPixelLimit(options.maxPixels),
    '-show_entries', 'stream=index,codec_type,codec_name,width,height,avg_frame_rate,r_frame_rate,duration,nb_frames:stream_disposition=attached_pic:format=format_name,duration',
    '-of', 'json', `file:${path}`,
  ];
  const { stdout, exit, stderr } = await runTool(options.ffprobe ?? 'ffprobe', args, MAX_PROBE_OUTPUT);
  const tooLarge = pixelLimitError(stderr, options.maxPixels);
  if (tooLarge) throw tooLarge;
  if (exit.code !== 0) {
    const reason = toolReason(stderr, path);
    if (/Format not on whitelist/i.test(stderr)) {
      const format = /\[([a-z0-9_,]+) @/.exec(stderr)?.[1];
      throw new BulwarkError('unsupported_media', `container format${format ? ` ${JSON.stringify(format)}` : ''} is not supported; supported: MP4/MOV, Matroska/WebM, AVI, FLV, MPEG-TS/PS, ASF/WMV, Ogg, IVF and raw H.264/HEVC/MPEG streams`);
    }
    throw new BulwarkError('invalid', `not a video Bulwark can read: ${reason}`);
  }
  let parsed: ProbeOutput;
  try {
    parsed = JSON.parse(stdout) as ProbeOutput;
  } catch {
    throw new BulwarkError('invalid', 'not a video Bulwark can read: ffprobe gave no stream information');
  }
  return videoInfoFrom(parsed);
}
