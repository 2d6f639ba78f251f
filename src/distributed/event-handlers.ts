import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { BulwarkError } from '../errors.ts';
import type { EventIngestService } from '../ingest/event-ingest.ts';
import { parsePlatformEvents } from '../ingest/event-ingest.ts';
import type { PlatformEvent } from '../ingest/platform-events.ts';
import { MAX_EVENTS_PER_BATCH } from '../http/routes/events.ts';
import { UnusableMessage, type MessageHandler } from './lane-worker.ts';
import type { DeadLetterProblem } from './dead-letters.ts';
import type { NatsSettings } from './settings.ts';
import { laneSubject, orderingAccount, partitionOf, platformOf } from './subjects.ts';

/**
 * A message holds one event, an array of events, or `{ "events": [...] }` as POST /v1/events
 * takes it. Every event needs an event_id: it is what makes a redelivery harmless.
 */
export function decodeEvents(data: Uint8Array): { raw: unknown[]; events: PlatformEvent[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(data).toString('utf8'));
  } catch (error) {
    throw new UnusableMessage(`not JSON: ${(error as Error).message}`);
  }
  const raw = Array.isArray(parsed)
    ? parsed
    : typeof parsed === 'object' && parsed !== null && Array.isArray((parsed as { events?: unknown }).events)
      ? (parsed as { events: unknown[] }).events
      : [parsed];
  if (raw.length === 0) throw new UnusableMessage('the message holds no events');
  if (raw.length > MAX_EVENTS_PER_BATCH) throw new UnusableMessage(`${raw.length} events in one message; at most ${MAX_EVENTS_PER_BATCH}`);
  let events: PlatformEvent[];
  try {
    events = parsePlatformEvents(raw);
  } catch (error) {
    if (error instanceof BulwarkError && error.kind === 'invalid') {
      throw new UnusableMessage(error.message, ((error.details?.problems as DeadLetterProblem[] | undefined) ?? []).slice(0, 20));
    }
    throw error;
  }
  const missing = events.flatMap((event, index) => (event.event_id === undefined ? [{ index, path: 'event_id', message: 'required on JetStream: redeliveries are recognised by it' }] : []));
  if (missing.length > 0) throw new UnusableMessage(`${missing.length} of ${events.length} events have no event_id; none were applied`, missing.slice(0, 20));
  return { raw, events };
}

/** A lane's handler: applies the batch in one transaction; events seen before count as duplicates. */
export function applyEvents(ingest: EventIngestService): MessageHandler {
  return async (message: JsMsg) => {
    const { events } = decodeEvents(message.data);
    await ingest.apply(events);
  };
}

/**
 * Splits a message a platform sent without a lane into one message per lane, keeping the
 * events' order within each. The lane messages' ids derive from the source message's
 * sequence, so splitting it again after a crash publishes nothing twice within JetStream's
 * duplicate window (and after it, the events' ids still make the copies harmless).
 */
export function splitIntoLanes(js: JetStreamClient, settings: NatsSettings): MessageHandler {
  return async (message: JsMsg) => {
    const { raw } = decodeEvents(message.data);
    const lanes = new Map<number, unknown[]>();
    for (const event of raw) {
      const lane = partitionOf(orderingAccount(event), settings.partitions);
      const list = lanes.get(lane) ?? [];
      list.push(event);
      lanes.set(lane, list);
    }
    const platform = platformOf(message.subject);
    await Promise.all(
      [...lanes].map(([lane, events]) => js.publish(laneSubject(settings, platform, lane), JSON.stringify(events), { msgID: `split.${message.seq}.p${lane}` })),
    );
  };
}
