/**
 * `npm run bench [-- --quick] [-- --only NAME]`: runs the scenarios one after the other (never two at
 * once: they would measure each other), prints each table as it finishes, and writes the results.
 * A full run writes bench/RESULTS.md (committed); --quick, which CI runs only to prove the harness
 * works, writes bench/RESULTS.quick.md so it can never overwrite the committed figures.
 * Exit code: 0 when every scenario ran (a missed target is a finding, not a failure), 1 otherwise.
 */
import '../agent/adapters/sdk-quiet.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBenchArgs } from './cli-args.js';
import { describeMachine } from './machine.js';
import { renderResults, renderScenario, SMOKE, type ScenarioOutcome } from './results-md.js';
import { SCENARIOS } from './scenarios/index.js';
import { BENCH_DIR } from './lib/paths.js';
import { runOrder, type BenchOptions } from './scenario.js';

const FULL_REPETITIONS = 5;
const QUICK_REPETITIONS = 1;

async function main(argv: string[]): Promise<number> {
  const args = parseBenchArgs(argv);
  const unknown = args.only.filter((name) => !SCENARIOS.some((scenario) => scenario.name === name));
  if (unknown.length > 0) {
    process.stderr.write(`bench: unknown scenario ${unknown.join(', ')}; expected one of ${SCENARIOS.map((scenario) => scenario.name).join(', ')}\n`);
    return 64;
  }
  const selected = args.only.length > 0 ? SCENARIOS.filter((scenario) => args.only.includes(scenario.name)) : SCENARIOS;
  const options: BenchOptions = {
    quick: args.quick,
    repetitions: args.repetitions ?? (args.quick ? QUICK_REPETITIONS : FULL_REPETITIONS),
    idleMinutes: args.idleMinutes ?? (args.quick ? 0.1 : 60),
    log: (message) => process.stderr.write(`${message}\n`),
  };
  const started = performance.now();
  const outcomes = new Map<string, ScenarioOutcome>();
  for (const scenario of runOrder(selected)) {
    options.log(`bench: ${scenario.title}${args.quick ? ' (quick)' : ''}`);
    const scenarioStarted = performance.now();
    let outcome: ScenarioOutcome;
    try {
      const result = await scenario.run(options);
      outcome = { title: scenario.title, result, seconds: (performance.now() - scenarioStarted) / 1000 };
    } catch (error) {
      outcome = { title: scenario.title, error: error instanceof Error ? error.message : String(error), seconds: (performance.now() - scenarioStarted) / 1000 };
    }
    outcomes.set(scenario.name, outcome);
    process.stdout.write(`${renderScenario(outcome, args.quick).join('\n')}\n\n`);
  }
  const listed = selected.map((scenario) => outcomes.get(scenario.name)!);
  const document = renderResults({ quick: args.quick, repetitions: options.repetitions, machine: describeMachine(), outcomes: listed, totalSeconds: (performance.now() - started) / 1000 });
  // a partial run (--only) must not replace the committed full results either
  const file = join(BENCH_DIR, args.quick || args.only.length > 0 ? 'RESULTS.quick.md' : 'RESULTS.md');
  writeFileSync(file, document);
  options.log(`bench: wrote ${file} in ${((performance.now() - started) / 1000).toFixed(0)} s${args.quick ? ` (${SMOKE}: targets are judged by a full \`npm run bench\` only)` : ''}`);
  return listed.every((outcome) => outcome.result) ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
