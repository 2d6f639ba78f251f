import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { buildServer } from '../src/http/server.ts';
import type { Reviewer } from '../src/reviewers/reviewer-service.ts';
import type { StoreLocation } from '../src/store/sql.ts';
import { FakeClock, randomPdq } from './helpers/fake-exchange.ts';
import { matchRuleFile } from './helpers/match-rules.ts';
import { NcmecHashServer } from './helpers/ncmec-hash-server.ts';
import { StopNciiServer } from './helpers/stopncii-server.ts';
import { ThreatExchangeServer } from './helpers/threatexchange-server.ts';
import { storeTargets } from './helpers/stores.ts';

/**
 * Each exchange type end to end, through the real fetcher, store, rules, review and HTTP
 * routes, against its stand-in: fetch, match with provenance, a reviewer's verdicts sent back,
 * the source withdrawing an item, and a restart resuming from the checkpoint. Hashes are random.
 */
interface Source {
  type: string;
  /** Credentials as the type documents them (BULWARK_EXCHANGE_<NAME>_<PART>). */
  env: Record<string, string>;
  config: Record<string, unknown>;
  start(clock: FakeClock): Promise<void>;
  stop(): Promise<void>;
  /** Shares an item holding this PDQ hash at the source; the provenance a match of it shows. */
  share(hash: string): { member: string; item_key: string; tags: string[] };
  withdraw(hash: string): void;
  /** Moves the clocks on, so changes made before come before the next fetch's end and after the checkpoint. */
  advance(clock: FakeClock): void;
  /** What the source recorded of the verdict on this hash, or undefined. */
  recorded(hash: string): { verdict: string; detail?: string } | undefined;
}

const NAME = 'partner';
const secret = (label: string) => `${label}-${randomPdq().slice(0, 24)}`;

function ncmecSource(): Source {
  let server: NcmecHashServer;
  const ids = new Map<string, string>();
  let clock: FakeClock;
  const user = secret('user');
  const password = secret('password');
  return {
    type: 'ncmec',
    env: { BULWARK_EXCHANGE_PARTNER_USER: user, BULWARK_EXCHANGE_PARTNER_PASSWORD: password },
    get config() {
      return { url: server.url, false_positive_reason: 'Fingerprint of poor quality', since: '2026-01-01T00:00:00Z' };
    },
    async start(c) {
      clock = c;
      server = await new NcmecHashServer({ username: user, password, now: c.now }).start();
    },
    stop: () => server.stop(),
    share(hash) {
      const id = String(100 + ids.size);
      ids.set(hash, id);
      server.put({ member: '42', id, classification: 'A1', fingerprints: { PDQ: hash }, at: clock.now() });
      return { member: '42', item_key: `42-${id}`, tags: ['A1'] };
    },
    withdraw: (hash) => server.retract('42', ids.get(hash)!, clock.now()),
    advance: (c) => c.advance(120_000),
    recorded(hash) {
      const found = server.feedback.find((feedback) => feedback.entry === ids.get(hash));
      if (!found) return undefined;
      assert.equal(found.type, 'PDQ');
      if (found.vote === 'negative') assert.deepEqual(found.reasonIds, [server.reasons.get('PDQ')!.find((reason) => reason.name === 'Fingerprint of poor quality')!.guid]);
      return { verdict: found.vote, detail: found.reasonIds.join(',') };
    },
  };
}

function stopNciiSource(): Source {
  const server = new StopNciiServer({ fetch: secret('fetch'), feedback: secret('feedback'), subscription: secret('subscription') });
  return {
    type: 'stopncii',
    env: { BULWARK_EXCHANGE_PARTNER_FETCH_KEY: server.keys.fetch, BULWARK_EXCHANGE_PARTNER_SUBSCRIPTION_KEY: server.keys.subscription, BULWARK_EXCHANGE_PARTNER_FEEDBACK_KEY: server.keys.feedback },
    get config() {
      return { baseUrl: server.url };
    },
    async start(clock) {
      await server.start();
      server.now = Math.floor(clock.now().getTime() / 1000);
    },
    stop: () => server.stop(),
    share(hash) {
      server.put('ImagePDQ', hash);
      return { member: '', item_key: `ImagePDQ ${hash}`, tags: [] };
    },
    withdraw: (hash) => server.withdraw('ImagePDQ', hash),
    advance(clock) {
      clock.advance(120_000);
      server.now += 120;
    },
    recorded(hash) {
      const found = server.feedback.find((feedback) => feedback.hashValue === hash);
      return found && { verdict: found.feedbackValue };
    },
  };
}

