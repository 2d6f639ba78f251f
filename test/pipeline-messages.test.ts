import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type PipelineMessage, splitBySize, toPipelineMessage } from '../src/distributed/pipeline-relay.ts';
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
