import { describeHex256Problem } from '../pdq/hash256.ts';
import { InvalidSignalError } from '../types.ts';

/**
 * A vPDQ value is a list of hashed frames, written as Meta's reference writes its hash files
 * (vpdq/cpp/vpdq/cpp/io/vpdqio.cpp), one frame per line:
 *
 *   frameNumber,quality,pdqHex,timestampSeconds
 *   0,100,d3d8981ba52c59e79fb49295bed80905036b1dbe57b292c8ea4fb525f52c420e,0.000
 *
 * frameNumber is the frame's 0-based position in decoding order, quality PDQ's 0-100 quality,
 * pdqHex the frame's 256-bit PDQ hash in 64 hex digits and the timestamp frameNumber divided
 * by the frame rate, in seconds with three decimals.
 *
 * The canonical form (what normalize returns, what banks store) is those lines joined by
 * "\n" without a trailing newline, hex in lowercase and the timestamp with exactly three
 * decimals. A reference file is therefore its canonical value plus one "\n".
 *
 * python-threatexchange's signal string, a JSON array of "pdqHex,quality,timestamp" strings
 * (extensions/vpdq/vpdq_util.py), is accepted too and converted; it carries no frame numbers,
 * so each frame is numbered by its position in the array.
 */

export interface VpdqFrame {
  frameNumber: number;
  quality: number;
  /** 64 lowercase hex digits. */
  hash: string;
  /** Seconds from the start of the video. */
  timestamp: number;
}

export const VPDQ_SIGNAL_TYPE = 'vpdq';

/** More frames than this in one value is refused: 24 hours of 30 fps video hashed every second is 86,400. */
export const MAX_VPDQ_FRAMES = 1_000_000;

/** The reference's frame numbers are C ints. */
const MAX_FRAME_NUMBER = 2 ** 31 - 1;
/** Timestamps above this (about 31 years) are refused: they are not a video's. */
const MAX_TIMESTAMP = 1e9;

const UNSIGNED_INTEGER = /^[0-9]+$/;
const DECIMAL = /^[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?$|^\.[0-9]+(?:[eE][+-]?[0-9]+)?$/;

const fail = (reason: string): never => {
  throw new InvalidSignalError(VPDQ_SIGNAL_TYPE, reason);
};

/**
 * A timestamp with three decimals as C's printf("%.3f") writes the double: the nearest
 * thousandth, and on an exact tie (a binary value exactly halfway, e.g. 0.0625) the even one.
 * Number.prototype.toFixed would round such ties up.
 */
export function formatTimestamp(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) throw new RangeError(`timestamp must be a finite non-negative number, got ${seconds}`);
  // seconds * 2000 is an odd integer exactly when seconds * 16 is one (2000 = 16 * 125, and
  // a double times 125 is an integer only if the double is): only then is it a true tie.
  const sixteenths = seconds * 16;
  if (Number.isInteger(sixteenths) && sixteenths % 2 === 1 && sixteenths < 2 ** 45) {
    const lower = (sixteenths * 125 - 1) / 2;
    const thousandths = lower % 2 === 0 ? lower : lower + 1;
    return `${Math.floor(thousandths / 1000)}.${String(thousandths % 1000).padStart(3, '0')}`;
  }
  return seconds.toFixed(3);
}

export function formatVpdqFrame(frame: VpdqFrame): string {
  return `${frame.frameNumber},${frame.quality},${frame.hash},${formatTimestamp(frame.timestamp)}`;
}

/** The canonical value of a frame list. */
export function formatVpdqFrames(frames: readonly VpdqFrame[]): string {
  return frames.map(formatVpdqFrame).join('\n');
}

function parseQuality(text: string): number {
  if (!UNSIGNED_INTEGER.test(text)) fail(`quality ${JSON.stringify(text.slice(0, 20))} is not an integer from 0 to 100`);
  const quality = Number(text);
  if (quality > 100) fail(`quality ${quality} is above 100`);
  return quality;
}

