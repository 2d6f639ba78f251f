import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';

/**
 * The body of a request whose client waits for "100 Continue": the first read sends it, then
 * the body flows from the request as usual.
 */
class ContinueWhenRead extends Readable {
  private started = false;

  constructor(
    private readonly source: IncomingMessage,
    private readonly sendContinue: () => void,
  ) {
    super();
  }

  override _read(): void {
    if (this.started) {
      this.source.resume();
      return;
    }
    this.started = true;
    this.source.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) this.source.pause();
    });
    this.source.once('end', () => this.push(null));
    this.source.once('error', (error) => this.destroy(error));
    this.source.once('close', () => {
      if (!this.source.complete) this.destroy(new Error('the client closed the connection before sending the whole body'));
    });
    this.sendContinue();
  }
}

/**
 * Answers `Expect: 100-continue` the way RFC 9110 (section 10.1.1) intends. Node sends
 * "100 Continue" as soon as the headers arrive, before authentication and before the body
 * limit is looked at, so a client streaming a body over the limit is cut off mid-upload
 * (the server answers 413 and closes while the body is still coming; many clients then
 * report a broken connection, never the 413). Here "100 Continue" goes out only when a
 * body parser starts reading the body: after authentication and routing, and after the
 * parser has compared Content-Length with its limit. A request refused before that (401,
 * 404, 413 by Content-Length) gets its final answer instead, its body is never sent, and
 * the connection is closed after the answer, since the client may not send the body.
 */
export function answerExpectContinue(app: FastifyInstance): void {
  // Requests whose client still waits for "100 Continue".
  const waiting = new WeakSet<IncomingMessage>();
  app.server.on('checkContinue', (request: IncomingMessage, response) => {
    waiting.add(request);
    app.server.emit('request', request, response);
  });
  app.addHook('preParsing', async (request, reply, payload) => {
    if (!waiting.has(request.raw)) return payload;
    return new ContinueWhenRead(request.raw, () => {
      waiting.delete(request.raw);
      reply.raw.writeContinue();
    });
  });
  app.addHook('onSend', async (request, reply, payload) => {
    if (waiting.has(request.raw)) reply.header('connection', 'close');
    return payload;
  });
}
