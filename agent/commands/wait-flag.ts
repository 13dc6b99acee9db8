import type { ParsedCommand } from '../cli.js';
import { parseDuration } from '../config/duration.js';

/** How long `run-now` (and `run-now --plan`) waits for another run's lock when --wait is not given. */
export const DEFAULT_LOCK_WAIT = '10m';

/** --wait DUR / --no-wait, in milliseconds (0: do not wait). */
export function lockWaitMs(values: ParsedCommand['values']): number {
  return values['no-wait'] ? 0 : (parseDuration(String(values.wait ?? DEFAULT_LOCK_WAIT)) ?? 0);
}
