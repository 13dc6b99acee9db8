import { S3Client } from '@aws-sdk/client-s3';

export interface S3Location {
  region: string;
  endpoint: string;
  force_path_style: boolean;
}

/** Connection and request deadlines: a dead S3 must never hang a run (the report waits in the spool). */
const CONNECTION_TIMEOUT_MS = 3_000;
const REQUEST_TIMEOUT_MS = 15_000;
/** The SDK's standard retry mode backs off on 5xx and SlowDown; 3 attempts keep a run bounded. */
const MAX_ATTEMPTS = 3;

/** The endpoint to use: the config's, else AWS_ENDPOINT_URL_S3 (SPEC §3), else AWS's own. */
export function s3Endpoint(location: S3Location, env: NodeJS.ProcessEnv): string | undefined {
  return location.endpoint || env.AWS_ENDPOINT_URL_S3 || undefined;
}

/**
 * The only S3 client factory. Checksums only WHEN_REQUIRED: s3rver stores the aws-chunked framing
 * of checksummed stream uploads as the object (FIELD-NOTES); real S3 accepts both settings.
 * Credentials come from the SDK's default chain (the instance profile on EC2).
 */
export function createS3Client(location: S3Location, env: NodeJS.ProcessEnv = process.env): S3Client {
  const endpoint = s3Endpoint(location, env);
  return new S3Client({
    region: location.region || env.AWS_REGION || 'us-east-1',
    ...(endpoint ? { endpoint } : {}),
    forcePathStyle: location.force_path_style,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: MAX_ATTEMPTS,
    requestHandler: { connectionTimeout: CONNECTION_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS },
  });
}
