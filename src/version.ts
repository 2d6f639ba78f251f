import { readFileSync } from 'node:fs';

/**
 * This build's version, read once from package.json so the landing page, the OpenAPI
 * document and the CLI cannot drift apart from the version that was released.
 */
export const BULWARK_VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
