/**
 * S3 requests per host per day at the default settings, and what a fleet pays for them (pure).
 * SPEC §1: a poll that skips Puppet writes nothing to S3; an apply (at least every drift_check_every)
 * writes its report twice (reports/dt=.../ and latest/). An S3 source adds one conditional GET of
 * current.json per poll (a 304 is still a billed GET).
 */
import { applyReason } from '../../agent/schedule/apply-policy.js';

export interface S3Prices {
  getPer1000: number;
  putPer1000: number;
  label: string;
}

/** S3 Standard, us-east-1: GET $0.0004 and PUT $0.005 per 1,000 (list prices as of 2025; not fetched by the bench). */
export const S3_STANDARD_US_EAST_1: S3Prices = {
  getPer1000: 0.0004,
  putPer1000: 0.005,
  label: 'S3 Standard us-east-1 list prices (2025): GET $0.0004, PUT $0.005 per 1,000 requests',
};

/** PUTs per apply: the report under reports/ and the same document under latest/ (SPEC §4). */
export const PUTS_PER_APPLY = 2;

/**
 * Applies in one steady-state day for a host polling at `polls` (ms, two days of them): the agent's
 * real applyReason decides each poll; an apply finishes `applyMs` after its poll started, and that
 * finish is what the next drift check counts from (status.json last_report_at).
 */
export function appliesInDay(polls: readonly number[], driftCheckEveryMs: number, applyMs: number): number {
  const dayStart = polls[0]! + 86_400_000;
  let lastApplyAt: Date | null = null;
  let applies = 0;
  for (const at of polls) {
    const reason = applyReason({ trigger: 'schedule', releaseChanged: false, sourceFailed: false, lastExitCode: 0, lastApplyAt, now: new Date(at), driftCheckEveryMs });
    if (reason === 'skip') continue;
    lastApplyAt = new Date(at + applyMs);
    if (at >= dayStart && at < dayStart + 86_400_000) applies += 1;
  }
  return applies;
}

export interface DailyRequests {
  gets: number;
  puts: number;
}

export function monthlyCost(perHostPerDay: DailyRequests, hosts: number, prices: S3Prices, days = 30): { gets: number; puts: number; total: number } {
  const gets = (perHostPerDay.gets * hosts * days * prices.getPer1000) / 1000;
  const puts = (perHostPerDay.puts * hosts * days * prices.putPer1000) / 1000;
  return { gets, puts, total: gets + puts };
}
