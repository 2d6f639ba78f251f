import { parseRetryAfter } from '../../actions/webhook-target.ts';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { z } from 'zod';
import { BulwarkError, invalid } from '../../errors.ts';
import { bankRowReader, type RawBankRow } from '../../banks/import-formats.ts';
import { contentLines } from '../../ingest/text-lines.ts';
import { credentialVariable, type ExchangeCheckpoint, type ExchangeContext, ExchangeError, type ExchangeItem, type ExchangeType, type FetchPage, type SignalExchange } from '../exchange.ts';

/**
 * A hash list in a file or at a URL, always the whole list: each new version replaces the
 * last, so items missing from it are deletions. Formats: `lines` as HMA's local_file and
 * python-threatexchange read it (`signal_type value` per line, or bare values when the config
 * names the signal type), and the csv, tsv and jsonl lists `bulwark bank import` reads.
 */
export interface FileExchangeConfig {
  url?: string;
  path?: string;
  format: 'lines' | 'csv' | 'tsv' | 'jsonl';
  signalType?: string;
  /** Tags given to every item of the list, besides the list's own. */
  tags: string[];
  /** Largest list read, in bytes. */
  maxBytes: number;
}

const FORMATS = ['lines', 'csv', 'tsv', 'jsonl'] as const;
const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;
/** Items per page: the fetcher applies a page in one transaction. */
export const FILE_PAGE_ITEMS = 10_000;
/** The one directory local lists may be read from; without it only URLs are allowed. */
export const FILE_DIR_VARIABLE = 'BULWARK_EXCHANGE_FILE_DIR';

