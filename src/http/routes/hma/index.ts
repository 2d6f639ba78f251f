import type { FastifyPluginAsync } from 'fastify';
import type { Bulwark } from '../../../app.ts';
import { BankContentService } from '../../../banks/bank-contents.ts';
import { RemoteMediaFetcher, type RemoteMediaOptions, remoteMediaOptionsFromEnv } from '../../remote-media.ts';
import { hmaCurationRoutes } from './curation.ts';
import { type HmaExchangeBackend, hmaExchangeRoutes } from './exchanges.ts';
import { hmaHashingRoutes } from './hashing.ts';
import { hmaMatchingRoutes } from './matching.ts';
import { acceptMultipart, answerInHmaShape } from './shapes.ts';

/**
 * The HMA 2.x (OpenMediaMatch) API at HMA's own paths (/h, /m, /c), so an HMA client switches
 * to Bulwark by changing its base URL and adding an API key. Errors answer in HMA's
 * {message, details?} shape, not problem+json. See docs/hma.md.
 */
export interface HmaOptions {
  /** Fetching media by URL (the ?url= forms); an empty allow-list refuses them. */
  remote: RemoteMediaOptions;
  /** Largest multipart upload in bytes. */
  uploadLimit: number;
}

export function hmaOptionsFromEnv(env: NodeJS.ProcessEnv, uploadLimit: number): HmaOptions {
  return { remote: remoteMediaOptionsFromEnv(env), uploadLimit };
}

export const hmaRoutes = (bulwark: Bulwark, options: HmaOptions): FastifyPluginAsync => async (app) => {
  answerInHmaShape(app);
  acceptMultipart(app, options.uploadLimit);
  const contents = new BankContentService(bulwark.sql, bulwark.banks, bulwark.signals);
  const fetcher = new RemoteMediaFetcher(options.remote);
  await app.register(hmaHashingRoutes(bulwark, fetcher));
  await app.register(hmaMatchingRoutes(bulwark, contents, fetcher));
  await app.register(hmaCurationRoutes(bulwark, contents, fetcher));
  // The exchange stage (src/exchange/exchange-service.ts) comes from another branch: the
  // /c/exchanges routes are served once it is part of this build.
  const exchanges = (bulwark as Bulwark & { exchanges?: HmaExchangeBackend }).exchanges;
  if (exchanges) await app.register(hmaExchangeRoutes(exchanges));
};
