import type { Summary } from './stats.js';

/**
 * What a scenario hands back: rows of figures, each an agent figure against a baseline from the same
 * run, and notes that say what was measured and how. Rendering (Markdown, stdout) is results-md.ts's job.
 */
export interface Target {
  /** The figure the target applies to: the ratio column, or the agent's own value. */
  on: 'ratio' | 'subject';
  max: number;
  /** Where the target comes from, e.g. "issue #8". */
  source: string;
}

export interface Row {
  metric: string;
  unit: string;
  baseline?: Summary;
  subject: Summary;
  /** subject / baseline, paired by repetition when both were measured. */
  ratio?: Summary;
  target?: Target;
}

export interface ScenarioResult {
  /** What the baseline column is, in a few words. */
  baseline: string;
  /** What the agent column is. */
  subject: string;
  rows: Row[];
  notes: string[];
  /** Column headings when "baseline" and "agent" would mislead. */
  columns?: { baseline: string; subject: string };
}

export interface BenchOptions {
  quick: boolean;
  /** Repetitions for the timed scenarios. */
  repetitions: number;
  /** Minutes the idle-memory scenario leaves the daemon idle before its last sample. */
  idleMinutes: number;
  /** Where scenarios print progress (stderr): a long run should say what it is doing. */
  log(message: string): void;
}

export interface Scenario {
  /** Short name for --only. */
  name: string;
  /** Heading in RESULTS.md, with the item number. */
  title: string;
  /**
   * Measures memory over a long wait, not time: run after every timed scenario, so that the timed
   * figures come from the start of the run and whatever else the machine does later cannot touch them.
   */
  runsLast?: boolean;
  run(options: BenchOptions): Promise<ScenarioResult>;
}

/** The order scenarios run in: as listed, the ones that run last at the end (results keep the listed order). */
export function runOrder<T extends Pick<Scenario, 'runsLast'>>(scenarios: readonly T[]): T[] {
  return [...scenarios.filter((scenario) => !scenario.runsLast), ...scenarios.filter((scenario) => scenario.runsLast)];
}

/** Whether a row meets its target; undefined when it has none. */
export function meetsTarget(row: Row): boolean | undefined {
  if (!row.target) return undefined;
  const figure = row.target.on === 'ratio' ? row.ratio : row.subject;
  return figure ? figure.median <= row.target.max : undefined;
}