function threatExchangeSource(): Source {
  const server = new ThreatExchangeServer({ accessToken: `1000000001|${secret('token')}`, privacyGroup: '2000000002', apiVersion: 'v21.0' });
  const descriptors = new Map<string, string>();
  return {
    type: 'threatexchange',
    env: { BULWARK_EXCHANGE_PARTNER_ACCESS_TOKEN: server.options.accessToken },
    get config() {
      return { privacyGroup: server.options.privacyGroup, graphUrl: server.url, apiVersion: server.options.apiVersion };
    },
    async start(clock) {
      await server.start();
      server.now = Math.floor(clock.now().getTime() / 1000);
    },
    stop: () => server.stop(),
    share(hash) {
      descriptors.set(hash, server.addDescriptor('HASH_PDQ', hash, '3000000003', { tags: ['tag-alpha'] }));
      return { member: '3000000003', item_key: `HASH_PDQ ${hash}`, tags: ['tag-alpha'] };
    },
    withdraw: (hash) => server.deleteDescriptor(descriptors.get(hash)!),
    advance(clock) {
      clock.advance(120_000);
      server.now += 120;
    },
    recorded(hash) {
      const found = server.reactions.find((reaction) => reaction.descriptorId === descriptors.get(hash));
      return found && { verdict: found.reactions.join(',') };
    },
  };
}

const EXPECTED: Record<string, { truePositive: string; falsePositive: string }> = {
  ncmec: { truePositive: 'affirmative', falsePositive: 'negative' },
  stopncii: { truePositive: 'Blocked', falsePositive: 'NotBlocked' },
  threatexchange: { truePositive: 'HELPFUL', falsePositive: 'DISAGREE_WITH_TAGS' },
};

const targets = await storeTargets();