function parseHash(text: string): string {
  const problem = describeHex256Problem(text);
  if (problem) fail(`PDQ hash: ${problem}`);
  return text.toLowerCase();
}

function parseTimestamp(text: string): number {
  if (!DECIMAL.test(text)) fail(`timestamp ${JSON.stringify(text.slice(0, 30))} is not a non-negative number of seconds`);
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds > MAX_TIMESTAMP) fail(`timestamp ${JSON.stringify(text.slice(0, 30))} is out of range`);
  return seconds;
}

function parseFrameLine(text: string): VpdqFrame {
  const fields = text.split(',').map((field) => field.trim());
  if (fields.length !== 4) fail(`expected 4 comma-separated fields (frameNumber,quality,pdqHex,timestamp), got ${fields.length}`);
  const [number, quality, hash, timestamp] = fields;
  if (!UNSIGNED_INTEGER.test(number) || Number(number) > MAX_FRAME_NUMBER) {
    fail(`frame number ${JSON.stringify(number.slice(0, 20))} is not an integer from 0 to ${MAX_FRAME_NUMBER}`);
  }
  return { frameNumber: Number(number), quality: parseQuality(quality), hash: parseHash(hash), timestamp: parseTimestamp(timestamp) };
}

/** Prefixes an InvalidSignalError's reason with where it happened. */
function at<T>(where: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof InvalidSignalError) throw new InvalidSignalError(VPDQ_SIGNAL_TYPE, `${where}: ${error.reason}`);
    throw error;
  }
}

function parseFrameList(raw: string): VpdqFrame[] {
  const frames: VpdqFrame[] = [];
  const lines = raw.split('\n');
  // Blank lines are skipped (a file's last newline, a blank line between frames), so the
  // line numbers in errors are the lines of the text as given.
  for (const [i, line] of lines.entries()) {
    const text = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (text.trim() === '') continue;
    const frame = at(`line ${i + 1}`, () => parseFrameLine(text));
    const previous = frames[frames.length - 1];
    if (previous && frame.frameNumber <= previous.frameNumber) {
      fail(`line ${i + 1}: frame numbers must increase, but frame ${frame.frameNumber} follows frame ${previous.frameNumber}`);
    }
    frames.push(frame);
    if (frames.length > MAX_VPDQ_FRAMES) fail(`more than ${MAX_VPDQ_FRAMES} frames`);
  }
  return frames;
}

function parseJsonArray(raw: string): VpdqFrame[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return fail('starts with "[" but is not a JSON array (python-threatexchange form: ["pdqHex,quality,timestamp", …])');
  }
  if (!Array.isArray(parsed)) return fail('expected a JSON array of "pdqHex,quality,timestamp" strings');
  if (parsed.length > MAX_VPDQ_FRAMES) fail(`more than ${MAX_VPDQ_FRAMES} frames`);
  return parsed.map((item, i) =>
    at(`array element ${i + 1}`, () => {
      if (typeof item !== 'string') fail('expected a string "pdqHex,quality,timestamp"');
      const fields = (item as string).split(',').map((field) => field.trim());
      if (fields.length !== 3) fail(`expected 3 comma-separated fields (pdqHex,quality,timestamp), got ${fields.length}`);
      const [hash, quality, timestamp] = fields;
      return { frameNumber: i, quality: parseQuality(quality), hash: parseHash(hash), timestamp: parseTimestamp(timestamp) };
    }),
  );
}

/** Reads a vPDQ value in either accepted form; throws InvalidSignalError naming the line and the problem. */
export function parseVpdqFrames(raw: string): VpdqFrame[] {
  const text = raw.replace(/^\uFEFF/, '');
  const frames = text.trimStart().startsWith('[') ? parseJsonArray(text) : parseFrameList(text);
  if (frames.length === 0) fail('no frames: expected one line per frame, frameNumber,quality,pdqHex,timestamp');
  return frames;
}

/** The canonical form of a vPDQ value (see the top of this file). */
export function normalizeVpdq(raw: string): string {
  return formatVpdqFrames(parseVpdqFrames(raw));
}
