import { posix } from 'node:path';
import { AgentError } from '../errors.js';
import { computeReleaseId, isReleaseMetadata, SYMLINK_MODE } from './release-id.js';

/** SPEC §8: what `agent publish` writes and the agent verifies, in `.release/` or under `releases/` in S3. */
export const MANIFEST_SCHEMA = 'agent.release/v1';
export const MANIFEST_FILE = '.release/manifest.json';
export const SIGNATURE_FILE = '.release/manifest.sig';

export interface ManifestFile {
  sha256: string;
  size: number;
  /** "0644"-style permission bits, or "120000" for a symlink (its content is the link target). */
  mode: string;
}

export interface ReleaseManifest {
  schema: typeof MANIFEST_SCHEMA;
  release_id: string;
  serial: number;
  created_at: string;
  created_by: string;
  files: Record<string, ManifestFile>;
}

/** The current.json pointer of an S3 source: which release is current, written last by publish. */
export interface ReleasePointer {
  release_id: string;
  serial: number;
  /** SPEC §9: set while a rollout is open or aborted, so hosts read rollout.json only then (one more GET per poll). */
  rollout_id?: string;
}

const SHA256 = /^[0-9a-f]{64}$/;
const MODE = /^(?:[0-7]{4}|120000)$/;

/** The manifest of a tree: its files as indexed, its id by SPEC §5's formula. */
export function buildManifest(files: Record<string, ManifestFile>, meta: { serial: number; createdAt: Date; createdBy: string }): ReleaseManifest {
  const sorted = Object.fromEntries(
    Object.entries(files)
      .filter(([path]) => !isReleaseMetadata(path))
      .sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b))),
  );
  return {
    schema: MANIFEST_SCHEMA,
    release_id: releaseIdOf(sorted),
    serial: meta.serial,
    created_at: meta.createdAt.toISOString(),
    created_by: meta.createdBy,
    files: sorted,
  };
}

export function releaseIdOf(files: Record<string, ManifestFile>): string {
  return computeReleaseId(Object.entries(files).map(([path, file]) => ({ path, sha256: file.sha256, mode: file.mode })));
}

/** The exact bytes that are signed and stored: stable key order, one trailing newline. */
export function serializeManifest(manifest: ReleaseManifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/**
 * Parse and check a manifest's shape: every path a plain relative path inside the tree (an S3 source
 * assembles files at these paths, so `..`, absolute paths and `.release/` would write outside the
 * release), every digest hex, and a release_id that really is the id of the listed files.
 * `where` names the file in every message.
 */
export function parseManifest(text: string, where: string): ReleaseManifest {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw rejected(`${where}: not valid JSON (${(error as Error).message})`);
  }
  const manifest = data as Partial<ReleaseManifest> | null;
  if (!manifest || typeof manifest !== 'object' || Array.isArray(manifest)) throw rejected(`${where}: expected a JSON object`);
  if (manifest.schema !== MANIFEST_SCHEMA) throw rejected(`${where}: schema: expected "${MANIFEST_SCHEMA}", got ${JSON.stringify(manifest.schema)}`);
  if (typeof manifest.release_id !== 'string' || !SHA256.test(manifest.release_id)) throw rejected(`${where}: release_id: expected 64 hex digits`);
  if (!Number.isSafeInteger(manifest.serial) || (manifest.serial as number) < 1) throw rejected(`${where}: serial: expected a whole number >= 1, got ${JSON.stringify(manifest.serial)}`);
  if (!manifest.files || typeof manifest.files !== 'object' || Array.isArray(manifest.files)) throw rejected(`${where}: files: expected a mapping of path to {sha256, size, mode}`);
  for (const [path, file] of Object.entries(manifest.files)) checkEntry(where, path, file);
  const throughLink = pathUnderSymlink(manifest.files);
  if (throughLink) throw rejected(`${where}: files: "${throughLink.path}" lies under "${throughLink.link}", which is a symlink (a file written there would land wherever it points)`);
  const computed = releaseIdOf(manifest.files);
  if (computed !== manifest.release_id) {
    throw rejected(`${where}: release_id ${short(manifest.release_id)} is not the id of the files it lists (${short(computed)})`);
  }
  return manifest as ReleaseManifest;
}

function checkEntry(where: string, path: string, file: unknown): void {
  const problem = unsafePath(path);
  if (problem) throw rejected(`${where}: files: "${path}" ${problem}`);
  const entry = file as Partial<ManifestFile> | null;
  if (!entry || typeof entry !== 'object') throw rejected(`${where}: files."${path}": expected {sha256, size, mode}`);
  if (typeof entry.sha256 !== 'string' || !SHA256.test(entry.sha256)) throw rejected(`${where}: files."${path}".sha256: expected 64 hex digits`);
  if (!Number.isSafeInteger(entry.size) || (entry.size as number) < 0) throw rejected(`${where}: files."${path}".size: expected a whole number of bytes`);
  if (typeof entry.mode !== 'string' || !MODE.test(entry.mode)) throw rejected(`${where}: files."${path}".mode: expected "0644"-style octal or "${SYMLINK_MODE}"`);
}

/** The first file whose path passes through a symlink entry of the same manifest, if any. */
function pathUnderSymlink(files: Record<string, ManifestFile>): { path: string; link: string } | undefined {
  const links = new Set(Object.keys(files).filter((path) => files[path]!.mode === SYMLINK_MODE));
  if (links.size === 0) return undefined;
  for (const path of Object.keys(files)) {
    const parts = path.split('/');
    for (let depth = 1; depth < parts.length; depth++) {
      const ancestor = parts.slice(0, depth).join('/');
      if (links.has(ancestor)) return { path, link: ancestor };
    }
  }
  return undefined;
}

/** Why `path` cannot name a file inside a release, or undefined when it can. */
export function unsafePath(path: string): string | undefined {
  if (path === '' || path.includes('\0')) return 'is empty or holds a NUL byte';
  if (path.startsWith('/')) return 'is an absolute path';
  if (path.split('/').some((part) => part === '' || part === '.' || part === '..')) return 'has an empty, "." or ".." component';
  if (posix.normalize(path) !== path) return 'is not a normalized path';
  if (isReleaseMetadata(path)) return 'lies under .release/, which holds only the manifest';
  return undefined;
}

/** Parse current.json: {release_id, serial}. */
export function parsePointer(text: string, where: string): ReleasePointer {
  let data: Partial<ReleasePointer> | null;
  try {
    data = JSON.parse(text) as Partial<ReleasePointer> | null;
  } catch (error) {
    throw rejected(`${where}: not valid JSON (${(error as Error).message})`);
  }
  if (!data || typeof data.release_id !== 'string' || !SHA256.test(data.release_id)) throw rejected(`${where}: release_id: expected 64 hex digits`);
  if (!Number.isSafeInteger(data.serial)) throw rejected(`${where}: serial: expected a whole number`);
  if (data.rollout_id !== undefined && typeof data.rollout_id !== 'string') throw rejected(`${where}: rollout_id: expected a rollout id`);
  return { release_id: data.release_id, serial: data.serial as number, ...(data.rollout_id ? { rollout_id: data.rollout_id } : {}) };
}

export function short(id: string): string {
  return id.slice(0, 12);
}

function rejected(message: string): AgentError {
  return new AgentError('source_rejected', message);
}
