import { connect, type NatsConnection } from '@nats-io/transport-node';

export type LinkState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface LinkStatus {
  url: string;
  state: LinkState;
  /** When the link entered this state. */
  since: string;
  /** The JetStream consumers this process is pulling from, by durable name. */
  consumers: string[];
  lastError?: { message: string; at: string };
}

/**
 * One NATS connection for the process. It never gives up: the first connect and every later
 * one retry forever, so a worker started before NATS (or left by it) resumes by itself.
 * Start-up does not wait for it; work that needs NATS waits for `ready`.
 */
export class NatsLink {
  private state: LinkState = 'connecting';
  private since = new Date();
  private lastError: { message: string; at: string } | undefined;
  private readonly running = new Set<string>();
  private readonly reconnectListeners = new Set<() => void>();
  private closing = false;
  readonly ready: Promise<NatsConnection>;

  constructor(readonly url: string, name: string) {
    this.ready = connect({
      servers: url.split(',').map((server) => server.trim()),
      name,
      reconnect: true,
      maxReconnectAttempts: -1,
      waitOnFirstConnect: true,
      reconnectTimeWait: 500,
      // A server gone without a goodbye is noticed within seconds, not the default 2 minutes.
      pingInterval: 5_000,
      maxPingOut: 2,
      // Outbox wake-ups this process sends are for the others; it heard its own events already.
      noEcho: true,
    }).then((nc) => {
      if (this.closing) {
        void nc.close();
        throw new Error('NATS link closed');
      }
      this.enter('connected');
      void this.watch(nc);
      return nc;
    });
    // Nobody may be waiting on ready yet; the failure is reported through status().
    this.ready.catch((error: Error) => this.failed(error));
  }

  /** The connection if it is up now, for work that can go without it (wake-ups). */
  current: NatsConnection | undefined;

  private async watch(nc: NatsConnection): Promise<void> {
    this.current = nc;
    void nc.closed().then((error) => {
      if (error) this.failed(error);
      this.enter('closed');
    });
    for await (const status of nc.status()) {
      if (status.type === 'disconnect' || status.type === 'reconnecting' || status.type === 'staleConnection') {
        if (this.state === 'connected') this.enter('reconnecting');
      } else if (status.type === 'reconnect') {
        this.enter('connected');
        for (const listener of this.reconnectListeners) listener();
      } else if (status.type === 'error') this.failed(status.error);
    }
  }

  private enter(state: LinkState): void {
    if (this.state === state || this.state === 'closed') return;
    this.state = state;
    this.since = new Date();
  }

  failed(error: unknown): void {
    this.lastError = { message: error instanceof Error ? error.message : String(error), at: new Date().toISOString() };
  }

  get connected(): boolean {
    return this.state === 'connected';
  }

  /** Called after each reconnect: notifications sent while away were lost, so listeners catch up. */
  onReconnect(listener: () => void): () => void {
    this.reconnectListeners.add(listener);
    return () => this.reconnectListeners.delete(listener);
  }

  consumerRunning(name: string, running: boolean): void {
    if (running) this.running.add(name);
    else this.running.delete(name);
  }

  status(): LinkStatus {
    return {
      url: this.url.replace(/\/\/[^@/]*@/, '//***@'),
      state: this.state,
      since: this.since.toISOString(),
      consumers: [...this.running].sort(),
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  async close(): Promise<void> {
    this.closing = true;
    const nc = this.current;
    this.enter('closed');
    if (nc && !nc.isClosed()) await nc.drain().catch(() => nc.close());
  }
}
