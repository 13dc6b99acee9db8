import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { forEachConcurrently } from '../concurrency.js';
import { normalizePrefix } from '../report/keys.js';
import type { SiteFile } from './site.js';

/**
 * Where the site goes: a directory (opened from file:// or served by `--serve`) or an S3 prefix
 * behind a static website. `read` gives the previous build's files (history.json, host shards) or
 * null when there is none. index.html is written last, so a reader never loads a page whose data is
 * still being replaced by an older layout.
 */
export interface SiteStore {
  describe: string;
  read(path: string): Promise<string | null>;
  write(files: readonly SiteFile[]): Promise<void>;
}

const INDEX_LAST = (a: SiteFile, b: SiteFile) => Number(a.path === 'index.html') - Number(b.path === 'index.html');

export function directoryStore(dir: string): SiteStore {
  return {
    describe: join(dir, 'index.html'),
    async read(path) {
      try {
        return readFileSync(join(dir, path), 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw error;
      }
    },
    async write(files) {
      for (const file of [...files].sort(INDEX_LAST)) {
        const target = join(dir, file.path);
        mkdirSync(dirname(target), { recursive: true });
        // temp + rename: `--serve` never hands out a half-written file
        writeFileSync(`${target}.tmp`, file.body);
        renameSync(`${target}.tmp`, target);
      }
    },
  };
}

export function s3Store(s3: S3Client, bucket: string, prefix: string): SiteStore {
  const base = normalizePrefix(prefix);
  return {
    describe: `s3://${bucket}/${base}index.html`,
    async read(path) {
      try {
        const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `${base}${path}` }));
        return (await object.Body?.transformToString('utf8')) ?? '';
      } catch (error) {
        const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if (status === 404 || (error as Error).name === 'NoSuchKey') return null;
        throw error;
      }
    },
    async write(files) {
      const sorted = [...files].sort(INDEX_LAST);
      const put = (file: SiteFile) =>
        s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${base}${file.path}`, Body: file.body, ContentType: file.contentType, CacheControl: 'no-cache' }));
      await forEachConcurrently(sorted.slice(0, -1), 16, async (file) => void (await put(file)));
      const last = sorted.at(-1);
      if (last) await put(last);
    },
  };
}
