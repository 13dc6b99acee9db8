/**
 * The loopback S3 API (s3rver) in its own process, started from the tests' s3rver-main.mjs: its CPU work
 * is then the server's, not the bench's, and NODE_OPTIONS=--openssl-legacy-provider lets it list past
 * 1,000 keys (FIELD-NOTES).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { freePort } from '../../tests/helpers/ports.js';
import { S3_TEST_ENV, testClient } from '../../tests/helpers/s3.js';
import { S3RVER_MAIN } from './paths.js';

export interface BenchS3 {
  endpoint: string;
  client: S3Client;
  /** The environment a spawned agent needs to reach it. */
  env: Record<string, string>;
  pid: number;
  remove(): Promise<void>;
}

export async function startBenchS3(buckets: string[]): Promise<BenchS3> {
  const directory = mkdtempSync(join(tmpdir(), 'bench-s3-'));
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = await spawnReady(port, directory, buckets);
  const client = testClient(endpoint);
  return {
    endpoint,
    client,
    env: { ...S3_TEST_ENV, AWS_ENDPOINT_URL_S3: endpoint },
    pid: child.pid ?? 0,
    async remove() {
      client.destroy();
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

function spawnReady(port: number, directory: string, buckets: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, [S3RVER_MAIN, String(port), directory, ...buckets], {
    env: { ...process.env, NODE_OPTIONS: '--openssl-legacy-provider' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`s3rver on port ${port} not ready after 10 s`));
    }, 10_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`s3rver on port ${port} exited (${code}) before it was ready`));
    });
    child.stdout?.setEncoding('utf8').on('data', (text: string) => {
      if (!text.includes('ready')) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve(child);
    });
  });
}
