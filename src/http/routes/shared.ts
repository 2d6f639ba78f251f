import { z } from 'zod';
import { invalid } from '../../errors.ts';
import { type MatchOptions, definedPercent } from '../../match/matcher.ts';

const booleanFlag = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0'])])
  .transform((value) => value === true || value === 'true' || value === '1');

export const matchOptionsQuery = z.object({
  threshold: z.coerce.number().int().min(0).max(128).optional().describe('Largest PDQ distance that counts as a match (default 31)'),
  min_quality: z.coerce.number().int().min(0).max(100).optional().describe('PDQ hashes below this quality are reported, not matched (default 50)'),
  dihedral: booleanFlag.optional().describe('Also match the 8 rotated and flipped copies of an uploaded image'),
  banks: z.string().optional().describe('Comma-separated bank names to match against (default: all enabled banks)'),
  video_query_percent: z.coerce.number().min(0).max(100).optional().describe("Videos: least percentage of the query's frames that must match (default: the bank's setting, else 80)"),
  video_compared_percent: z.coerce.number().min(0).max(100).optional().describe("Videos: least percentage of the banked video's frames that must match (default: the bank's setting, else 0)"),
  seed: z.string().min(1).max(200).optional().describe('Decides whether banks enabled for a share of traffic count; the same seed gets the same answer (default: a hash of the query)'),
});

export function toMatchOptions(query: z.infer<typeof matchOptionsQuery>): MatchOptions {
  return {
    ...(query.threshold !== undefined ? { maxDistance: { pdq: query.threshold } } : {}),
    ...(query.min_quality !== undefined ? { minQuality: query.min_quality } : {}),
    ...(query.seed !== undefined ? { seed: query.seed } : {}),
    ...(query.banks ? { banks: query.banks.split(',').map((name) => name.trim()).filter(Boolean) } : {}),
    minMatchPercent: { vpdq: definedPercent(query.video_query_percent, query.video_compared_percent) },
  };
}

export function zodIssuesToInvalid(error: z.ZodError) {
  const issues = error.issues.map((issue) => ({ location: `body/${issue.path.join('/')}`, message: issue.message }));
  return invalid(issues.map((issue) => `${issue.location}: ${issue.message}`).join('; '), { issues });
}
