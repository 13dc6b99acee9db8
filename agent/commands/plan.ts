import { hostname, userInfo } from 'node:os';
import type { ParsedCommand } from '../cli.js';
import { parseSample } from '../cli.js';
import type { CommandIo } from './io.js';
import { AgentError } from '../errors.js';
import { readPrivateKey } from '../release/key-files.js';
import { parseDuration } from '../config/duration.js';
import { publisherStore } from './operator-s3.js';
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

function planStore(values: ParsedCommand['values'], env: NodeJS.ProcessEnv): PlanStore {
  return publisherStore(values, env, RSYNC_REFUSAL).store;
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
