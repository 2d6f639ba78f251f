import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { amzDate, type SigV4Credentials, sha256Hex, signV4 } from '../../src/preservation/sigv4.ts';

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverClass = new (options: { address: string; port: number; silent: boolean; directory: string; vhostBuckets: boolean }) => S3rverInstance;
interface S3rverAccounts {
  DUMMY_ACCOUNT: { createKeyPair(accessKeyId: string, secretAccessKey: string): void; revokeAccessKey(accessKeyId: string): void };
}

// s3rver is CommonJS without type declarations; its account registry is how it learns keys.
const require = createRequire(import.meta.url);
const S3rver = require('@20minutes/s3rver') as S3rverClass;
const accounts = require('@20minutes/s3rver/lib/models/account.js') as S3rverAccounts;

/**
 * s3rver (the @20minutes fork, an S3-compatible server in Node) on a free loopback port, with
 * its objects in a temporary folder and one access key whose secret is made up per run. It
 * recomputes each request's SigV4 signature from what it received and refuses a mismatch
 * (SignatureDoesNotMatch) or an unknown key (InvalidAccessKeyId). It does not compare the body
 * with x-amz-content-sha256, which AWS does.
 */
export class S3TestServer {
  readonly credentials: SigV4Credentials = { accessKeyId: `bulwark-test-${randomBytes(4).toString('hex')}`, secretAccessKey: randomBytes(30).toString('base64') };
  readonly region = 'eu-test-1';
  endpoint = '';
  private server: S3rverInstance | undefined;
  private directory = '';

  async start(): Promise<this> {
    this.directory = mkdtempSync(join(tmpdir(), 'bulwark-s3-'));
    // The built-in demo key (S3RVER/S3RVER) goes, so only the configured credentials are accepted.
    accounts.DUMMY_ACCOUNT.revokeAccessKey('S3RVER');
    accounts.DUMMY_ACCOUNT.createKeyPair(this.credentials.accessKeyId, this.credentials.secretAccessKey);
    this.server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: this.directory, vhostBuckets: false });
    const address = await this.server.run();
    this.endpoint = `http://127.0.0.1:${address.port}`;
    return this;
  }

  async stop(): Promise<void> {
    await this.server?.close();
    accounts.DUMMY_ACCOUNT.revokeAccessKey(this.credentials.accessKeyId);
    rmSync(this.directory, { recursive: true, force: true });
  }

  /** A request signed with the server's credentials, for what the blob store does not do (buckets, listings). */
  async signed(method: 'PUT' | 'GET' | 'DELETE', path: string, query: [string, string][] = []): Promise<Response> {
    const url = new URL(this.endpoint);
    const payloadHash = sha256Hex('');
    const headers = { host: url.host, 'x-amz-date': amzDate(new Date()), 'x-amz-content-sha256': payloadHash };
    const { authorization } = signV4({ method, path, query, headers, payloadHash }, { credentials: this.credentials, region: this.region, service: 's3' });
    const { host: _host, ...sent } = headers;
    const search = query.length ? `?${new URLSearchParams(query).toString()}` : '';
    return fetch(`${this.endpoint}${path}${search}`, { method, headers: { ...sent, authorization } });
  }

  async createBucket(bucket: string): Promise<void> {
    const response = await this.signed('PUT', `/${bucket}`);
    if (!response.ok) throw new Error(`creating bucket ${bucket}: HTTP ${response.status} ${await response.text()}`);
  }

  /** Every key in the bucket under a prefix, through ListObjectsV2. */
  async keys(bucket: string, prefix = ''): Promise<string[]> {
    const response = await this.signed('GET', `/${bucket}`, [['list-type', '2'], ['prefix', prefix]]);
    const body = await response.text();
    if (!response.ok) throw new Error(`listing bucket ${bucket}: HTTP ${response.status} ${body}`);
    return [...body.matchAll(/<Key>([^<]*)<\/Key>/g)].map((match) => match[1]).sort();
  }
}