for (const makeSource of [ncmecSource, stopNciiSource, threatExchangeSource]) {
  for (const target of targets) {
    const source = makeSource();
    describe(`exchange ${source.type} end to end (${target.name})`, () => {
      const clock = new FakeClock();
      const [kept, dismissed, confirmed, withdrawn, later] = [randomPdq(), randomPdq(), randomPdq(), randomPdq(), randomPdq()];
      const provenance = new Map<string, { member: string; item_key: string; tags: string[] }>();
      const logged: string[] = [];
      const writes = { out: process.stdout.write, err: process.stderr.write };
      const dir = mkdtempSync(join(tmpdir(), 'bulwark-exchange-e2e-'));
      const location: StoreLocation = target.name === 'pglite' ? { dataDir: dir } : target.location();
      let bulwark: Bulwark;
      let app: Awaited<ReturnType<typeof buildServer>>;
      let auth: Record<string, string>;
      let reviewer: Reviewer;

      const open = async () => {
        bulwark = await openBulwark({
          ...location, bankRefreshMs: 0, hashing: { workers: 0 }, dispatchActions: false,
          exchanges: { now: clock.now, env: { ...source.env, BULWARK_EXCHANGE_ALLOWED_HOSTS: '127.0.0.1' } },
        });
        app = await buildServer(bulwark);
        auth = { authorization: `Bearer ${(await bulwark.apiKeys.create(`platform-${Date.now()}`)).key}` };
      };
      const close = async () => {
        await app.close();
        await bulwark.close();
      };
      const call = async (method: 'GET' | 'POST', url: string, payload?: object) => {
        const response = await app.inject({ method, url, headers: auth, ...(payload ? { payload } : {}) });
        logged.push(response.body);
        return response;
      };
      const matches = async (hash: string) => (await call('POST', '/v1/match', { signals: [{ signal_type: 'pdq', value: hash, quality: 100 }] })).json().matches as { provenance?: unknown[] }[];
      /** Uploads content with this hash; the rule opens a case, which the reviewer decides. */
      const decide = async (contentId: string, hash: string, verdict: { verdict: string; policy?: string; note?: string }) => {
        const content = await call('POST', '/v1/content', { content_id: contentId, account_id: 'account-1', content_type: 'photo', signals: [{ signal_type: 'pdq', value: hash, quality: 100 }] });
        assert.equal(content.statusCode, 201, content.body);
        await bulwark.wake();
        const claimed = await bulwark.cases.claimNext(reviewer, 'known-media');
        assert.equal(claimed?.subject.id, contentId);
        await bulwark.cases.decide(claimed!.id, reviewer, verdict);
        await bulwark.wake();
        assert.equal(await bulwark.exchanges.fetcher.sendFeedback(), 1);
      };

      before(async () => {
        // Everything the process writes is kept (and still written), to look for credentials in it.
        for (const stream of ['stdout', 'stderr'] as const) {
          const original = process[stream].write.bind(process[stream]);
          process[stream].write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
            logged.push(String(chunk));
            return (original as (...args: unknown[]) => boolean)(chunk, ...rest);
          }) as typeof process.stdout.write;
        }
        await source.start(clock);
        for (const hash of [kept, dismissed, confirmed, withdrawn]) provenance.set(hash, source.share(hash));
        source.advance(clock);
        await open();
        await bulwark.rules.activate(matchRuleFile({ bank: 'exchanged' }), 'rules.yaml', 'test');
        reviewer = await bulwark.reviewers.create({ username: 'rev-e2e', password: 'correct horse battery', role: 'reviewer', teams: [] });
      });
      after(async () => {
        process.stdout.write = writes.out;
        process.stderr.write = writes.err;
        await close();
        await source.stop();
        await target.cleanup();
        rmSync(dir, { recursive: true, force: true });
      });

      it('fetches through /v1/exchanges and shows items and checkpoint in the status', async () => {
        const added = await call('POST', '/v1/exchanges', { name: NAME, type: source.type, bank: 'exchanged', config: source.config });
        assert.equal(added.statusCode, 201, added.body);
        assert.equal(added.json().credentials.problem, null);
        const fetched = await call('POST', `/v1/exchanges/${NAME}/fetch`);
        assert.equal(fetched.statusCode, 200, fetched.body);
        assert.equal(fetched.json().error, null, fetched.body);
        assert.equal(fetched.json().entries_added, 4);
        const status = (await call('GET', `/v1/exchanges/${NAME}`)).json();
        assert.equal(status.items_fetched, 4);
        assert.deepEqual(status.items, { live: 4, deleted: 0 });
        assert.ok(status.checkpoint_time, 'a checkpoint time is shown');
        assert.equal(status.last_error, null);
      });

      it('matches a fetched hash with its provenance', async () => {
        const found = await matches(kept);
        assert.equal(found.length, 1);
        const expected = provenance.get(kept)!;
        assert.deepEqual(found[0].provenance, [{ exchange: NAME, member: expected.member || null, item_key: expected.item_key, tags: expected.tags }]);
      });

      it("sends a reviewer's false positive to the source and disables the entry here, the item staying", async () => {
        await decide('upload-dismissed', dismissed, { verdict: 'dismiss', note: 'a benign test pattern' });
        assert.equal(source.recorded(dismissed)?.verdict, EXPECTED[source.type].falsePositive);
        assert.deepEqual(await matches(dismissed), [], 'the entry no longer matches');
        const item = await call('GET', `/v1/exchanges/${NAME}/items/${encodeURIComponent(provenance.get(dismissed)!.item_key)}`);
        assert.equal(item.statusCode, 200, item.body);
        assert.deepEqual(item.json().signals, [{ signal_type: 'pdq', value: dismissed }]);
        assert.deepEqual(item.json().feedback.map((f: { verdict: string; status: string }) => [f.verdict, f.status]), [['false_positive', 'sent']]);
      });

      it('sends a confirmation to the source', async () => {
        await decide('upload-confirmed', confirmed, { verdict: 'confirm', policy: 'known-media' });
        assert.equal(source.recorded(confirmed)?.verdict, EXPECTED[source.type].truePositive);
        // The confirmation also puts the content's hash in the reviewers' own bank; the exchanged entry keeps matching.
        assert.equal((await matches(confirmed)).filter((match) => (match.provenance ?? []).length > 0).length, 1, 'a confirmed entry keeps matching');
        assert.deepEqual((await call('GET', `/v1/exchanges/${NAME}`)).json().feedback, { pending: 0, sent: 2, failed: 0, unsupported: 0 });
      });

      it('removes from matching what the source withdrew, at the next fetch', async () => {
        assert.equal((await matches(withdrawn)).length, 1);
        source.withdraw(withdrawn);
        source.advance(clock);
        const fetched = (await call('POST', `/v1/exchanges/${NAME}/fetch`)).json();
        assert.equal(fetched.error, null);
        assert.equal(fetched.entries_removed, 1);
        assert.deepEqual(await matches(withdrawn), []);
        assert.equal((await matches(kept)).length, 1);
        assert.deepEqual((await call('GET', `/v1/exchanges/${NAME}`)).json().items, { live: 3, deleted: 1 });
      });

      it('resumes from the checkpoint after a restart, without duplicates', async () => {
        const before = (await call('GET', `/v1/exchanges/${NAME}`)).json();
        await close();
        await open();
        const reopened = (await call('GET', `/v1/exchanges/${NAME}`)).json();
        assert.equal(reopened.checkpoint_time, before.checkpoint_time);
        assert.equal(reopened.items_fetched, before.items_fetched);
        provenance.set(later, source.share(later));
        source.advance(clock);
        const fetched = (await call('POST', `/v1/exchanges/${NAME}/fetch`)).json();
        assert.equal(fetched.error, null);
        assert.equal(fetched.items, 1, 'the fetch reads on from the checkpoint: only the new item');
        assert.equal(fetched.entries_added, 1, 'only the new item adds an entry');
        assert.deepEqual((await call('GET', `/v1/exchanges/${NAME}`)).json().items, { live: 4, deleted: 1 });
        assert.equal((await bulwark.banks.listEntries('exchanged')).filter((entry) => entry.value === kept).length, 1);
        assert.equal((await matches(later)).length, 1);
      });

      it('shows and logs no credential value', async () => {
        const everything = logged.join('\n') + JSON.stringify((await call('GET', `/v1/exchanges/${NAME}`)).json());
        assert.ok(logged.length > 0);
        for (const value of Object.values(source.env)) assert.ok(!everything.includes(value), 'a credential value appeared in a status or the log');
      });
    });
  }
}
