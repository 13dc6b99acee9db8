/**
 * One change reaching a simulated fleet in virtual time (pure, no I/O, no clock): a plain publish
 * (current.json names the candidate) or a rollout (rollout.json + current.json naming it), with the
 * agent's own decisions at every step. Hosts poll at tick + their offset; a poll reads the bucket as
 * s3-poll.ts does and decides with decideTarget(); a host whose target changed applies, and its report
 * lands in latest/ `applyMs` later. The controller runs decideTick() over every host's latest report
 * at every `tickEveryMs` (on the minute) and writes decision.next, and current.json when it completes.
 */
import { decideTarget, type RolloutReport } from '../../agent/rollout/host-target.js';
import { decideTick } from '../../agent/rollout/controller.js';
import { startRollout } from '../../agent/rollout/transitions.js';
import { isExposed } from '../../agent/rollout/cohort.js';
import type { OnFailure, RolloutDecisionEntry, RolloutState } from '../../agent/rollout/document.js';
import type { ReleasePointer } from '../../agent/release/manifest.js';
import type { HostReport } from '../../agent/rollout/tally.js';
import { SimBucket, type GetCounts } from './rollout-bucket.js';
import { steadyReport, type SimHost } from './rollout-fleet.js';

export const PREVIOUS: ReleasePointer = { release_id: 'a'.repeat(64), serial: 1 };
export const CANDIDATE: ReleasePointer = { release_id: 'b'.repeat(64), serial: 2 };

export interface RolloutPlan {
  rolloutId: string;
  steps: number[];
  canaryRole: string | null;
  bake: string;
  maxFailed: string;
  onFailure: OnFailure;
}

export interface SimConfig {
  /** In poll order (buildFleet); their state is changed by the run. */
  hosts: SimHost[];
  /** The schedule's ticks (node-cron), the first at or before `startAt`. */
  pollTicks: readonly number[];
  startAt: number;
  /** null: a plain publish. */
  rollout: RolloutPlan | null;
  /** Every host that applies the candidate fails and rolls back to previous in the same run. */
  bad: boolean;
  applyMs: number;
  tickEveryMs: number;
  driftCheckEveryMs: number;
  intervalMs: number;
}

export interface SimOutcome {
  /** ms from the change until every host's latest report is a success on the candidate (null: never). */
  allOnCandidateMs: number | null;
  /** ms until every host had run the candidate (a plain publish of a bad release: the whole fleet broken once). */
  allTriedMs: number | null;
  /** ms until the rollout left `running` (completed, aborted, halted); null for a publish or one that never ended. */
  endedMs: number | null;
  endState: RolloutState | null;
  history: RolloutDecisionEntry[];
  /** Hosts that ever ran the candidate. */
  tried: number;
  /** Hosts the first step exposes, and how many hosts outside it ran the candidate. */
  firstStep: number;
  triedOutsideFirstStep: number;
  gets: GetCounts;
  rolloutWrites: number;
}

