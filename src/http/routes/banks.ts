import { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Bulwark } from '../../app.ts';
import { BANK_KINDS } from '../../banks/bank-controls.ts';
import { parseBankRows, parseTags, type ImportFormat } from '../../banks/import-formats.ts';
import { invalid } from '../../errors.ts';
import { bankJson, entryJson } from '../serialize.ts';

const bankName = z.object({ name: z.string().min(1).max(63) });
const FORMAT_BY_CONTENT_TYPE: Record<string, ImportFormat> = {
  'text/csv': 'csv',
  'text/tab-separated-values': 'tsv',
  'text/plain': 'tsv',
  'application/x-ndjson': 'jsonl',
  'application/jsonl': 'jsonl',
};

export const bankRoutes = (bulwark: Bulwark): FastifyPluginAsync => async (plugin) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();
  const tags = ['banks'];

  app.get('/banks', { schema: { tags, summary: 'List hash banks with their entry counts' } }, async () => ({
    banks: (await bulwark.banks.list()).map(bankJson),
  }));

  app.post(
    '/banks',
    {
      schema: {
        tags,
        summary: 'Create a hash bank',
        description: 'kind "allow" makes an allow-list bank: its matches suppress the same content’s matches in the other banks (docs/banks.md).',
        body: z.object({
          name: z.string(),
          description: z.string().max(2000).optional(),
          kind: z.enum(BANK_KINDS).optional(),
          tags: z.array(z.string()).max(50).optional().describe('every match from the bank carries these beside its entry’s own (e.g. demo: the demo rules act on banks tagged demo)'),
        }),
      },
    },
    async (request, reply) => reply.code(201).send(bankJson(await bulwark.banks.create(request.body.name, request.body.description, { kind: request.body.kind, tags: request.body.tags }))),
  );

  app.get('/banks/:name', { schema: { tags, summary: 'One bank', params: bankName } }, async (request) =>
    bankJson(await bulwark.banks.get(request.params.name)),
  );

  app.patch(
    '/banks/:name',
    {
      schema: {
        tags,
        summary: 'Change a bank’s description, switch its matching on or off, set how close its matches must be, its kind, share of traffic and flood limit',
        description:
          'match_settings, when given, replaces the bank’s settings whole: max_distance per distance-based signal type ' +
          '(e.g. {"pdq": 20}) and min_match_percent per frame-list type (e.g. {"vpdq": {"query": 90, "compared": 50}}). ' +
          'A match request’s own options win over them; {} returns the bank to the types’ defaults. ' +
          'kind: block or allow. enabled_ratio (0..1): the share of lookups the bank counts in, by a coin per request seed. ' +
          'flood_limit: distinct uploads an entry may match in an hour before it is quarantined; null for the server’s default.',
        params: bankName,
        body: z.object({
          description: z.string().max(2000).optional(),
          enabled: z.boolean().optional(),
          kind: z.enum(BANK_KINDS).optional(),
          enabled_ratio: z.number().min(0).max(1).optional(),
          flood_limit: z.number().int().min(1).nullable().optional(),
          published: z.boolean().optional().describe('Serve the bank to peer platforms as a feed (GET /v1/feeds/{bank}), to keys allowed to read feeds'),
          tags: z.array(z.string()).max(50).optional().describe('replaces the bank’s tags, which every match from it carries'),
          match_settings: z
            .strictObject({
              max_distance: z.record(z.string(), z.number().int()).optional(),
              min_match_percent: z.record(z.string(), z.strictObject({ query: z.number().optional(), compared: z.number().optional() })).optional(),
            })
            .optional(),
        }),
      },
    },
    async (request) => {
      const { description, enabled, published, tags: bankTags, kind, enabled_ratio: enabledRatio, flood_limit: floodLimit, match_settings: settings } = request.body;
      const matchSettings = settings ? { maxDistance: settings.max_distance, minMatchPercent: settings.min_match_percent } : undefined;
      return bankJson(await bulwark.banks.update(request.params.name, { description, enabled, kind, enabledRatio, floodLimit, matchSettings, published, tags: bankTags }));
    },
  );

  app.delete('/banks/:name', { schema: { tags, summary: 'Delete a bank and its entries', params: bankName } }, async (request, reply) => {
    await bulwark.banks.delete(request.params.name);
    return reply.code(204).send();
  });

  app.get(
    '/banks/:name/entries',
    {
      schema: {
        tags,
        summary: 'Page through a bank’s entries',
        params: bankName,
        querystring: z.object({
          after: z.coerce.number().int().min(0).optional(),
          limit: z.coerce.number().int().min(1).max(10_000).optional(),
          signal_type: z.string().optional(),
        }),
      },
    },
    async (request) => {
      const entries = await bulwark.banks.listEntries(request.params.name, {
        afterId: request.query.after,
        limit: request.query.limit,
        signalType: request.query.signal_type,
      });
      return { entries: entries.map(entryJson), next_after: entries.length > 0 ? entries[entries.length - 1].id : null };
    },
  );

  app.post(
    '/banks/:name/entries',
    {
      schema: {
        tags,
        summary: 'Add one entry',
        params: bankName,
        body: z.object({
          signal_type: z.string(),
          // A vPDQ value lists a video's frames, a line each (about 80 bytes per hashed second).
          value: z.string().max(16 * 1024 * 1024),
          source: z.string().max(500).optional(),
          tags: z.array(z.string()).max(50).optional(),
        }),
      },
    },
    async (request, reply) => {
      const { signal_type, value, source, tags: entryTags } = request.body;
      const entry = await bulwark.banks.addEntry(request.params.name, { signalType: signal_type, value, source, tags: entryTags });
      return reply.code(201).send(entryJson(entry));
    },
  );

  app.delete(
    '/banks/:name/entries/:id',
    { schema: { tags, summary: 'Remove one entry', params: bankName.extend({ id: z.coerce.number().int().min(1) }) } },
    async (request, reply) => {
      await bulwark.banks.removeEntryById(request.params.name, request.params.id);
      return reply.code(204).send();
    },
  );

  const entryPath = bankName.extend({ id: z.coerce.number().int().min(1) });

  app.post(
    '/banks/:name/entries/:id/disable',
    {
      schema: {
        tags,
        summary: 'Stop one entry matching, for a time or until re-enabled, without removing it',
        description:
          'until (an ISO 8601 time) or for_seconds says when it matches again; neither: not until POST …/enable. ' +
          'Every process drops it from its indexes as a revision of the bank.',
        params: entryPath,
        body: z.strictObject({
          reason: z.string().min(1).max(500),
          until: z.iso.datetime({ offset: true }).nullable().optional(),
          for_seconds: z.number().int().min(1).optional(),
        }),
      },
    },
    async (request) => {
      const { reason, until, for_seconds: seconds } = request.body;
      if (until && seconds !== undefined) throw invalid('give until or for_seconds, not both');
      return entryJson(await bulwark.banks.disableEntry(request.params.id, { bank: request.params.name, until: until ? new Date(until) : null, forSeconds: seconds, reason }));
    },
  );

  app.post(
    '/banks/:name/entries/:id/enable',
    { schema: { tags, summary: 'Let a disabled entry match again', params: entryPath } },
    async (request) => entryJson(await bulwark.banks.enableEntry(request.params.id, { bank: request.params.name })),
  );

  app.post(
    '/banks/:name/import',
    {
      schema: {
        tags,
        summary: 'Import a hash list (CSV, TSV or JSON lines) in one transaction',
        description:
          'Send the list as the body with Content-Type text/csv, text/tab-separated-values or application/x-ndjson. ' +
          'A bad row refuses the whole import and names its line.',
        params: bankName,
        querystring: z.object({
          signal_type: z.string().optional(),
          source: z.string().max(500).optional(),
          on_duplicate: z.enum(['skip', 'error']).optional(),
          tags: z.string().max(1000).optional().describe('tags for every row besides its own, comma-separated (e.g. demo: the demo rules act on entries tagged demo)'),
        }),
      },
    },
    async (request) => {
      const contentType = (request.headers['content-type'] ?? '').split(';')[0].trim();
      const format = FORMAT_BY_CONTENT_TYPE[contentType];
      if (!format || typeof request.body !== 'string') {
        throw invalid('send the list with Content-Type text/csv, text/tab-separated-values or application/x-ndjson');
      }
      const rows = parseBankRows(Readable.from([request.body]), {
        format,
        signalType: request.query.signal_type,
        defaultSource: request.query.source,
        tags: parseTags(request.query.tags),
      });
      const result = await bulwark.banks.importRows(request.params.name, rows, {
        sourceName: request.query.source ?? `api:${request.apiKey?.name ?? 'unknown'}`,
        format,
        onDuplicate: request.query.on_duplicate,
      });
      return { import_id: result.importId, rows_read: result.rowsRead, rows_added: result.rowsAdded, rows_duplicate: result.rowsDuplicate };
    },
  );

  app.get(
    '/banks/:name/export',
    { schema: { tags, summary: 'Export every entry as JSON lines', params: bankName } },
    async (request, reply) => {
      await bulwark.banks.get(request.params.name);
      const entries = bulwark.banks.exportEntries(request.params.name);
      const lines = Readable.from(
        (async function* () {
          for await (const entry of entries) {
            yield `${JSON.stringify({ signal_type: entry.signalType, value: entry.value, source: entry.source, tags: entry.tags })}\n`;
          }
        })(),
      );
      return reply.type('application/x-ndjson').send(lines);
    },
  );
};
