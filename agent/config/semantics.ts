import cron from 'node-cron';
import { cronIntervalMs, parseCron } from '../schedule/cron-times.js';
import { formatDuration } from './duration.js';
import type { Config } from './schema.js';

/** True for `user@host:/path` and `host:/path` rsync URLs; false for local paths. */
export function isRemoteUrl(url: string): boolean {
  return /^[^/]*:/.test(url) && !url.startsWith('/');
}

/**
 * Shortest gap between two consecutive firings of `expression` over its next `sample` firings.
 * Every run validates its config, so this is on each tick's path: our own cron arithmetic where it
 * covers the expression (node-cron's getNextRuns took about 16 ms of a 0.3 s tick), node-cron otherwise.
 */
export function pollIntervalMs(expression: string, sample = 50): number {
  const fields = parseCron(expression);
  if (fields) return cronIntervalMs(fields, new Date(), sample);
  const task = cron.createTask(expression, () => undefined);
  try {
    const runs = task.getNextRuns(sample).map((date) => date.getTime());
    let shortest = Number.POSITIVE_INFINITY;
    for (let i = 1; i < runs.length; i++) shortest = Math.min(shortest, runs[i]! - runs[i - 1]!);
    return shortest;
  } finally {
    void task.destroy();
  }
}

/** Cross-key rules the schema cannot express; each problem names its key. */
export function checkConfigSemantics(config: Config, fileExists: (file: string) => boolean): string[] {
  const problems: string[] = [];
  const interval = pollIntervalMs(config.schedule);
  if (config.splay > interval) {
    problems.push(
      `splay: expected at most the poll interval of schedule "${config.schedule}" (${formatDuration(interval)}), got ${formatDuration(config.splay)}`,
    );
  }
  const { source } = config;
  if (source.type === 'rsync' && source.url && isRemoteUrl(source.url)) {
    for (const key of ['ssh_key', 'known_hosts'] as const) {
      if (!fileExists(source[key])) problems.push(`source.${key}: expected an existing file, got "${source[key]}" (no such file)`);
    }
  }
  config.verify.public_keys.forEach((key, index) => {
    if (!fileExists(key)) problems.push(`verify.public_keys.${index}: expected an existing public key file, got "${key}" (no such file)`);
  });
  const inTree: Array<[string, string]> = [
    ['puppet.manifest', config.puppet.manifest],
    ['puppet.hiera_config', config.puppet.hiera_config],
    ...config.puppet.modulepath.map((dir, index): [string, string] => [`puppet.modulepath.${index}`, dir]),
  ];
  for (const [key, value] of inTree) {
    if (value.startsWith('/') || value.split('/').includes('..')) {
      problems.push(`${key}: expected a path inside the staged tree, got "${value}"`);
    }
  }
  if (!config.state_dir.startsWith('/')) problems.push(`state_dir: expected an absolute path, got "${config.state_dir}"`);
  if (!config.stage_dir.startsWith('/')) problems.push(`stage_dir: expected an absolute path, got "${config.stage_dir}"`);
  return problems;
}
