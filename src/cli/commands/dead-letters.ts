import { type Command, Option } from 'commander';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { DeadLetters } from '../../distributed/dead-letters.ts';
import { natsSettingsFromEnv } from '../../distributed/settings.ts';
import { BulwarkError, invalid } from '../../errors.ts';
import { globals } from '../context.ts';
import { printJson, table } from '../output.ts';

/** A one-off command fails quickly when NATS is not there, instead of retrying forever as a server does. */
async function withDeadLetters<T>(natsUrl: string | undefined, fn: (letters: DeadLetters) => Promise<T>): Promise<T> {
  const settings = natsSettingsFromEnv(natsUrl);
  if (!settings) throw invalid('name the NATS server with --nats-url or BULWARK_NATS_URL');
  let nc;
  try {
    nc = await connect({ servers: settings.url.split(','), timeout: 5000, reconnect: false, name: 'bulwark-cli' });
  } catch (error) {
    throw new BulwarkError('unavailable', `cannot reach NATS at ${settings.url}: ${(error as Error).message}`);
  }
  try {
    return await fn(new DeadLetters(jetstream(nc), await jetstreamManager(nc), settings));
  } finally {
    await nc.close();
  }
}

const seqArg = (value: string) => {
  if (!/^\d{1,15}$/.test(value) || Number(value) < 1) throw invalid(`a dead letter's seq is a positive whole number, got ${JSON.stringify(value)}`);
  return Number(value);
};

/** Platform-event messages from JetStream that could not be applied: list them, publish them again. */
export function deadLetterCommands(program: Command): void {
  const group = program.command('dead-letters').description('platform-event messages from JetStream that could not be applied: list, retry');
  const natsOption = () => new Option('--nats-url <url>', 'NATS server').env('BULWARK_NATS_URL');

  group
    .command('list')
    .description('dead letters, oldest first, with the error (never the events’ content)')
    .addOption(natsOption())
    .option('--limit <n>', 'at most this many', seqArg, 100)
    .action(async (options: { natsUrl?: string; limit: number }, command: Command) => {
      const { json } = globals(command);
      await withDeadLetters(options.natsUrl, async (letters) => {
        const { deadLetters, total } = await letters.list(options.limit);
        if (json) return printJson({ dead_letters: deadLetters, total });
        if (deadLetters.length === 0) return void process.stdout.write('no dead letters\n');
        process.stdout.write(`${table(deadLetters.map((l) => ({ seq: l.seq, subject: l.subject, deliveries: l.deliveries, dead_at: l.deadAt, events: l.eventIds.join(' '), error: l.error.slice(0, 120) })))}\n`);
        if (total > deadLetters.length) process.stdout.write(`${total - deadLetters.length} more; use --limit\n`);
      });
    });

  group
    .command('retry')
    .description('publish dead letters to their original subject again (already applied events count as duplicates)')
    .argument('[seq...]', 'dead letters to retry', (value: string, previous: number[] = []) => [...previous, seqArg(value)])
    .addOption(natsOption())
    .option('--all', 'retry every dead letter there is now')
    .action(async (seqs: number[] | undefined, options: { natsUrl?: string; all?: boolean }, command: Command) => {
      const { json } = globals(command);
      if (!options.all && !seqs?.length) throw invalid('name the dead letters to retry by seq, or pass --all');
      await withDeadLetters(options.natsUrl, async (letters) => {
        const retried = [];
        if (options.all) retried.push(...(await letters.retryAll()));
        else for (const seq of seqs!) retried.push(await letters.retry(seq));
        if (json) return printJson({ retried });
        process.stdout.write(`retried ${retried.length} dead letter${retried.length === 1 ? '' : 's'}${retried.map((r) => `\n  ${r.seq} → ${r.subject}`).join('')}\n`);
      });
    });
}
