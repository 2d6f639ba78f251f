/**
 * Deadlines for a client under test that pass on an event, not on the clock: a stand-in
 * server hands `next` to the client as its deadline option, and when it takes a call it will
 * never answer it calls `pass()`, so every deadline still waiting passes at once with the
 * TimeoutError a real deadline gives. Answered calls are never cut short, however slow the
 * machine.
 */
export class EventDeadlines {
  private readonly waiting = new Set<AbortController>();

  constructor(private readonly reason: string) {}

  /** A new deadline signal; bound, so it can be passed as a client option as it is. */
  readonly next = (): AbortSignal => {
    const controller = new AbortController();
    this.waiting.add(controller);
    return controller.signal;
  };

  pass(): void {
    for (const controller of this.waiting) controller.abort(new DOMException(this.reason, 'TimeoutError'));
    this.waiting.clear();
  }
}
