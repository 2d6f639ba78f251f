import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Bulwark } from '../../../app.ts';
import type { BankContentService } from '../../../banks/bank-contents.ts';
import { BulwarkError, invalid } from '../../../errors.ts';
import type { MatchOptions, MatchResult } from '../../../match/matcher.ts';
import type { ComputedSignal, SignalType } from '../../../signals/types.ts';
import type { RemoteMediaFetcher } from '../../remote-media.ts';
import { hashUpload, hashUrl } from './hashing.ts';
import { bulwarkBankName, distanceString, flag, hmaBankName, multipartOf } from './shapes.ts';

export interface MatchWithDistance {
  bank_content_id: number;
  distance: string;
}

/** HMA's TMatchByBank: bank name to its matching contents. */
export type MatchesByBank = Record<string, MatchWithDistance[]>;

/** The signal type, or HMA's refusal ("No such SignalType 'x'"). */
function signalTypeOf(bulwark: Bulwark, name: string): SignalType {
  try {
    return bulwark.signals.get(name);
  } catch {
    throw invalid(`No such SignalType '${name}'`);
  }
}

/** A signal given by value (HMA's validate_signal_str), normalized. */
function givenSignal(bulwark: Bulwark, signalType: string, value: string): ComputedSignal {
  const type = signalTypeOf(bulwark, signalType);
  try {
    return bulwark.signals.normalize(type.name, value);
  } catch (error) {
    if (error instanceof BulwarkError) throw invalid(`invalid signal: ${error.message}`);
    throw error;
  }
}

/** HMA's comma-separated `banks`, as Bulwark names; names no Bulwark bank can have are dropped, as HMA drops unknown ones. */
function bankFilter(banks: string | undefined): string[] | undefined {
  if (!banks) return undefined;
  const names: string[] = [];
  for (const name of banks.split(',')) {
    try {
      names.push(bulwarkBankName(name));
    } catch {
      // A name that cannot be a Bulwark bank's matches nothing.
    }
  }
  return names;
}

/** Matches, dropping banks the filter names that do not exist (HMA intersects with the banks it knows). */
async function matchSignal(bulwark: Bulwark, signal: ComputedSignal, banks: string[] | undefined, seed: string | undefined): Promise<Pick<MatchResult, 'matches'>> {
  let filter = banks;
  for (;;) {
    if (filter && filter.length === 0) return { matches: [] };
    try {
      // The seed of the enabled_ratio coin (bank controls; a build without them has no coin to seed).
      const options: MatchOptions & { seed?: string } = { ...(filter ? { banks: filter } : {}), ...(seed !== undefined ? { seed } : {}) };
      return await bulwark.matcher.match([signal], options);
    } catch (error) {
      const unknown = error instanceof BulwarkError ? error.details?.banks : undefined;
      if (!filter || !Array.isArray(unknown) || unknown.length === 0) throw error;
      filter = filter.filter((name) => !unknown.includes(name));
    }
  }
}

export class HmaLookup {
  constructor(private readonly bulwark: Bulwark, private readonly contents: BankContentService) {}

  /** Matches of one signal, per bank, with HMA's content ids and distance strings. */
  async lookup(signal: ComputedSignal, banks: string[] | undefined, seed?: string): Promise<MatchesByBank> {
    const type = this.bulwark.signals.get(signal.signalType);
    const result = await matchSignal(this.bulwark, signal, banks, seed);
    const contentIds = await this.contents.contentIds(result.matches.map((match) => match.entryId));
    const byBank: MatchesByBank = {};
    const seen = new Set<string>();
    for (const match of result.matches) {
      const bank = hmaBankName(match.bank);
      const id = contentIds.get(match.entryId) ?? match.entryId;
      if (seen.has(`${bank}\u0000${id}`)) continue;
      seen.add(`${bank}\u0000${id}`);
      (byBank[bank] ??= []).push({ bank_content_id: id, distance: distanceString(type.matching, match.distance) });
    }
    return byBank;
  }

  /** Matches per signal type, for hashed media (HMA's POST /m/lookup and the URL form). */
  async lookupAll(computed: ComputedSignal[], banks: string[] | undefined, seed?: string): Promise<Record<string, MatchesByBank>> {
    const bySignalType: Record<string, MatchesByBank> = {};
    for (const signal of computed) bySignalType[signal.signalType] = await this.lookup(signal, banks, seed);
    return bySignalType;
  }
}

const lookupQuery = z.object({
  url: z.string().max(4096).optional(),
  content_type: z.string().optional(),
  types: z.string().optional(),
  signal: z.string().max(100_000).optional(),
  signal_type: z.string().optional(),
  banks: z.string().optional(),
  seed: z.string().optional(),
  bypass_coinflip: z.string().optional(),
});

