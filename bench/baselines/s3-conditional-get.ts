/**
 * The S3 poll's floor: the least a process started per tick can do to learn that nothing changed.
 * Start Node, load the S3 SDK, send one conditional GET, expect 304. No config, no state, no report.
 * Bundled by the scenario as the agent's binary is (bench/lib/bundle.ts), so both load the SDK alike.
 * argv: ENDPOINT BUCKET KEY ETAG; credentials from the environment. Exit 0 on 304, 1 otherwise.
 */
import { S3Client, GetObjectCommand } from '@aws-sdk/client-s3';

const [endpoint, bucket, key, etag] = process.argv.slice(2) as [string, string, string, string];
const s3 = new S3Client({ endpoint, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
try {
  await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, IfNoneMatch: etag }));
  process.exitCode = 1; // a 200: the object changed, which the scenario never does
} catch (error) {
  process.exitCode = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 304 ? 0 : 1;
} finally {
  s3.destroy();
}
