import type { Deps } from '../deps.js';
import type { Report } from '../report/types.js';
import type { RunContext } from './run-once.js';
import { createS3Client } from '../adapters/s3.js';
import { spoolReport, spoolStats } from '../report/spool.js';
import { deliverSpool } from '../report/deliver.js';
import { keepLocalCopy } from '../report/local-copies.js';
import { nextStatus, readStatusFile, writeStatusFile } from './status-file.js';
import { describeError } from '../errors.js';

/**
 * Which runs leave a report in S3 (SPEC §4): every run that applied, was refused or disabled, or
 * could not run at all. A poll that skipped Puppet writes nothing to S3: at fleet scale those PUTs cost money.
 */
export function shouldPublish(report: Report): boolean {
  return report.apply.status !== 'skipped' || report.result === 'disabled' || report.result === 'error' || report.source.status === 'rejected';
}

/** Reports a crashed or cut-off run left in the spool go out first, oldest first (SPEC §1.6). */
export async function deliverPending(deps: Pick<Deps, 'log'>, context: RunContext): Promise<void> {
  const pending = await spoolStats(context.paths);
  if (pending.count === 0) return;
  await deliver(deps, context);
}

/** spool (fsync + rename) → local copy → S3 → status.json. Returns the report as it was spooled. */
export async function finishReport(deps: Pick<Deps, 'log'>, context: RunContext, report: Report): Promise<Report> {
  const { config, paths, progress } = context;
  const started = performance.now();
  if (shouldPublish(report)) {
    try {
      const spooled = await spoolReport(paths, report, config.report.spool_max, deps.log);
      await keepLocalCopy(paths, spooled.file, config.report.keep_local);
      const delivery = await deliver(deps, context);
      const where = `s3://${config.report.bucket}/${config.report.prefix}`;
      progress.finished(
        'report',
        delivery.error
          ? `spooled; S3 upload failed (${delivery.error}), ${delivery.remaining} waiting in the spool for the next run`
          : `delivered to ${where} (${delivery.delivered} report${delivery.delivered === 1 ? '' : 's'})`,
        performance.now() - started,
      );
    } catch (error) {
      deps.log.error({ err: describeError(error) }, 'could not spool the report');
      progress.note(`report: could not spool: ${describeError(error)}`);
    }
  }
  try {
    const previous = await readStatusFile(paths.statusFile);
    await writeStatusFile(paths.statusFile, nextStatus(previous, report, previous?.next_run_at ?? null));
  } catch (error) {
    deps.log.error({ err: describeError(error) }, 'could not write status.json');
  }
  return report;
}

async function deliver(deps: Pick<Deps, 'log'>, context: RunContext) {
  const s3 = createS3Client(context.config.report);
  try {
    const delivery = await deliverSpool({ s3, log: deps.log }, context.config.report, context.paths);
    if (delivery.error) deps.log.warn({ err: delivery.error, remaining: delivery.remaining }, 'reports stay in the spool');
    return delivery;
  } finally {
    s3.destroy();
  }
}
