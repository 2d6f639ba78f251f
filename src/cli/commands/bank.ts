import { createReadStream, createWriteStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Transform } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { Command } from 'commander';
import { IMPORT_FORMATS, type ImportFormat, formatFromFileName, parseBankRows, parseTags, vpdqRowsFromFiles } from '../../banks/import-formats.ts';
import { invalid } from '../../errors.ts';
import type { BankMatchSettings } from '../../banks/match-settings.ts';
import { bankJson, entryJson, matchSettingsJson } from '../../http/serialize.ts';
import { definedPercent } from '../../match/matcher.ts';
import { withBulwark } from '../context.ts';
import { bankEntryControlCommands } from './bank-entry-controls.ts';
import { printJson, table } from '../output.ts';
import { progress } from '../progress.ts';

export function bankCommands(program: Command): void {
  const bank = program.command('bank').description('manage hash banks: lists of known media signals');

  bank
    .command('create')
    .description('create a bank')
    .argument('<name>', 'lowercase letters, digits, - and _')
    .option('--description <text>', 'what the bank holds and where it comes from', '')
    .option('--kind <kind>', 'block (its matches count) or allow (its matches suppress the same content in other banks)', 'block')
    .action(async (name: string, options: { description: string; kind: string }, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        const created = await bulwark.banks.create(name, options.description, { kind: options.kind });
        if (json) printJson(bankJson(created));
        else process.stdout.write(`created ${created.kind} bank ${created.name}\n`);
      }),
    );

  bank
    .command('list')
    .description('list banks with their entry counts')
    .action(async (_options: object, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        const banks = await bulwark.banks.list();
        if (json) return printJson(banks.map(bankJson));
        process.stdout.write(
          table(
            banks.map((b) => ({
              name: b.name,
              kind: b.kind,
              enabled: b.enabled ? (b.enabledRatio < 1 ? `${b.enabledRatio * 100}%` : 'yes') : 'no',
              entries: Object.entries(b.entryCounts).map(([type, n]) => `${type}:${n}`).join(' ') || '0',
              description: b.description,
            })),
          ),
        );
      }),
    );

  bank
    .command('update')
    .description("change a bank's description, switch its matching on or off, or set how close its matches must be")
    .argument('<name>')
    .option('--description <text>', 'what the bank holds and where it comes from')
    .option('--enable', 'match against this bank')
    .option('--disable', 'stop matching against this bank (its entries are kept)')
    .option('--max-distance <type=n...>', 'largest distance that counts for a signal type in this bank, e.g. pdq=20')
    .option('--min-match-percent <type=query,compared...>', "least percentages of the query's and of the banked video's frames, e.g. vpdq=90,50")
    .option('--default-matching', "forget the bank's match settings: the signal types' defaults apply")
    .option('--kind <kind>', 'block or allow')
    .option('--enabled-ratio <ratio>', 'share of lookups (0 to 1) the bank counts in, for trying a new list on part of the traffic', Number)
    .option('--flood-limit <n|default>', "distinct uploads an entry may match in an hour before quarantine; 'default' for the server's")
    .option('--publish', 'serve the bank to peer platforms as a feed (GET /v1/feeds/NAME), to feed keys allowed to read it')
    .option('--unpublish', 'stop serving the bank as a feed')
    .action(async (name: string, options: BankUpdateOptions, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        if (options.enable && options.disable) throw invalid('give --enable or --disable, not both');
        const floodLimit = options.floodLimit === undefined ? undefined : options.floodLimit === 'default' ? null : Number(options.floodLimit);
        if (options.publish && options.unpublish) throw invalid('give --publish or --unpublish, not both');
        const updated = await bulwark.banks.update(name, {
          description: options.description,
          enabled: options.enable ? true : options.disable ? false : undefined,
          kind: options.kind,
          enabledRatio: options.enabledRatio,
          floodLimit,
          matchSettings: matchSettingsFromOptions(options, (await bulwark.banks.get(name)).matchSettings),
          published: options.publish ? true : options.unpublish ? false : undefined,
        });
        if (json) printJson(bankJson(updated));
        else {
          process.stdout.write(
            `updated ${updated.kind} bank ${updated.name}: ${updated.enabled ? 'enabled' : 'disabled'}${updated.published ? ', published as a feed' : ''} for ${updated.enabledRatio * 100}% of lookups, ` +
              `flood limit ${updated.floodLimit ?? 'default'}, match settings ${JSON.stringify(matchSettingsJson(updated.matchSettings))}\n`,
          );
        }
      }),
    );

  bank
    .command('delete')
    .description('delete a bank and all its entries')
    .argument('<name>')
    .action(async (name: string, _options: object, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        await bulwark.banks.delete(name);
        if (json) printJson({ deleted: name });
        else process.stdout.write(`deleted bank ${name}\n`);
      }),
    );

  bank
    .command('add')
    .description('add one entry')
    .argument('<name>', 'bank')
    .argument('<signal-type>', 'pdq, md5, sha256, …')
    .argument('<value>', 'the hash')
    .option('--source <text>', 'where the entry comes from')
    .option('--tag <tag...>', 'tags')
    .action(async (name: string, signalType: string, value: string, options: { source?: string; tag?: string[] }, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        const entry = await bulwark.banks.addEntry(name, { signalType, value, source: options.source, tags: options.tag });
        if (json) printJson(entryJson(entry));
        else process.stdout.write(`added ${entry.signalType} ${entry.value} to ${name} (entry ${entry.id})\n`);
      }),
    );

  bank
    .command('remove')
    .description('remove one entry')
    .argument('<name>', 'bank')
    .argument('<signal-type>')
    .argument('<value>')
    .action(async (name: string, signalType: string, value: string, _options: object, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        await bulwark.banks.removeEntry(name, signalType, value);
        if (json) printJson({ removed: { bank: name, signal_type: signalType, value } });
        else process.stdout.write(`removed ${signalType} ${value} from ${name}\n`);
      }),
    );

  bankEntryControlCommands(bank);

  bank
    .command('import')
    .description('import a hash list (CSV, TSV, JSON lines, or vPDQ hash files) in one transaction: a bad row aborts it with its line number')
    .argument('<name>', 'bank')
    .argument('<file>', 'the list; - for standard input; for --format vpdq, a hash file or a directory of them')
    .option('--format <format>', `one of ${IMPORT_FORMATS.join(', ')} (default: from the file name; vpdq for a directory, or a .txt file with --signal-type vpdq)`)
    .option('--signal-type <type>', 'signal type of every row, for lists of bare values')
    .option('--source <text>', 'source recorded on rows that name none (default: the file name)')
    .option('--on-duplicate <mode>', 'skip: count entries already present; error: refuse the import', 'skip')
    .option('--tags <tags>', 'tags for every row besides its own, comma-separated')
    .action(
      async (
        name: string,
        file: string,
        options: { format?: string; signalType?: string; source?: string; onDuplicate: string; tags?: string },
        command: Command,
      ) =>
        withBulwark(command, async (bulwark, { json }) => {
          const info = file === '-' ? undefined : await stat(file);
          const vpdqByDefault = info?.isDirectory() || (options.signalType?.toLowerCase() === 'vpdq' && file.toLowerCase().endsWith('.txt'));
          const format = (options.format ?? (vpdqByDefault ? 'vpdq' : formatFromFileName(file))) as ImportFormat | undefined;
          if (!format || !IMPORT_FORMATS.includes(format)) throw invalid(`say which format the list is in: --format ${IMPORT_FORMATS.join('|')}`);
          if (options.onDuplicate !== 'skip' && options.onDuplicate !== 'error') throw invalid('--on-duplicate is skip or error');
          if (info?.isDirectory() && format !== 'vpdq') throw invalid(`${file} is a directory: only --format vpdq reads a directory (one entry per .txt file)`);
          const print = (result: { importId: number; rowsRead: number; rowsAdded: number; rowsDuplicate: number }) => {
            if (json) printJson({ bank: name, import_id: result.importId, rows_read: result.rowsRead, rows_added: result.rowsAdded, rows_duplicate: result.rowsDuplicate });
            else process.stdout.write(`imported ${result.rowsAdded} entries into ${name} (${result.rowsRead} rows read, ${result.rowsDuplicate} already present)\n`);
          };
          if (format === 'vpdq' && info) {
            // One entry per vPDQ hash file, each with its own file name as source.
            const files = info.isDirectory()
              ? (await readdir(file)).filter((entry) => entry.toLowerCase().endsWith('.txt')).sort().map((entry) => join(file, entry))
              : [file];
            if (files.length === 0) throw invalid(`no vPDQ hash files (*.txt) in ${file}`);
            const rows = vpdqRowsFromFiles(files, (value) => bulwark.signals.normalize('vpdq', value).value, { source: options.source, tags: parseTags(options.tags) });
            return print(await bulwark.banks.importRows(name, rows, { sourceName: options.source ?? basename(file), format, onDuplicate: options.onDuplicate }));
          }
          const size = info?.size;
          const shown = progress(`importing into ${name}`, size, 'bytes');
          let bytes = 0;
          const counter = new Transform({
            transform(chunk: Buffer, _encoding, done) {
              bytes += chunk.length;
              done(null, chunk);
            },
          });
          const input = (file === '-' ? process.stdin : createReadStream(file)).pipe(counter);
          const sourceName = options.source ?? (file === '-' ? 'stdin' : basename(file));
          try {
            const result = await bulwark.banks.importRows(
              name,
              parseBankRows(input, { format, signalType: options.signalType, defaultSource: sourceName, tags: parseTags(options.tags) }),
              { sourceName, format, onDuplicate: options.onDuplicate, onProgress: () => shown.update(bytes) },
            );
            shown.stop();
            print(result);
          } finally {
            shown.stop();
            input.destroy();
          }
        }),
    );

  bank
    .command('export')
    .description('export every entry of a bank')
    .argument('<name>', 'bank')
    .option('--output <file>', 'write here instead of standard output')
    .option('--format <format>', 'jsonl or csv', 'jsonl')
    .action(async (name: string, options: { output?: string; format: string }, command: Command) =>
      withBulwark(command, async (bulwark) => {
        if (options.format !== 'jsonl' && options.format !== 'csv') throw invalid('--format is jsonl or csv');
        await bulwark.banks.get(name);
        const out = options.output ? createWriteStream(options.output) : process.stdout;
        const write = (text: string) => (out.write(text) ? undefined : new Promise<void>((resolve) => out.once('drain', () => resolve())));
        if (options.format === 'csv') await write('signal_type,value,source,tags\n');
        for await (const entry of bulwark.banks.exportEntries(name)) {
          const line =
            options.format === 'csv'
              ? `${[entry.signalType, entry.value, entry.source ?? '', entry.tags.join(';')].map(csvField).join(',')}\n`
              : `${JSON.stringify({ signal_type: entry.signalType, value: entry.value, source: entry.source, tags: entry.tags, added_at: entry.addedAt.toISOString() })}\n`;
          await write(line);
        }
        if (options.output) {
          out.end();
          await finished(out);
        }
      }),
    );
}

