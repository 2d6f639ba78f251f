/**
 * Video hashing (vPDQ) beside ffmpeg's own decoding of the same files, in one run.
 *
 *   npm run bench:video -- [--runs 3]
 *
 * Files: two benign generated videos made once with ffmpeg's lavfi test sources into
 * bench/.cache/ (1920x1080 and 640x360, 30 fps, 20 s, H.264), and two of Meta's reference
 * videos (doorknob 1280x720, chair 480x720).
 *
 * Per file, the median of --runs rounds; within a round the steps run one after the other
 * (A/B interleaved), so a slow spell of the machine slows all of them:
 *
 *   decode         `ffmpeg -i F -f null -`: ffmpeg decoding every frame and nothing else;
 *   decode+RGB     the ffmpeg command Bulwark runs for every frame (select, conversion to
 *                  RGB24 with its scaler flags), writing to /dev/null instead of a pipe;
 *   vPDQ 1/s       hashVideoFile with the defaults: one frame a second hashed (every frame
 *                  still decoded), the file's MD5 and the bars check included;
 *   vPDQ all       hashVideoFile hashing every frame (secondsPerHash 0).
 *
 * Columns: wall time, frames per second (decoded frames for the ffmpeg steps, hashed frames
 * for Bulwark's) and the real-time factor (seconds of video per second of wall time).
 * Timings are wall time of the whole step, ffmpeg's child processes included.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SCALER_FLAGS, decodeArguments } from '../src/signals/vpdq/decode.ts';
import { hashVideoFile } from '../src/signals/vpdq/hash-video.ts';
import { probeVideo } from '../src/signals/vpdq/probe.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
const runs = Math.max(1, Number(values.runs));
const root = resolve(import.meta.dirname, '..');
const cache = join(root, 'bench', '.cache');
const vectors = resolve(root, '..', 'shared', 'vpdq-vectors', 'videos');

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr}`);
}

function generated(name: string, size: string, source: string): string {
  const path = join(cache, name);
  if (!existsSync(path)) {
    mkdirSync(cache, { recursive: true });
    process.stderr.write(`making ${path}\n`);
    run('ffmpeg', ['-v', 'error', '-nostdin', '-y', '-f', 'lavfi', '-i', `${source}=s=${size}:r=30`, '-t', '20', '-c:v', 'libx264', '-preset', 'medium', '-crf', '23', '-pix_fmt', 'yuv420p', path]);
  }
  return path;
}

const files = [
  { label: 'generated 1920x1080', path: generated('video-1080p.mp4', '1920x1080', 'testsrc2') },
  { label: 'generated 640x360', path: generated('video-360p.mp4', '640x360', 'mandelbrot') },
  { label: 'doorknob 1280x720', path: join(vectors, 'doorknob-hd-no-bar.mp4') },
  { label: 'chair 480x720', path: join(vectors, 'chair-19-sd-bar.mp4') },
].filter((file) => existsSync(file.path));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = async (step: () => unknown): Promise<number> => {
  const start = process.hrtime.bigint();
  await step();
  return Number(process.hrtime.bigint() - start) / 1e9;
};

interface Row {
  file: string;
  step: string;
  seconds: number;
  frames: number;
  duration: number;
}

const rows: Row[] = [];
for (const file of files) {
  const info = await probeVideo(file.path, { maxPixels: 1e9 });
  const every = await hashVideoFile(file.path, { video: { secondsPerHash: 0 } });
  const decoded = every.frames.length;
  const duration = decoded / info.frameRate;
  const sampled = (await hashVideoFile(file.path)).frames.length;
  const rgbArgs = decodeArguments(file.path, info, { step: 1, limit: decoded + 1, maxPixels: 1e9 }).map((arg) => (arg === 'pipe:1' ? '/dev/null' : arg));
  const steps: { step: string; frames: number; run: () => unknown }[] = [
    { step: 'decode (ffmpeg -f null)', frames: decoded, run: () => run('ffmpeg', ['-v', 'error', '-nostdin', '-i', file.path, '-f', 'null', '-']) },
    { step: `decode+RGB (${SCALER_FLAGS})`, frames: decoded, run: () => run('ffmpeg', ['-y', ...rgbArgs]) },
    { step: 'vPDQ 1/s (default)', frames: sampled, run: () => hashVideoFile(file.path) },
    { step: 'vPDQ every frame', frames: decoded, run: () => hashVideoFile(file.path, { video: { secondsPerHash: 0 } }) },
  ];
  const times = new Map(steps.map((s) => [s.step, [] as number[]]));
  for (let round = 0; round < runs; round++) for (const s of steps) times.get(s.step)!.push(await time(s.run));
  for (const s of steps) rows.push({ file: file.label, step: s.step, seconds: median(times.get(s.step)!), frames: s.frames, duration });
}

const header = ['file', 'step', 'wall s', 'frames/s', 'x real time'];
const table = rows.map((row) => [row.file, row.step, row.seconds.toFixed(2), (row.frames / row.seconds).toFixed(0), (row.duration / row.seconds).toFixed(1)]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((cells) => cells[i].length)));
const line = (cells: string[]) => cells.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
process.stdout.write(`vPDQ hashing beside ffmpeg's decode, median of ${runs} interleaved rounds, ${availableParallelism()} cores, ffmpeg's own threads\n`);
process.stdout.write(`frames/s: decoded frames for the ffmpeg steps, hashed frames for vPDQ; x real time: video seconds per wall second\n\n`);
process.stdout.write(`${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
let previous = '';
for (const cells of table) {
  process.stdout.write(`${line(cells[0] === previous ? ['', ...cells.slice(1)] : cells)}\n`);
  previous = cells[0];
}
