import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A web server holding one list per path, answering conditional GETs by ETag as a static file server does. */
export class ListServer {
  /** A list with lastModified is served by date (Last-Modified / If-Modified-Since) instead of by ETag. */
  readonly lists = new Map<string, { body: string; contentType?: string; status?: number; retryAfter?: string; lastModified?: string }>();
  readonly log: { path: string; status: number; ifNoneMatch?: string; ifModifiedSince?: string; authorization?: string }[] = [];
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const path = request.url ?? '/';
      const list = this.lists.get(path);
      const entry = { path, ifNoneMatch: request.headers['if-none-match'], ifModifiedSince: request.headers['if-modified-since'], authorization: request.headers.authorization };
      if (!list) {
        this.log.push({ ...entry, status: 404 });
        response.writeHead(404).end();
        return;
      }
      if (list.status) {
        this.log.push({ ...entry, status: list.status });
        response.writeHead(list.status, list.retryAfter ? { 'retry-after': list.retryAfter } : {}).end();
        return;
      }
      if (list.lastModified) {
        const unchanged = request.headers['if-modified-since'] !== undefined && Date.parse(request.headers['if-modified-since']) >= Date.parse(list.lastModified);
        this.log.push({ ...entry, status: unchanged ? 304 : 200 });
        if (unchanged) response.writeHead(304).end();
        else response.writeHead(200, { 'last-modified': list.lastModified, 'content-type': list.contentType ?? 'text/plain' }).end(list.body);
        return;
      }
      const etag = `"${createHash('sha256').update(list.body).digest('hex').slice(0, 16)}"`;
      if (request.headers['if-none-match'] === etag) {
        this.log.push({ ...entry, status: 304 });
        response.writeHead(304, { etag }).end();
        return;
      }
      this.log.push({ ...entry, status: 200 });
      response.writeHead(200, { etag, 'content-type': list.contentType ?? 'text/plain' }).end(list.body);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

