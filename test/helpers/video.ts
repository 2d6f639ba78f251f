import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';

/** Meta's benign sample videos and their vPDQ hashes (../shared/vpdq-vectors). */
export const VPDQ_VECTORS = resolve(import.meta.dirname, '..', '..', '..', 'shared', 'vpdq-vectors');
export const REFERENCE_VIDEOS = [
  'chair-19-sd-bar',
  'chair-22-sd-grey-bar',
  'doorknob-hd-no-bar',
  'pattern-hd-no-bar',
  'pattern-sd-grey-bar',
  'pattern-sd-with-small-logo-bar',
] as const;
export type ReferenceVideo = (typeof REFERENCE_VIDEOS)[number];

export const referenceVideo = (name: string) => resolve(VPDQ_VECTORS, 'videos', `${name}.mp4`);
export const referenceHashes = (name: string) => readFileSync(resolve(VPDQ_VECTORS, 'hashes', `${name}.txt`), 'utf8');

const installed = (tool: string) => spawnSync(tool, ['-version'], { stdio: 'ignore' }).status === 0;

/**
 * Whether video tests can run. In CI they must: a missing ffmpeg fails the run there instead of
 * skipping the tests (.ci/run installs it). Elsewhere they are skipped with this reason.
 */
export function videoTestsSkipReason(): string | false {
  if (installed('ffmpeg') && installed('ffprobe')) return false;
  if (process.env.CI === 'true') throw new Error('ffmpeg and ffprobe are required in CI (.ci/run installs them: apt-get install -y ffmpeg)');
  const reason = 'ffmpeg/ffprobe not installed (apt-get install -y ffmpeg): video tests skipped';
  process.stderr.write(`note: ${reason}\n`);
  return reason;
}

/** Runs ffmpeg to make a test video from its lavfi test sources; throws with its message on failure. */
export function makeVideo(output: string, args: string[]): string {
  const result = spawnSync('ffmpeg', ['-v', 'error', '-nostdin', '-y', ...args, output], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`ffmpeg could not make ${output}: ${result.stderr}`);
  return output;
}

/** ffmpeg and ffprobe processes whose parent is this process, from /proc (Linux). */
export function ffmpegChildren(): { pid: number; command: string }[] {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  const children: { pid: number; command: string }[] = [];
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // pid (comm) state ppid …; comm may hold spaces, so split after its closing parenthesis.
      const command = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && (command === 'ffmpeg' || command === 'ffprobe')) children.push({ pid: Number(pid), command });
    } catch {
      // The process ended while we looked.
    }
  }
  return children;
}
