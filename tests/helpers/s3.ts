import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { S3Client, ListObjectsV2Command, GetObjectCommand } from '@aws-sdk/client-s3';
import { freePort, waitForPort } from './ports.js';

const MAIN = new URL('./s3rver-main.mjs', import.meta.url).pathname;

/** What the agent binary needs in its environment to talk to the loopback S3 server. */
export const S3_TEST_ENV = {
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
  AWS_REGION: 'us-east-1',
  AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
  AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
};

export interface S3Server {
  endpoint: string;
  port: number;
  client: S3Client;
  env: Record<string, string>;
  /** Stop the server, keeping its data (an S3 outage). */
  stop(): Promise<void>;
  /** Start it again on the same port with the same data. */
  restart(): Promise<void>;
  /** Stop and delete the data. */
  remove(): Promise<void>;
}

/** A real S3 API (s3rver) on 127.0.0.1, in a child process. */
export async function startS3Server(options: { buckets?: string[] } = {}): Promise<S3Server> {
  const buckets = options.buckets ?? ['fleet-reports'];
  const directory = mkdtempSync(join(tmpdir(), 'agent-s3-'));
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  let child: ResultPromise | undefined;
  const start = async () => {
    child = execa(process.execPath, [MAIN, String(port), directory, ...buckets], {
      env: { NODE_OPTIONS: '--openssl-legacy-provider' },
      reject: false,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await waitForPort(port);
  };
  await start();
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const server: S3Server = {
    endpoint,
    port,
    client,
    env: { ...S3_TEST_ENV, AWS_ENDPOINT_URL_S3: endpoint },
    async stop() {
      if (!child) return;
      child.kill('SIGKILL');
      await child;
      child = undefined;
    },
    restart: start,
    async remove() {
      await server.stop();
      client.destroy();
      rmSync(directory, { recursive: true, force: true });
    },
  };
  return server;
}

/** Every key under `prefix`, across pages. */
export async function listKeys(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((object) => object.Key ?? ''));
    token = page.NextContinuationToken;
  } while (token);
  return keys.sort();
}

export async function getText(client: S3Client, bucket: string, key: string): Promise<string> {
  const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await object.Body?.transformToString('utf8')) ?? '';
}
