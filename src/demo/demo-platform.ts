import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhookSignature } from '../actions/signature.ts';
import type { AccountDetails, AccountDetailsRequest } from '../reporting/ncmec/account-details.ts';

/** Where the demo platform answers Bulwark's account-details callback (docs/ncmec.md). */
export const DEMO_ACCOUNT_DETAILS_PATH = '/ncmec/account-details';

/** What the demo shows of an action: its type, target and who decided it (never more). */
export interface ReceivedAction {
  type: string;
  target: { kind: string; id: string };
  decidedBy: string;
}

export const describeAction = (action: ReceivedAction) => `${action.type} ${action.target.kind} ${action.target.id} (decided by ${action.decidedBy})`;

/**
 * A stand-in for the platform's enforcement endpoint, so the demo shows actions arriving:
 * it checks each request's signature, hands on the action's type, target and decider, and
 * answers that it applied it. It also answers the CyberTipline account-details callback with
 * made-up identifiers from reserved example ranges (platform.example, 192.0.2.0/24).
 */
export async function startDemoPlatform(
  secret: string,
  received: (action: ReceivedAction) => void,
  log: (line: string) => void,
): Promise<{ url: string; accountDetailsUrl: string; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (!verifyWebhookSignature(secret, String(request.headers['x-bulwark-timestamp']), body, String(request.headers['x-bulwark-signature']))) {
        log('demo platform: refused a request with a bad signature');
        response.writeHead(401).end();
        return;
      }
      if (request.url === DEMO_ACCOUNT_DETAILS_PATH) {
        const asked = JSON.parse(body) as AccountDetailsRequest;
        log(`demo platform: account details for report ${asked.report_id} (account ${asked.account_id})`);
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(demoAccountDetails(asked)));
        return;
      }
      const action = JSON.parse(body) as { type: string; target: { kind: string; id: string }; decided_by: string };
      received({ type: action.type, target: { kind: action.target.kind, id: action.target.id }, decidedBy: action.decided_by });
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ applied: true }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${base}/enforcement`,
    accountDetailsUrl: `${base}${DEMO_ACCOUNT_DETAILS_PATH}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Made-up details of a demo account: reserved example domains and documentation addresses only. */
export function demoAccountDetails(asked: AccountDetailsRequest): AccountDetails {
  const handle = asked.account_id.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 40) || 'account';
  return {
    account_id: asked.account_id,
    emails: [{ address: `${handle}@platform.example`, type: 'Home', verified: true }],
    phones: [],
    screen_name: `demo-${handle}`,
    display_names: [`Demo ${handle}`],
    profile_urls: [`https://platform.example/u/${handle}`],
    ip_events: [
      { ip_address: '192.0.2.10', event: 'Registration', at: '2024-01-02T08:00:00Z' },
      { ip_address: '2001:db8::10', event: 'Upload', at: asked.incident_date_time || '2024-05-01T09:30:00Z', port: 50123 },
    ],
  };
}
