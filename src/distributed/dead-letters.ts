import type { JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import { notFound as missing } from '../errors.ts';
import type { NatsSettings } from './settings.ts';
import { names } from './subjects.ts';

const H = { subject: 'Bulwark-Subject', error: 'Bulwark-Error', problems: 'Bulwark-Problems', deliveries: 'Bulwark-Deliveries', source: 'Bulwark-Source-Seq', msgId: 'Bulwark-Msg-Id' };

export interface DeadLetterProblem {
  index: number;
  path: string;
  message: string;
}

export interface DeadLetter {
  seq: number;
  /** Where the message was published; a retry publishes it there again. */
  subject: string;
  error: string;
  problems: DeadLetterProblem[];
  deliveries: number;
  deadAt: string;
  bytes: number;
  /** The event ids it carried (at most 20): what a platform needs to find it, without its content. */
  eventIds: string[];
}

/** One header line: no line breaks, bounded, so an error message cannot break or bloat the header block. */
const headerText = (text: string, max = 2000) => text.replace(/[\r\n]+/g, ' ').slice(0, max);

function eventIdsOf(data: Uint8Array): string[] {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(data).toString('utf8'));
    const list = Array.isArray(parsed) ? parsed : [parsed];
    return list.flatMap((item) => (typeof item === 'object' && item !== null && typeof (item as { event_id?: unknown }).event_id === 'string' ? [(item as { event_id: string }).event_id] : [])).slice(0, 20);
  } catch {
    return [];
  }
}

/**
 * Messages no worker could apply, kept in their own stream with the reason. Their bytes are
 * stored as they came, so a retry republishes exactly what the platform sent; listings show
 * the event ids and problems, never the events' content.
 */
export class DeadLetters {
  private readonly n;

  constructor(private readonly js: JetStreamClient, private readonly jsm: JetStreamManager, settings: NatsSettings) {
    this.n = names(settings);
  }

  /**
   * Stores the message with its error; resolves once JetStream has it, so the caller may then
   * drop the original. `body` replaces what is kept when the original must not be (media).
   */
  async add(message: JsMsg, error: string, problems: DeadLetterProblem[] = [], body: Uint8Array = message.data): Promise<void> {
    const h = headers();
    h.set(H.subject, message.subject);
    h.set(H.error, headerText(error));
    if (problems.length > 0) h.set(H.problems, headerText(JSON.stringify(problems.slice(0, 20)), 8000));
    h.set(H.deliveries, String(message.info.deliveryCount));
    h.set(H.source, String(message.seq));
    const msgId = message.headers?.get('Nats-Msg-Id');
    if (msgId) h.set(H.msgId, headerText(msgId, 200));
    // The same source message dead-lettered twice (its ack lost, say) is stored once.
    await this.js.publish(this.n.deadSubject, body, { headers: h, msgID: `dead.${message.info.stream}.${message.seq}` });
  }

  async list(limit = 100): Promise<{ deadLetters: DeadLetter[]; total: number }> {
    const info = await this.jsm.streams.info(this.n.deadStream);
    const out: DeadLetter[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && out.length < limit; seq++) {
      const letter = await this.get(seq);
      if (letter) out.push(letter.letter);
    }
    return { deadLetters: out, total: info.state.messages };
  }

  private async get(seq: number) {
    const stored = await this.jsm.streams.getMessage(this.n.deadStream, { seq }).catch(() => null);
    if (!stored) return undefined;
    const header = (key: string) => stored.header?.get(key) ?? '';
    let problems: DeadLetterProblem[] = [];
    try {
      problems = header(H.problems) ? (JSON.parse(header(H.problems)) as DeadLetterProblem[]) : [];
    } catch {
      problems = [];
    }
    const letter: DeadLetter = {
      seq,
      subject: header(H.subject),
      error: header(H.error),
      problems,
      deliveries: Number(header(H.deliveries) || 0),
      deadAt: stored.time.toISOString(),
      bytes: stored.data.length,
      eventIds: eventIdsOf(stored.data),
    };
    return { letter, data: stored.data };
  }

  /**
   * Publishes a dead letter to its original subject again and removes it. Its events keep
   * their ids, so any already applied count as duplicates; a message that is still invalid
   * comes back here with its problems.
   */
  async retry(seq: number): Promise<{ seq: number; subject: string }> {
    const found = await this.get(seq);
    if (!found) throw missing(`no dead letter ${seq}`);
    await this.js.publish(found.letter.subject, found.data, { msgID: `retry.${seq}` });
    await this.jsm.streams.deleteMessage(this.n.deadStream, seq);
    return { seq, subject: found.letter.subject };
  }

  /** Retries every dead letter there is now; those that fail again and come back are left for the next call. */
  async retryAll(): Promise<{ seq: number; subject: string }[]> {
    const info = await this.jsm.streams.info(this.n.deadStream);
    const done = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      if (await this.get(seq)) done.push(await this.retry(seq));
    }
    return done;
  }
}
