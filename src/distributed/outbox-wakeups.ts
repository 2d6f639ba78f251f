import type { Bulwark } from '../app.ts';
import type { NatsLink } from './connection.ts';
import type { Names } from './subjects.ts';

/**
 * Tells other processes that this one committed outbox events, so their consumers read them
 * now instead of at their next poll. A notification is a hint with no content: the outbox is
 * the truth, so a lost one (NATS away) only delays, and after a reconnect everyone catches up.
 */
export function outboxWakeups(bulwark: Bulwark, link: NatsLink, n: Names, listen: boolean, catchUp: () => Promise<void> = () => bulwark.wake()): () => void {
  const pending = new Set<string>();
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const nc = link.current;
    if (nc && link.connected) for (const type of pending) nc.publish(n.outbox(type));
    pending.clear();
  };
  const unsubscribe = bulwark.events.subscribe((event) => {
    pending.add(event.type);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  });
  if (!listen) return unsubscribe;
  // A busy api sends a notification per commit; one catch-up pass at a time, and one more if any came during it.
  let waking = false;
  let again = false;
  const wake = () => {
    if (waking) {
      again = true;
      return;
    }
    waking = true;
    void (async () => {
      do {
        again = false;
        await catchUp().catch((error) => link.failed(error));
      } while (again);
      waking = false;
    })();
  };
  const stopReconnect = link.onReconnect(wake);
  let subscription: { unsubscribe(): void } | undefined;
  void link.ready.then((nc) => {
    // noEcho on the connection keeps this process's own notifications away: it heard its events already.
    subscription = nc.subscribe(n.outboxAll, { callback: () => wake() });
    wake();
  }, () => undefined);
  return () => {
    unsubscribe();
    stopReconnect();
    subscription?.unsubscribe();
  };
}
