import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { invalid } from '../../errors.ts';
import type { PreservationService } from '../../preservation/preservation-service.ts';
import { type GlobalOptions, withBulwark } from '../context.ts';
import { printJson, table } from '../output.ts';
import { assertTimestamp } from '../../validation/edge.ts';

const actor = () => `cli:${process.env.USER ?? 'operator'}`;
const recordId = (text: string) => {
  if (!/^\d+$/.test(text)) throw invalid(`not a record id: ${text}`);
  return Number(text);
};

const withPreservation = <T>(command: Command, fn: (preservation: PreservationService, options: GlobalOptions) => Promise<T>) =>
  withBulwark(command, (bulwark, options) => fn(bulwark.preservation, options));

export function preservationCommands(program: Command): void {
  const preservation = program.command('preservation').description('evidence preserved for reports and legal requests (sealed; every opening is logged)');

  preservation
    .command('list')
    .description('preservation records, newest first (metadata only)')
    .option('--case <id>', 'only this case’s records')
    .option('--status <status>', 'preserved or purged')
    .option('--limit <n>', 'at most this many', (v) => Number.parseInt(v, 10), 100)
    .action(async (options: { case?: string; status?: string; limit: number }, command: Command) =>
      withPreservation(command, async (service, { json }) => {
        if (options.status && options.status !== 'preserved' && options.status !== 'purged') throw invalid('--status is preserved or purged');
        const records = await service.list({ caseId: options.case ? recordId(options.case) : undefined, status: options.status as 'preserved' | 'purged' | undefined, limit: options.limit });
        if (json) return printJson({ preservations: records });
        process.stdout.write(
          table(records.map((r) => ({ id: r.id, case: r.case_id, reason: r.reason, status: r.status, preserved_at: r.preserved_at, expires_at: r.expires_at, on_hold: r.on_hold ? 'yes' : '', media: r.media_count }))),
        );
      }),
    );

  preservation
    .command('show')
    .description('a record’s metadata, holds, accesses and tombstone (no evidence)')
    .argument('<id>')
    .action(async (id: string, _options: unknown, command: Command) =>
      withPreservation(command, async (service, { json }) => {
        const detail = await service.get(recordId(id));
        if (json) return printJson(detail);
        const { holds, accesses, tombstone, ...record } = detail;
        process.stdout.write(`${Object.entries(record).map(([key, value]) => `${key}: ${value ?? ''}`).join('\n')}\n`);
        process.stdout.write(`\nholds:\n${table(holds.map((h) => ({ id: h.id, active: h.active ? 'yes' : 'no', reason: h.reason, until: h.until ?? '', placed_by: h.placed_by, released_at: h.released_at ?? '' })))}`);
        process.stdout.write(`\naccesses:\n${table(accesses)}`);
        if (tombstone) process.stdout.write(`\npurged ${tombstone.purged_at} by ${tombstone.purged_by}: ${tombstone.why}\n`);
      }),
    );

  preservation
    .command('open')
    .description('decrypt a record for a stated purpose (logged); prints the snapshot as JSON')
    .argument('<id>')
    .requiredOption('--purpose <text>', 'why the record is opened (recorded in the audit log)')
    .option('--media-dir <dir>', 'also write the preserved media here, one file per content item (0600)')
    .action(async (id: string, options: { purpose: string; mediaDir?: string }, command: Command) =>
      withPreservation(command, async (service) => {
        const opened = await service.open(recordId(id), { by: actor(), purpose: options.purpose, withMedia: options.mediaDir !== undefined });
        const written: string[] = [];
        if (options.mediaDir && opened.media) {
          await mkdir(options.mediaDir, { recursive: true, mode: 0o700 });
          for (const [index, media] of opened.media.entries()) {
            const extension = media.media_type.split('/')[1]?.replace(/[^a-z0-9]/g, '') || 'bin';
            const path = join(options.mediaDir, `record-${opened.record.id}-media-${index + 1}.${extension}`);
            await writeFile(path, media.bytes, { mode: 0o600, flag: 'wx' });
            written.push(path);
          }
        }
        printJson({ record: opened.record, snapshot: opened.snapshot, ...(options.mediaDir ? { media_files: written } : {}) });
      }),
    );

  preservation
    .command('hold')
    .description('place a legal hold: keep the record past its expiry until released (or until a date)')
    .argument('<id>')
    .requiredOption('--reason <text>', 'why the record is held')
    .option('--until <iso>', 'the hold ends by itself at this time (ISO 8601, UTC)')
    .action(async (id: string, options: { reason: string; until?: string }, command: Command) =>
      withPreservation(command, async (service, { json }) => {
        const until = options.until ? new Date(options.until) : undefined;
        if (until && Number.isNaN(until.getTime())) throw invalid('--until is an ISO 8601 time, e.g. 2027-01-01T00:00:00Z');
        if (until) assertTimestamp(until, '--until');
        const hold = await service.hold(recordId(id), { reason: options.reason, until, by: actor() });
        if (json) return printJson(hold);
        process.stdout.write(`hold ${hold.id} placed on record ${hold.record_id}${hold.until ? ` until ${hold.until}` : ' until released'}\n`);
      }),
    );

  preservation
    .command('release')
    .description('release a legal hold')
    .argument('<hold-id>')
    .action(async (holdId: string, _options: unknown, command: Command) =>
      withPreservation(command, async (service, { json }) => {
        const hold = await service.release(recordId(holdId), actor());
        if (json) return printJson(hold);
        process.stdout.write(`hold ${hold.id} on record ${hold.record_id} released\n`);
      }),
    );

  preservation
    .command('purge')
    .description('delete the evidence of expired records without an active hold, leaving tombstones')
    .option('--dry-run', 'only list what would be deleted')
    .action(async (options: { dryRun?: boolean }, command: Command) =>
      withPreservation(command, async (service, { json }) => {
        const result = await service.purgeExpired(undefined, { dryRun: options.dryRun === true, by: actor() });
        if (json) return printJson(result);
        process.stdout.write(`${result.dry_run ? 'would purge' : 'purged'} ${result.purged.length} records; ${result.held} expired records kept on hold\n`);
        if (result.purged.length) process.stdout.write(table(result.purged));
      }),
    );
}
