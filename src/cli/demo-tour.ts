import { join } from 'node:path';
import { type ReceivedAction, describeAction } from '../demo/demo-platform.ts';
import type { NetworkDemo } from '../demo/demo-seed.ts';

export interface TourFacts {
  address: string;
  dir: string;
  samples: string;
  key: string;
  keyFromEnv: boolean;
  seconds: number;
  /** What the stand-in platform received while the demo loaded. */
  received: ReceivedAction[];
  queues: { name: string; open: number }[];
  network: NetworkDemo;
  review: { reviewer: string; lead: string; password: string };
  noticePatternsFromEnv: boolean;
  logLevel: string;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString('en')} ${n === 1 ? one : many}`;

/**
 * The demo's guided tour: each part says what it is, then shows what happened and the
 * commands to try. Commands use $BULWARK_URL and $BULWARK_KEY (set once at the top), the
 * same variables docs/quickstart.md uses, so they stay short enough to read.
 */
export function demoTour(facts: TourFacts): string {
  const { address, dir, samples, network, review } = facts;
  const auth = 'curl -s -H "Authorization: Bearer $BULWARK_KEY"';
  const consoleUrl = `${address.replace('127.0.0.1', 'localhost')}/console/`;
  const networks = network.networks.map((n) => `network ${n.id}: ${plural(n.size, 'account')}, ${plural(n.sellers, 'seller')}, ${plural(n.minorContacts, 'minor')} contacted`);
  const guardrail = JSON.stringify({ viewer: network.minor, candidates: [{ account_id: network.seller }, { account_id: network.ordinary }] });
  const openCases = facts.queues.filter((queue) => queue.open > 0).map((queue) => `${queue.name} ${queue.open}`).join(', ') || 'none';
  const lines = [
    '',
    `Ready in ${facts.seconds} s: Bulwark is listening on ${address} (OpenAPI document: ${address}/openapi.json).`,
    'Set these in your shell once; every command below uses them:',
    `  export BULWARK_URL=${address} BULWARK_KEY=${facts.key}${facts.keyFromEnv ? '   # the key from BULWARK_API_KEY' : ''}`,
    '',
    '1. Known media. A bank of hashes of 20 generated pictures stands in for a list of known illegal',
    '   media. Every upload is hashed and matched against the banks. Try a re-encoded copy of a bank',
    '   picture (a near match), then an unrelated picture (no match):',
    `   ${auth} -H "Content-Type: image/jpeg" --data-binary @${join(samples, 'known-resized.jpg')} $BULWARK_URL/v1/match`,
    `   ${auth} -H "Content-Type: image/png" --data-binary @${join(samples, 'unrelated.png')} $BULWARK_URL/v1/match`,
    '',
    '2. Rules, cases and enforcement. The rule file (src/demo/demo-rules.yaml) turns matches, detected',
    '   networks and reports into cases and actions. Actions go as signed webhooks to a stand-in for',
    '   your platform, which prints each one it receives. While the demo loaded it received:',
    ...receivedLines(facts.received),
    `   Open cases by queue: ${openCases}.`,
    `   ${auth} $BULWARK_URL/v1/cases`,
    '',
    `3. Review. Decide cases in the console at ${consoleUrl}`,
    '   (media stays blurred and greyscale until you reveal it); a decision sends its actions to the',
    '   stand-in platform, which prints them here.',
    `   reviewer: ${review.reviewer}  lead: ${review.lead}  password for both (this run): ${review.password}`,
    '',
    `4. Networks. A synthetic platform of ${plural(network.accounts, 'account')} with planted offender networks;`,
    `   detection found ${plural(network.networks.length, 'network')}${networks.length ? ':' : '.'}`,
    ...networks.map((line) => `     ${line}`),
    '   Guardrails then keep their members out of minors\' recommendations:',
    `   ${auth} $BULWARK_URL/v1/networks`,
    `   ${auth} -H "Content-Type: application/json" -d '${guardrail}' $BULWARK_URL/v1/guardrails/recommendations`,
    '',
    `5. Notices (DSA Art. 16). Anyone can send one with the public form at ${address}/notices.`,
    facts.noticePatternsFromEnv
      ? '   Locations resolve to content or accounts by your BULWARK_NOTICE_LOCATION_PATTERNS (docs/dsa.md).'
      : '   A location such as https://platform.example/content/demo-upload-4 names content on the demo\'s\n' +
        '   made-up platform (BULWARK_NOTICE_LOCATION_PATTERNS, docs/dsa.md), so the notice becomes a case.',
    `   ${auth} "$BULWARK_URL/v1/dsa/transparency-report?from=2026-01-01T00:00:00Z&to=2027-01-01T00:00:00Z&format=html" > transparency.html`,
    '',
    '6. Your own data. The demo\'s rules also act on any bank tagged demo, so a list of your own',
    '   takes part once its bank has that tag (a CSV of signal_type,value lines; ?tags=demo tags single imports):',
    `   ${auth} -H "Content-Type: application/json" -d '{"name":"my-list","tags":["demo"]}' $BULWARK_URL/v1/banks`,
    `   ${auth} -H "Content-Type: text/csv" --data-binary @my-list.csv $BULWARK_URL/v1/banks/my-list/import`,
    '   The command line reaches this store once the demo is stopped (only one process may open it):',
    `   npx bulwark apikey create my-integration --data-dir ${join(dir, 'data')}`,
    `   npx bulwark bank import my-list my-list.csv --data-dir ${join(dir, 'data')}`,
    '   A key made that way works in the next demo run. Step by step: docs/quickstart.md.',
    '',
    `Request log: ${facts.logLevel === 'warn' ? 'warnings only (BULWARK_LOG_LEVEL=info shows every request)' : `level ${facts.logLevel} (BULWARK_LOG_LEVEL)`}. Ctrl-C stops the demo.`,
    '',
  ];
  return `${lines.join('\n')}\n`;
}

/** Actions of one kind from one rule are summed up in a line, with one target as an example. */
function receivedLines(received: ReceivedAction[]): string[] {
  if (received.length === 0) return ['     (nothing new: this folder was seeded in an earlier run)'];
  const groups = new Map<string, ReceivedAction[]>();
  for (const action of received) {
    const key = `${action.type} ${action.target.kind} ${action.decidedBy}`;
    groups.set(key, [...(groups.get(key) ?? []), action]);
  }
  return [...groups.values()].map((actions) =>
    actions.length === 1
      ? `     ${describeAction(actions[0])}`
      : `     ${actions[0].type} on ${plural(actions.length, actions[0].target.kind)} (decided by ${actions[0].decidedBy}), e.g. ${actions[0].target.id}`,
  );
}
