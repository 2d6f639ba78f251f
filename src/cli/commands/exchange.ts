import type { Command } from 'commander';
import { invalid } from '../../errors.ts';
import type { ExchangeStatus } from '../../exchange/exchange-service.ts';
import { exchangeItemJson, exchangeJson, fetchRunJson } from '../../http/exchange-json.ts';
import { withBulwark } from '../context.ts';
import { printJson, table } from '../output.ts';
import { progress } from '../progress.ts';

interface ConfigOptions {
  config?: string;
  set?: string[];
  url?: string;
  path?: string;
  format?: string;
  signalType?: string;
  tag?: string[];
}

/**
 * The exchange's configuration from --config JSON, then the per-type flags (--url, --path,
 * --format, --signal-type, --tag for file lists) and any --set key=value on top.
 */
function configFromOptions(options: ConfigOptions): Record<string, unknown> | undefined {
  let config: Record<string, unknown> | undefined;
  if (options.config !== undefined) {
    try {
      config = JSON.parse(options.config);
    } catch {
      throw invalid('--config is not valid JSON', { field: 'config' });
    }
    if (typeof config !== 'object' || config === null || Array.isArray(config)) throw invalid('--config must be a JSON object', { field: 'config' });
  }
  const flags: Record<string, unknown> = {
    ...(options.url !== undefined ? { url: options.url } : {}),
    ...(options.path !== undefined ? { path: options.path } : {}),
    ...(options.format !== undefined ? { format: options.format } : {}),
    ...(options.signalType !== undefined ? { signal_type: options.signalType } : {}),
    ...(options.tag !== undefined ? { tags: options.tag } : {}),
  };
  for (const pair of options.set ?? []) {
    const at = pair.indexOf('=');
    if (at <= 0) throw invalid(`--set ${JSON.stringify(pair)}: expected key=value`, { field: 'set' });
    const raw = pair.slice(at + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // A bare word is a string.
    }
    flags[pair.slice(0, at)] = value;
  }
  if (config === undefined && Object.keys(flags).length === 0) return undefined;
  return { ...config, ...flags };
}

const when = (date: Date | null) => (date ? date.toISOString() : '–');

