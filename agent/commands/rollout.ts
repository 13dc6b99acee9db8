import { createPublicKey, type KeyObject } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import type { ParsedCommand } from '../cli.js';
import type { CommandIo } from './io.js';
import { AgentError } from '../errors.js';
import { readPrivateKey } from '../release/key-files.js';
import { publisherStore } from './operator-s3.js';
import { readFleet, readRollout, writePointer, writeRollout, type RolloutStore, type StoredRollout } from '../rollout/store.js';
import { startRolloutCommand } from '../rollout/start.js';
import { decideTick } from '../rollout/controller.js';
import { tallyHosts } from '../rollout/tally.js';
import { changeRollout, describeStep } from '../rollout/transitions.js';
import { formatStatus, stepRows } from '../rollout/format.js';
import { isOpen, type OnFailure, type RolloutDocument } from '../rollout/document.js';
import { readPlan } from '../plan/store.js';

const DEFAULT_DRIFT_CHECK_MS = 30 * 60_000;
const RSYNC_REFUSAL =
  'a rollout needs the S3 source: the rsync source serves one tree to every host, so it cannot hand some hosts a candidate ' +
  'and the rest the previous release. Publish to an S3 source (`agent publish DIR --key K --to s3://BUCKET/PREFIX`, README "Signed releases and the S3 source") and roll out there';

interface RolloutContext {
  store: RolloutStore;
  driftCheckEveryMs: number;
  by: string;
}

/** `agent rollout ...` (SPEC §9): publisher commands over the S3 source's rollout.json. */
export async function rolloutCommand(command: ParsedCommand, io: CommandIo): Promise<number> {
  const { values, positionals } = command;
  const context = rolloutContext(values, io.env);
  const key = typeof values.key === 'string' ? await readPrivateKey(values.key) : undefined;
  try {
    switch (positionals[0]) {
      case 'start':
        return await start(context, values, positionals[1] ?? '', key!, io);
      case 'status':
        return await status(context, values, io);
      case 'tick':
        return await tick(context, key!, io);
      default:
        return await change(context, positionals[0] as Manual, key!, io);
    }
  } finally {
    context.store.s3.destroy();
    context.store.reports.s3.destroy();
  }
}

function rolloutContext(values: ParsedCommand['values'], env: NodeJS.ProcessEnv): RolloutContext {
  const { config, store } = publisherStore(values, env, RSYNC_REFUSAL);
  return { store, driftCheckEveryMs: config?.drift_check_every ?? DEFAULT_DRIFT_CHECK_MS, by: `${env.SUDO_USER || userInfo().username}@${hostname()}` };
}

function needReports(context: RolloutContext): void {
  if (!context.store.reports.bucket) throw new AgentError('usage', 'no report bucket: give --bucket or a config file with report.bucket (the controller reads registry/ and latest/ there)');
}

async function start(context: RolloutContext, values: ParsedCommand['values'], what: string, key: KeyObject, io: CommandIo): Promise<number> {
  const planned = typeof values.plan === 'string' ? await plannedRelease(context.store, values.plan, key, io) : undefined; // SPEC §10
  const doc = await startRolloutCommand(context.store, {
    what: planned ?? what,
    key,
    steps: String(values.steps ?? '1,10,50,100').split(',').map(Number),
    bake: String(values.bake ?? '10m'),
    maxFailed: String(values['max-failed'] ?? '0'),
    canaryRole: (values['canary-role'] as string | undefined) ?? null,
    onFailure: ((values['on-failure'] as OnFailure | undefined) ?? 'abort'),
    by: context.by,
    now: new Date(),
    progress: (line) => io.stderr.write(`${line}\n`),
  });
  io.stdout.write(
    `rollout ${doc.rollout_id} started\n` +
      `candidate ${doc.candidate.release_id} (serial ${doc.candidate.serial})\nprevious  ${doc.previous.release_id} (serial ${doc.previous.serial})\n` +
      `steps ${doc.steps.map((_, step) => describeStep(doc, step)).join(' -> ')}, bake ${doc.bake}, max_failed ${doc.max_failed}, on_failure ${doc.on_failure}\n` +
      `${doc.reason}\n`,
  );
  return 0;
}

/** `rollout start --plan PLAN_ID`: exactly the release that plan nooped, from a plan this publisher signed. */
async function plannedRelease(store: RolloutStore, planId: string, key: KeyObject, io: CommandIo): Promise<string> {
  const stored = await readPlan(store, planId, createPublicKey(key));
  if (!stored) throw new AgentError('internal', `no plan ${planId} at s3://${store.bucket}/${store.prefix}plans/${planId}.json; nothing was written`);
  if (!stored.signedByKey) throw new AgentError('internal', `plan ${planId} is not signed by --key: tampered, or not this publisher's plan; nothing was written`);
  const { plan } = stored;
  const expired = Date.parse(plan.expires_at) <= Date.now() ? ` (expired ${plan.expires_at}: hosts answered it before then; \`agent plan show ${planId}\`)` : '';
  io.stderr.write(`agent: rollout  release ${plan.candidate.release_id.slice(0, 12)} as planned by ${planId}${expired}\n`);
  return plan.candidate.release_id;
}

