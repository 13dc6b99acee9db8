/**
 * The fleet view's baseline: the least a program can do to read the same objects. List registry/ and
 * latest/ (pages of 1,000), GET every key 32 at a time, parse nothing. Prints the object count.
 * argv: ENDPOINT BUCKET; credentials from the environment.
 */
import { S3Client, ListObjectsV2Command, GetObjectCommand } from '@aws-sdk/client-s3';

const [endpoint, bucket] = process.argv.slice(2) as [string, string];
const s3 = new S3Client({ endpoint, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });

async function list(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

const keys = [...(await list('registry/')), ...(await list('latest/'))];
let next = 0;
let bytes = 0;
await Promise.all(
  Array.from({ length: 32 }, async () => {
    while (next < keys.length) {
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: keys[next++]! }));
      bytes += ((await object.Body?.transformToString('utf8')) ?? '').length;
    }
  }),
);
s3.destroy();
process.stdout.write(`${keys.length} ${bytes}\n`);
