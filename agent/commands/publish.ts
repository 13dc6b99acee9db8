import { mkdir } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import type { ParsedCommand } from '../cli.js';
import type { CommandIo } from './io.js';
import { AgentError } from '../errors.js';
import { createS3Client, describeS3Error } from '../adapters/s3.js';
import { readJsonFile, writeFileAtomic } from '../adapters/files.js';
import { readPrivateKey } from '../release/key-files.js';
import { signManifest } from '../release/signature.js';
import { MANIFEST_FILE, serializeManifest, short, SIGNATURE_FILE, type ReleaseManifest } from '../release/manifest.js';
import { nextManifest, serialWarning, type PublishedRelease } from '../publish/next-manifest.js';
import { publishableFiles } from '../publish/tree-files.js';
import { publishedAt, uploadRelease, type S3Target } from '../publish/s3-upload.js';
import { operatorConfig, operatorLocation, parseS3Url } from './operator-s3.js';
import { readRollout } from '../rollout/store.js';
import { isOpen } from '../rollout/document.js';

/**
 * `agent publish DIR --key FILE [--to s3://BUCKET/PREFIX]` (SPEC §2, §8): sign DIR as a release,
 * into DIR/.release/ for an rsync source, or uploaded to an S3 source.
 */
export async function publishCommand(command: ParsedCommand, io: CommandIo): Promise<number> {
  const dir = resolve(command.positionals[0]!);
  const key = await readPrivateKey(command.values.key as string);
  const files = await publishableFiles(dir);
  const local = await readJsonFile<Partial<ReleaseManifest>>(join(dir, MANIFEST_FILE));
  const published: PublishedRelease[] = isPublished(local) ? [local] : [];
  const by = `${process.env.SUDO_USER || userInfo().username}@${hostname()}`;
  const to = typeof command.values.to === 'string' ? parseTarget(command.values.to) : undefined;
  const target = to ? s3Target(command, io, to) : undefined;
  try {
    const remote = target ? await publishedAt(target).catch(s3Failure(target, 'read current.json')) : null;
    if (target && remote) await refuseDuringRollout(target);
    if (remote) published.push(remote);
    const explicit = typeof command.values.serial === 'string' ? Number(command.values.serial) : undefined;
    const warning = explicit === undefined ? null : serialWarning(explicit, published);
    if (warning) io.stderr.write(`agent: warning  ${warning}\n`);
    const manifest = nextManifest(files, published, new Date(), by, explicit);
    const bytes = serializeManifest(manifest);
    const signature = signManifest(bytes, key);
    const size = Object.values(manifest.files).reduce((sum, file) => sum + file.size, 0);
    const what = `release ${short(manifest.release_id)} serial ${manifest.serial}: ${Object.keys(manifest.files).length} files, ${size} bytes`;
    if (!target) {
      await mkdir(join(dir, '.release'), { recursive: true });
      await writeFileAtomic(join(dir, SIGNATURE_FILE), signature);
      await writeFileAtomic(join(dir, MANIFEST_FILE), bytes);
      io.stdout.write(`${what}\nwrote ${join(dir, MANIFEST_FILE)} and ${join(dir, SIGNATURE_FILE)}\n`);
      return 0;
    }
    io.stderr.write(`agent: publish  ${what} -> s3://${target.bucket}/${target.prefix}\n`);
    const done = await uploadRelease(target, dir, manifest, { manifest: bytes, signature }, (progress, total) => {
      if (progress.uploaded % 100 === 0 || progress.uploaded === total) io.stderr.write(`agent: upload   ${progress.uploaded}/${total} objects, ${progress.bytes} bytes\n`);
    }).catch(s3Failure(target, 'upload'));
    io.stdout.write(
      `${what}\nobjects: ${done.uploaded} uploaded (${done.bytes} bytes), ${done.skipped} already present\n` +
        `current.json -> ${manifest.release_id} (serial ${manifest.serial})\n`,
    );
    return 0;
  } finally {
    target?.s3.destroy();
  }
}

/** SPEC §9: a publish would move every host at once in the middle of a rollout's waves. */
async function refuseDuringRollout(target: S3Target): Promise<void> {
  const open = await readRollout(target).catch(() => null);
  if (!open || !isOpen(open.doc.state)) return;
  throw new AgentError('internal', `rollout ${open.doc.rollout_id} is ${open.doc.state} at s3://${target.bucket}/${target.prefix}: a publish now would move every host at once; abort it (\`agent rollout abort\`) or let it complete first; nothing was written`);
}

function isPublished(manifest: Partial<ReleaseManifest> | undefined): manifest is PublishedRelease {
  return typeof manifest?.release_id === 'string' && Number.isSafeInteger(manifest.serial);
}

/** `s3://BUCKET/PREFIX` → bucket and prefix (the prefix may be empty). */
export const parseTarget = parseS3Url;

/** Endpoint, region and path style from the config's source: section when there is one; flags override. */
function s3Target(command: ParsedCommand, io: CommandIo, to: { bucket: string; prefix: string }): S3Target {
  const { config } = operatorConfig(command.values, io.env);
  const section = config?.source.type === 's3' ? config.source : undefined;
  const location = operatorLocation(command.values, section, io.env);
  return { s3: createS3Client(location, io.env), bucket: to.bucket, prefix: to.prefix };
}

function s3Failure(target: S3Target, what: string): (error: unknown) => never {
  return (error) => {
    if (error instanceof AgentError) throw error;
    throw new AgentError('internal', `${what} at s3://${target.bucket}/${target.prefix}: ${describeS3Error(error)}`);
  };
}
