import type { Exec } from './adapters/exec.js';
import type { Log } from './adapters/log.js';

/** The side effects a stage may use, built in one place (commands) and passed down explicitly. */
export interface Deps {
  exec: Exec;
  log: Log;
  now: () => Date;
}
