import { hostname, userInfo } from 'node:os';
import type { ParsedCommand } from '../cli.js';
import { parseSample } from '../cli.js';
import type { CommandIo } from './io.js';
import { AgentError } from '../errors.js';
import { createS3Client } from '../adapters/s3.js';
import { normalizePrefix } from '../report/keys.js';
import { readPrivateKey } from '../release/key-files.js';
import { parseDuration } from '../config/duration.js';
import { parseTarget } from './publish.js';
import { operatorConfig, operatorLocation } from './operator-s3.js';
import { startPlanCommand } from '../plan/start.js';
import { readPlan, readPlanAnswers, readPlanPointer, type PlanStore } from '../plan/store.js';
import { aggregatePlan } from '../plan/aggregate.js';
import { formatPlanView } from '../plan/format.js';
import { DEFAULT_PLAN_TTL } from '../plan/document.js';

const RSYNC_REFUSAL =
  'a plan needs the S3 source: hosts fetch the candidate beside their active release and upload their answers, which an rsync ' +
  'tree cannot offer. Publish to an S3 source (`agent publish DIR --key K --to s3://BUCKET/PREFIX`) and plan there';

/** `agent plan start|show` (SPEC §10): publisher commands over the S3 source's plans/. */
export async function planCommand(command: ParsedCommand, io: CommandIo): Promise<number> {
  const { values, positionals } = command;
  const store = planStore(values, io.env);
  try {
    if (positionals[0] === 'start') return await start(store, values, positionals[1]!, io);
    return await show(store, values, positionals[1], io);
  } finally {
    store.s3.destroy();
    store.reports.s3.destroy();
  }
}

/** The source from --to or the config's S3 source; the report bucket from --bucket or the config's report:. */
function planStore(values: ParsedCommand['values'], env: NodeJS.ProcessEnv): PlanStore {
  const { config, path } = operatorConfig(values, env);
  let source: { bucket: string; prefix: string };
  if (typeof values.to === 'string') {
    if (!values.to.startsWith('s3://')) throw new AgentError('internal', `--to ${values.to}: ${RSYNC_REFUSAL}`);
    source = parseTarget(values.to);
  } else if (config?.source.type === 's3' && config.source.bucket) {
    source = { bucket: config.source.bucket, prefix: config.source.prefix };
  } else if (config) {
    throw new AgentError('internal', `${path}: source.type is rsync: ${RSYNC_REFUSAL}`);
  } else {
    throw new AgentError('usage', `no S3 source: give --to s3://BUCKET/PREFIX or a config file with an S3 source (looked for ${path})`);
  }
  const sourceSection = config?.source.type === 's3' ? config.source : undefined;
  return {
    s3: createS3Client(operatorLocation(values, sourceSection, env), env),
    bucket: source.bucket,
    prefix: normalizePrefix(source.prefix),
    reports: {
      s3: createS3Client(operatorLocation(values, config?.report, env), env),
      bucket: (values.bucket as string | undefined) ?? config?.report.bucket ?? '',
      prefix: normalizePrefix(config?.report.prefix ?? ''),
    },
  };
}

async function start(store: PlanStore, values: ParsedCommand['values'], what: string, io: CommandIo): Promise<number> {
  const key = await readPrivateKey(values.key as string);
  const roles = typeof values.role === 'string' ? values.role.split(',').map((role) => role.trim()) : [];
  const plan = await startPlanCommand(store, {
    what,
    key,
    roles,
    sample: typeof values.sample === 'string' ? parseSample(values.sample)! : null,
    ttlMs: parseDuration(String(values.expires ?? DEFAULT_PLAN_TTL))!,
    by: `${io.env.SUDO_USER || userInfo().username}@${hostname()}`,
    now: new Date(),
    progress: (line) => io.stderr.write(`${line}\n`),
  });
  // the id alone on stdout, for `id=$(agent plan start ...)`; the rest is for the operator
  io.stdout.write(`${plan.plan_id}\n`);
  io.stderr.write(
    `agent: plan     ${plan.plan_id} started: release ${plan.candidate.release_id} (serial ${plan.candidate.serial})\n` +
      `agent: plan     scope ${roles.length ? `roles ${roles.join(', ')}` : 'every host'}${plan.sample !== null ? `, a ${plan.sample}% sample` : ''}; expires ${plan.expires_at}\n` +
      `agent: plan     hosts answer at their next poll; \`agent fleet run-now --plan ${plan.plan_id}\` asks them now; \`agent plan show ${plan.plan_id}\` aggregates\n`,
  );
  return 0;
}

async function show(store: PlanStore, values: ParsedCommand['values'], requested: string | undefined, io: CommandIo): Promise<number> {
  const planId = requested ?? (await readPlanPointer(store))?.plan_id;
  if (!planId) throw new AgentError('internal', `no plan at s3://${store.bucket}/${store.prefix}plans/current.json: start one with \`agent plan start\`, or name one: agent plan show PLAN_ID`);
  const stored = await readPlan(store, planId);
  if (!stored) throw new AgentError('internal', `no plan ${planId} at s3://${store.bucket}/${store.prefix}plans/${planId}.json`);
  const answers = await readPlanAnswers(store, planId);
  const now = new Date();
  const view = aggregatePlan({ plan: stored.plan, ...answers, now });
  if (values.json) io.stdout.write(`${JSON.stringify({ schema: 'agent.plan-show/v1', ...view }, null, 2)}\n`);
  else io.stdout.write(formatPlanView(view, (values.by as 'resource' | 'role' | 'host' | undefined) ?? 'resource', Boolean(io.stdout.isTTY), now));
  return view.exit_code;
}
