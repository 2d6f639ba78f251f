import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { BulwarkError } from '../src/errors.ts';
import { hamming256, hexToHash256 } from '../src/signals/pdq/hash256.ts';
import { defaultSignalRegistry } from '../src/signals/default-registry.ts';
import { hashContent } from '../src/signals/hash-content.ts';
import type { ComputedSignal, HashOptions } from '../src/signals/types.ts';
import { decodeFrames } from '../src/signals/vpdq/decode.ts';
import { type VpdqFrame, formatTimestamp, formatVpdqFrames, parseVpdqFrames } from '../src/signals/vpdq/frames.ts';
import { type VideoHash, hashVideoFile } from '../src/signals/vpdq/hash-video.ts';
import { VpdqSignalIndex } from '../src/signals/vpdq/index.ts';
import { compareVpdq } from '../src/signals/vpdq/match.ts';
import { probeVideo } from '../src/signals/vpdq/probe.ts';
import { runningChildren } from '../src/signals/vpdq/process.ts';
import { BARS_REMOVED_VARIANT, VideoHasher } from '../src/signals/vpdq/signal.ts';
import { REFERENCE_VIDEOS, type ReferenceVideo, ffmpegChildren, makeVideo, referenceHashes, referenceVideo, videoTestsSkipReason, VPDQ_VECTORS } from './helpers/video.ts';

const skip = videoTestsSkipReason();

/** Meta's README: every frame of quality 50 or more within this many bits of its expected line. */
const FRAME_TOLERANCE = 16;

/** Each reference video hashed once, every frame (as the expected files were made: -r 0). */
const everyFrame = new Map<string, Promise<VideoHash>>();
const hashedEveryFrame = (name: ReferenceVideo) => {
  if (!everyFrame.has(name)) everyFrame.set(name, hashVideoFile(referenceVideo(name), { video: { secondsPerHash: 0 } }));
  return everyFrame.get(name)!;
};

async function refusal(promise: Promise<unknown>, kind: string, message: RegExp): Promise<BulwarkError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof BulwarkError, `expected a BulwarkError, got ${error instanceof Error ? error.stack : error}`);
    assert.equal(error.kind, kind, error.message);
    assert.match(error.message, message);
    return error;
  }
  assert.fail(`expected a ${kind} error matching ${message}`);
}

function assertNoFfmpegLeft(): void {
  assert.equal(runningChildren(), 0, 'every ffmpeg/ffprobe child has been awaited');
  assert.deepEqual(ffmpegChildren(), [], 'no ffmpeg/ffprobe process of ours is running');
}

const source = (name: string) => name.split('-')[0];

