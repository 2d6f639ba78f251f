import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JetStreamClient } from '@nats-io/jetstream';
import { type PipelineMessage, pipelineRelay, splitBySize, toPipelineMessage } from '../src/distributed/pipeline-relay.ts';
import { pipelinePartition } from '../src/distributed/pipeline-streams.ts';
import { DEFAULT_NATS } from '../src/distributed/settings.ts';
import { type DomainEvent, EventLog } from '../src/events/event-log.ts';
import type { PipelineStage } from '../src/events/outbox-consumer.ts';
import { migrate } from '../src/store/migrate.ts';
import { openSql } from '../src/store/sql.ts';
import { decodePipelineMessage } from '../src/distributed/pipeline-stages.ts';

const event = (seq: number, payload: unknown): PipelineMessage =>
  toPipelineMessage({ seq, type: 'network.detected', subject: `network:${seq}`, payload, occurredAt: new Date('2026-12-07T10:00:00Z'), position: { txId: '100', seq } });
const bytes = (part: PipelineMessage[]) => Buffer.byteLength(JSON.stringify(part));

describe('pipeline messages cut to fit the server’s payload limit', () => {
  it('splits a batch into messages under the limit, in order, and keeps small batches whole', () => {
    const list = Array.from({ length: 60 }, (_, i) => event(i + 1, { members: Array.from({ length: 500 }, (_, m) => `account-${i}-${m}`) }));
    const limit = 64 * 1024;
    const parts = splitBySize(list, limit);
    assert.ok(parts.length > 1, 'a batch larger than one message is split');
    for (const part of parts) assert.ok(bytes(part) <= limit, `a message of ${bytes(part)} bytes`);
    assert.deepEqual(parts.flat().map((item) => item.seq), list.map((item) => item.seq), 'every event once, in outbox order');
    assert.ok(parts.flat().every((item) => item.payload !== undefined), 'events that fit keep their payload');
    assert.equal(splitBySize(list.slice(0, 2), limit).length, 1);
  });

  it('sends an event larger than a message without its payload, which the stage reads from the outbox', () => {
    const huge = event(7, { members: Array.from({ length: 20_000 }, (_, m) => `account-${m}`) });
    const parts = splitBySize([event(6, { small: true }), huge, event(8, { small: true })], 32 * 1024);
    const items = parts.flat();
    assert.deepEqual(items.map((item) => item.seq), [6, 7, 8]);
    assert.equal(items[1].payload_in_store, true);
    const decoded = decodePipelineMessage(Buffer.from(JSON.stringify(items)));
    assert.deepEqual(decoded.map((item) => item.payload), [{ small: true }, undefined, { small: true }]);
  });
});

describe('the relay’s partitions', () => {
  it('keeps a stage’s events in order by its order key, not only by subject', async () => {
    const sql = await openSql({});
    await migrate(sql);
    const events = new EventLog(sql);
    const settings = { ...DEFAULT_NATS, url: 'nats://unused', pipelinePartitions: 8 };
    // Two subjects that fall in different partitions by subject alone.
    const subjects = ['case:1', ...Array.from({ length: 50 }, (_, i) => `appeal:${i}`)];
    const other = subjects.slice(1).find((subject) => pipelinePartition(subject, 8) !== pipelinePartition('case:1', 8))!;
    await sql.transaction((tx) => events.append(tx, 'test.decided', 'case:1', { decision_id: 42 }));
    await sql.transaction((tx) => events.append(tx, 'test.appealed', other, { decision_id: 42 }));
    const published: string[] = [];
    const js = { publish: async (subject: string) => void published.push(subject) } as unknown as JetStreamClient;
    const stage = (name: string, orderKey?: PipelineStage['orderKey']): PipelineStage => ({ name, types: ['test.decided', 'test.appealed'], handleBatch: async () => [], orderKey });
    const byDecision = (event: DomainEvent) => `decision:${(event.payload as { decision_id: number }).decision_id}`;
    await pipelineRelay(sql, events, js, settings, [stage('by-subject'), stage('by-decision', byDecision)], () => 1024 * 1024).drain();
    const partitionsOf = (name: string) => new Set(published.filter((subject) => subject.includes(`.${name}.`)));
    assert.equal(partitionsOf('by-subject').size, 2, 'by subject, the two events go to two partitions');
    assert.equal(partitionsOf('by-decision').size, 1, 'by the decision they share, one partition keeps them in order');
    await sql.close();
  });
});
