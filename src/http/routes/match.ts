import { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Bulwark } from '../../app.ts';
import { invalid } from '../../errors.ts';
import { matchResultJson } from '../serialize.ts';
import { withSpooledVideo } from '../uploads.ts';
import { matchOptionsQuery, toMatchOptions, zodIssuesToInvalid } from './shared.ts';

export const signalsBody = z.object({
  signals: z
    .array(z.object({ signal_type: z.string(), value: z.string().max(1000), quality: z.number().int().min(0).max(100).optional() }))
    .min(1)
    .max(20),
});

export const matchRoutes = (bulwark: Bulwark): FastifyPluginAsync => async (plugin) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();

  app.get('/signal-types', { schema: { tags: ['match'], summary: 'The signal types this server knows' } }, async () => ({
    signal_types: bulwark.signals.all().map((type) => ({
      name: type.name,
      description: type.description,
      matching: type.matching,
      default_max_distance: type.defaultMaxDistance,
    })),
  }));

  app.post(
    '/match',
    {
      schema: {
        tags: ['match'],
        summary: 'Match an image or precomputed hashes against the banks',
        description:
          'Send an image as the raw body (Content-Type image/* or application/octet-stream), a video (video/*, streamed to disk), or JSON ' +
          '{"signals": [{"signal_type": "pdq", "value": "…"}]}. Options go in the query string.',
        querystring: matchOptionsQuery,
      },
    },
    async (request) => {
      const options = toMatchOptions(request.query);
      if (request.body instanceof Readable) {
        return withSpooledVideo(request.body, request.headers, bulwark.config.video?.maxBytes, async (path) => {
          const computed = await bulwark.hashing.hash('video', { path }, { maxPixels: bulwark.config.maxPixels, video: bulwark.config.video });
          return matchResultJson(await bulwark.matcher.match(computed, options));
        });
      }
      if (Buffer.isBuffer(request.body)) {
        const computed = await bulwark.hashing.hash('photo', request.body, {
          variants: request.query.dihedral,
          maxPixels: bulwark.config.maxPixels,
        });
        return matchResultJson(await bulwark.matcher.match(computed, options));
      }
      const parsed = signalsBody.safeParse(request.body);
      if (!parsed.success) throw zodIssuesToInvalid(parsed.error);
      const computed = parsed.data.signals.map((signal) => {
        const normalized = bulwark.signals.normalize(signal.signal_type, signal.value);
        return { ...normalized, ...(signal.quality !== undefined ? { quality: signal.quality } : {}) };
      });
      if (request.query.dihedral) throw invalid('dihedral matching needs the image: send the image instead of its hash');
      return matchResultJson(await bulwark.matcher.match(computed, options));
    },
  );
};
