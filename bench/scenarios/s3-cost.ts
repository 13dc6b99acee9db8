/**
 * Item 5, computed: S3 requests per host per day at the default settings and their monthly price for
 * 10,000 hosts. Baseline: a host that reports every poll (what a cron script shipping a report per run
 * would do). Agent: the agent's own applyReason decides, poll by poll over a simulated day, whether
 * Puppet runs (and therefore whether anything is written).
 */
import { pollIntervalMs } from '../../agent/config/semantics.js';
import { splayOffsetMs } from '../../agent/schedule/splay.js';
import { cronTicks } from '../fleet-sim/cron-ticks.js';
import { appliesInDay, monthlyCost, PUTS_PER_APPLY, S3_STANDARD_US_EAST_1 } from '../fleet-sim/s3-cost.js';
import { ratioOf, single } from '../stats.js';
import type { Scenario } from '../scenario.js';

const HOSTS = 10_000;
const SCHEDULE = '*/5 * * * *';
const SPLAY_MS = 5 * 60_000;
const DRIFT_CHECK_EVERY_MS = 30 * 60_000;
/** poll + Puppet + report, FIELD-NOTES: one run costs 1.5–1.9 s here. */
const APPLY_MS = 2_000;

export const s3Cost: Scenario = {
  name: 's3-cost',
  title: '5b. Fleet simulation: S3 requests and monthly cost',
  async run() {
    const interval = pollIntervalMs(SCHEDULE);
    const offset = splayOffsetMs('i-0123456789abcdef0', SPLAY_MS);
    // two days of ticks: the first warms up (the first poll always applies), the second is counted
    const polls = cronTicks(SCHEDULE, Math.ceil((2 * 86_400_000) / interval) + 1).map((tick) => tick + offset);
    const pollsPerDay = 86_400_000 / interval;
    const applies = appliesInDay(polls, DRIFT_CHECK_EVERY_MS, APPLY_MS);
    const appliesInstant = appliesInDay(polls, DRIFT_CHECK_EVERY_MS, 0);
    // SPEC §10: a scheduled S3 poll also GETs plans/current.json (404 with no plan, 304 once answered)
    const planGets = pollsPerDay;
    const agent = { gets: pollsPerDay + planGets, puts: applies * PUTS_PER_APPLY };
    const every = { gets: pollsPerDay + planGets, puts: pollsPerDay * PUTS_PER_APPLY };
    const prices = S3_STANDARD_US_EAST_1;
    const agentCost = monthlyCost(agent, HOSTS, prices);
    const everyCost = monthlyCost(every, HOSTS, prices);
    const row = (metric: string, unit: string, baseline: number, subject: number) => ({ metric, unit, baseline: single(baseline), subject: single(subject), ratio: ratioOf(subject, baseline) });
    return {
      baseline: 'every poll applies and reports (2 PUTs per poll)',
      subject: 'the agent at the defaults: applies only when applyReason says so (drift_check_every 30m), polls write nothing',
      rows: [
        row('applies per host per day', 'count', pollsPerDay, applies),
        row('PUT per host per day (reports/ + latest/)', 'count', every.puts, agent.puts),
        row('GET per host per day (S3 source: conditional GET of current.json per poll)', 'count', pollsPerDay, pollsPerDay),
        row('GET per host per day (S3 source: conditional GET of plans/current.json per poll, SPEC §10)', 'count', planGets, planGets),
        row('GET per host per day (both)', 'count', every.gets, agent.gets),
        { ...row('all requests per host per day', 'count', every.gets + every.puts, agent.gets + agent.puts), target: { on: 'subject', max: 400, source: 'issue #17' } },
        row('floor set by the contract: the two conditional GETs every poll makes (SPEC §8 and §10), nothing written', 'count', every.gets, agent.gets),
        row('without the plan pointer\'s GET: release pointer + reports', 'count', pollsPerDay + every.puts, pollsPerDay + agent.puts),
        row(`PUT cost per month, ${HOSTS.toLocaleString('en-US')} hosts`, 'USD', everyCost.puts, agentCost.puts),
        row(`GET cost per month, ${HOSTS.toLocaleString('en-US')} hosts`, 'USD', everyCost.gets, agentCost.gets),
        row(`request cost per month, ${HOSTS.toLocaleString('en-US')} hosts`, 'USD', everyCost.total, agentCost.total),
      ],
      notes: [
        `${prices.label}; a month is 30 days. Storage, transfer and the registry PUT at each daemon start are left out.`,
        `Schedule "${SCHEDULE}" (${pollsPerDay} polls a day), drift_check_every 30m, each apply assumed to finish ${APPLY_MS / 1000} s after its poll starts. ` +
          `The drift check counts from the last report's finish, a few seconds after its tick; a minute of slack (driftCheckSlackMs) lets the poll 30 min later apply anyway: ${applies} applies a day (${appliesInstant} if an apply took no time).`,
        'For an rsync source the GET rows are 0 (polls go to the manifest server over ssh); the PUT figures are the same.',
        `Without the plan pointer's GET (SPEC §10 asks for it on every poll, so that a plan is answered at the next poll) a host makes ${pollsPerDay + applies * PUTS_PER_APPLY} requests a day: issue #17's budget of 400 holds for the release pointer and the reports, and the plan pointer adds ${planGets} cheap GETs (${monthlyCost({ gets: planGets, puts: 0 }, HOSTS, prices).total.toFixed(1)} USD a month for ${HOSTS.toLocaleString('en-US')} hosts).`,
      ],
    };
  },
};
