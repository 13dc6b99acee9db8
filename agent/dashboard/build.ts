import type { S3Client } from '@aws-sdk/client-s3';
import type { RolloutDocument } from '../rollout/document.js';
import { buildDashboard } from './aggregate.js';
import { emptyHistory, parseHistory } from './history.js';
import { readFleetObjects } from './read-fleet.js';
import { previousRunsFrom, shardPath, siteFiles, type Assets } from './site.js';
import type { SiteStore } from './site-store.js';

/**
 * One dashboard build: read the fleet (registry/ + latest/) and the previous site's history and host
 * runs, aggregate, write the site. Bad entries become warnings and the page lists them; a bucket that
 * cannot be listed throws (the command exits 1).
 */
export interface BuildInput {
  s3: S3Client;
  bucket: string;
  prefix: string;
  store: SiteStore;
  assets: Assets;
  readRollout: () => Promise<RolloutDocument | null>;
  now: () => Date;
  driftCheckEveryMs: number;
  staleAfterMs: number;
  days: number;
  onProgress: (done: number, total: number) => void;
}

export interface BuildOutcome {
  path: string;
  instances: number;
  warnings: string[];
  files: number;
  ms: number;
}

export const SHARDS = 64;

export async function buildSite(input: BuildInput): Promise<BuildOutcome> {
  const started = performance.now();
  const [objects, rollout, previous] = await Promise.all([
    readFleetObjects(input.s3, input.bucket, input.prefix, input.onProgress),
    input.readRollout(),
    readPrevious(input.store),
  ]);
  const dashboard = buildDashboard({
    ...objects,
    rollout,
    now: input.now(),
    driftCheckEveryMs: input.driftCheckEveryMs,
    staleAfterMs: input.staleAfterMs,
    history: previous.history,
    days: input.days,
    previousRuns: previous.runs,
    shards: SHARDS,
  });
  const files = siteFiles(dashboard, input.assets);
  await input.store.write(files);
  const warnings = [...previous.warnings, ...dashboard.summary.problems.map((problem) => `${problem.instance_id}: ${problem.state}: ${problem.problem}`)];
  return { path: input.store.describe, instances: dashboard.summary.instances, warnings, files: files.length, ms: performance.now() - started };
}

async function readPrevious(store: SiteStore) {
  const warnings: string[] = [];
  const historyText = await store.read('history.json').catch((error: Error) => {
    warnings.push(`history.json: could not be read (${error.message}); starting a new history`);
    return null;
  });
  const parsed = historyText === null ? { history: emptyHistory() } : parseHistory(historyText);
  if ('problem' in parsed) warnings.push(parsed.problem);
  const shardTexts = await Promise.all(Array.from({ length: SHARDS }, (_, shard) => store.read(shardPath(shard)).catch(() => null)));
  return { history: 'history' in parsed ? parsed.history : emptyHistory(), runs: previousRunsFrom(shardTexts.filter((text): text is string => text !== null)), warnings };
}
