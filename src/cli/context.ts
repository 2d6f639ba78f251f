import type { Command } from 'commander';
import { webhookConfigFromEnv } from '../actions/targets.ts';
import { type Bulwark, type BulwarkConfig, openBulwark } from '../app.ts';
import { locationPatternsFromEnv } from '../legal/notices.ts';
import { handOverToJetStream } from '../distributed/pipeline-outside.ts';
import { natsSettingsFromEnv } from '../distributed/settings.ts';

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
    hashing: hashingConfigFromEnv(process.env),
    video: videoConfigFromEnv(process.env),
    webhooks: webhookConfigFromEnv(),
    notices: { locationPatterns: locationPatternsFromEnv(process.env.BULWARK_NOTICE_LOCATION_PATTERNS) },
  };
}

/** A number from the environment, or undefined when unset; anything else than a number ≥ 0 stops start-up. */
function numberFromEnv(env: NodeJS.ProcessEnv, name: string, whole: boolean): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!(whole ? Number.isSafeInteger(value) : Number.isFinite(value)) || value < 0) {
    throw new Error(`${name} must be a ${whole ? 'whole ' : ''}number of 0 or more, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** Only the settings that are set, so defaults stay the domain's. */
const defined = <T extends object>(settings: T): Partial<T> => Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined)) as Partial<T>;

/** BULWARK_HASH_WORKERS (threads; 0 hashes inline) and BULWARK_HASH_QUEUE (jobs that may wait). */
export function hashingConfigFromEnv(env: NodeJS.ProcessEnv): NonNullable<BulwarkConfig['hashing']> {
  return defined({ workers: numberFromEnv(env, 'BULWARK_HASH_WORKERS', true), maxQueue: numberFromEnv(env, 'BULWARK_HASH_QUEUE', true) });
}

/** BULWARK_VIDEO_MAX_BYTES, BULWARK_VIDEO_MAX_SECONDS and BULWARK_VIDEO_SECONDS_PER_HASH (0: every frame). */
export function videoConfigFromEnv(env: NodeJS.ProcessEnv): NonNullable<BulwarkConfig['video']> {
  return defined({
    maxBytes: numberFromEnv(env, 'BULWARK_VIDEO_MAX_BYTES', true),
    maxDurationSeconds: numberFromEnv(env, 'BULWARK_VIDEO_MAX_SECONDS', false),
    secondsPerHash: numberFromEnv(env, 'BULWARK_VIDEO_SECONDS_PER_HASH', false),
  });
}

/** Opens the configured store for one command and closes it afterwards, whatever happens. */
export async function withBulwark<T>(command: Command, fn: (bulwark: Bulwark, options: GlobalOptions) => Promise<T>): Promise<T> {
  const options = globals(command);
  // One-off commands record actions; delivering them is the server's (or `actions dispatch`'s) work.
  const bulwark = await openBulwark({ ...bulwarkConfig(options), dispatchActions: false });
  let jetstreamStages: Awaited<ReturnType<typeof handOverToJetStream>>;
  try {
    jetstreamStages = await handOverToJetStream(bulwark, natsSettingsFromEnv(undefined));
    return await fn(bulwark, options);
  } finally {
    await jetstreamStages?.close();
    await bulwark.close();
  }
}