const configSchema = z.strictObject({
  url: z.string().url().refine((url) => /^https?:\/\//i.test(url), 'only http and https URLs are read').optional(),
  path: z.string().min(1).max(4096).optional(),
  format: z.enum(FORMATS).optional(),
  signal_type: z.string().min(1).max(64).optional(),
  tags: z.array(z.string().min(1).max(64)).max(50).optional(),
  max_bytes: z.number().int().min(1).max(4 * 1024 * 1024 * 1024).optional(),
});

function formatFromName(name: string): FileExchangeConfig['format'] {
  const lower = name.toLowerCase().split('?')[0];
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.tsv')) return 'tsv';
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  return 'lines';
}

interface FileState {
  etag?: string;
  lastModified?: string;
  sha256?: string;
}

export const fileExchangeType: ExchangeType<FileExchangeConfig> = {
  name: 'file',

  parseConfig(raw: unknown): FileExchangeConfig {
    const parsed = configSchema.safeParse(raw ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue.path.join('.') || 'config';
      throw invalid(`config.${field}: ${issue.message}`, { field: `config.${field}` });
    }
    const { url, path, format, signal_type, tags, max_bytes } = parsed.data;
    if ((url === undefined) === (path === undefined)) throw invalid('config: give exactly one of "url" and "path"', { field: 'config.url' });
    if (path !== undefined && !isAbsolute(path)) throw invalid('config.path: give an absolute path', { field: 'config.path' });
    return {
      ...(url !== undefined ? { url } : { path }),
      format: format ?? formatFromName(url ?? path!),
      ...(signal_type ? { signalType: signal_type.toLowerCase() } : {}),
      tags: tags ?? [],
      maxBytes: max_bytes ?? DEFAULT_MAX_BYTES,
    };
  },

  credentialVariables(exchangeName: string): string[] {
    return [credentialVariable(exchangeName, 'AUTHORIZATION'), FILE_DIR_VARIABLE];
  },

  /** Both are optional: an Authorization header for a protected URL, and the directory local lists may live in. */
  credentialsFromEnv(exchangeName: string, env: NodeJS.ProcessEnv): Record<string, string> {
    const authorization = env[credentialVariable(exchangeName, 'AUTHORIZATION')];
    const fileDir = env[FILE_DIR_VARIABLE];
    return { ...(authorization ? { authorization } : {}), ...(fileDir ? { fileDir } : {}) };
  },

  create(config: FileExchangeConfig, context: ExchangeContext): SignalExchange {
    return new FileExchange(config, context);
  },

  configuredUrls: (config) => (config.url !== undefined ? [{ field: 'url', url: config.url }] : []),
  builtInHosts: [],
};

class FileExchange implements SignalExchange {
  constructor(
    private readonly config: FileExchangeConfig,
    private readonly context: ExchangeContext,
  ) {}

  async *fetch(checkpoint: ExchangeCheckpoint | null, signal: AbortSignal): AsyncIterable<FetchPage> {
    const previous = (checkpoint?.state ?? {}) as FileState;
    const read = this.config.url !== undefined ? await this.download(this.config.url, previous, signal) : await this.readLocal(this.config.path!);
    const now = this.context.now().toISOString();
    if (read === 'unchanged' || read.state.sha256 === previous.sha256) {
      // Nothing new: the list is known to be current up to now.
      yield { items: [], checkpoint: { progressAt: now, state: read === 'unchanged' ? { ...previous } : { ...read.state } } };
      return;
    }
    // Until the last page the checkpoint stays the old one: a restart reads the new version again from its start.
    const unfinished: ExchangeCheckpoint = { progressAt: checkpoint?.progressAt ?? null, state: { ...previous } };
    let page: ExchangeItem[] = [];
    let skipped: { item: string; reason: string }[] = [];
    let first = true;
    for await (const entry of this.items(read.body)) {
      if ('skip' in entry) skipped.push(entry.skip);
      else page.push(entry.item);
      if (page.length >= FILE_PAGE_ITEMS) {
        yield { items: page, checkpoint: unfinished, skipped, startsFullList: first };
        page = [];
        skipped = [];
        first = false;
      }
    }
    yield { items: page, checkpoint: { progressAt: now, state: { ...read.state } }, skipped, startsFullList: first };
  }

  private async *items(body: Buffer): AsyncGenerator<{ item: ExchangeItem } | { skip: { item: string; reason: string } }> {
    const readRow = this.config.format === 'lines' ? undefined : bankRowReader({ format: this.config.format, signalType: this.config.signalType });
    for await (const { line, text } of contentLines(Readable.from([body]))) {
      try {
        const row = readRow ? readRow(line, text) : this.lineRow(line, text);
        if (!row) continue;
        const tags = [...new Set([...this.config.tags, ...row.tags])];
        yield { item: { key: `${row.signalType} ${row.value}`, signals: [{ signalType: row.signalType, value: row.value }], tags, ...(row.source ? { member: row.source } : {}) } };
      } catch (error) {
        if (!(error instanceof BulwarkError)) throw error;
        yield { skip: { item: `line ${line}`, reason: error.message.replace(/^line \d+: /, '') } };
      }
    }
  }

  /** HMA's local_file: `signal_type value`, or the value alone when the config names the type. */
  private lineRow(line: number, text: string): RawBankRow {
    const fields = text.trim().split(/\s+/);
    if (fields.length === 1 && this.config.signalType) return { line, signalType: this.config.signalType, value: fields[0], tags: [] };
    if (fields.length !== 2) {
      throw invalid(`line ${line}: expected "signal_type value"${this.config.signalType ? ' or a bare value' : ''}, found ${fields.length} fields`);
    }
    return { line, signalType: fields[0].toLowerCase(), value: fields[1], tags: [] };
  }

  private async readLocal(path: string): Promise<{ body: Buffer; state: FileState }> {
    const dir = this.context.credentials.fileDir;
    if (!dir) throw new ExchangeError(`local lists are read only from the directory ${FILE_DIR_VARIABLE} names, and it is not set`, false);
    const inside = relative(resolve(dir), resolve(path));
    if (inside.startsWith('..') || isAbsolute(inside)) throw new ExchangeError(`${path} is outside ${FILE_DIR_VARIABLE}`, false);
    let body: Buffer;
    try {
      body = await readFile(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new ExchangeError(`cannot read ${path}: ${code ?? 'error'}`, code !== 'ENOENT' && code !== 'EACCES' && code !== 'EISDIR');
    }
    if (body.length > this.config.maxBytes) throw new ExchangeError(`${path} is larger than ${this.config.maxBytes} bytes`, false);
    return { body, state: { sha256: createHash('sha256').update(body).digest('hex') } };
  }

  /** A conditional GET: 304 (or the same bytes again) means the list has not changed. */
  private async download(url: string, previous: FileState, signal: AbortSignal): Promise<'unchanged' | { body: Buffer; state: FileState }> {
    const headers: Record<string, string> = {};
    if (previous.etag) headers['if-none-match'] = previous.etag;
    if (previous.lastModified) headers['if-modified-since'] = previous.lastModified;
    if (this.context.credentials.authorization) headers.authorization = this.context.credentials.authorization;
    let response: Response;
    try {
      response = await this.context.fetch(url, { headers, signal, redirect: 'follow' });
    } catch (error) {
      if (error instanceof ExchangeError) throw error;
      throw new ExchangeError(`cannot reach ${new URL(url).host}: ${error instanceof Error ? error.message : String(error)}`, true);
    }
    if (response.status === 304) return 'unchanged';
    if (!response.ok) {
      await response.body?.cancel();
      const retryable = response.status === 429 || response.status >= 500;
      throw new ExchangeError(`${new URL(url).host} answered ${response.status}`, retryable, parseRetryAfter(response.headers.get('retry-after'), this.context.now()));
    }
    const declared = Number(response.headers.get('content-length') ?? NaN);
    if (declared > this.config.maxBytes) {
      await response.body?.cancel();
      throw new ExchangeError(`the list is larger than ${this.config.maxBytes} bytes`, false);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body ?? []) {
      size += chunk.length;
      if (size > this.config.maxBytes) throw new ExchangeError(`the list is larger than ${this.config.maxBytes} bytes`, false);
      chunks.push(Buffer.from(chunk));
    }
    const body = Buffer.concat(chunks);
    const state: FileState = { sha256: createHash('sha256').update(body).digest('hex') };
    const etag = response.headers.get('etag');
    const lastModified = response.headers.get('last-modified');
    if (etag) state.etag = etag;
    if (lastModified) state.lastModified = lastModified;
    return { body, state };
  }
}

