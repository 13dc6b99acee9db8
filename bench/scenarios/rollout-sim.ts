/**
 * Issue #13, simulated: a 10,000-host fleet on the default schedule ("*\/5 * * * *", splay 5m, each
 * host's own splayOffsetMs) takes a change either as a plain publish or as a rollout (steps
 * 1,10,50,100, bake 10m, `rollout tick` every minute as the shipped timer runs it), with the agent's
 * own decideTarget() on every poll and decideTick() at every tick (bench/fleet-sim/rollout-run.ts).
 * Figures: time until the whole fleet runs the candidate, hosts that ran a bad release before the
 * halt, and the S3 GETs a rollout adds per host per poll.
 */
import { instanceIds } from '../fleet-sim/instance-ids.js';
import { cronTicks } from '../fleet-sim/cron-ticks.js';
import { buildFleet } from '../fleet-sim/rollout-fleet.js';
import { simulateChange, PREVIOUS, type SimOutcome } from '../fleet-sim/rollout-run.js';
import { pollIntervalMs } from '../../agent/config/semantics.js';
import { pairedRatio, summarize } from '../stats.js';
import type { Row, Scenario } from '../scenario.js';

const SCHEDULE = '*/5 * * * *';
const SPLAY_MS = 5 * 60_000;
const HORIZON_MS = 6 * 3_600_000;
const minutes = (ms: number | null) => (ms === null ? Number.NaN : ms / 60_000);

export const rolloutSim: Scenario = {
  name: 'rollout-sim',
  title: '7. Progressive rollout on a simulated 10,000-host fleet',
  async run(options) {
    const hostsCount = options.quick ? 2_000 : 10_000;
    const interval = pollIntervalMs(SCHEDULE);
    const ticks = cronTicks(SCHEDULE, Math.ceil(HORIZON_MS / interval));
    const startAt = ticks[0]! + 30_000;
    const plan = (rep: number) => ({ rolloutId: `r-bench-${rep}`, steps: [1, 10, 50, 100], canaryRole: null, bake: '10m', maxFailed: '0', onFailure: 'abort' as const });
    const simulate = (rep: number, rollout: boolean, bad: boolean): SimOutcome =>
      simulateChange({
        hosts: buildFleet(instanceIds(hostsCount, 3000 + rep), SPLAY_MS, PREVIOUS.release_id, 'canary', 0),
        pollTicks: ticks,
        startAt,
        rollout: rollout ? plan(rep) : null,
        bad,
        applyMs: 2_000,
        tickEveryMs: 60_000,
        driftCheckEveryMs: 30 * 60_000,
        intervalMs: interval,
      });
    const good = { publish: [] as SimOutcome[], rollout: [] as SimOutcome[] };
    const bad = { publish: [] as SimOutcome[], rollout: [] as SimOutcome[] };
    for (let rep = 0; rep < options.repetitions; rep++) {
      options.log(`rollout-sim: repetition ${rep + 1}/${options.repetitions}, ${hostsCount} hosts`);
      good.publish.push(simulate(rep, false, false));
      good.rollout.push(simulate(rep, true, false));
      bad.publish.push(simulate(rep, false, true));
      bad.rollout.push(simulate(rep, true, true));
    }
    const all = (list: SimOutcome[], pick: (outcome: SimOutcome) => number) => list.map(pick);
    const toAll = (outcome: SimOutcome) => minutes(outcome.allOnCandidateMs);
    const polls = (outcome: SimOutcome) => outcome.gets.current / hostsCount;
    // the goal counts conditional GETs a poll; rollout.sig is fetched only when rollout.json came back changed
    const conditionalPerPoll = (outcome: SimOutcome) => (outcome.gets.current + outcome.gets.rollout) / outcome.gets.current;
    const signaturesPerHost = (outcome: SimOutcome) => outcome.gets.signature / hostsCount;
    const rows: Row[] = [
      { metric: 'good release: minutes until every host runs it', unit: 'min', baseline: summarize(all(good.publish, toAll)), subject: summarize(all(good.rollout, toAll)), ratio: pairedRatio(all(good.rollout, toAll), all(good.publish, toAll)) },
      { metric: 'bad release: hosts that ran it', unit: 'hosts', baseline: summarize(all(bad.publish, (o) => o.tried)), subject: summarize(all(bad.rollout, (o) => o.tried)), ratio: pairedRatio(all(bad.rollout, (o) => o.tried), all(bad.publish, (o) => o.tried)) },
      { metric: 'bad release: hosts outside the first step that ran it', unit: 'hosts', subject: summarize(all(bad.rollout, (o) => o.triedOutsideFirstStep)), target: { on: 'subject', max: 0, source: 'issue #13' } },
      { metric: 'bad release: minutes until the rollout halted', unit: 'min', subject: summarize(all(bad.rollout, (o) => minutes(o.endedMs))) },
      { metric: 'conditional GETs per poll during a rollout (current.json + rollout.json)', unit: 'GETs', baseline: summarize(good.publish.map(() => 1)), subject: summarize(all(good.rollout, conditionalPerPoll)), target: { on: 'subject', max: 2, source: 'issue #13: at most one more conditional GET a poll' } },
      { metric: 'rollout.sig GETs per host over the rollout (one per changed rollout.json)', unit: 'GETs', subject: summarize(all(good.rollout, signaturesPerHost)) },
      { metric: 'rollout.json writes per rollout (start, advances, completion)', unit: 'writes', subject: summarize(all(good.rollout, (o) => o.rolloutWrites)) },
      { metric: 'polls per host while the rollout ran', unit: 'polls', subject: summarize(all(good.rollout, polls)) },
    ];
    const extra = good.rollout.map((o) => (o.gets.rollout + o.gets.signature) / hostsCount);
    return {
      baseline: 'a plain `agent publish --to s3://` of the same change, same schedule',
      subject: '`agent rollout start` (1,10,50,100, bake 10m, tick every minute)',
      columns: { baseline: 'publish', subject: 'rollout' },
      rows,
      notes: [
        `${hostsCount.toLocaleString('en-US')} hosts, schedule "${SCHEDULE}", splay 5m, an apply takes 2 s; ${options.repetitions} fleets of random ids.`,
        `A rollout adds ${summarize(extra).median.toFixed(0)} GETs per host over its whole run (one conditional GET of rollout.json per poll while current.json names the rollout, and rollout.sig when rollout.json changed); a fleet with no rollout open pays nothing more than current.json: 288 conditional GETs per host per day at the default schedule.`,
        'Each step waits for every exposed host to report success on the candidate, then the 10 minutes of bake; a step that exposes no host advances at once. With 5-minute polls and 5 minutes of splay, a step takes about bake + one poll interval.',
      ],
    };
  },
};
