import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Bulwark } from '../../app.ts';
import { invalid } from '../../errors.ts';
import { contentJson } from '../serialize.ts';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export const contentBody = z.strictObject({
  content_id: z.string().min(1).max(200),
  account_id: z.string().min(1).max(200),
  content_type: z.enum(['photo']).default('photo'),
  created_at: z.iso.datetime({ offset: true }).optional().describe('When the user created the content (ISO 8601)'),
  media_base64: z.string().optional().describe('The media bytes, base64-encoded'),
  signals: z
    .array(z.object({ signal_type: z.string(), value: z.string().max(1000), quality: z.number().int().min(0).max(100).optional() }))
    .max(20)
    .optional()
    .describe('Hashes the platform computed itself'),
});

export const contentRoutes = (bulwark: Bulwark): FastifyPluginAsync => async (plugin) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();
  const tags = ['content'];

  app.post(
    '/content',
    {
      schema: {
        tags,
        summary: 'Submit a piece of content: it is hashed, matched and stored, and a match emits a content.matched event',
        description: 'Idempotent by content_id: a second submission returns the stored result with status 200 and duplicate: true.',
        body: contentBody,
      },
    },
    async (request, reply) => {
      const body = request.body;
      let media: Buffer | undefined;
      if (body.media_base64 !== undefined) {
        const compact = body.media_base64.replace(/\s+/g, '');
        if (!BASE64.test(compact)) throw invalid('media_base64 is not valid base64');
        media = Buffer.from(compact, 'base64');
        if (media.length === 0) throw invalid('media is empty (0 bytes)');
      }
      const { record, duplicate } = await bulwark.content.submit({
        contentId: body.content_id,
        accountId: body.account_id,
        contentType: body.content_type,
        createdAt: body.created_at ? new Date(body.created_at) : undefined,
        media,
        signals: body.signals?.map((signal) => ({ signalType: signal.signal_type, value: signal.value, quality: signal.quality })),
      });
      return reply.code(duplicate ? 200 : 201).send({ ...contentJson(record), duplicate });
    },
  );

  app.put(
    '/content/:id',
    {
      schema: {
        tags,
        summary: 'Submit a piece of content as its raw bytes (Content-Type: image/*), without base64',
        description: 'The same as POST /v1/content, with the media as the body and the rest as query parameters. Idempotent by content id.',
        params: z.object({ id: z.string().min(1).max(200) }),
        querystring: z.object({
          account_id: z.string().min(1).max(200),
          content_type: z.enum(['photo']).default('photo'),
          created_at: z.iso.datetime({ offset: true }).optional().describe('When the user created the content (ISO 8601)'),
        }),
      },
    },
    async (request, reply) => {
      const media = request.body;
      if (!Buffer.isBuffer(media)) throw invalid('send the media as the body with Content-Type image/* or application/octet-stream');
      if (media.length === 0) throw invalid('media is empty (0 bytes)');
      const { record, duplicate } = await bulwark.content.submit({
        contentId: request.params.id,
        accountId: request.query.account_id,
        contentType: request.query.content_type,
        createdAt: request.query.created_at ? new Date(request.query.created_at) : undefined,
        media,
      });
      return reply.code(duplicate ? 200 : 201).send({ ...contentJson(record), duplicate });
    },
  );

  app.get('/content/:id', { schema: { tags, summary: 'The stored result for a content id', params: z.object({ id: z.string().min(1).max(200) }) } }, async (request) =>
    contentJson(await bulwark.content.get(request.params.id)),
  );
};
