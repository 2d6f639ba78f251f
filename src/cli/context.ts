import type { Command } from 'commander';
import { type Bulwark, openBulwark } from '../app.ts';

export interface GlobalOptions {
  dataDir: string;
  databaseUrl?: string;
  json?: boolean;
}

export function globals(command: Command): GlobalOptions {
  return command.optsWithGlobals() as GlobalOptions;
}

/** Opens the configured store for one command and closes it afterwards, whatever happens. */
export async function withBulwark<T>(command: Command, fn: (bulwark: Bulwark, options: GlobalOptions) => Promise<T>): Promise<T> {
  const options = globals(command);
  const bulwark = await openBulwark(options.databaseUrl ? { databaseUrl: options.databaseUrl } : { dataDir: options.dataDir });
  try {
    return await fn(bulwark, options);
  } finally {
    await bulwark.close();
  }
}
