import type { Command } from 'commander';
import { BulwarkError } from '../../errors.ts';
import { matchResultJson } from '../../http/serialize.ts';
import { definedPercent } from '../../match/matcher.ts';
import { withBulwark } from '../context.ts';
import { expandMediaPaths, mediaInput } from '../files.ts';
import { reportError } from '../output.ts';
import { progress } from '../progress.ts';

interface MatchCommandOptions {
  threshold?: number;
  minQuality: number;
  dihedral?: boolean;
  banks?: string;
  videoQueryPercent?: number;
  videoComparedPercent?: number;
}

export function matchCommand(program: Command): void {
  program
    .command('match')
    .description('hash images and videos and match them against the banks')
    .argument('<paths...>', 'image or video files, or directories')
    .option('--threshold <n>', "largest PDQ distance that counts as a match (default: the bank's setting, else 31)", (v) => Number.parseInt(v, 10))
    .option('--min-quality <n>', 'PDQ hashes below this quality are reported, not matched', (v) => Number.parseInt(v, 10), 50)
    .option('--dihedral', 'also match rotated and flipped copies')
    .option('--banks <names>', 'comma-separated banks to match against (default: all enabled)')
    .option('--video-query-percent <n>', "videos: least percentage of their frames that must match a banked video (default: the bank's setting, else 80)", Number)
    .option('--video-compared-percent <n>', "videos: least percentage of the banked video's frames that must match (default: the bank's setting, else 0)", Number)
    .action(async (paths: string[], options: MatchCommandOptions, command: Command) => {
      await withBulwark(command, async (bulwark, { json }) => {
        const { files: media } = await expandMediaPaths(paths);
        const shown = progress('matching', media.length, 'files');
        const matchOptions = {
          ...(options.threshold !== undefined ? { maxDistance: { pdq: options.threshold } } : {}),
          minQuality: options.minQuality,
          minMatchPercent: { vpdq: definedPercent(options.videoQueryPercent, options.videoComparedPercent) },
          ...(options.banks ? { banks: options.banks.split(',').map((name) => name.trim()) } : {}),
        };
        let failures = 0;
        let matched = 0;
        for (const [i, found] of media.entries()) {
          const file = found.path;
          try {
            const signals = await bulwark.hashing.hash(found.contentType, await mediaInput(found), { variants: options.dihedral, maxPixels: bulwark.config.maxPixels, video: bulwark.config.video });
            const result = matchResultJson(await bulwark.matcher.match(signals, matchOptions));
            if (result.matched) matched++;
            if (json) process.stdout.write(`${JSON.stringify({ file, ...result })}\n`);
            else {
              const quality = result.signals.find((signal) => signal.signal_type === 'pdq');
              const note = quality?.status === 'low_quality' ? ` (PDQ quality ${quality.quality} is below ${options.minQuality}: not matched perceptually)` : '';
              process.stdout.write(`${file}: ${result.matched ? 'MATCH' : 'no match'}${note}\n`);
              for (const m of result.matches) {
                const percent = m.match_percent ? `  ${m.match_percent.query}% of its frames, ${m.match_percent.compared}% of the banked video's` : '';
                process.stdout.write(`  bank ${m.bank}  ${m.signal_type}  distance ${m.distance}${percent}${m.variant ? `  (${m.variant})` : ''}  entry ${m.entry_id}\n`);
              }
            }
          } catch (error) {
            if (!(error instanceof BulwarkError) || error.kind === 'invalid' && error.details?.banks) throw error;
            failures++;
            if (json) process.stdout.write(`${JSON.stringify({ file, error: error.message })}\n`);
            else process.stderr.write(`${file}: ${error.message}\n`);
          }
          shown.update(i + 1);
        }
        shown.stop();
        if (!json) process.stderr.write(`${matched} of ${media.length} files matched\n`);
        if (failures > 0) reportError(new BulwarkError('invalid', `${failures} of ${media.length} files could not be hashed`), {});
      });
    });
}