export const hmaMatchingRoutes = (bulwark: Bulwark, contents: BankContentService, fetcher: RemoteMediaFetcher): FastifyPluginAsync => async (plugin) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();
  const tags = ['hma'];
  const lookups = new HmaLookup(bulwark, contents);

  app.get(
    '/m/raw_lookup',
    {
      schema: {
        tags,
        summary: 'HMA: look a hash up in the index: content ids, or with include_distance their distances',
        querystring: z.object({ signal: z.string().max(100_000), signal_type: z.string(), banks: z.string().optional(), include_distance: z.string().optional() }),
      },
    },
    async (request) => {
      const signal = givenSignal(bulwark, request.query.signal_type, request.query.signal);
      const withDistance = flag(request.query.include_distance, 'include_distance', false);
      const matches = Object.values(await lookups.lookup(signal, bankFilter(request.query.banks))).flat();
      return { matches: withDistance ? matches : matches.map((match) => match.bank_content_id) };
    },
  );

  app.get(
    '/m/lookup',
    { schema: { tags, summary: 'HMA: look up a hash (signal and signal_type) or media at an allowed URL (url)', querystring: lookupQuery } },
    async (request) => {
      const query = request.query;
      flag(query.bypass_coinflip, 'bypass_coinflip', false);
      const banks = bankFilter(query.banks);
      if (query.url) {
        const { computed } = await hashUrl(bulwark, fetcher, query.url, query.content_type, query.types);
        const bySignalType = await lookups.lookupAll(computed, banks, query.seed);
        // The outer signal-type level is dropped when signal_type is given (lookup_get).
        return query.signal_type !== undefined ? (bySignalType[query.signal_type] ?? {}) : bySignalType;
      }
      if (!query.signal || !query.signal_type) throw invalid('Either url or both signal and signal_type are required');
      return lookups.lookup(givenSignal(bulwark, query.signal_type, query.signal), banks, query.seed);
    },
  );

  app.post(
    '/m/lookup',
    {
      schema: {
        tags,
        summary: 'HMA: hash an uploaded file (multipart/form-data, field name photo or video) and look it up',
        querystring: z.object({ banks: z.string().optional(), seed: z.string().optional(), bypass_coinflip: z.string().optional(), types: z.string().optional() }),
      },
    },
    async (request) => {
      flag(request.query.bypass_coinflip, 'bypass_coinflip', false);
      const { computed } = await hashUpload(bulwark, await multipartOf(request), request.query.types);
      return lookups.lookupAll(computed, bankFilter(request.query.banks), request.query.seed);
    },
  );

  app.post('/m/compare', { schema: { tags, summary: 'HMA: compare pairs of hashes: {"pdq": [h1, h2]} gives {"pdq": [match, {"distance": d}]}' } }, async (request) => {
    const body = request.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('Request input was not a dict');
    const results: Record<string, [boolean, { distance?: number }]> = {};
    for (const [name, pair] of Object.entries(body as Record<string, unknown>)) {
      if (!Array.isArray(pair)) throw invalid(`Comparison hashes for ${name} was not a list`);
      if (pair.length !== 2) throw invalid('Comparison hash list length must be exactly 2');
      const type = signalTypeOf(bulwark, name);
      if (typeof pair[0] !== 'string' || typeof pair[1] !== 'string') throw invalid(`Invalid ${name} hash: hashes must be strings`);
      let left: string;
      let right: string;
      try {
        left = type.normalize(pair[0]);
        right = type.normalize(pair[1]);
      } catch (error) {
        throw invalid(`Invalid ${name} hash: ${(error as Error).message}`);
      }
      if (type.defaultMinMatchPercent) throw invalid(`${name} does not support hash comparison`);
      if (type.matching === 'exact') {
        results[name] = [left === right, {}];
        continue;
      }
      // The type's own index gives its distance: a one-entry index searched with no limit.
      const [hit] = type.createIndex([{ entryId: 1, value: left }]).search({ value: right, maxDistance: Number.MAX_SAFE_INTEGER });
      if (!hit) throw invalid(`${name} does not support hash comparison`);
      results[name] = [hit.distance <= type.defaultMaxDistance, { distance: hit.distance }];
    }
    return results;
  });

  app.get(
    '/m/index/status',
    { schema: { tags, summary: 'HMA: per signal type, whether the index is loaded, how many hashes it holds and up to when', querystring: z.object({ signal_type: z.string().optional() }) } },
    async (request) => {
      let names = bulwark.signals.names;
      if (request.query.signal_type !== undefined) {
        if (!names.includes(request.query.signal_type)) throw invalid(`No such signal type '${request.query.signal_type}'`);
        names = [request.query.signal_type];
      }
      await bulwark.matcher.checkStore();
      const banks = bulwark.matcher.status();
      const newest = await bulwark.sql.query<{ signal_type: string; newest: number | null }>(
        'SELECT signal_type, floor(extract(epoch FROM max(added_at)))::bigint AS newest FROM bank_entries GROUP BY signal_type',
      );
      const newestByType = new Map(newest.rows.map((row) => [row.signal_type, row.newest === null ? -1 : Number(row.newest)]));
      const loaded = banks.every((bank) => bank.revision !== null);
      const caughtUp = banks.every((bank) => bank.revisionsBehind === 0);
      return Object.fromEntries(
        names.map((name) => {
          const size = banks.reduce((sum, bank) => sum + (bank.indexes.find((index) => index.signalType === name)?.size ?? 0), 0);
          return [name, { present: loaded, built_to: caughtUp ? (newestByType.get(name) ?? -1) : -1, size }];
        }),
      );
    },
  );
};
