import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { NatsSettings } from '../settings.ts';
import { type HashJobNames, hashJobNames } from './streams.ts';

/**
 * Which hashing attempts of a job began and never finished: the evidence that its media stops
 * workers. A worker records an attempt just before it hands the media to its hashers and
 * removes the record once they answered or failed in an ordinary way (pool busy, object store
 * away). A worker killed or stalled by the media never removes it. JetStream's delivery count
 * cannot tell these apart: it also climbs for jobs naked because a worker was busy, or
 * redelivered after a link dropped, which say nothing about the media.
 */
export class HashAttempts {
  private readonly names: HashJobNames;

  constructor(private readonly js: JetStreamClient, private readonly jsm: JetStreamManager, settings: NatsSettings) {
    this.names = hashJobNames(settings);
  }

  /** Records an attempt as begun; the returned sequence removes it again. */
  async begin(jobId: string): Promise<number> {
    return (await this.js.publish(this.names.attemptsSubject(jobId), new Uint8Array(0))).seq;
  }

  /** The attempt ended without stopping the worker. */
  async finished(seq: number): Promise<void> {
    await this.jsm.streams.deleteMessage(this.names.attemptsStream, seq, false);
  }

  /** Attempts on the job that began and never finished: each one killed or stalled a worker. */
  async unfinished(jobId: string): Promise<number> {
    const subject = this.names.attemptsSubject(jobId);
    const info = await this.jsm.streams.info(this.names.attemptsStream, { subjects_filter: subject });
    return info.state.subjects?.[subject] ?? 0;
  }

  /** Drops the job's records once it is answered for good. */
  async forget(jobId: string): Promise<void> {
    await this.jsm.streams.purge(this.names.attemptsStream, { filter: this.names.attemptsSubject(jobId) });
  }
}
