import { createHash, createHmac } from 'node:crypto';

/**
 * AWS Signature Version 4, as S3 and S3-compatible stores (MinIO, Ceph, R2, …) expect it,
 * written against node:crypto so Bulwark needs no SDK. Checked against AWS's published
 * test vectors in test/preservation.test.ts.
 */
export interface SigV4Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SigV4Request {
  method: string;
  /** The path as given, not yet encoded ("/bucket/key"). */
  path: string;
  query?: [string, string][];
  /** Header names in any case; `host` and `x-amz-date` must be among them. */
  headers: Record<string, string>;
  /** Hex SHA-256 of the body, or UNSIGNED-PAYLOAD. */
  payloadHash: string;
}

export interface SigV4Scope {
  credentials: SigV4Credentials;
  region: string;
  service: string;
  /** S3 encodes the path once; every other service encodes it twice. */
  doubleEncodePath?: boolean;
}

export interface SigV4Result {
  authorization: string;
  signature: string;
  signedHeaders: string;
  canonicalRequest: string;
  stringToSign: string;
}

export const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

/** RFC 3986 encoding: everything but unreserved characters, as AWS canonicalises. */
export function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

function canonicalPath(path: string, twice: boolean): string {
  const encoded = path
    .split('/')
    .map((segment) => uriEncode(segment))
    .join('/');
  return twice ? encoded.split('/').map((segment) => uriEncode(segment)).join('/') : encoded || '/';
}

function canonicalQuery(query: [string, string][]): string {
  return query
    .map(([key, value]) => [uriEncode(key), uriEncode(value)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
}

/** `20150830T123600Z` from a Date. */
export const amzDate = (date: Date) => date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');

export function signV4(request: SigV4Request, scope: SigV4Scope): SigV4Result {
  const headers = new Map<string, string>();
  for (const [name, value] of Object.entries(request.headers)) headers.set(name.toLowerCase(), value.trim().replace(/\s+/g, ' '));
  const date = headers.get('x-amz-date');
  if (!date || !headers.has('host')) throw new Error('a SigV4 request needs host and x-amz-date headers');
  const names = [...headers.keys()].sort();
  const signedHeaders = names.join(';');
  const canonicalRequest = [
    request.method.toUpperCase(),
    canonicalPath(request.path, scope.doubleEncodePath ?? false),
    canonicalQuery(request.query ?? []),
    names.map((name) => `${name}:${headers.get(name)}\n`).join(''),
    signedHeaders,
    request.payloadHash,
  ].join('\n');
  const day = date.slice(0, 8);
  const credentialScope = `${day}/${scope.region}/${scope.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', date, credentialScope, sha256Hex(canonicalRequest)].join('\n');
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${scope.credentials.secretAccessKey}`, day), scope.region), scope.service), 'aws4_request');
  const signature = createHmac('sha256', signingKey).update(stringToSign).digest('hex');
  return {
    authorization: `AWS4-HMAC-SHA256 Credential=${scope.credentials.accessKeyId}/${credentialScope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
    signature,
    signedHeaders,
    canonicalRequest,
    stringToSign,
  };
}
