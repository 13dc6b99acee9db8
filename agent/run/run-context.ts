/**
 * What every stage of a run is given (run-once.ts passes them down): the request, the context, and
 * where the source is. Types and one pure helper only, so the stages depend on this file and not on
 * run-once.ts, which imports them all.
 */
import type { Config } from '../config/schema.js';
import type { StatePaths } from './paths.js';
import type { Identity } from './identity.js';
import type { Progress } from './progress.js';
import type { RunLock } from '../lock/run-lock.js';
import type { DisabledState, Mode, Trigger } from '../report/types.js';
import type { RunSummary } from './status-file.js';

export interface RunRequest {
  trigger: Trigger;
  mode: Mode;
  /** Apply the active release without polling the source (`run-now --no-sync`). */
  noSync: boolean;
  allowDowngrade: boolean;
  /** `agent run-now` typed on the host: a release this host rolled back from is tried again. */
  retryFailed: boolean;
  /** Decides, after the poll, whether Puppet runs; run-now always applies (SPEC §1). */
  shouldApply: (poll: { releaseChanged: boolean; sourceFailed: boolean }) => boolean;
  /** status.json's last apply: a new release that fails where this one succeeded is rolled back. */
  lastApply: RunSummary | null;
  /** Set for a scheduled run while runs are disabled: nothing is polled or applied (SPEC §2). */
  disabled: DisabledState | null;
}

export interface RunContext {
  config: Readonly<Config>;
  paths: StatePaths;
  identity: Identity;
  lock: RunLock;
  progress: Progress;
  signal?: AbortSignal;
}

/** The source as reports name it: the rsync URL, or s3://BUCKET/PREFIX. */
export function sourceLocation(config: Pick<Config, 'source'>): string {
  const { source } = config;
  return source.type === 's3' ? `s3://${source.bucket ?? ''}/${source.prefix}` : (source.url ?? '');
}
