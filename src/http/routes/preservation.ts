import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isoTimestamp } from '../../validation/edge.ts';
import { PRESERVATION_REASONS, type PreservationService } from '../../preservation/preservation-service.ts';

const idParams = z.object({ id: z.coerce.number().int().positive() });
const actor = (request: FastifyRequest) => `api-key:${request.apiKey?.name ?? 'unknown'}`;
const booleanFlag = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');

/**
 * Evidence preserved for reports and legal requests. Listing and metadata show no evidence;
 * the snapshot opens only with a stated purpose, and every opening is logged.
 */
export const preservationRoutes = (preservation: PreservationService): FastifyPluginAsync => async (plugin) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();

  app.post(
    '/preservations',
    {
      schema: {
        tags: ['preservation'],
        summary: 'Preserve a case now: its decisions, content, media and the accounts involved, sealed for at least a year',
        body: z.strictObject({
          case_id: z.number().int().positive(),
          reason: z.enum(PRESERVATION_REASONS),
          ncmec_report_id: z.string().min(1).max(100).optional(),
        }),
      },
    },
    async (request, reply) => {
      const body = request.body;
      const record = await preservation.preserve({ caseId: body.case_id, reason: body.reason, requestedBy: actor(request), ncmecReportId: body.ncmec_report_id });
      return reply.code(201).send(record);
    },
  );

  app.get(
    '/preservations',
    {
      schema: {
        tags: ['preservation'],
        summary: 'Preservation records, newest first (metadata only), paged by before',
        querystring: z.object({
          case_id: z.coerce.number().int().positive().optional(),
          status: z.enum(['preserved', 'purged']).optional(),
          before: z.coerce.number().int().positive().optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
        }),
      },
    },
    async (request) => ({
      preservations: await preservation.list({ caseId: request.query.case_id, status: request.query.status, before: request.query.before, limit: request.query.limit }),
    }),
  );

  app.get('/preservations/:id', { schema: { tags: ['preservation'], summary: 'A record’s metadata, holds, accesses and tombstone', params: idParams } }, async (request) =>
    preservation.get(request.params.id),
  );

  const openSnapshot = async (request: FastifyRequest, reply: FastifyReply, id: number, purpose: string, withMedia: boolean) => {
    const opened = await preservation.open(id, { by: actor(request), purpose, withMedia });
    reply.header('cache-control', 'no-store');
    return {
      record: opened.record,
      snapshot: opened.snapshot,
      ...(opened.media ? { media: opened.media.map((m) => ({ content_id: m.content_id, media_type: m.media_type, base64: m.bytes.toString('base64') })) } : {}),
    };
  };

  // The purpose travels in the body: a query string ends up in request logs, proxies' access
  // logs and browser histories, and the purpose may name a person or a case.
  app.post(
    '/preservations/:id/snapshot',
    {
      schema: {
        tags: ['preservation'],
        summary: 'Decrypt a record (logged with the purpose given); media as base64 only when asked for',
        params: idParams,
        body: z.strictObject({ purpose: z.string().min(3).max(500), media: z.boolean().optional() }),
      },
    },
    async (request, reply) => openSnapshot(request, reply, request.params.id, request.body.purpose, request.body.media === true),
  );

  // Kept for clients written against the first version; the request log shows its purpose as [redacted].
  app.get(
    '/preservations/:id/snapshot',
    {
      schema: {
        tags: ['preservation'],
        summary: 'Deprecated: use POST /v1/preservations/{id}/snapshot, which takes the purpose in the body',
        deprecated: true,
        params: idParams,
        querystring: z.object({ purpose: z.string().min(3).max(500), media: booleanFlag.optional() }),
      },
    },
    async (request, reply) => {
      reply.header('deprecation', 'true');
      return openSnapshot(request, reply, request.params.id, request.query.purpose, request.query.media === true);
    },
  );

  app.post(
    '/preservations/:id/holds',
    {
      schema: {
        tags: ['preservation'],
        summary: 'Place a legal hold: the record is kept past its expiry until the hold is released or ends',
        params: idParams,
        body: z.strictObject({ reason: z.string().min(3).max(500), until: isoTimestamp().optional() }),
      },
    },
    async (request, reply) => {
      const hold = await preservation.hold(request.params.id, { reason: request.body.reason, until: request.body.until ? new Date(request.body.until) : undefined, by: actor(request) });
      return reply.code(201).send(hold);
    },
  );

  app.delete(
    '/preservations/holds/:holdId',
    { schema: { tags: ['preservation'], summary: 'Release a legal hold', params: z.object({ holdId: z.coerce.number().int().positive() }) } },
    async (request) => preservation.release(request.params.holdId, actor(request)),
  );

  app.post(
    '/preservations/purge',
    {
      schema: {
        tags: ['preservation'],
        summary: 'Delete the evidence of expired records without an active hold now, leaving tombstones',
        body: z.strictObject({ dry_run: z.boolean().optional() }).optional(),
      },
    },
    async (request) => preservation.purgeExpired(undefined, { dryRun: request.body?.dry_run === true, by: actor(request) }),
  );
};
