import type { Command } from 'commander';
import { withBulwark } from '../context.ts';
import { printJson, table } from '../output.ts';

export function apiKeyCommands(program: Command): void {
  const apikey = program.command('apikey').description('manage the API keys that platforms use to call Bulwark');

  apikey
    .command('create')
    .description('create a key; it is printed once and only its hash is stored')
    .argument('<name>', 'who the key is for')
    .option('--feed', "a key for a peer platform: it reads published bank feeds and sends feedback on them, and nothing else")
    .option('--feed-banks <names>', 'with --feed: the only published banks the key may read, comma-separated (default: every published bank)')
    .action(async (name: string, options: { feed?: boolean; feedBanks?: string }, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        const feedBanks = options.feedBanks?.split(',').map((bank) => bank.trim()).filter(Boolean);
        const { key, info } = await bulwark.apiKeys.create(name, { scope: options.feed || feedBanks ? 'feed' : 'full', feedBanks });
        if (json) printJson({ id: info.id, name: info.name, scope: info.scope, feed_banks: info.feedBanks, key });
        else process.stdout.write(`${key}\n(${info.scope === 'feed' ? 'feed ' : ''}key ${info.id} for ${info.name}: store it now, it is not shown again)\n`);
      }),
    );

  apikey
    .command('list')
    .description('list keys (never the keys themselves)')
    .action(async (_options: object, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        const keys = await bulwark.apiKeys.list();
        const rows = keys.map((k) => ({
          id: k.id,
          name: k.name,
          prefix: k.prefix,
          scope: k.scope === 'feed' ? `feed${k.feedBanks ? `:${k.feedBanks.join(',')}` : ''}` : 'full',
          created_at: k.createdAt.toISOString(),
          last_used_at: k.lastUsedAt?.toISOString() ?? '',
          revoked_at: k.revokedAt?.toISOString() ?? '',
        }));
        if (json) printJson(rows);
        else process.stdout.write(table(rows));
      }),
    );

  apikey
    .command('revoke')
    .description('revoke a key')
    .argument('<id>', 'key id', (v) => Number.parseInt(v, 10))
    .action(async (id: number, _options: object, command: Command) =>
      withBulwark(command, async (bulwark, { json }) => {
        await bulwark.apiKeys.revoke(id);
        if (json) printJson({ revoked: id });
        else process.stdout.write(`revoked key ${id}\n`);
      }),
    );
}
