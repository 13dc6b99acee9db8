/** `node dist/bench/main.js [--quick] [--only NAME[,NAME]] [--repetitions N]` (pure). */
import { parseArgs } from 'node:util';

export interface BenchArgs {
  quick: boolean;
  only: string[];
  repetitions?: number;
}

export function parseBenchArgs(argv: string[]): BenchArgs {
  const { values } = parseArgs({
    args: argv,
    options: { quick: { type: 'boolean' }, only: { type: 'string', multiple: true }, repetitions: { type: 'string' } },
    strict: true,
  });
  const repetitions = values.repetitions === undefined ? undefined : Number(values.repetitions);
  if (repetitions !== undefined && !(Number.isInteger(repetitions) && repetitions > 0)) {
    throw new Error(`--repetitions: expected a whole number above 0, got "${values.repetitions}"`);
  }
  return { quick: values.quick === true, only: (values.only ?? []).flatMap((name) => name.split(',')).filter(Boolean), repetitions };
}
