import type { Command } from 'commander';
import { webhookConfigFromEnv } from '../actions/targets.ts';
import { type Bulwark, type BulwarkConfig, openBulwark } from '../app.ts';
import { locationPatternsFromEnv } from '../legal/notices.ts';

export interface GlobalOptions {
  dataDir: string;
  databaseUrl?: string;
  json?: boolean;
}

export function globals(command: Command): GlobalOptions {
  return command.optsWithGlobals() as GlobalOptions;
}

/** The instance configuration from global options and the environment (secrets only come from there). */
export function bulwarkConfig(options: GlobalOptions): BulwarkConfig {
  return {
    ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : { dataDir: options.dataDir }),
    ...(process.env.BULWARK_IDENTIFIER_KEY ? { identifierKey: process.env.BULWARK_IDENTIFIER_KEY } : {}),
    ...(process.env.BULWARK_MEDIA_KEY ? { mediaKey: process.env.BULWARK_MEDIA_KEY } : {}),
    webhooks: webhookConfigFromEnv(),
    notices: { locationPatterns: locationPatternsFromEnv(process.env.BULWARK_NOTICE_LOCATION_PATTERNS) },
  };
}

/** Opens the configured store for one command and closes it afterwards, whatever happens. */
export async function withBulwark<T>(command: Command, fn: (bulwark: Bulwark, options: GlobalOptions) => Promise<T>): Promise<T> {
  const options = globals(command);
  // One-off commands record actions; delivering them is the server's (or `actions dispatch`'s) work.
  const bulwark = await openBulwark({ ...bulwarkConfig(options), dispatchActions: false });
  try {
    return await fn(bulwark, options);
  } finally {
    await bulwark.close();
  }
}
