import { S3Client } from '@aws-sdk/client-s3';

/** Where a bucket lives: the shape of the config's `report:` (and `source:` for type s3) sections. */
export interface S3Location {
  region: string;
  endpoint: string;
  force_path_style: boolean;
}

/**
 * Deadlines and retries. A dead S3 must never hang a run: the report waits in the spool and the next
 * run retries it. Worst case per call: maxAttempts × requestTimeoutMs plus the SDK's backoff.
 * Tests shorten them to prove they bite; production code never passes limits.
 */
export interface S3Limits {
  connectionTimeoutMs: number;
  requestTimeoutMs: number;
  maxAttempts: number;
}

export const DEFAULT_S3_LIMITS: S3Limits = {
  connectionTimeoutMs: 3_000,
  requestTimeoutMs: 15_000,
  // the SDK's standard retry mode backs off on 5xx, SlowDown and network errors; 3 attempts in all
  maxAttempts: 3,
};

/**
 * The endpoint, in this order: the config's `endpoint`, then AWS_ENDPOINT_URL_S3 from `env` (SPEC §3),
 * else undefined (AWS's own regional endpoint). Explicit, so that the precedence is ours and tested,
 * not the SDK's (which would otherwise read process.env by itself).
 */
export function s3Endpoint(location: Pick<S3Location, 'endpoint'>, env: NodeJS.ProcessEnv): string | undefined {
  return location.endpoint.trim() || env.AWS_ENDPOINT_URL_S3?.trim() || undefined;
}

/**
 * Path-style addressing (http://host/bucket/key) when the config asks for it, and always for a custom
 * endpoint outside amazonaws.com: S3-compatible stores (MinIO, Ceph, Garage, s3rver) all serve path style,
 * while virtual-hosted style (http://bucket.host/key) needs wildcard DNS they rarely have
 * (`fleet-reports.localhost` does not resolve). AWS endpoints (FIPS, dual-stack, VPC interface
 * endpoints) keep the config's choice, because AWS is retiring path style there.
 */
export function usePathStyle(location: Pick<S3Location, 'force_path_style'>, endpoint: string | undefined): boolean {
  if (location.force_path_style) return true;
  if (!endpoint) return false;
  try {
    const host = new URL(endpoint).hostname;
    return !(host === 'amazonaws.com' || host.endsWith('.amazonaws.com'));
  } catch {
    return true; // not a URL: the SDK rejects it with its own message
  }
}

/**
 * The only S3 client factory. Checksums only WHEN_REQUIRED: s3rver stores the aws-chunked framing of
 * checksummed uploads as the object (FIELD-NOTES); real S3 accepts both settings. Credentials come from
 * the SDK's default chain (the instance profile on EC2, env vars in tests). Callers destroy() it.
 */
export function createS3Client(location: S3Location, env: NodeJS.ProcessEnv = process.env, limits: S3Limits = DEFAULT_S3_LIMITS): S3Client {
  const endpoint = s3Endpoint(location, env);
  return new S3Client({
    region: location.region || env.AWS_REGION || 'us-east-1',
    ...(endpoint ? { endpoint } : {}),
    forcePathStyle: usePathStyle(location, endpoint),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    retryMode: 'standard',
    maxAttempts: limits.maxAttempts,
    requestHandler: {
      connectionTimeout: limits.connectionTimeoutMs,
      // without throwOnRequestTimeout the SDK only prints a warning when requestTimeout passes
      requestTimeout: limits.requestTimeoutMs,
      throwOnRequestTimeout: true,
      // a stalled socket (no bytes either way) fails as fast as a slow request would
      socketTimeout: limits.requestTimeoutMs,
    },
  });
}

/** One line for logs, reports and stderr, without request ids or credentials: name, message, HTTP status. */
export function describeS3Error(error: unknown): string {
  const err = (error ?? {}) as { name?: string; message?: string; code?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  const status = err.$metadata?.httpStatusCode ? ` (HTTP ${err.$metadata.httpStatusCode})` : '';
  const name = err.name && err.name !== 'Error' ? err.name : '';
  // the SDK wraps network errors as "AWS SDK error wrapper for Error: connect ECONNREFUSED ...";
  // Node's AggregateError (every address of a name refused the connection) has an empty message
  const message = (err.message ?? '').replace(/^AWS SDK error wrapper for (\w*Error: )?/, '') || err.code || err.Code || (name ? '' : String(error));
  return `${name}${name && message ? ': ' : ''}${message}${status}` || 'unknown S3 error';
}
