import { join } from 'node:path';
import type { AuditLog } from '../audit/audit-log.ts';
import { invalid } from '../errors.ts';
import type { MediaVault } from '../media/media-vault.ts';
import type { SqlClient } from '../store/sql.ts';
import { type BlobStore, FilesystemBlobStore } from './blob-store.ts';
import { PreservationService, type PreservationOptions } from './preservation-service.ts';
import { S3BlobStore } from './s3-blob-store.ts';

type Env = Record<string, string | undefined>;

/**
 * The blob store the environment asks for: S3-compatible storage when BULWARK_S3_ENDPOINT is
 * set, otherwise files under BULWARK_PRESERVATION_DIR or `<data dir>/preservation`.
 */
export function blobStoreFromEnv(env: Env = process.env, dataDir = '.bulwark/data'): BlobStore {
  if (env.BULWARK_S3_ENDPOINT) {
    return new S3BlobStore({
      endpoint: env.BULWARK_S3_ENDPOINT,
      bucket: env.BULWARK_S3_BUCKET ?? '',
      region: env.BULWARK_S3_REGION ?? env.AWS_REGION ?? 'us-east-1',
      prefix: env.BULWARK_S3_PREFIX,
      credentials: {
        accessKeyId: env.BULWARK_S3_ACCESS_KEY_ID ?? env.AWS_ACCESS_KEY_ID ?? '',
        secretAccessKey: env.BULWARK_S3_SECRET_ACCESS_KEY ?? env.AWS_SECRET_ACCESS_KEY ?? '',
        ...((env.BULWARK_S3_SESSION_TOKEN ?? env.AWS_SESSION_TOKEN) ? { sessionToken: env.BULWARK_S3_SESSION_TOKEN ?? env.AWS_SESSION_TOKEN } : {}),
      },
    });
  }
  return new FilesystemBlobStore(env.BULWARK_PRESERVATION_DIR ?? join(dataDir, 'preservation'));
}

/** Preservation settings from the environment; keys come only from there. */
export function preservationOptionsFromEnv(env: Env = process.env, dataDir?: string): PreservationOptions {
  const retention = env.BULWARK_PRESERVATION_RETENTION_DAYS;
  if (retention !== undefined && !/^\d+$/.test(retention.trim())) throw invalid('BULWARK_PRESERVATION_RETENTION_DAYS is a whole number of days (365 or more)');
  return {
    key: env.BULWARK_PRESERVATION_KEY,
    oldKeys: (env.BULWARK_PRESERVATION_OLD_KEYS ?? '').split(/[\s,]+/).filter(Boolean),
    blobStore: blobStoreFromEnv(env, dataDir),
    ...(retention !== undefined ? { retentionDays: Number(retention) } : {}),
  };
}

export function preservationFromEnv(
  parts: { sql: SqlClient; audit: AuditLog; vault?: MediaVault },
  options: { env?: Env; dataDir?: string } = {},
): PreservationService {
  return new PreservationService(parts.sql, parts.audit, { ...preservationOptionsFromEnv(options.env ?? process.env, options.dataDir), vault: parts.vault });
}
