import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Config } from './schema.js';
import { checkConfigSemantics } from './semantics.js';
import { deepFreeze } from './deep-freeze.js';
import { readJsonFile, writeFileAtomic } from '../adapters/files.js';
import { buildInfo } from '../version.js';

/**
 * The daemon's children validate the same config file at every tick. The YAML parser and the schema
 * library are the largest part of a tick's start-up (about 0.07 s of 0.3 to 0.45 s, bench 1), so a
 * child keeps the config it validated in a snapshot under state_dir (the daemon names the file in
 * CONFIG_SNAPSHOT_ENV, config/path.ts), and the next child uses it only when nothing that decided it
 * has changed: the same file, byte for byte (sha256), read by the same build of the agent. The checks that look at
 * other files (keys, known_hosts) run again every time. Any doubt, and the file is validated afresh.
 */
const SNAPSHOT_SCHEMA = 'agent.config-snapshot/v1' as const;

interface ConfigSnapshot {
  schema: typeof SNAPSHOT_SCHEMA;
  build: string;
  path: string;
  sha256: string;
  config: Config;
}

/** The config at `path`, from the snapshot when it still answers for the file, else validated (and kept). */
export async function loadConfigThroughSnapshot(path: string, snapshotFile: string): Promise<Readonly<Config>> {
  const text = await readFile(path, 'utf8').catch(() => null);
  // unreadable: the full load says why, naming the file
  if (text === null) return (await import('./load.js')).loadConfig(path);
  const key: Omit<ConfigSnapshot, 'config'> = { schema: SNAPSHOT_SCHEMA, build: buildKey(), path, sha256: sha256(text) };
  const kept = await readJsonFile<ConfigSnapshot>(snapshotFile);
  if (kept && answersFor(kept, key) && checkConfigSemantics(kept.config, existsSync).length === 0) return deepFreeze(kept.config);
  const { parseConfig } = await import('./load.js');
  const config = parseConfig(text, path, existsSync);
  const snapshot: ConfigSnapshot = { ...key, config };
  await writeFileAtomic(snapshotFile, `${JSON.stringify(snapshot)}\n`, 0o600).catch(() => undefined); // only a cache
  return config;
}

function answersFor(kept: ConfigSnapshot, key: Omit<ConfigSnapshot, 'config'>): boolean {
  return kept.schema === key.schema && kept.build === key.build && kept.path === key.path && kept.sha256 === key.sha256 && typeof kept.config === 'object' && kept.config !== null;
}

function buildKey(): string {
  const { version, commit } = buildInfo();
  return `${version}+${commit}`;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
