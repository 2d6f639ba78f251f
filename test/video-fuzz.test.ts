import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { BulwarkError } from '../src/errors.ts';
import { defaultSignalRegistry } from '../src/signals/default-registry.ts';
import { hashContent } from '../src/signals/hash-content.ts';
import { mutate, mutation } from './helpers/mutations.ts';
import { ffmpegChildren, makeVideo, videoTestsSkipReason } from './helpers/video.ts';

/**
 * Every outcome of hashing a damaged video is its hashes or a BulwarkError of a 4xx kind, and
 * no ffmpeg or ffprobe process outlives the call: small valid videos in the containers and
 * codecs people upload, damaged by overwriting, inserting, deleting and cutting bytes. Seeds
 * are fixed so that a run repeats; fast-check prints the seed and shrunk input of a failure.
 */
/** Runs per container: each starts ffprobe and ffmpeg, about half a second on this machine. */
const RUNS = 10;

describe('hashing damaged videos', { skip: videoTestsSkipReason() }, () => {
  let dir: string;
  const files: Record<string, Buffer> = {};
  const registry = defaultSignalRegistry();

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'bulwark-video-fuzz-'));
    const source = ['-f', 'lavfi', '-i', 'testsrc2=s=64x48:r=10', '-t', '2'];
    files['mp4 h264'] = readFileSync(makeVideo(join(dir, 'a.mp4'), [...source, '-c:v', 'libx264', '-pix_fmt', 'yuv420p']));
    files['webm vp8'] = readFileSync(makeVideo(join(dir, 'b.webm'), [...source, '-c:v', 'libvpx', '-b:v', '100k']));
    files['mov mpeg4'] = readFileSync(makeVideo(join(dir, 'c.mov'), [...source, '-c:v', 'mpeg4']));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('gives hashes or a 4xx BulwarkError, and leaves no decoder running, for mutated files', async (t) => {
    const totals = { hashed: 0, refused: 0 };
    for (const [index, [name, file]] of Object.entries(files).entries()) {
      const counts: Record<string, number> = { hashed: 0 };
      await fc.assert(
        fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
          try {
            const signals = await hashContent(registry, 'video', mutate(file, mutations), { video: { maxDurationSeconds: 60 } });
            const vpdq = signals.find((signal) => signal.signalType === 'vpdq');
            assert.ok(vpdq, 'a hashed video has a vPDQ value');
            assert.equal(registry.normalize('vpdq', vpdq.value).value, vpdq.value, 'in canonical form');
            counts.hashed++;
          } catch (error) {
            if (!(error instanceof BulwarkError)) throw error;
            assert.ok(['invalid', 'unsupported_media', 'too_large'].includes(error.kind), `${error.kind}: ${error.message}`);
            counts[error.kind] = (counts[error.kind] ?? 0) + 1;
          }
          assert.deepEqual(ffmpegChildren(), [], 'no ffmpeg or ffprobe left running');
        }),
        { numRuns: RUNS, seed: 0x71de0 + index },
      );
      t.diagnostic(`${name}: ${JSON.stringify(counts)}`);
      totals.hashed += counts.hashed;
      totals.refused += RUNS - counts.hashed;
    }
    assert.ok(totals.hashed > 0 && totals.refused > 0, `both outcomes occur: ${JSON.stringify(totals)}`);
  });
});
