import { createHash } from 'node:crypto';
import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import type { PlatformEventInput } from '../ingest/platform-events.ts';
import type { NatsSettings } from './settings.ts';
import { laneSubject, orderingAccount, partitionOf } from './subjects.ts';

/**
 * For platforms (and tests, benchmarks) in TypeScript: publishes events straight to their
 * accounts' lanes, one message per lane, in the given order. A message's id comes from its
 * events' ids, so publishing the same batch again after a lost answer is dropped by
 * JetStream, and after its duplicate window by Bulwark.
 */
export async function publishPlatformEvents(
  js: JetStreamClient,
  settings: Pick<NatsSettings, 'namespace' | 'partitions'>,
  platform: string,
  events: readonly PlatformEventInput[],
): Promise<PubAck[]> {
  const lanes = new Map<number, PlatformEventInput[]>();
  for (const event of events) {
    const lane = partitionOf(orderingAccount(event), settings.partitions);
    const list = lanes.get(lane) ?? [];
    list.push(event);
    lanes.set(lane, list);
  }
  return Promise.all(
    [...lanes].map(([lane, list]) => {
      const msgID = list.length === 1 && list[0].event_id ? list[0].event_id : `b.${createHash('sha256').update(list.map((event) => event.event_id ?? '').join('\n')).digest('hex')}`;
      return js.publish(laneSubject(settings, platform, lane), JSON.stringify(list), { msgID });
    }),
  );
}
