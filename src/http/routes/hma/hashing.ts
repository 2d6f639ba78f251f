import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Bulwark } from '../../../app.ts';
import { invalid } from '../../../errors.ts';
import type { ComputedSignal, MediaInput } from '../../../signals/types.ts';
import type { RemoteMediaFetcher } from '../../remote-media.ts';
import { type MultipartBody, multipartOf } from './shapes.ts';

/** HMA's content types, and the signal types HMA computes for each by default (PdqSignal, VideoMD5Signal). */
export const HMA_CONTENT_TYPES = ['photo', 'video'] as const;
const HMA_DEFAULT_TYPES: Record<string, string[]> = { photo: ['pdq'], video: ['video_md5'] };
/** PdqSignal.hash_from_bytes gives "" below this quality. */
const PDQ_QUALITY_THRESHOLD = 50;

export interface HmaHashes {
  /** Signal type to value, as HMA's HashResponse. */
  hashes: Record<string, string>;
  /** The signals as computed, quality included, for matching. */
  computed: ComputedSignal[];
}

function lookupContentType(name: string): string {
  if (!(HMA_CONTENT_TYPES as readonly string[]).includes(name)) throw invalid(`no such content_type: '${name}'`);
  return name;
}

/** HMA's default signal types for the content type, or those named in `types` (any Bulwark computes for it). */
function selectedTypes(bulwark: Bulwark, contentType: string, types: string | undefined): string[] {
  if (types === undefined) return HMA_DEFAULT_TYPES[contentType];
  const available = new Set(bulwark.signals.hashersFor(contentType).flatMap((hasher) => hasher.signalTypes));
  const selected: string[] = [];
  for (const raw of types.split(',')) {
    const name = raw.trim();
    if (!name) continue;
    if (!available.has(name)) throw invalid(`signal type '${name}' doesn't exist or is disabled`);
    selected.push(name);
  }
  if (selected.length === 0) throw invalid('empty signal type selection');
  return selected;
}

export async function hashMedia(bulwark: Bulwark, contentType: string, media: MediaInput, types: string | undefined): Promise<HmaHashes> {
  const wanted = selectedTypes(bulwark, contentType, types);
  const all = await bulwark.hashing.hash(contentType, media, { maxPixels: bulwark.config.maxPixels, video: bulwark.config.video });
  const computed = all.filter((signal) => wanted.includes(signal.signalType));
  const hashes: Record<string, string> = {};
  for (const signal of computed) {
    hashes[signal.signalType] = signal.signalType === 'pdq' && (signal.quality ?? 100) < PDQ_QUALITY_THRESHOLD ? '' : signal.value;
  }
  return { hashes, computed };
}

/** The one file of an HMA upload, whose field name is its content type. */
export async function hashUpload(bulwark: Bulwark, form: MultipartBody | undefined, types?: string): Promise<HmaHashes> {
  if (!form || form.files.length === 0) throw invalid('Missing multipart/form-data file upload');
  if (form.files.length > 1) throw invalid('Only one file allowed per request');
  const [file] = form.files;
  return hashMedia(bulwark, lookupContentType(file.field), file.data, types);
}

/** Fetches the URL under the operator's allow-list and limits, and hashes it. */
export async function hashUrl(bulwark: Bulwark, fetcher: RemoteMediaFetcher, url: string, contentTypeHint: string | undefined, types: string | undefined): Promise<HmaHashes> {
  if (contentTypeHint) lookupContentType(contentTypeHint);
  const remote = await fetcher.fetch(url);
  try {
    let contentType = contentTypeHint;
    if (!contentType) {
      if (remote.contentType.startsWith('image')) contentType = 'photo';
      else if (remote.contentType.startsWith('video')) contentType = 'video';
      else {
        throw invalid(
          `unsupported url ContentType: '${remote.contentType}', if you know the expected type, provide it with the content_type query param`,
        );
      }
    }
    return await hashMedia(bulwark, contentType, { path: remote.upload.path }, types);
  } finally {
    await remote.upload.remove();
  }
}

export const hashQuery = z.object({
  url: z.string().max(4096),
  content_type: z.string().optional(),
  types: z.string().optional(),
});

export const hmaHashingRoutes = (bulwark: Bulwark, fetcher: RemoteMediaFetcher): FastifyPluginAsync => async (plugin) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();
  const tags = ['hma'];

  app.get(
    '/h/hash',
    { schema: { tags, summary: 'HMA: hash media fetched from an allowed URL', querystring: hashQuery } },
    async (request) => (await hashUrl(bulwark, fetcher, request.query.url, request.query.content_type, request.query.types)).hashes,
  );

  app.post(
    '/h/hash',
    {
      schema: {
        tags,
        summary: 'HMA: hash an uploaded file (multipart/form-data; the field name is the content type, photo or video)',
        querystring: z.object({ types: z.string().optional() }),
      },
    },
    async (request) => (await hashUpload(bulwark, await multipartOf(request), request.query.types)).hashes,
  );
};
