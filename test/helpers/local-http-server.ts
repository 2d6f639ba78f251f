import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * The HTTP listener under a stand-in for a third party's API: it listens on 127.0.0.1 and, when
 * closed, cuts the connections still open (a client's keep-alive would otherwise hold it open).
 */
export class LocalHttpServer {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly handler: (request: IncomingMessage, response: ServerResponse) => void) {}

  /** Starts listening; resolves to the port. */
  async listen(port = 0): Promise<number> {
    this.server = createServer(this.handler);
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }
}

export function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}
