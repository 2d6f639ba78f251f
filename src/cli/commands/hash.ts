import type { Command } from 'commander';
import { BulwarkError, invalid } from '../../errors.ts';
import { defaultSignalRegistry } from '../../signals/default-registry.ts';
import { hashContent } from '../../signals/hash-content.ts';
import type { ComputedSignal } from '../../signals/types.ts';
import { globals } from '../context.ts';
import { IMAGE_EXTENSIONS, expandMediaPaths, mediaInput } from '../files.ts';
import { reportError } from '../output.ts';
import { progress } from '../progress.ts';

export interface FileHashes {
  file: string;
  pdq?: string;
  pdq_quality?: number;
  pdq_dihedral?: Record<string, string>;
  md5?: string;
  sha256?: string;
  /** Videos: how many frames were hashed, the file's MD5 as video_md5, and (JSON only) the vPDQ frame list. */
  vpdq_frames?: number;
  video_md5?: string;
  vpdq?: string;
  error?: string;
}

export function fileHashes(file: string, signals: ComputedSignal[]): FileHashes {
  const byType = new Map(signals.map((signal) => [signal.signalType, signal]));
  const pdq = byType.get('pdq');
  return {
    file,
    ...(pdq ? { pdq: pdq.value, pdq_quality: pdq.quality } : {}),
    ...(pdq?.variants ? { pdq_dihedral: Object.fromEntries(pdq.variants.map((variant) => [variant.name, variant.value])) } : {}),
    md5: byType.get('md5')?.value,
    sha256: byType.get('sha256')?.value,
    ...(byType.has('vpdq') ? { vpdq_frames: byType.get('vpdq')!.frameCount, video_md5: byType.get('video_md5')?.value, vpdq: byType.get('vpdq')!.value } : {}),
  };
}

export function hashCommand(program: Command): void {
  program
    .command('hash')
    .description('print PDQ (with quality), MD5 and SHA-256 of images, vPDQ and video MD5 of videos; directories are walked, following symbolic links')
    .argument('<paths...>', 'image or video files, or directories')
    .option('--dihedral', 'also print the PDQ hashes of the 8 rotated and flipped copies')
    .option('--seconds-per-hash <s>', 'videos: hash one frame per this many seconds (0: every frame)', Number, 1)
    .addHelpText(
      'after',
      `
Directories are walked for ${[...IMAGE_EXTENSIONS].join(' ')} files and videos.
Symbolic links are followed, to files and to directories; a directory reached twice
(a link loop) is walked once. A link that leads nowhere is reported as a file that
could not be hashed. The exit status is 0 only if every file found was hashed, and
is non-zero when no file was found at all.`,
    )
    .action(async (paths: string[], options: { dihedral?: boolean; secondsPerHash: number }, command: Command) => {
      const { json } = globals(command);
      const registry = defaultSignalRegistry();
      const { files: media, skipped } = await expandMediaPaths(paths);
      for (const dir of skipped) process.stderr.write(`${dir}: walked once only (a symbolic link loop, or a second link to the same directory)\n`);
      if (media.length === 0) {
        reportError(invalid(`no image or video files found in ${paths.join(', ')}: nothing was hashed`), { json });
        return;
      }
      const shown = progress('hashing', media.length, 'files');
      let failures = 0;
      for (const [i, found] of media.entries()) {
        const file = found.path;
        let result: FileHashes;
        try {
          const signals = await hashContent(registry, found.contentType, await mediaInput(found), { variants: options.dihedral, video: { secondsPerHash: options.secondsPerHash } });
          result = fileHashes(file, signals);
        } catch (error) {
          if (!(error instanceof BulwarkError)) throw error;
          failures++;
          result = { file, error: error.message };
        }
        shown.update(i + 1);
        if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
        else if (result.error) process.stderr.write(`${file}: ${result.error}\n`);
        else if (result.vpdq_frames !== undefined) {
          process.stdout.write(`${file}\n  vpdq       ${result.vpdq_frames} frames (the frame list: --json)\n  video_md5  ${result.video_md5}\n  sha256     ${result.sha256}\n`);
        } else {
          process.stdout.write(`${file}\n  pdq     ${result.pdq} (quality ${result.pdq_quality})\n  md5     ${result.md5}\n  sha256  ${result.sha256}\n`);
          for (const [name, value] of Object.entries(result.pdq_dihedral ?? {})) process.stdout.write(`  pdq ${name.padEnd(10)} ${value}\n`);
        }
      }
      shown.stop();
      if (failures > 0) reportError(new BulwarkError('invalid', `${failures} of ${media.length} files could not be hashed`), {});
    });
}
