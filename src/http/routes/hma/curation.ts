import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Bulwark } from '../../../app.ts';
import type { BankContent, BankContentService } from '../../../banks/bank-contents.ts';
import type { Bank } from '../../../banks/banks.ts';
import { BulwarkError, invalid, notFound } from '../../../errors.ts';
import type { RemoteMediaFetcher } from '../../remote-media.ts';
import { HMA_CONTENT_TYPES, hashUpload, hashUrl } from './hashing.ts';
import { disableUntilTs, ratioChanges, setDisableUntil } from './bank-controls.ts';
import { bankConfigJson, bulwarkBankName, checkMetadata, checkNote, flag, multipartOf } from './shapes.ts';

const FIVE_YEARS_SECONDS = 5 * 365 * 24 * 3600;

const bankParams = z.object({ bank_name: z.string().max(255) });
const contentParams = bankParams.extend({ content_id: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER) });
const ratio = z.number().min(0).max(1);

/** The bank HMA names, or HMA's 404 (a name no Bulwark bank can have names none). */
async function existingBank(bulwark: Bulwark, hmaName: string, message = `bank '${hmaName}' not found`): Promise<Bank> {
  try {
    return await bulwark.banks.get(bulwarkBankName(hmaName));
  } catch (error) {
    if (error instanceof BulwarkError && (error.kind === 'not_found' || error.kind === 'invalid')) throw notFound(message);
    throw error;
  }
}

/** HMA's answer to adding content: its id and the signals stored. */
const addedJson = (content: BankContent) => ({ id: content.id, signals: content.signals });

