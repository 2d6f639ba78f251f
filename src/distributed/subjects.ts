import type { NatsSettings } from './settings.ts';

/**
 * Subject and stream names. Platforms publish to `<ns>.events.<platform>` (Bulwark moves
 * each event to its account's lane) or, faster, straight to a lane
 * `<ns>.events.<platform>.p<n>` chosen by partitionOf.
 */
export interface Names {
  eventStream: string;
  eventSubjects: string;
  /** Messages a platform sent without a lane, waiting to be split into lanes. */
  unpartitioned: string;
  lane(partition: number): string;
  laneConsumer(partition: number): string;
  repartitioner: string;
  deadStream: string;
  deadSubject: string;
  outbox(type: string): string;
  outboxAll: string;
}

const PLATFORM_TOKEN = /^[A-Za-z0-9_-]{1,64}$/;

export function names(settings: Pick<NatsSettings, 'namespace'>): Names {
  const ns = settings.namespace;
  const upper = ns.toUpperCase().replace(/-/g, '_');
  return {
    eventStream: `${upper}_EVENTS`,
    eventSubjects: `${ns}.events.>`,
    unpartitioned: `${ns}.events.*`,
    lane: (partition) => `${ns}.events.*.p${partition}`,
    laneConsumer: (partition) => `events-p${partition}`,
    repartitioner: 'events-repartition',
    deadStream: `${upper}_DEAD_LETTERS`,
    deadSubject: `${ns}.dead-letters`,
    outbox: (type) => `${ns}.outbox.${type.replace(/[^A-Za-z0-9_-]/g, '_')}`,
    outboxAll: `${ns}.outbox.>`,
  };
}

export function laneSubject(settings: Pick<NatsSettings, 'namespace'>, platform: string, partition: number): string {
  if (!PLATFORM_TOKEN.test(platform)) throw new Error(`a platform name is 1-64 of A-Z a-z 0-9 _ -, got ${JSON.stringify(platform)}`);
  return `${settings.namespace}.events.${platform}.p${partition}`;
}

/** The platform token of an event subject, `<ns>.events.<platform>[.p<n>]`. */
export const platformOf = (subject: string): string => subject.split('.')[2] ?? '';

/** FNV-1a over the account id: stable across processes and languages, so any publisher can compute it. */
export function partitionOf(accountId: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(accountId, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % partitions;
}

/**
 * The account whose events must keep their order: the one acting (actor), described
 * (account) or shown something (viewer). Read before validation, so an invalid event still
 * lands in some lane, where it is dead-lettered.
 */
export function orderingAccount(event: unknown): string {
  if (typeof event !== 'object' || event === null) return '';
  const fields = event as Record<string, unknown>;
  for (const key of ['actor', 'account', 'viewer']) if (typeof fields[key] === 'string') return fields[key];
  return '';
}
