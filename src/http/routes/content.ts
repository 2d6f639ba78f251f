import { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isoTimestamp } from '../../validation/edge.ts';
import type { Bulwark } from '../../app.ts';
import { BulwarkError, invalid } from '../../errors.ts';
import { contentJson } from '../serialize.ts';
import { withSpooledVideo } from '../uploads.ts';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const CONTENT_TYPES = ['photo', 'video'] as const;

/** The content type a raw upload's Content-Type header implies, when the query names none. */
const impliedContentType = (header: string | undefined) => (header?.startsWith('video/') ? 'video' : 'photo');

export const contentBody = z.strictObject({
  content_id: z.string().min(1).max(200),
  account_id: z.string().min(1).max(200),
  content_type: z.enum(CONTENT_TYPES).default('photo'),
  created_at: isoTimestamp().optional().describe('When the user created the content (ISO 8601)'),
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
        summary: 'Submit a piece of content as its raw bytes (Content-Type: image/* or video/*), without base64',
        description:
          'The same as POST /v1/content, with the media as the body and the rest as query parameters. Idempotent by content id. ' +
          'Videos (video/mp4, video/webm, video/quicktime, …) are streamed to disk, never held in memory, and hashed as vPDQ and video MD5.',
        params: z.object({ id: z.string().min(1).max(200) }),
        querystring: z.object({
          account_id: z.string().min(1).max(200),
          content_type: z.enum(CONTENT_TYPES).optional().describe('photo or video; by default what the Content-Type header says'),
          created_at: isoTimestamp().optional().describe('When the user created the content (ISO 8601)'),
        }),
      },
    },
    async (request, reply) => {
      const body = request.body;
      const contentType = request.query.content_type ?? impliedContentType(request.headers['content-type']);
      const submit = (media: Buffer | { path: string }) =>
        bulwark.content.submit({
          contentId: request.params.id,
          accountId: request.query.account_id,
          contentType,
          createdAt: request.query.created_at ? new Date(request.query.created_at) : undefined,
          media,
        });
      let result;
      if (body instanceof Readable) {
        // A picture sent as video/* would otherwise be spooled under the video limit and then
        // read whole into a worker, past the body limit that bounds pictures.
        if (contentType !== 'video') throw new BulwarkError('unsupported_media', 'a video/* body is hashed as a video: send pictures as image/* or application/octet-stream');
        result = await withSpooledVideo(body, request.headers, bulwark.config.video?.maxBytes, (path) => submit({ path }));
      } else {
        if (!Buffer.isBuffer(body)) throw invalid('send the media as the body with Content-Type image/*, video/* or application/octet-stream');
        if (body.length === 0) throw invalid('media is empty (0 bytes)');
        result = await submit(body);
      }
      return reply.code(result.duplicate ? 200 : 201).send({ ...contentJson(result.record), duplicate: result.duplicate });
    },
  );

  app.get('/content/:id', { schema: { tags, summary: 'The stored result for a content id', params: z.object({ id: z.string().min(1).max(200) }) } }, async (request) =>
    contentJson(await bulwark.content.get(request.params.id)),
  );
};