export const hmaCurationRoutes = (bulwark: Bulwark, contents: BankContentService, fetcher: RemoteMediaFetcher): FastifyPluginAsync => async (plugin) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();
  const tags = ['hma'];

  app.get('/c/banks', { schema: { tags, summary: 'HMA: list banks' } }, async () => (await bulwark.banks.list()).map(bankConfigJson));

  app.post(
    '/c/banks',
    {
      schema: {
        tags,
        summary: 'HMA: create a bank (name UPPER_WITH_UNDERSCORE)',
        body: z.object({ name: z.string().max(255), enabled_ratio: ratio.nullish(), enabled: z.boolean().nullish() }),
      },
    },
    async (request, reply) => {
      const { name, enabled_ratio: enabledRatio, enabled } = request.body;
      const ratio = enabledRatio ?? (enabled === false ? 0 : 1);
      // Checked before anything is made, so a ratio this build cannot keep leaves no bank behind.
      const changes = ratioChanges(bulwark, ratio);
      const bulwarkName = bulwarkBankName(name, { creating: true });
      let bank: Bank;
      try {
        bank = await bulwark.banks.create(bulwarkName);
      } catch (error) {
        if (error instanceof BulwarkError && error.kind === 'conflict') throw new BulwarkError('forbidden', 'Bank already exists');
        throw error;
      }
      if (ratio !== 1) bank = await bulwark.banks.update(bulwarkName, changes);
      return reply.code(201).send(bankConfigJson(bank));
    },
  );

  app.get('/c/bank/:bank_name', { schema: { tags, summary: 'HMA: one bank', params: bankParams } }, async (request) =>
    bankConfigJson(await existingBank(bulwark, request.params.bank_name)),
  );

  app.put(
    '/c/bank/:bank_name',
    {
      schema: {
        tags,
        summary: 'HMA: rename a bank, or switch its matching on or off',
        params: bankParams,
        body: z.object({ name: z.string().max(255).nullish(), enabled_ratio: ratio.nullish(), enabled: z.boolean().nullish() }),
      },
    },
    async (request) => {
      let bank = await existingBank(bulwark, request.params.bank_name, 'Bank not found');
      const { name, enabled, enabled_ratio: enabledRatio } = request.body;
      let changes: { enabled: boolean; enabledRatio?: number } | undefined;
      if (enabled !== undefined && enabled !== null) changes = ratioChanges(bulwark, enabled ? 1 : 0);
      if (enabledRatio !== undefined && enabledRatio !== null) changes = ratioChanges(bulwark, enabledRatio);
      const newName = name !== undefined && name !== null ? bulwarkBankName(name, { creating: true }) : undefined;
      if (newName !== undefined && newName !== bank.name) {
        try {
          bank = await bulwark.banks.rename(bank.name, newName);
        } catch (error) {
          if (error instanceof BulwarkError && error.kind === 'conflict') throw new BulwarkError('forbidden', 'Bank name already exists');
          throw error;
        }
      }
      if (changes) bank = await bulwark.banks.update(bank.name, changes);
      return bankConfigJson(bank);
    },
  );

  app.delete('/c/bank/:bank_name', { schema: { tags, summary: 'HMA: delete a bank (succeeds when there is none)', params: bankParams } }, async (request) => {
    try {
      await bulwark.banks.delete(bulwarkBankName(request.params.bank_name));
    } catch (error) {
      // HMA deletes by name and answers the same whether the bank was there or not.
      if (!(error instanceof BulwarkError && (error.kind === 'not_found' || error.kind === 'invalid'))) throw error;
    }
    return { message: 'Done' };
  });

  app.post(
    '/c/bank/:bank_name/content',
    {
      schema: {
        tags,
        summary: 'HMA: hash media (?url= from an allowed host, or a multipart upload) and add it to the bank',
        params: bankParams,
        querystring: z.object({ url: z.string().max(4096).optional(), content_type: z.string().optional(), types: z.string().optional() }),
      },
    },
    async (request) => {
      const bank = await existingBank(bulwark, request.params.bank_name);
      const form = await multipartOf(request);
      const json = !form && typeof request.body === 'object' && request.body !== null && !Buffer.isBuffer(request.body) ? (request.body as Record<string, unknown>) : undefined;
      let rawMetadata: unknown = json?.metadata;
      if (form?.fields.has('metadata')) {
        try {
          rawMetadata = JSON.parse(form.fields.get('metadata') ?? '');
        } catch {
          throw invalid('metadata form field must be valid JSON');
        }
      }
      const metadata = checkMetadata(rawMetadata);
      const note = checkNote(form ? form.fields.get('note') : json?.note);
      let hashes: Record<string, string>;
      if (request.query.url) hashes = (await hashUrl(bulwark, fetcher, request.query.url, request.query.content_type, request.query.types)).hashes;
      else if (form && form.files.length > 0) hashes = (await hashUpload(bulwark, form, request.query.types)).hashes;
      else throw invalid('Neither `url` nor multipart file upload was received');
      // A picture too plain for PDQ gives "" (as HMA's hasher does), which no bank can hold.
      if (Object.values(hashes).some((value) => value === '')) throw invalid('Invalid pdq signal: the image is too plain for a reliable PDQ hash (quality below 50)');
      const source = `hma-api:${request.apiKey?.name ?? 'unknown'}`;
      return addedJson(await contents.add(bank.name, { signals: hashes, note, metadata, source }));
    },
  );

  app.post(
    '/c/bank/:bank_name/signal',
    { schema: { tags, summary: 'HMA: add hashes directly: {"pdq": "…", "note": "…"}', params: bankParams } },
    async (request) => {
      const bank = await existingBank(bulwark, request.params.bank_name);
      const body = request.body;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('this endpoint expects a json object payload');
      const { note: rawNote, ...signals } = body as Record<string, unknown>;
      const note = checkNote(rawNote);
      if (Object.keys(signals).length === 0) throw invalid('No signals given');
      const checked: Record<string, string> = {};
      for (const [name, value] of Object.entries(signals)) {
        if (!bulwark.signals.names.includes(name)) throw invalid(`No such signal type ${name}`);
        if (typeof value !== 'string') throw invalid(`Invalid ${name} signal: expected a string`);
        try {
          checked[name] = bulwark.signals.normalize(name, value).value;
        } catch (error) {
          throw invalid(`Invalid ${name} signal: ${(error as Error).message}`);
        }
      }
      return addedJson(await contents.add(bank.name, { signals: checked, note, source: `hma-api:${request.apiKey?.name ?? 'unknown'}` }));
    },
  );

  app.get(
    '/c/bank/:bank_name/content/:content_id',
    {
      schema: {
        tags,
        summary: 'HMA: one banked content',
        params: contentParams,
        querystring: z.object({ include_signals: z.string().optional(), include_metadata: z.string().optional() }),
      },
    },
    async (request) => {
      const bank = await existingBank(bulwark, request.params.bank_name);
      const content = await contentOf(contents, bank, request.params.content_id);
      const includeSignals = flag(request.query.include_signals, 'include_signals', false);
      const includeMetadata = flag(request.query.include_metadata, 'include_metadata', true);
      return {
        id: content.id,
        disable_until_ts: disableUntilTs(await bulwark.banks.entriesByIds(content.entryIds)),
        original_media_uri: null,
        bank: bankConfigJson(bank),
        ...(includeSignals ? { signals: content.signals } : {}),
        ...(includeMetadata && content.metadata ? { metadata: content.metadata } : {}),
        ...(content.note !== null ? { note: content.note } : {}),
      };
    },
  );

  app.put(
    '/c/bank/:bank_name/content/:content_id',
    {
      schema: {
        tags,
        summary: 'HMA: change a banked content’s note (disable_until_ts: see docs/hma.md)',
        params: contentParams,
        body: z.object({ disable_until_ts: z.union([z.number(), z.string()]).optional(), note: z.unknown().optional() }),
      },
    },
    async (request) => {
      const bank = await existingBank(bulwark, request.params.bank_name);
      let content = await contentOf(contents, bank, request.params.content_id);
      const body = request.body;
      // Both checked before either is applied.
      const note = 'note' in body ? checkNote(body.note) : undefined;
      if (body.disable_until_ts !== undefined) {
        const ts = Number(body.disable_until_ts);
        if (!Number.isSafeInteger(ts)) throw invalid(`Invalid int: '${body.disable_until_ts}'`);
        if (ts < 0) throw invalid('disable_until_ts must be a non-negative integer');
        const now = Math.floor(Date.now() / 1000);
        if (ts > now + FIVE_YEARS_SECONDS) throw invalid('disable_until_ts must be less than 5 years in the future');
        await setDisableUntil(bulwark, bank.name, content.entryIds, ts, now);
      }
      if (note !== undefined) content = await contents.setNote(bank.name, content.id, note);
      // HMA answers with its BankContentConfig dataclass as stored.
      return {
        id: content.id,
        disable_until_ts: disableUntilTs(await bulwark.banks.entriesByIds(content.entryIds)),
        collab_metadata: {},
        original_media_uri: null,
        bank: bankConfigJson(bank),
        user_metadata: content.metadata,
        note: content.note,
      };
    },
  );

  app.delete(
    '/c/bank/:bank_name/content/:content_id',
    { schema: { tags, summary: 'HMA: remove a banked content and all its hashes', params: contentParams } },
    async (request) => {
      const bank = await existingBank(bulwark, request.params.bank_name);
      return { deleted: await contents.remove(bank.name, request.params.content_id) };
    },
  );

  app.get('/c/signal_type', { schema: { tags, summary: 'HMA: the signal types and their enabled ratio' } }, async () =>
    bulwark.signals.names.map((name) => ({ name, enabled_ratio: 1.0 })),
  );

  app.get('/c/content_type', { schema: { tags, summary: 'HMA: the content types that can be hashed' } }, async () =>
    HMA_CONTENT_TYPES.map((name) => ({ name, enabled: bulwark.signals.hashersFor(name).length > 0 })),
  );
};

async function contentOf(contents: BankContentService, bank: Bank, id: number): Promise<BankContent> {
  try {
    return await contents.get(bank.name, id);
  } catch (error) {
    if (error instanceof BulwarkError && error.kind === 'not_found') throw notFound(`content '${id}' not found`);
    throw error;
  }
}
