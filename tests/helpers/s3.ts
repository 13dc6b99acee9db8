import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client, ListObjectsV2Command, GetObjectCommand, CreateBucketCommand } from '@aws-sdk/client-s3';
import { freePort } from './ports.js';

const MAIN = new URL('./s3rver-main.mjs', import.meta.url).pathname;
const READY_TIMEOUT_MS = 10_000;

/** What the agent binary needs in its environment to talk to the loopback S3 server (plus AWS_ENDPOINT_URL_S3). */
export const S3_TEST_ENV = {
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
  AWS_REGION: 'us-east-1',
  AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
  AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
};

/** Assertions on one bucket. */
export interface S3BucketView {
  name: string;
  listKeys(prefix?: string): Promise<string[]>;
  getText(key: string): Promise<string>;
}

export interface S3Server {
  endpoint: string;
  port: number;
  client: S3Client;
  /** S3_TEST_ENV plus AWS_ENDPOINT_URL_S3: the environment for a spawned agent. */
  env: Record<string, string>;
  bucket(name: string): S3BucketView;
  createBucket(name: string): Promise<S3BucketView>;
  /** Kill the server, keeping its data: an S3 outage (connections are refused). */
  stop(): Promise<void>;
  /** Start it again on the same port with the same data. */
  restart(): Promise<void>;
  /** Stop, and delete the data. */
  remove(): Promise<void>;
}

/**
 * A real S3 API (s3rver) on 127.0.0.1, in a child process: its CPU work never competes with the code
 * under test, and NODE_OPTIONS=--openssl-legacy-provider lets it list past 1,000 keys (FIELD-NOTES).
 */
export async function startS3Server(options: { buckets?: string[] } = {}): Promise<S3Server> {
  const buckets = options.buckets ?? ['fleet-reports'];
  const directory = mkdtempSync(join(tmpdir(), 'agent-s3-'));
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const start = async () => {
    child = await spawnS3rver(port, directory, buckets);
  };
  await start();
  const client = testClient(endpoint);
  const bucket = (name: string): S3BucketView => ({
    name,
    listKeys: (prefix = '') => listKeys(client, name, prefix),
    getText: (key) => getText(client, name, key),
  });
  const server: S3Server = {
    endpoint,
    port,
    client,
    env: { ...S3_TEST_ENV, AWS_ENDPOINT_URL_S3: endpoint },
    bucket,
    async createBucket(name) {
      await client.send(new CreateBucketCommand({ Bucket: name }));
      return bucket(name);
    },
    async stop() {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null) return;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGKILL');
      await exited;
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

/** Resolves once the child printed `ready` (s3rver listens); rejects at once if it died first. */
function spawnS3rver(port: number, directory: string, buckets: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, [MAIN, String(port), directory, ...buckets], {
    env: { ...process.env, NODE_OPTIONS: '--openssl-legacy-provider' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`s3rver on port ${port} not ready after ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    child.once('exit', (code, signal) => fail(new Error(`s3rver on port ${port} exited (${signal ?? code}) before it was ready`)));
    child.stdout?.setEncoding('utf8').on('data', (text: string) => {
      if (!text.includes('ready')) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve(child);
    });
  });
}

/** A client for assertions, independent of the agent's factory (which is what tests check). */
export function testClient(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** Every key under `prefix`, across pages, sorted. */
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