describe('video hashing with ffmpeg (vPDQ, video MD5)', { skip }, () => {
  let dir: string;
  const media: Record<string, string> = {};

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'bulwark-vpdq-'));
    const at = (name: string) => join(dir, name);
    // Benign generated videos, small and quick to make.
    media.clip = makeVideo(at('clip.mp4'), ['-f', 'lavfi', '-i', 'testsrc2=s=160x120:r=25', '-t', '4', '-c:v', 'libx264', '-pix_fmt', 'yuv420p']);
    media.longClip = makeVideo(at('ten-seconds.mkv'), ['-f', 'lavfi', '-i', 'mandelbrot=s=96x64:r=10', '-t', '10', '-c:v', 'libx264', '-pix_fmt', 'yuv420p']);
    // A raw H.264 stream states no duration: only decoding finds out how long it is.
    media.rawStream = makeVideo(at('stream.h264'), ['-f', 'lavfi', '-i', 'testsrc2=s=64x48:r=25', '-t', '30', '-c:v', 'libx264', '-f', 'h264']);
    media.moovAtEnd = makeVideo(at('moov-at-end.mp4'), ['-f', 'lavfi', '-i', 'smptebars=s=160x120:r=25', '-t', '4', '-c:v', 'libx264', '-pix_fmt', 'yuv420p']);
    media.faststart = makeVideo(at('faststart.mp4'), ['-f', 'lavfi', '-i', 'testsrc2=s=320x240:r=25', '-t', '4', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-movflags', '+faststart']);
    media.audioOnly = makeVideo(at('audio.m4a'), ['-f', 'lavfi', '-i', 'sine=frequency=440', '-t', '1']);
    media.qtrle = makeVideo(at('animation.mov'), ['-f', 'lavfi', '-i', 'testsrc2=s=64x48:r=10', '-t', '1', '-c:v', 'qtrle']);
    media.nut = makeVideo(at('clip.nut'), ['-f', 'lavfi', '-i', 'testsrc2=s=64x48:r=10', '-t', '1', '-c:v', 'libx264']);
    // 8192x4096 is 33.5 million pixels, over the default 8K UHD cap (33.2 million).
    media.huge = makeVideo(at('huge.mkv'), ['-f', 'lavfi', '-i', 'color=c=black:s=8192x4096:r=1', '-frames:v', '1', '-c:v', 'mjpeg', '-pix_fmt', 'yuvj420p']);
    const cut = (from: string, name: string, share: number) => {
      const bytes = readFileSync(from);
      writeFileSync(at(name), bytes.subarray(0, Math.floor(bytes.length * share)));
      return at(name);
    };
    media.truncatedIndex = cut(media.moovAtEnd, 'cut-before-index.mp4', 0.5);
    media.truncatedData = cut(media.faststart, 'cut-data.mp4', 0.5);
    writeFileSync((media.empty = at('empty.mp4')), '');
    writeFileSync((media.text = at('notes.mp4')), 'These are meeting notes, not a video.\n'.repeat(40));
    writeFileSync(
      (media.playlist = at('playlist.mp4')),
      `#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\nhttp://127.0.0.1:9/segment.ts\n#EXTINF:4,\nfile://${media.clip}\n#EXT-X-ENDLIST\n`,
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe("Meta's reference videos", () => {
    // All six at once: ffmpeg decodes in its own processes while this one hashes.
    before(() => void REFERENCE_VIDEOS.forEach((name) => hashedEveryFrame(name).catch(() => undefined)));

    for (const name of REFERENCE_VIDEOS) {
      it(`${name}: every frame of quality >= 50 within ${FRAME_TOLERANCE} bits of Meta's hash, same frame numbers and timestamps`, async (t) => {
        const expected = parseVpdqFrames(referenceHashes(name));
        const video = await hashedEveryFrame(name);
        assert.equal(video.frames.length, expected.length);
        let worst = 0;
        let total = 0;
        video.frames.forEach((frame, i) => {
          assert.equal(frame.frameNumber, expected[i].frameNumber);
          assert.equal(formatTimestamp(frame.timestamp), formatTimestamp(expected[i].timestamp), `frame ${frame.frameNumber}`);
          if (expected[i].quality < 50) return;
          const distance = hamming256(hexToHash256(frame.hash), hexToHash256(expected[i].hash));
          assert.ok(distance <= FRAME_TOLERANCE, `frame ${frame.frameNumber}: ${distance} bits from the expected hash`);
          worst = Math.max(worst, distance);
          total += distance;
        });
        t.diagnostic(`${name}: ${video.frames.length} frames, ${video.info.width}x${video.info.height}, worst ${worst} bits, mean ${(total / video.frames.length).toFixed(2)}`);
        // And as a whole: the computed list matches Meta's at 100% both ways.
        assert.deepEqual(compareVpdq(video.frames, expected)?.matchPercent, { query: 100, compared: 100 });
        assert.deepEqual(compareVpdq(expected, video.frames)?.matchPercent, { query: 100, compared: 100 });
        assert.equal(video.md5, createHash('md5').update(readFileSync(referenceVideo(name))).digest('hex'));
      });
    }

    it('hashes one frame a second by default: exactly the frames n % floor(rate) == 0 of the every-frame hashes', async () => {
      const [sampled, every] = await Promise.all([hashVideoFile(referenceVideo('doorknob-hd-no-bar')), hashedEveryFrame('doorknob-hd-no-bar')]);
      assert.equal(sampled.step, 30);
      assert.deepEqual(sampled.frames, every.frames.filter((frame) => frame.frameNumber % 30 === 0));
      const half = await hashVideoFile(referenceVideo('pattern-sd-grey-bar'), { video: { secondsPerHash: 0.5 } });
      const all = await hashedEveryFrame('pattern-sd-grey-bar');
      assert.equal(half.step, 15);
      assert.deepEqual(half.frames, all.frames.filter((frame) => frame.frameNumber % 15 === 0));
    });

    describe('matching at the default thresholds against a bank of Meta\'s hash lists', () => {
      const ids = new Map(REFERENCE_VIDEOS.map((name, i) => [name, i + 1]));
      const nameOf = (entryId: number) => REFERENCE_VIDEOS[entryId - 1];
      const bank = new VpdqSignalIndex(REFERENCE_VIDEOS.map((name) => ({ entryId: ids.get(name)!, value: referenceHashes(name) })));
      // Queries as hashed by default, one frame a second: the every-frame hashes at n % 30 == 0
      // (the test above shows they are the same), with the frames' hashes without bars.
      const query = async (name: ReferenceVideo): Promise<ComputedSignal> => {
        const video = await hashedEveryFrame(name);
        const sampled = (frames: VpdqFrame[]) => formatVpdqFrames(frames.filter((frame) => frame.frameNumber % 30 === 0));
        return {
          signalType: 'vpdq',
          value: sampled(video.frames),
          ...(video.withoutBars ? { variants: [{ name: BARS_REMOVED_VARIANT, value: sampled(video.withoutBars) }] } : {}),
        };
      };
      const search = async (name: ReferenceVideo) => {
        const signal = await query(name);
        return bank.search({ value: signal.value, variants: signal.variants, maxDistance: 31 });
      };

      it('finds each video in its own expected hashes at 100% of its frames', async () => {
        for (const name of REFERENCE_VIDEOS) {
          const own = (await search(name)).find((hit) => hit.entryId === ids.get(name));
          assert.ok(own, `${name} not found`);
          assert.equal(own.matchPercent!.query, 100, name);
          assert.equal(own.variant, undefined, `${name} matches as it is, not through a variant`);
        }
      });

      it('finds the grey and logo variants with bars in the source without bars, through the bars_removed variant', async () => {
        for (const name of ['pattern-sd-grey-bar', 'pattern-sd-with-small-logo-bar'] as const) {
          const signal = await query(name);
          assert.equal(signal.variants?.[0]?.name, BARS_REMOVED_VARIANT, `${name} has pillarbox bars`);
          const hit = (await search(name)).find((h) => h.entryId === ids.get('pattern-hd-no-bar'));
          assert.ok(hit, `${name} does not match pattern-hd-no-bar`);
          assert.equal(hit.variant, BARS_REMOVED_VARIANT);
          assert.ok(hit.matchPercent!.query >= 80, `${name}: ${JSON.stringify(hit.matchPercent)}`);
          // As the reference hashes whole frames, the bars alone keep them apart.
          assert.equal(compareVpdq(parseVpdqFrames(signal.value), parseVpdqFrames(referenceHashes('pattern-hd-no-bar')))?.matched, false);
        }
        assert.equal((await query('pattern-hd-no-bar')).variants, undefined, 'a video without bars has no bars_removed variant');
      });

      it('finds chair-22 (grey) in chair-19 and the reverse', async () => {
        assert.ok((await search('chair-22-sd-grey-bar')).some((hit) => hit.entryId === ids.get('chair-19-sd-bar')));
        assert.ok((await search('chair-19-sd-bar')).some((hit) => hit.entryId === ids.get('chair-22-sd-grey-bar')));
      });

      it('never matches a video of another source', async () => {
        for (const name of REFERENCE_VIDEOS) {
          const hits = await search(name);
          for (const hit of hits) assert.equal(source(nameOf(hit.entryId)), source(name), `${name} matched ${nameOf(hit.entryId)}`);
        }
      });
    });

    it('hashes test-padded-dimensions.mp4 without error', async () => {
      const video = await hashVideoFile(join(VPDQ_VECTORS, 'videos', 'test-padded-dimensions.mp4'));
      assert.equal(video.frames.length, 5);
      assert.ok(video.frames.every((frame) => /^[0-9a-f]{64}$/.test(frame.hash)));
    });
  });

  describe('the hasher', () => {
    it('computes vpdq, video_md5, md5 and sha256 for video content, from a file or from bytes, and cleans up', async () => {
      const registry = defaultSignalRegistry();
      const bytes = readFileSync(media.clip);
      const fromFile = await hashContent(registry, 'video', { path: media.clip });
      assert.deepEqual(fromFile.map((s) => s.signalType).sort(), ['md5', 'sha256', 'video_md5', 'vpdq']);
      const byType = new Map(fromFile.map((s) => [s.signalType, s]));
      const md5 = createHash('md5').update(bytes).digest('hex');
      assert.equal(byType.get('video_md5')!.value, md5);
      assert.equal(byType.get('md5')!.value, md5);
      assert.equal(byType.get('sha256')!.value, createHash('sha256').update(bytes).digest('hex'));
      const vpdq = byType.get('vpdq')!;
      assert.equal(vpdq.frameCount, 4); // 4 s at 25 fps, one frame a second
      assert.deepEqual(parseVpdqFrames(vpdq.value).map((f) => [f.frameNumber, f.timestamp]), [[0, 0], [25, 1], [50, 2], [75, 3]]);
      assert.equal(registry.normalize('vpdq', vpdq.value).value, vpdq.value, 'the computed value is canonical');

      const before = new Set(readdirSync(tmpdir()).filter((name) => name.startsWith('bulwark-video-')));
      const fromBytes = await new VideoHasher().hash(bytes);
      assert.deepEqual(fromBytes, fromFile.filter((s) => s.signalType === 'vpdq' || s.signalType === 'video_md5'));
      assert.deepEqual(readdirSync(tmpdir()).filter((name) => name.startsWith('bulwark-video-') && !before.has(name)), [], 'the temporary copy is removed');
      await refusal(new VideoHasher().hash(Buffer.alloc(0)), 'invalid', /empty/);
      assert.deepEqual(readdirSync(tmpdir()).filter((name) => name.startsWith('bulwark-video-') && !before.has(name)), [], 'also after a refusal');
      assertNoFfmpegLeft();
    });

    it('takes every frame for seconds per hash 0, and refuses a negative setting', async () => {
      const all = await hashVideoFile(media.clip, { video: { secondsPerHash: 0 } });
      assert.equal(all.frames.length, 100);
      assert.deepEqual(all.frames.map((f) => f.frameNumber), Array.from({ length: 100 }, (_, i) => i));
      await refusal(hashVideoFile(media.clip, { video: { secondsPerHash: -1 } }), 'invalid', /seconds per hash/);
    });
  });

  describe('bad input', () => {
    const cases: [string, () => Promise<unknown>, string, RegExp][] = [
      ['a zero-length file', () => hashVideoFile(media.empty), 'invalid', /empty \(0 bytes\)/],
      ['an MP4 cut before its index', () => hashVideoFile(media.truncatedIndex), 'invalid', /not a video Bulwark can read: .*moov atom not found/],
      ['an MP4 cut in its frame data', () => hashVideoFile(media.truncatedData), 'invalid', /truncated/],
      ['a text file named .mp4', () => hashVideoFile(media.text), 'invalid', /not a video Bulwark can read/],
      ['a playlist naming a URL and a local file', () => hashVideoFile(media.playlist), 'unsupported_media', /container format "hls" is not supported/],
      ['an audio file', () => hashVideoFile(media.audioOnly), 'unsupported_media', /no video stream: the file holds only audio/],
      ['a video codec outside the supported list', () => hashVideoFile(media.qtrle), 'unsupported_media', /video codec "qtrle" is not supported/],
      ['a container outside the supported list', () => hashVideoFile(media.nut), 'unsupported_media', /container format "nut" is not supported/],
      ['frames over the default pixel cap', () => hashVideoFile(media.huge), 'too_large', /8192x4096 have more than 33177600 pixels/],
      ['frames over a configured pixel cap', () => hashVideoFile(media.clip, { maxPixels: 160 * 120 - 1 }), 'too_large', /160x120 have more than 19199 pixels/],
      ['a file over the size limit', () => hashVideoFile(media.clip, { video: { maxBytes: 1000 } }), 'too_large', /over the limit of 1000/],
      ['a video whose stated duration is over the limit', () => hashVideoFile(media.longClip, { video: { maxDurationSeconds: 5 } }), 'too_large', /lasts 10 s, over the limit of 5 s/],
      ['a directory', () => hashVideoFile(dir), 'invalid', /not a regular file/],
      ['a missing file', () => hashVideoFile(join(dir, 'nothing-here.mp4')), 'invalid', /does not exist/],
      ['a missing ffmpeg', () => hashVideoFile(media.clip, {}, { ffmpeg: join(dir, 'no-ffmpeg'), ffprobe: join(dir, 'no-ffprobe') }), 'unavailable', /not installed/],
    ];
    for (const [what, run, kind, message] of cases) {
      it(`refuses ${what} with ${kind}, leaving no ffmpeg running`, async () => {
        await refusal(run(), kind, message);
        assertNoFfmpegLeft();
      });
    }

    it('refuses a still image sent as a video, naming its format', async () => {
      const png = join(dir, 'picture.mp4');
      writeFileSync(png, await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 20, g: 120, b: 200 } } }).png().toBuffer());
      await refusal(hashVideoFile(png), 'unsupported_media', /still image \(png\), not a video/);
      const jpeg = join(dir, 'picture.mov');
      writeFileSync(jpeg, await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 20, b: 20 } } }).jpeg().toBuffer());
      await refusal(new VideoHasher().hash(readFileSync(jpeg)), 'unsupported_media', /still image \(jpeg\)/);
      assertNoFfmpegLeft();
    });

    it('stops a stream that states no duration at the duration limit', async () => {
      assert.equal((await probeVideo(media.rawStream, { maxPixels: 1e6 })).durationSeconds, undefined, 'the raw stream states no duration');
      const error = await refusal(hashVideoFile(media.rawStream, { video: { maxDurationSeconds: 2 } }), 'too_large', /longer than the limit of 2 s/);
      assert.equal(error.details?.frame_limit, 50);
      // The same stream within the limit hashes in full: 30 s at 25 fps, a frame a second.
      assert.equal((await hashVideoFile(media.rawStream, { video: { maxDurationSeconds: 30 } })).frames.length, 30);
      assertNoFfmpegLeft();
    });

    it('stops reading an endless stream at the limit (a pipe that never ends)', async () => {
      const fifo = join(dir, 'endless.h264');
      assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
      // A writer that would go on for ever: the test source has no end.
      const writer = spawn('ffmpeg', ['-v', 'error', '-nostdin', '-y', '-f', 'lavfi', '-i', 'testsrc2=s=64x48:r=25', '-c:v', 'libx264', '-f', 'h264', `file:${fifo}`], { stdio: 'ignore' });
      const writerExit = new Promise((resolve) => writer.once('close', resolve));
      try {
        let frames = 0;
        const info = { container: 'h264', streamIndex: 0, codec: 'h264', width: 64, height: 48, frameRate: 25 };
        const outcome = await decodeFrames(fifo, info, { step: 25, limit: 75, maxPixels: 64 * 48 }, () => frames++);
        assert.deepEqual(outcome, { kept: 3, overLimit: true, truncated: false });
        assert.equal(frames, 3);
        assert.equal(runningChildren(), 0, 'the decoder was stopped');
      } finally {
        writer.kill('SIGKILL');
        await writerExit;
      }
      // And hashVideoFile never opens a pipe: it is not a file of known size.
      await refusal(hashVideoFile(fifo), 'invalid', /not a regular file/);
      assertNoFfmpegLeft();
    });

    it('stops ffmpeg when hashing a frame fails', async () => {
      let frames = 0;
      const info = await probeVideo(media.longClip, { maxPixels: 1e6 });
      await assert.rejects(
        decodeFrames(media.longClip, info, { step: 1, limit: 1000, maxPixels: 1e6 }, () => {
          if (++frames === 3) throw new Error('hashing failed');
        }),
        /hashing failed/,
      );
      assert.equal(frames, 3);
      assertNoFfmpegLeft();
    });

    it('refuses bad settings as the caller\'s error', async () => {
      const bad: HashOptions[] = [{ video: { maxDurationSeconds: 0 } }, { video: { maxBytes: -1 } }, { maxPixels: 0 }, { video: { secondsPerHash: Number.NaN } }];
      for (const options of bad) await refusal(hashVideoFile(media.clip, options), 'invalid', /must be/);
    });
  });

  it('keeps a computed vPDQ value exactly as the frame list it lists', async () => {
    const video = await hashVideoFile(media.clip);
    const value = formatVpdqFrames(video.frames);
    assert.deepEqual(parseVpdqFrames(value).map(({ timestamp, ...rest }: VpdqFrame) => rest), video.frames.map(({ timestamp, ...rest }) => rest));
  });
});
