import type { Command } from 'commander';
import { invalid } from '../../errors.ts';
import { entryJson } from '../../http/serialize.ts';
import { withBulwark } from '../context.ts';
import { printJson } from '../output.ts';

const DURATION = /^(\d+)([smhd])$/;
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

function entryIdOf(text: string): number {
  const id = Number(text);
  if (!Number.isSafeInteger(id) || id < 1) throw invalid(`an entry id is a positive whole number, got ${JSON.stringify(text)}`);
  return id;
}

/** `bank disable-entry` and `bank enable-entry`: switching one entry off and on without removing it. */
export function bankEntryControlCommands(bank: Command): void {
  bank
    .command('disable-entry')
    .description('stop one entry matching (for a time, or until enable-entry) without removing it')
    .argument('<name>', 'bank')
    .argument('<entry-id>')
    .requiredOption('--reason <text>', 'why, e.g. "false positive: a widely shared logo"')
    .option('--until <time>', 'ISO 8601 time when it matches again')
    .option('--for <duration>', 'how long, e.g. 30m, 12h, 7d')
    .action(async (name: string, entryId: string, options: { reason: string; until?: string; for?: string }, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        if (options.until && options.for) throw invalid('give --until or --for, not both');
        let until: Date | null = null;
        if (options.until) {
          until = new Date(options.until);
          if (Number.isNaN(until.getTime())) throw invalid(`--until is an ISO 8601 time, got ${JSON.stringify(options.until)}`);
        }
        let forSeconds: number | undefined;
        if (options.for) {
          const parsed = DURATION.exec(options.for);
          if (!parsed) throw invalid(`--for is a number and a unit (s, m, h, d), e.g. 12h; got ${JSON.stringify(options.for)}`);
          forSeconds = Number(parsed[1]) * UNIT_SECONDS[parsed[2]];
        }
        const entry = await bulwark.banks.disableEntry(entryIdOf(entryId), { bank: name, until, forSeconds, reason: options.reason });
        if (json) return printJson(entryJson(entry));
        const till = entry.disabledUntil === 'infinity' ? 'until re-enabled' : `until ${entry.disabledUntil?.toISOString()}`;
        process.stdout.write(`disabled entry ${entry.id} of ${name} ${till}\n`);
      }),
    );

  bank
    .command('enable-entry')
    .description('let a disabled entry match again')
    .argument('<name>', 'bank')
    .argument('<entry-id>')
    .action(async (name: string, entryId: string, _options: object, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        const entry = await bulwark.banks.enableEntry(entryIdOf(entryId), { bank: name });
        if (json) printJson(entryJson(entry));
        else process.stdout.write(`enabled entry ${entry.id} of ${name}\n`);
      }),
    );
}
