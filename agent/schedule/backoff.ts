/**
 * Retry delay after `failures` consecutive failed runs: exponential, capped, then full jitter
 * (uniform in [0, capped]). Jitter after the cap matters: jitter applied before it makes every host
 * that hit the cap retry at the same instant, a synchronized stampede on a source that just came back.
 */
export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
}

export function backoffDelayMs(failures: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  if (failures <= 0) return 0;
  const exponential = policy.baseMs * 2 ** Math.min(failures - 1, 30);
  return Math.floor(random() * Math.min(policy.capMs, exponential));
}
