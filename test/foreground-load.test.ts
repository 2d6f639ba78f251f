import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BulwarkError } from '../src/errors.ts';
import { ForegroundLoad, pipelineShareFromEnv } from '../src/events/foreground-load.ts';

/** A promise with its resolve function outside, for work a test finishes itself. */
function gate<T = void>(): { done: Promise<T>; finish: (value: T) => void } {
  let finish!: (value: T) => void;
  const done = new Promise<T>((resolve) => (finish = resolve));
  return { done, finish };
}

describe('background work giving way to requests', () => {
  it('runs background work at once, side by side, while no request is in flight', async () => {
    const load = new ForegroundLoad({ share: 0.25 });
    const first = gate();
    const started: string[] = [];
    const a = load.turn(async () => {
      started.push('a');
      await first.done;
    });
    const b = load.turn(async () => void started.push('b'));
    await b;
    assert.deepEqual(started, ['a', 'b'], 'b did not wait for a');
    first.finish();
    await a;
  });

  it('takes background work one piece at a time while requests are in flight, and lets it go on as soon as they end', async () => {
    // a's work takes ten seconds on this clock, so b owes thirty: far longer than this test runs.
    let clock = 0;
    const load = new ForegroundLoad({ share: 0.25, maxPauseMs: 60_000, now: () => clock });
    const leave = load.enter();
    assert.equal(load.busy, true);
    const firstRunning = gate();
    const mayFinish = gate();
    const order: string[] = [];
    const a = load.turn(async () => {
      order.push('a starts');
      firstRunning.finish();
      await mayFinish.done;
      clock += 10_000;
      order.push('a ends');
    });
    const b = load.turn(async () => void order.push('b runs'));
    await firstRunning.done;
    mayFinish.finish();
    await a;
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(order, ['a starts', 'a ends']);
    leave();
    leave(); // a second call is harmless: a request leaves once
    await b;
    assert.deepEqual(order, ['a starts', 'a ends', 'b runs']);
    assert.equal(load.busy, true, 'a request that just ended still counts for a moment');
    clock += 1000;
    assert.equal(load.busy, false);
  });

  it('passes a failure of background work to its caller and keeps the line moving', async () => {
    const load = new ForegroundLoad({ share: 0.5 });
    const leave = load.enter();
    const failing = load.turn(async () => {
      throw new Error('batch failed');
    });
    await assert.rejects(failing, /batch failed/);
    leave();
    assert.equal(await load.turn(async () => 'next'), 'next');
  });

  it('never gives way with a share of 1, and refuses shares outside (0, 1]', async () => {
    const load = new ForegroundLoad({ share: 1 });
    load.enter();
    const both = await Promise.all([load.turn(async () => 1), load.turn(async () => 2)]);
    assert.deepEqual(both, [1, 2]);
    assert.throws(() => new ForegroundLoad({ share: 0 }), BulwarkError);
    assert.throws(() => new ForegroundLoad({ share: 1.5 }), BulwarkError);
    assert.equal(pipelineShareFromEnv({}), undefined);
    assert.equal(pipelineShareFromEnv({ BULWARK_PIPELINE_SHARE: '0.5' }), 0.5);
    assert.throws(() => pipelineShareFromEnv({ BULWARK_PIPELINE_SHARE: 'half' }), /BULWARK_PIPELINE_SHARE/);
  });
});
