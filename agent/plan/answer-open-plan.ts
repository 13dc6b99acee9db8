import type { Deps } from '../deps.js';
import type { RunContext, RunRequest } from '../run/run-context.js';
import type { Trigger } from '../report/types.js';
import { readJsonFile, writeFileAtomic } from '../adapters/files.js';
import { describeError } from '../errors.js';
import { inPlanScope } from './scope.js';
import { planPaths } from './paths.js';

/** The daemon's runs answer an open plan; an operator's `run-now` does what it was asked (`--plan` for a plan). */
const PLAN_TRIGGERS: readonly Trigger[] = ['schedule', 'boot', 'signal'];

/**
 * After a scheduled run (SPEC §10): one conditional GET of plans/current.json; an open plan this host
 * is in scope for and has not answered yet is nooped and answered, once. A plan that is over (expired,
 * removed, replaced) has its staged candidate removed. Never throws: a plan is never worth a failed run.
 */
export async function answerOpenPlan(deps: Pick<Deps, 'exec' | 'log' | 'now'>, context: RunContext, request: Pick<RunRequest, 'trigger' | 'noSync'>): Promise<void> {
  const { config, paths } = context;
  if (config.source.type !== 's3' || request.noSync || !PLAN_TRIGGERS.includes(request.trigger)) return;
  // loaded only here, each when needed: an rsync host's tick never pays for the S3 SDK (about 80 ms of
  // start-up, bench 1), and a poll with no open plan never loads the noop run (Puppet's report parser)
  const [{ createS3Client }, { pollOpenPlan }] = await Promise.all([import('../adapters/s3.js'), import('./host-fetch.js')]);
  const dirs = planPaths(paths);
  const s3 = createS3Client(config.source);
  try {
    const plan = await pollOpenPlan({ s3, config }, dirs.pointerFile, deps.now());
    if (!plan) {
      const { removeOtherTrees } = await import('./stage-candidate.js');
      await removeOtherTrees(dirs.treesDir, null);
      return;
    }
    if (!inPlanScope(plan, { instance_id: context.identity.id, roles: config.roles })) return;
    const answered = await readJsonFile<{ plan_id?: string }>(dirs.answeredFile);
    if (answered?.plan_id === plan.plan_id) return;
    const { runPlan } = await import('./host-run.js');
    const outcome = await runPlan(deps, context, plan, s3);
    if (!outcome.uploadError) {
      await writeFileAtomic(dirs.answeredFile, `${JSON.stringify({ plan_id: plan.plan_id, run_id: outcome.report.run_id, answered_at: outcome.report.finished_at })}\n`);
    }
  } catch (error) {
    deps.log.warn({ err: describeError(error) }, 'open plan not answered');
    context.progress.note(`plan     not answered: ${describeError(error)}`);
  } finally {
    s3.destroy();
  }
}
