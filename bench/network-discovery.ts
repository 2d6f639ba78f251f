/**
 * Seedless discovery on the small planted platform of test/helpers/seedless-platform.ts
 * (benign background, celebrities, a dense benign community, one-off term users, a sparse
 * coded-hashtag network of 60, an unseeded 3-seller star and a second star bridged to it by
 * 6 shared buyers), at growing background sizes. Prints per-network recall, member
 * precision and time beside the reference: detection (detectNetworks) with the same graph
 * and no confirmed account, which is what the project found for unseeded networks before.
 *
 *   npm run bench:discovery -- 3000 30000 100000
 *
 * With --synthetic N, also the project's synthetic platform (src/demo/synthetic-platform.ts)
 * at N ordinary accounts and 4 networks, whose members use the placeholder terms.
 */
import { syntheticPlatform } from '../src/demo/synthetic-platform.ts';
import { EventStreamGraph } from '../src/graph/event-stream-graph.ts';
import { detectNetworks } from '../src/graph/network-detector.ts';
import { discoverCandidateNetworks } from '../src/graph/seedless/discover.ts';
import { TermMatcher } from '../src/terms/term-matcher.ts';
import { seedlessPlatform } from '../test/helpers/seedless-platform.ts';

const args = process.argv.slice(2);
const syntheticAt = args.includes('--synthetic') ? Number(args[args.indexOf('--synthetic') + 1]) : 0;
const sizes = args.filter((arg, i) => args[i - 1] !== '--synthetic').map(Number).filter((n) => n > 0);
const pct = (x: number) => `${(x * 100).toFixed(0)}%`.padStart(5);
console.log('background  events     sparse  star  star-2  precision  candidates  benign-in  discovery-ms | reference detection: sparse star star-2');
for (const background of sizes.length ? sizes : [3000, 30000]) {
  const platform = seedlessPlatform({ background, seed: 2, bridged: true });
  const stream = new EventStreamGraph({ terms: new TermMatcher(platform.termLists) });
  for (const event of platform.events) stream.add(event);
  const graph = stream.build();
  const started = performance.now();
  const found = discoverCandidateNetworks(graph);
  const ms = performance.now() - started;
  const reported = new Set(found.candidates.flatMap((c) => c.members.map((m) => m.externalId)));
  const star = [...platform.star.sellers, ...platform.star.buyers];
  const second = [...platform.secondStar!.sellers, ...platform.secondStar!.buyers];
  const planted = new Set([...platform.sparse, ...star, ...second]);
  const recall = (accounts: string[], set: Set<string>) => accounts.filter((a) => set.has(a)).length / accounts.length;
  const correct = [...reported].filter((a) => planted.has(a)).length;
  const benign = [...platform.denseCommunity, ...platform.celebrities].filter((a) => reported.has(a)).length;
  const reference = detectNetworks(graph);
  const detected = new Set(reference.networks.flatMap((n) => n.members.map((m) => graph.externalIds[m.account])));
  console.log(
    `${String(background).padStart(10)}  ${String(platform.events.length).padStart(9)}  ${pct(recall(platform.sparse, reported))} ${pct(recall(star, reported))}  ${pct(recall(second, reported))}     ${pct(reported.size ? correct / reported.size : 0)}  ${String(found.candidates.length).padStart(10)}  ${String(benign).padStart(9)}  ${ms.toFixed(0).padStart(12)} | ${pct(recall(platform.sparse, detected))} ${pct(recall(star, detected))} ${pct(recall(second, detected))}`,
  );
}

if (syntheticAt > 0) {
  const platform = syntheticPlatform({ accounts: syntheticAt, networks: 4 });
  const terms = new TermMatcher([{ name: 'codes', action: 'signal', terms: [{ id: 'a', term: 'term-alpha' }, { id: 'b', term: 'term-bravo' }] }]);
  const stream = new EventStreamGraph({ terms });
  let events = 0;
  for (const event of platform.events()) {
    stream.add(event);
    events++;
  }
  const graph = stream.build();
  const started = performance.now();
  const found = discoverCandidateNetworks(graph);
  const ms = performance.now() - started;
  const reported = new Set(found.candidates.flatMap((c) => c.members.map((m) => m.externalId)));
  const planted = new Set(platform.truth.networks.flatMap((n) => n.members));
  const reference = detectNetworks(graph);
  const detected = new Set(reference.networks.flatMap((n) => n.members.map((m) => graph.externalIds[m.account])));
  const recall = (members: string[], set: Set<string>) => pct(members.filter((a) => set.has(a)).length / members.length);
  const mostlyBenign = found.candidates.filter((c) => c.members.filter((m) => planted.has(m.externalId)).length < c.members.length / 2).length;
  console.log(`\nsynthetic platform, ${syntheticAt} ordinary accounts, ${events} events, no seeds: discovery ${ms.toFixed(0)} ms, ${found.candidates.length} candidates (${mostlyBenign} mostly benign)`);
  console.log(`  recall per network: ${platform.truth.networks.map((n) => recall(n.members, reported)).join(' ')}; member precision ${pct([...reported].filter((a) => planted.has(a)).length / Math.max(1, reported.size))}`);
  console.log(`  reference detection without seeds (term matches as weak seeds): ${platform.truth.networks.map((n) => recall(n.members, detected)).join(' ')}`);
}
