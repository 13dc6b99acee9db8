import type { Deps } from '../deps.js';
import type { Report } from '../report/types.js';
import type { RunContext } from './run-context.js';
import { spoolReport, spoolStats } from '../report/spool.js';
import type { Delivery } from '../report/deliver.js';
import { keepLocalCopy } from '../report/local-copies.js';
import { renderMetrics, writeMetrics } from '../report/metrics.js';
import { nextStatus, readStatusFile, writeStatusFile } from './status-file.js';
import { hookEnvironment, runHooks } from './hooks.js';
import { describeError } from '../errors.js';

/**
 * Which runs leave a report in S3 (SPEC §4): every run that applied, was refused, or could not run at
 * all. A poll that skipped Puppet writes nothing to S3: at fleet scale those PUTs cost money.
 * (Disabled runs are decided by the caller: only those that would have applied report.)
 */
export function shouldPublish(report: Report): boolean {
  return report.apply.status !== 'skipped' || report.result === 'error' || report.source.status === 'rejected';
}

/** Reports a crashed or cut-off run left in the spool go out first, oldest first (SPEC §1.6). */
export async function deliverPending(deps: Pick<Deps, 'log'>, context: RunContext): Promise<void> {
  const pending = await spoolStats(context.paths);
  if (pending.count === 0) return;
  await deliver(deps, context);
}

/** spool (fsync + rename) → local copy → S3 → status.json → metrics → after_run hooks. */
export async function finishReport(deps: Pick<Deps, 'log' | 'exec'>, context: RunContext, built: Report, publish: boolean): Promise<Report> {
  let report = built;
  const { config, paths, progress } = context;
  const started = performance.now();
  let localCopy: string | null = null;
  let dropped = 0;
  if (publish) {
    try {
      const spooled = await spoolReport(paths, report, config.report.spool_max, deps.log);
      dropped = spooled.dropped;
      report = spooled.report;
      localCopy = await keepLocalCopy(paths, spooled.file, config.report.keep_local);
      const delivery = await deliver(deps, context);
      progress.finished('report', describeDelivery(delivery, `s3://${config.report.bucket}/${config.report.prefix}`), performance.now() - started);
    } catch (error) {
      deps.log.error({ err: describeError(error) }, 'could not spool the report');
      progress.note(`report: could not spool: ${describeError(error)}`);
    }
  }
  try {
    const previous = await readStatusFile(paths.statusFile);
    const status = nextStatus(previous, report, { published: publish, spoolDropped: dropped });
    await writeStatusFile(paths.statusFile, status);
    const spool = await spoolStats(paths);
    const metrics = renderMetrics({ report, counters: status.runs_total ?? {}, spoolDepth: spool.count, spoolDropped: status.spool_dropped_total ?? 0 });
    await writeMetrics(config.metrics.textfile, metrics);
  } catch (error) {
    deps.log.error({ err: describeError(error) }, 'could not write status.json or metrics');
  }
  if (publish && config.hooks.after_run.length > 0) {
    const env = hookEnvironment({
      instanceId: report.instance.id,
      privateIp: report.instance.private_ip,
      roles: config.roles,
      runId: report.run_id,
      result: report.result,
      exitCode: report.exit_code,
      reportPath: localCopy,
    });
    await runHooks(deps, 'after_run', config.hooks.after_run, env, config.hooks.timeout);
  }
  return report;
}

function describeDelivery(delivery: Delivery, where: string): string {
  if (delivery.error) return `spooled; S3 upload failed (${delivery.error}), ${delivery.remaining} waiting in the spool for the next run`;
  return `delivered to ${where} (${delivery.delivered} report${delivery.delivered === 1 ? '' : 's'})`;
}

async function deliver(deps: Pick<Deps, 'log'>, context: RunContext): Promise<Delivery> {
  // loaded here, not at start-up: a poll that reports nothing never pays for the S3 SDK
  const [{ createS3Client }, { deliverSpool }] = await Promise.all([import('../adapters/s3.js'), import('../report/deliver.js')]);
  const s3 = createS3Client(context.config.report);
  try {
    const delivery = await deliverSpool({ s3, log: deps.log }, context.config.report, context.paths);
    if (delivery.error) deps.log.warn({ err: delivery.error, remaining: delivery.remaining }, 'reports stay in the spool');
    return delivery;
  } finally {
    s3.destroy();
  }
}
