/**
 * Item 5, simulated: 10,000 hosts on the default schedule ("*\/5 * * * *", splay 5m), the source's load
 * in 10-second buckets over an hour, with the agent's own splayOffsetMs and node-cron's next runs,
 * against everyone at :00 (no splay) and Puppet's splay-at-start-only after a fleet-wide restart.
 * Each repetition draws a new fleet of ids (and new Puppet delays).
 */
import { instanceIds, seededRandom } from '../fleet-sim/instance-ids.js';
import { agentArrivals, noSplayArrivals, puppetArrivals } from '../fleet-sim/arrivals.js';
import { bucketLoad, type Load } from '../fleet-sim/buckets.js';
import { cronTicks } from '../fleet-sim/cron-ticks.js';
import { pollIntervalMs } from '../../agent/config/semantics.js';
import { pairedRatio, summarize } from '../stats.js';
import type { Row, Scenario } from '../scenario.js';

const HOSTS = 10_000;
const SCHEDULE = '*/5 * * * *';
const SPLAY_MS = 5 * 60_000;
const BUCKET_MS = 10_000;
const HORIZON_MS = 3_600_000;

export const fleetSchedule: Scenario = {
  name: 'fleet-schedule',
  title: '5a. Fleet simulation: source load over time',
  async run(options) {
    const interval = pollIntervalMs(SCHEDULE);
    const ticks = cronTicks(SCHEDULE, Math.ceil(HORIZON_MS / interval));
    const from = ticks[0]!;
    const until = from + HORIZON_MS;
    const loads = { agent: [] as Load[], none: [] as Load[], puppet: [] as Load[] };
    for (let rep = 0; rep < options.repetitions; rep++) {
      const ids = instanceIds(HOSTS, 1000 + rep);
      loads.agent.push(bucketLoad(agentArrivals(ids, ticks, SPLAY_MS), from, until, BUCKET_MS));
      loads.none.push(bucketLoad(noSplayArrivals(HOSTS, ticks), from, until, BUCKET_MS));
      // Puppet: runinterval = the poll interval, splaylimit = splay; everyone restarted at the first tick
      loads.puppet.push(bucketLoad(puppetArrivals(HOSTS, from, interval, SPLAY_MS, until, seededRandom(2000 + rep)), from, until, BUCKET_MS));
    }
    const ratio = (list: Load[]) => list.map((load) => load.peakToMean);
    const peakRps = (list: Load[]) => list.map((load) => load.peak / (BUCKET_MS / 1000));
    const rows: Row[] = [
      { metric: 'agent splay: busiest 10 s / mean 10 s', unit: 'ratio', baseline: summarize(ratio(loads.none)), subject: summarize(ratio(loads.agent)), ratio: pairedRatio(ratio(loads.agent), ratio(loads.none)), target: { on: 'subject', max: 1.3, source: 'issue #8' } },
      { metric: 'agent splay: peak requests per second', unit: 'req/s', baseline: summarize(peakRps(loads.none)), subject: summarize(peakRps(loads.agent)), ratio: pairedRatio(peakRps(loads.agent), peakRps(loads.none)) },
      { metric: 'Puppet splay at start only: busiest 10 s / mean 10 s', unit: 'ratio', baseline: summarize(ratio(loads.none)), subject: summarize(ratio(loads.puppet)), ratio: pairedRatio(ratio(loads.puppet), ratio(loads.none)) },
      { metric: 'Puppet splay at start only: peak requests per second', unit: 'req/s', baseline: summarize(peakRps(loads.none)), subject: summarize(peakRps(loads.puppet)), ratio: pairedRatio(peakRps(loads.puppet), peakRps(loads.none)) },
      { metric: 'mean requests per second (all three)', unit: 'req/s', subject: summarize(loads.agent.map((load) => load.mean / (BUCKET_MS / 1000))) },
    ];
    return {
      baseline: 'no splay: every host at the tick (:00, :05, ...)',
      subject: 'the policy named in each row (agent rows: the agent\'s splayOffsetMs on node-cron\'s ticks)',
      columns: { baseline: 'no splay', subject: 'policy' },
      rows,
      notes: [
        `${HOSTS.toLocaleString('en-US')} hosts, schedule "${SCHEDULE}", splay ${SPLAY_MS / 60_000}m, one hour from the next tick (${new Date(from).toISOString()}), 10-second buckets; ${options.repetitions} fleets of random ids (and Puppet delays), one per repetition.`,
        'Puppet style: `puppet agent` with splay=true, splaylimit=5m, runinterval=5m, all restarted at the same moment: one random delay each, then a run every runinterval from the previous start. With Puppet\'s default splay=false the restarted fleet runs in lockstep: the no-splay column.',
        'A random draw and a hash of the id spread the fleet about equally well; the difference is that the agent\'s offset is the same at every tick and after every restart or reboot (a host keeps its slot, and an operator can compute it), while Puppet redraws at each process start and a fleet restarted without splay stays synchronised.',
      ],
    };
  },
};