function printStatus(status: ExchangeStatus): void {
  const lines = [
    `${status.name} (${status.type}) → bank ${status.bank}: ${status.enabled ? 'enabled' : 'disabled'}${status.stopped ? ', STOPPED until its configuration changes or an operator fetches' : ''}`,
    `  last success     ${when(status.lastSuccessAt)}`,
    `  last attempt     ${when(status.lastAttemptAt)}`,
    `  checkpoint time  ${when(status.checkpointTime)}${status.fullReadUnderway ? ' (a whole read is under way)' : ''}`,
    `  next attempt     ${when(status.nextAttemptAt)}`,
    `  items            ${status.items.live} live, ${status.items.deleted} deleted; ${status.itemsFetched} fetched in all`,
    `  last error       ${status.lastError ?? '–'}${status.consecutiveFailures > 1 ? ` (${status.consecutiveFailures} failures in a row)` : ''}`,
    `  credentials      ${status.credentials.problem ?? (status.credentials.variables.length ? `from ${status.credentials.variables.join(', ')}` : 'none needed')}`,
    `  feedback         ${status.feedback.pending} pending, ${status.feedback.sent} sent, ${status.feedback.failed} failed${status.feedback.unsupported ? `, ${status.feedback.unsupported} the source takes none of` : ''}`,
    `  skipped          ${status.skipped.total}`,
    ...status.skipped.latest.slice(-10).map((skip) => `    ${skip.item}: ${skip.reason}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

const addConfigFlags = (command: Command) =>
  command
    .option('--config <json>', "the type's configuration as a JSON object (docs/exchanges.md)")
    .option('--set <key=value...>', 'one configuration field (value read as JSON when it parses)')
    .option('--url <url>', 'file: the list’s http(s) URL')
    .option('--path <path>', 'file: the list’s absolute path, inside BULWARK_EXCHANGE_FILE_DIR')
    .option('--format <format>', 'file: lines, csv, tsv or jsonl (default from the name)')
    .option('--signal-type <type>', 'file: the signal type of a list of bare values')
    .option('--tag <tag...>', 'file: tags given to every item');

export function exchangeCommands(program: Command): void {
  const exchange = program.command('exchange').description('share hash lists with other platforms and child-protection bodies');

  addConfigFlags(
    exchange
      .command('add')
      .description('add an exchange feeding a bank (created if absent); credentials come only from the environment, and a URL outside the type\'s own hosts must be on BULWARK_EXCHANGE_ALLOWED_HOSTS')
      .argument('<name>', 'lowercase letters, digits, - and _')
      .requiredOption('--type <type>', 'ncmec, stopncii, threatexchange, file or bulwark')
      .requiredOption('--bank <bank>', 'the bank its hashes go into')
      .option('--disabled', 'add it switched off'),
  ).action(async (name: string, options: ConfigOptions & { type: string; bank: string; disabled?: boolean }, command: Command) =>
    withBulwark(command, async (bulwark, { json }) => {
      const status = await bulwark.exchanges.add({ name, type: options.type, bank: options.bank, config: configFromOptions(options), enabled: !options.disabled });
      if (json) printJson(exchangeJson(status));
      else process.stdout.write(`added exchange ${name} (${status.type}) feeding bank ${status.bank}${status.credentials.problem ? `; ${status.credentials.problem}` : ''}\n`);
    }),
  );

  exchange
    .command('list')
    .description('list exchanges with their last fetch')
    .action(async (_options: object, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        const list = await bulwark.exchanges.list();
        if (json) return printJson(list.map(exchangeJson));
        process.stdout.write(
          table(
            list.map((status) => ({
              name: status.name,
              type: status.type,
              bank: status.bank,
              enabled: status.enabled ? 'yes' : 'no',
              'last success': when(status.lastSuccessAt),
              items: status.items.live,
              error: status.stopped ? `STOPPED: ${status.lastError}` : (status.lastError ?? ''),
            })),
          ),
        );
      }),
    );

  exchange
    .command('status')
    .description("an exchange's fetch status: last success, items, checkpoint time, last error, skipped items, feedback (all exchanges without a name)")
    .argument('[name]')
    .action(async (name: string | undefined, _options: object, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        const list = name ? [await bulwark.exchanges.status(name)] : await bulwark.exchanges.list();
        if (json) return printJson(name ? exchangeJson(list[0]) : list.map(exchangeJson));
        if (list.length === 0) process.stdout.write('(no exchanges)\n');
        for (const status of list) printStatus(status);
      }),
    );

  addConfigFlags(
    exchange
      .command('update')
      .description('switch an exchange on or off or replace its configuration (either lifts a stop)')
      .argument('<name>')
      .option('--enable', 'fetch it again')
      .option('--disable', 'stop fetching it (its entries stay)'),
  ).action(async (name: string, options: ConfigOptions & { enable?: boolean; disable?: boolean }, command: Command) =>
    withBulwark(command, async (bulwark, { json }) => {
      if (options.enable && options.disable) throw invalid('give --enable or --disable, not both');
      const status = await bulwark.exchanges.update(name, { enabled: options.enable ? true : options.disable ? false : undefined, config: configFromOptions(options) });
      if (json) printJson(exchangeJson(status));
      else printStatus(status);
    }),
  );

  exchange
    .command('fetch')
    .description('fetch an exchange now, whatever its schedule, and report what changed')
    .argument('<name>')
    .action(async (name: string, _options: object, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        const shown = json ? undefined : progress(`fetching ${name}`, undefined, 'items');
        try {
          const result = await bulwark.exchanges.fetchNow(name, (step) => shown?.update(step.items));
          shown?.stop();
          if (json) printJson(fetchRunJson(result));
          else {
            process.stdout.write(
              `${name}: ${result.pages} pages, ${result.items} items, ${result.entriesAdded} entries added, ${result.entriesRemoved} removed, ${result.skipped} skipped\n`,
            );
          }
          if (result.error) {
            process.stderr.write(`bulwark: ${name} ${result.stopped ? 'stopped' : 'will retry'}: ${result.error}\n`);
            process.exitCode = 6;
          }
        } finally {
          shown?.stop();
        }
      }),
    );

  exchange
    .command('item')
    .description('one item: what the source sent, the entries it holds, the feedback given on it')
    .argument('<name>')
    .argument('<key>')
    .action(async (name: string, key: string, _options: object, command: Command) =>
      withBulwark(command, async (bulwark) => printJson(exchangeItemJson(await bulwark.exchanges.item(name, key)))),
    );

  exchange
    .command('remove')
    .description('remove an exchange; the entries only it held leave its bank')
    .argument('<name>')
    .action(async (name: string, _options: object, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        const { entriesRemoved } = await bulwark.exchanges.remove(name);
        if (json) printJson({ removed: name, entries_removed: entriesRemoved });
        else process.stdout.write(`removed exchange ${name} and ${entriesRemoved} entries only it held\n`);
      }),
    );
}
