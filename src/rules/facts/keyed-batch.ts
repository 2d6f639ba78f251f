interface Waiter<Value> {
  promise: Promise<Value | undefined>;
  resolve: (value: Value | undefined) => void;
  reject: (error: unknown) => void;
}

/**
 * Collects the keys asked for until the event loop's next turn, then reads them all in one
 * call. A rule runner turning a batch of events into facts asks for every event's account at
 * once: one query for the batch instead of one per event (issue 11). A key asked for again
 * before the read starts shares it; one asked for after starts the next.
 */
export class KeyedBatch<Value> {
  private pending = new Map<string, Waiter<Value>>();

  constructor(private readonly read: (keys: string[]) => Promise<Map<string, Value>>) {}

  get(key: string): Promise<Value | undefined> {
    const waiting = this.pending.get(key);
    if (waiting) return waiting.promise;
    // setImmediate, not a microtask: callers started together may each await something first.
    if (this.pending.size === 0) setImmediate(() => void this.flush());
    let resolve!: Waiter<Value>['resolve'];
    let reject!: Waiter<Value>['reject'];
    const promise = new Promise<Value | undefined>((resolveWith, rejectWith) => {
      resolve = resolveWith;
      reject = rejectWith;
    });
    this.pending.set(key, { promise, resolve, reject });
    return promise;
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = new Map();
    try {
      const found = await this.read([...batch.keys()]);
      for (const [key, waiter] of batch) waiter.resolve(found.get(key));
    } catch (error) {
      for (const waiter of batch.values()) waiter.reject(error);
    }
  }
}
