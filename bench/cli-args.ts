/** `node dist/bench/main.js [--quick] [--only NAME[,NAME]] [--repetitions N] [--idle-minutes M]` (pure). */
import { parseArgs } from 'node:util';

export interface BenchArgs {
  quick: boolean;
  only: string[];
  repetitions?: number;
  /** How long idle-memory leaves the daemon idle before its last sample (default: 60, --quick: 0.1). */
  idleMinutes?: number;
}

export function parseBenchArgs(argv: string[]): BenchArgs {
  const { values } = parseArgs({
    args: argv,
    options: { quick: { type: 'boolean' }, only: { type: 'string', multiple: true }, repetitions: { type: 'string' }, 'idle-minutes': { type: 'string' } },
    strict: true,
  });
  const repetitions = values.repetitions === undefined ? undefined : Number(values.repetitions);
  if (repetitions !== undefined && !(Number.isInteger(repetitions) && repetitions > 0)) {
    throw new Error(`--repetitions: expected a whole number above 0, got "${values.repetitions}"`);
  }
  const idleMinutes = values['idle-minutes'] === undefined ? undefined : Number(values['idle-minutes']);
  if (idleMinutes !== undefined && !(Number.isFinite(idleMinutes) && idleMinutes >= 0)) {
    throw new Error(`--idle-minutes: expected a number of minutes, 0 or more, got "${values['idle-minutes']}"`);
  }
  return { idleMinutes, quick: values.quick === true, only: (values.only ?? []).flatMap((name) => name.split(',')).filter(Boolean), repetitions };
}
