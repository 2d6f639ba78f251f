import { BulwarkError, invalid } from '../errors.ts';
import { assertBlobKey, type BlobStore } from './blob-store.ts';
import { amzDate, type SigV4Credentials, sha256Hex, signV4, uriEncode } from './sigv4.ts';

export interface S3Config {
  /** https://s3.example.net or http://127.0.0.1:9000 (BULWARK_S3_ENDPOINT). */
  endpoint: string;
  bucket: string;
  region: string;
  credentials: SigV4Credentials;
  /** Prepended to every key, e.g. "bulwark/preservation". */
  prefix?: string;
  fetch?: typeof fetch;
  now?: () => Date;
}

/**
 * Sealed evidence objects in S3 or an S3-compatible store, addressed path-style
 * (endpoint/bucket/key), which every compatible server accepts. Requests are signed with
 * SigV4 and carry the payload's SHA-256, so the server rejects a body altered in transit.
 */
export class S3BlobStore implements BlobStore {
  readonly kind = 's3';
  private readonly endpoint: URL;
  private readonly fetch: typeof fetch;
  private readonly now: () => Date;

  constructor(private readonly config: S3Config) {
    try {
      this.endpoint = new URL(config.endpoint);
    } catch {
      throw invalid('BULWARK_S3_ENDPOINT must be a URL such as https://s3.eu-west-1.amazonaws.com');
    }
    if (!config.bucket) throw invalid('BULWARK_S3_BUCKET is required with BULWARK_S3_ENDPOINT');
    if (!config.credentials.accessKeyId || !config.credentials.secretAccessKey) {
      throw invalid('S3 credentials are required: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or BULWARK_S3_ACCESS_KEY_ID and BULWARK_S3_SECRET_ACCESS_KEY)');
    }
    this.fetch = config.fetch ?? globalThis.fetch;
    this.now = config.now ?? (() => new Date());
  }

  private objectPath(key: string): string {
    assertBlobKey(key);
    const base = this.endpoint.pathname.replace(/\/+$/, '');
    const full = this.config.prefix ? `${this.config.prefix.replace(/^\/+|\/+$/g, '')}/${key}` : key;
    return `${base}/${this.config.bucket}/${full}`;
  }

  private async request(method: 'PUT' | 'GET' | 'DELETE', key: string, body?: Buffer): Promise<Response> {
    const path = this.objectPath(key);
    const payloadHash = sha256Hex(body ?? Buffer.alloc(0));
    const headers: Record<string, string> = { host: this.endpoint.host, 'x-amz-date': amzDate(this.now()), 'x-amz-content-sha256': payloadHash };
    if (this.config.credentials.sessionToken) headers['x-amz-security-token'] = this.config.credentials.sessionToken;
    const signed = signV4({ method, path, headers, payloadHash }, { credentials: this.config.credentials, region: this.config.region, service: 's3' });
    const { host: _host, ...sent } = headers;
    const url = `${this.endpoint.protocol}//${this.endpoint.host}${path.split('/').map(uriEncode).join('/')}`;
    const send = () => this.fetch(url, { method, headers: { ...sent, authorization: signed.authorization }, ...(body ? { body } : {}) });
    try {
      return await send();
    } catch (first) {
      // A pooled keep-alive connection the server has just closed fails at once ("other side
      // closed"); every request here is idempotent (whole-object PUT, GET, DELETE), so one
      // more try on a fresh connection is safe, as S3's own clients do.
      try {
        return await send();
      } catch (error) {
        const cause = (error as Error & { cause?: Error }).cause?.message ?? (first as Error).message;
        throw new BulwarkError('unavailable', `object storage at ${this.endpoint.host} is unreachable: ${(error as Error).message}${cause ? ` (${cause})` : ''}`);
      }
    }
  }

  /** S3's error code (NoSuchKey, NoSuchBucket, AccessDenied…) from an error body; the body holds no evidence. */
  private async errorCode(response: Response): Promise<string | undefined> {
    const text = (await response.text().catch(() => '')).slice(0, 500);
    return /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
  }

  private refused(response: Response, code: string | undefined, doing: string): BulwarkError {
    return new BulwarkError('unavailable', `object storage refused to ${doing}: HTTP ${response.status}${code ? ` ${code}` : ''}`);
  }

  async put(key: string, bytes: Buffer): Promise<void> {
    const response = await this.request('PUT', key, bytes);
    if (!response.ok) throw this.refused(response, await this.errorCode(response), 'store an object');
    await response.arrayBuffer().catch(() => undefined);
  }

  async get(key: string): Promise<Buffer | undefined> {
    const response = await this.request('GET', key);
    if (response.ok) return Buffer.from(await response.arrayBuffer());
    const code = await this.errorCode(response);
    // S3 answers 404 for a missing bucket too; only NoSuchKey says the object itself is absent,
    // so a wrong or removed bucket is an error rather than evidence that went missing.
    if (response.status === 404 && code === 'NoSuchKey') return undefined;
    throw this.refused(response, code, 'return an object');
  }

  async delete(key: string): Promise<void> {
    const response = await this.request('DELETE', key);
    if (response.ok) {
      await response.arrayBuffer().catch(() => undefined);
      return;
    }
    const code = await this.errorCode(response);
    // S3 answers 204 for a key that is not there, some compatible stores 404 NoSuchKey. Any other
    // refusal, a missing bucket included, must fail: a purge records what it deleted in a tombstone.
    if (response.status === 404 && code === 'NoSuchKey') return;
    throw this.refused(response, code, 'delete an object');
  }
}
