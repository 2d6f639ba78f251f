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

  it('takes background work one piece at a time while requests are in flight, and lets it go on once they have been quiet a moment', async () => {
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
    // On the embedded store the count touches zero many times a second in a surge: that alone wakes nothing.
    assert.equal(load.busy, true, 'a request that just ended still counts for a moment');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(order, ['a starts', 'a ends']);
    clock += 1000;
    assert.equal(load.busy, false);
    await b;
    assert.deepEqual(order, ['a starts', 'a ends', 'b runs']);
  });

  it('keeps paused work waiting while requests keep coming and going', async () => {
    let clock = 0;
    const load = new ForegroundLoad({ share: 0.25, maxPauseMs: 60_000, now: () => clock });
    let leave = load.enter();
    await load.turn(async () => {
      clock += 10_000;
    });
    let ran = false;
    const b = load.turn(async () => {
      ran = true;
    });
    // Each request ends just before the next begins, well within the quiet time.
    for (let i = 0; i < 5; i++) {
      leave();
      clock += 10;
      leave = load.enter();
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(ran, false);
    leave();
    clock += 1000;
    await b;
    assert.equal(ran, true);
  });

  it('lets short pieces run back to back on credit earned while waiting, and makes a long one pay', async () => {
    // Late timers in a surge must not starve the pipeline: waiting earns credit, up to a limit.
    let clock = 0;
    const load = new ForegroundLoad({ share: 0.25, maxPauseMs: 60_000, now: () => clock });
    const leave = load.enter();
    clock = 1000; // a wait long enough to fill the credit
    const ran: number[] = [];
    const short = (n: number) => load.turn(async () => {
      clock += 5;
      ran.push(n);
    });
    const shorts = Promise.all([short(1), short(2), short(3), short(4)]);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(ran, [1, 2, 3, 4], 'short pieces within the credit ran without waiting for a timer');
    await shorts;
    await load.turn(async () => {
      clock += 200;
    });
    let after = false;
    const next = load.turn(async () => {
      after = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(after, false, 'a piece after one that overdrew the credit waits');
    leave();
    clock += 1000;
    await next;
    assert.equal(after, true);
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