async function requireRollout(context: RolloutContext, key?: KeyObject): Promise<StoredRollout> {
  const stored = await readRollout(context.store, key ? createPublicKey(key) : undefined);
  if (!stored) throw new AgentError('internal', `no rollout at s3://${context.store.bucket}/${context.store.prefix}rollout.json: start one with \`agent rollout start\``);
  return stored;
}

/** Write a decision: on completion current.json names the candidate first, so a stopped writer converges. */
async function commit(context: RolloutContext, stored: StoredRollout, next: RolloutDocument, key: KeyObject): Promise<void> {
  if (next.state === 'completed') await writePointer(context.store, next.candidate);
  await writeRollout(context.store, next, key, stored);
  if (next.state === 'aborted') await writePointer(context.store, { ...next.previous, rollout_id: next.rollout_id });
}

async function tick(context: RolloutContext, key: KeyObject, io: CommandIo): Promise<number> {
  needReports(context);
  const stored = await readRollout(context.store, createPublicKey(key));
  if (!stored) {
    io.stdout.write('no rollout: nothing to decide\n');
    return 0;
  }
  const hosts = await readFleet(context.store);
  const decision = decideTick({ rollout: stored.doc, hosts, now: new Date(), driftCheckEveryMs: context.driftCheckEveryMs, by: context.by });
  io.stdout.write(`${decision.action}: ${decision.reason}\n`);
  if (!decision.next) return 0;
  await commit(context, stored, decision.next, key);
  const after = await readRollout(context.store);
  if (after && after.doc.serial !== decision.next.serial) io.stdout.write(`note: rollout.json now has serial ${after.doc.serial}: another writer wrote after this tick\n`);
  return 0;
}

type Manual = 'advance' | 'pause' | 'resume' | 'abort';

async function change(context: RolloutContext, action: Manual, key: KeyObject, io: CommandIo): Promise<number> {
  const stored = await requireRollout(context, key);
  const { doc } = stored;
  const refuse = (why: string) => {
    throw new AgentError('internal', `rollout ${doc.rollout_id} is ${doc.state}: ${why}`);
  };
  const now = new Date();
  const by = context.by;
  let next: RolloutDocument;
  if (action === 'pause') {
    if (doc.state !== 'running') refuse('only a running rollout can be paused');
    next = changeRollout(doc, { action: 'paused', state: 'paused', step: doc.step, reason: `paused by ${by}`, now, by });
  } else if (action === 'resume') {
    if (doc.state !== 'paused' && doc.state !== 'halted') refuse('only a paused or halted rollout can be resumed');
    next = changeRollout(doc, { action: 'resumed', state: 'running', step: doc.step, reason: `resumed by ${by}: the bake of step ${doc.step + 1} starts again`, now, by });
  } else if (action === 'abort') {
    if (!isOpen(doc.state)) refuse('nothing to abort');
    next = changeRollout(doc, { action: 'aborted', state: 'aborted', step: doc.step, reason: `aborted by ${by}: every host returns to the previous release`, now, by });
  } else {
    if (!isOpen(doc.state)) refuse('nothing to advance');
    const last = doc.step === doc.steps.length - 1;
    next = last
      ? changeRollout(doc, { action: 'completed', state: 'completed', step: doc.step, reason: `completed by ${by}; current.json now names release ${doc.candidate.release_id.slice(0, 12)}`, now, by })
      : changeRollout(doc, { action: 'advanced', state: 'running', step: doc.step + 1, reason: `advanced by ${by} to step ${doc.step + 2} (${describeStep(doc, doc.step + 1)})`, now, by });
  }
  await commit(context, stored, next, key);
  io.stdout.write(`rollout ${next.rollout_id}: ${next.state}, step ${next.step + 1}/${next.steps.length}: ${next.reason}\n`);
  return 0;
}

async function status(context: RolloutContext, values: ParsedCommand['values'], io: CommandIo): Promise<number> {
  needReports(context);
  for (;;) {
    const stored = await readRollout(context.store);
    if (!stored) {
      io.stdout.write('no rollout\n');
      return 0;
    }
    const hosts = tallyHosts(stored.doc, await readFleet(context.store), new Date(), context.driftCheckEveryMs);
    if (values.json) {
      io.stdout.write(`${JSON.stringify({ schema: 'agent.rollout-status/v1', rollout: stored.doc, steps: stepRows(stored.doc, hosts), hosts }, null, 2)}\n`);
    } else {
      if (values.watch && io.stdout.isTTY) io.stdout.write('\x1b[2J\x1b[H');
      io.stdout.write(formatStatus(stored.doc, hosts, Boolean(io.stdout.isTTY)));
    }
    if (!values.watch || !isOpen(stored.doc.state)) return 0;
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}