export function simulateChange(config: SimConfig): SimOutcome {
  const { hosts, applyMs, startAt } = config;
  const total = hosts.length;
  const candidate = CANDIDATE.release_id;
  const bucket = new SimBucket(PREVIOUS);
  const latest = new Map<string, HostReport>(hosts.map((host) => [host.member.instance_id, steadyReport(PREVIOUS.release_id, startAt - 60_000)]));
  const pending: Array<{ at: number; id: string; report: HostReport }> = [];
  let head = 0;
  let onCandidate = 0;
  let tried = 0;
  let allOnAt: number | null = null;
  let allTriedAt: number | null = null;
  let endedAt: number | null = null;

  const land = (until: number) => {
    for (; head < pending.length && pending[head]!.at <= until; head++) {
      const { at, id, report } = pending[head]!;
      const before = latest.get(id)!;
      latest.set(id, report);
      const wasOn = before.apply.release_id === candidate && before.result !== 'failed';
      const isOn = report.apply.release_id === candidate && report.result !== 'failed';
      onCandidate += Number(isOn) - Number(wasOn);
      if (onCandidate === total && allOnAt === null) allOnAt = at;
      if (report.apply.release_id === candidate || report.apply.rolled_back_from === candidate) {
        tried += 1; // a host runs the candidate at most once: a failed one is held, a good one keeps it
        if (tried === total) allTriedAt = at;
      }
    }
  };

  const controllerTick = (now: number) => {
    const doc = bucket.rollout;
    if (!doc || doc.state !== 'running') return;
    const registry = hosts.map((host) => ({ ...host.member, report: latest.get(host.member.instance_id) ?? null }));
    const decision = decideTick({ rollout: doc, hosts: registry, now: new Date(now), driftCheckEveryMs: config.driftCheckEveryMs, by: 'bench' });
    if (!decision.next) return;
    bucket.writeRollout(decision.next);
    // completed: current.json names the candidate and no rollout, so hosts stop reading rollout.json
    if (decision.action === 'complete') bucket.writeCurrent({ ...decision.next.candidate });
    if (decision.next.state !== 'running') endedAt = now;
  };

  const poll = (host: SimHost, now: number) => {
    const { pointer, rollout } = bucket.poll(host.seen);
    const target = decideTarget({ pointer, rollout, host: host.member, failed: host.failed, retryFailed: false });
    if (!target.release || target.release.release_id === host.active) return;
    const release = target.release.release_id;
    const finishedAt = new Date(now + applyMs).toISOString();
    let report: HostReport;
    if (release === candidate) host.triedCandidate = true;
    if (release === candidate && config.bad) {
      // apply-stage + rollback-stage: the new release failed where previous succeeded; previous re-applied, candidate held
      host.failed.push({ release_id: release, named_by: target.namedBy, failed_at: finishedAt, error: 'bench: the candidate fails everywhere' });
      const rolloutBlock: RolloutReport | undefined = target.rollout && (target.rollout.exposed ? { ...target.rollout, candidate_failed: true } : target.rollout);
      report = { result: 'failed', finished_at: finishedAt, apply: { release_id: host.active, rolled_back_from: release }, ...(rolloutBlock ? { rollout: rolloutBlock } : {}) };
    } else {
      host.active = release;
      report = { result: 'changed', finished_at: finishedAt, apply: { release_id: release }, ...(target.rollout ? { rollout: target.rollout } : {}) };
    }
    pending.push({ at: now + applyMs, id: host.member.instance_id, report });
  };

  let nextTick = Math.ceil(startAt / config.tickEveryMs) * config.tickEveryMs;
  const advance = (until: number) => {
    for (; nextTick <= until; nextTick += config.tickEveryMs) {
      land(nextTick);
      controllerTick(nextTick);
    }
    land(until);
  };

  let firstStep = total;
  if (config.rollout) {
    const plan = config.rollout;
    const doc = startRollout({ ...plan, serial: 1, candidate: CANDIDATE, previous: PREVIOUS, now: new Date(startAt), by: 'bench' });
    bucket.writeRollout(doc);
    bucket.writeCurrent({ ...PREVIOUS, rollout_id: plan.rolloutId });
    firstStep = hosts.filter((host) => isExposed(doc, host.member, 0)).length;
  } else {
    bucket.writeCurrent(CANDIDATE);
  }

  // a publish ends when every host ran it; a rollout one poll interval after it left `running`,
  // so every host has read the final documents (the GET counts cover the whole change)
  const stopAt = () => {
    if (!config.rollout) return (config.bad ? allTriedAt : allOnAt) ?? Number.POSITIVE_INFINITY;
    return endedAt === null ? Number.POSITIVE_INFINITY : endedAt + config.intervalMs + applyMs;
  };
  outer: for (const tickAt of config.pollTicks) {
    for (const host of hosts) {
      const at = tickAt + host.offsetMs;
      if (at < startAt) continue;
      if (at > stopAt()) break outer;
      advance(at);
      poll(host, at);
    }
  }
  advance(Math.min(stopAt(), (config.pollTicks.at(-1) ?? startAt) + config.intervalMs));

  const since = (at: number | null) => (at === null ? null : at - startAt);
  const doc = bucket.rollout;
  const triedOutside = doc ? hosts.filter((host) => host.triedCandidate && !isExposed(doc, host.member, 0)).length : 0;
  return {
    allOnCandidateMs: since(allOnAt),
    allTriedMs: since(allTriedAt),
    endedMs: since(endedAt),
    endState: doc?.state ?? null,
    history: doc?.history ?? [],
    tried: hosts.filter((host) => host.triedCandidate).length,
    firstStep,
    triedOutsideFirstStep: triedOutside,
    gets: { ...bucket.gets },
    rolloutWrites: bucket.rolloutWrites,
  };
}
