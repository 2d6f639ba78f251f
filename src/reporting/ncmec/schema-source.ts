import { mkdtempSync, rmSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { schemaCompiles } from './xsd-validation.ts';

/** NCMEC's published schema as shipped with Bulwark (a copy of the XSD ISPWS serves at /xsd). */
export const BUNDLED_CYBERTIPLINE_XSD = resolve(import.meta.dirname, 'cybertipline-report.xsd');

/** Where documents are validated from: NCMEC's live schema, or the bundled copy. */
export type SchemaMode = 'live' | 'bundled';

export interface SchemaChoice {
  path: string;
  origin: 'live' | 'bundled';
}

export interface SchemaSourceOptions {
  mode: SchemaMode;
  /** ISPWS base URL; the live schema is `${baseUrl}/xsd`. */
  baseUrl: string;
  username?: string;
  password?: string;
  /** The file to fall back to (default the bundled copy). */
  bundledPath?: string;
  /** How long a fetched schema is used before it is fetched again (default 24 h). */
  refreshMs?: number;
  /** After a failed fetch, how long the bundled schema is used before trying again (default 15 min). */
  retryMs?: number;
  timeoutMs?: number;
  /** Where a fetch's deadline comes from instead of timeoutMs (tests end it on an event). */
  deadline?: () => AbortSignal;
  now?: () => Date;
  /** Hears that the live schema could not be used; the line names the reason, never credentials. */
  log?: (line: string) => void;
  fetch?: typeof fetch;
}

/** A schema larger than this is not NCMEC's (the published one is about 150 KB). */
const MAX_SCHEMA_BYTES = 4 * 1024 * 1024;

/**
 * The schema each document is validated against before it is sent. In live mode NCMEC's
 * current XSD is fetched from ISPWS and kept for refreshMs; a fetch that fails, or an answer
 * that is not a schema xmllint can compile, falls back to the bundled copy and says so.
 */
export class CyberTiplineSchemaSource {
  private readonly bundled: SchemaChoice;
  private live: { choice: SchemaChoice; until: number } | undefined;
  private retryAt = 0;
  private pending: Promise<SchemaChoice> | undefined;
  private directory: string | undefined;
  private generation = 0;
  private readonly now: () => Date;
  private readonly log: (line: string) => void;

  constructor(private readonly options: SchemaSourceOptions) {
    this.bundled = { path: options.bundledPath ?? BUNDLED_CYBERTIPLINE_XSD, origin: 'bundled' };
    this.now = options.now ?? (() => new Date());
    this.log = options.log ?? (() => undefined);
  }

  async current(): Promise<SchemaChoice> {
    if (this.options.mode === 'bundled') return this.bundled;
    const now = this.now().getTime();
    if (this.live && now < this.live.until) return this.live.choice;
    if (now < this.retryAt) return this.live?.choice ?? this.bundled;
    this.pending ??= this.refresh().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async refresh(): Promise<SchemaChoice> {
    const failed = (reason: string) => {
      this.retryAt = this.now().getTime() + (this.options.retryMs ?? 15 * 60_000);
      // An older live schema beats the bundled one: it was NCMEC's more recently.
      const using = this.live?.choice ?? this.bundled;
      this.log(`ncmec: the live CyberTipline schema could not be fetched (${reason}); validating against the ${using.origin === 'live' ? 'previously fetched' : 'bundled'} schema`);
      return using;
    };
    let text: string;
    try {
      const headers: Record<string, string> = {};
      if (this.options.username && this.options.password) headers.authorization = `Basic ${Buffer.from(`${this.options.username}:${this.options.password}`).toString('base64')}`;
      const response = await (this.options.fetch ?? fetch)(`${this.options.baseUrl.replace(/\/+$/, '')}/xsd`, {
        headers,
        redirect: 'error',
        signal: this.options.deadline?.() ?? AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      });
      if (!response.ok) {
        await response.body?.cancel().catch(() => undefined);
        return failed(`http ${response.status}`);
      }
      const declared = Number(response.headers.get('content-length') ?? 0);
      if (declared > MAX_SCHEMA_BYTES) {
        await response.body?.cancel().catch(() => undefined);
        return failed('the answer is too large to be the schema');
      }
      text = await response.text();
    } catch (error) {
      const name = (error as Error)?.name;
      return failed(name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'network error');
    }
    if (Buffer.byteLength(text) > MAX_SCHEMA_BYTES) return failed('the answer is too large to be the schema');
    if (!this.directory) {
      this.directory = mkdtempSync(join(tmpdir(), 'bulwark-ncmec-xsd-'));
      removeAtExit(this.directory);
    }
    const path = join(this.directory, `live-${++this.generation}.xsd`);
    await writeFile(path, text);
    if (!(await schemaCompiles(path))) {
      await rm(path, { force: true });
      return failed('the answer is not a schema xmllint can compile');
    }
    // The file before the previous one may still be read by a validation that started earlier; older ones are not.
    if (this.generation > 2) await rm(join(this.directory, `live-${this.generation - 2}.xsd`), { force: true });
    const choice: SchemaChoice = { path, origin: 'live' };
    this.live = { choice, until: this.now().getTime() + (this.options.refreshMs ?? 24 * 60 * 60_000) };
    return choice;
  }

  /** Removes fetched schemas from the temporary directory. */
  async close(): Promise<void> {
    if (this.directory) await rm(this.directory, { recursive: true, force: true });
  }
}

// xmllint reads its schema from a file; fetched ones go when the process does (or on close()).
const directories = new Set<string>();
function removeAtExit(directory: string): void {
  if (directories.size === 0) process.once('exit', () => directories.forEach((path) => rmSync(path, { recursive: true, force: true })));
  directories.add(directory);
}
