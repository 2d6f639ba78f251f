import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The platform's webhook endpoint for benchmarks: counts deliveries and answers 200 at once. */
export async function countingWebhook(): Promise<{ url: string; readonly deliveries: number; close(): void }> {
  let deliveries = 0;
  const receiver = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      deliveries++;
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/actions`,
    get deliveries() {
      return deliveries;
    },
    close: () => receiver.close(),
  };
}