function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

interface BankUpdateOptions {
  description?: string;
  enable?: boolean;
  disable?: boolean;
  maxDistance?: string[];
  minMatchPercent?: string[];
  defaultMatching?: boolean;
  kind?: string;
  enabledRatio?: number;
  floodLimit?: string;
  publish?: boolean;
  unpublish?: boolean;
}

/** The bank's match settings after the command's options: each option given replaces that type's setting. */
function matchSettingsFromOptions(options: BankUpdateOptions, current: BankMatchSettings): BankMatchSettings | undefined {
  if (!options.maxDistance && !options.minMatchPercent && !options.defaultMatching) return undefined;
  const settings: BankMatchSettings = options.defaultMatching ? {} : structuredClone(current);
  const pair = (option: string, text: string) => {
    const [type, value] = text.split('=');
    if (!type || value === undefined) throw invalid(`${option} takes TYPE=VALUE, got ${JSON.stringify(text)}`);
    return [type, value] as const;
  };
  for (const text of options.maxDistance ?? []) {
    const [type, value] = pair('--max-distance', text);
    (settings.maxDistance ??= {})[type] = Number(value);
  }
  for (const text of options.minMatchPercent ?? []) {
    const [type, value] = pair('--min-match-percent', text);
    const [query, compared] = value.split(',').map((part) => (part.trim() === '' ? undefined : Number(part)));
    (settings.minMatchPercent ??= {})[type] = definedPercent(query, compared);
  }
  return settings;
}
