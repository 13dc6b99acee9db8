/**
 * Summaries of repeated measurements (pure). The machines are shared and noisy, so a figure is the
 * median of several repetitions with min and max beside it, and every comparison is a ratio against a
 * baseline measured in the same run, repetition by repetition.
 */
export interface Summary {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new Error('summarize: expected at least one sample, got none');
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, n: sorted.length };
}

/**
 * subject / baseline for paired repetitions: the median of the per-pair ratios (pairs share the
 * moment's noise), min and max of the same. A zero baseline gives Infinity, shown as such.
 */
export function pairedRatio(subject: readonly number[], baseline: readonly number[]): Summary {
  if (subject.length !== baseline.length) {
    throw new Error(`pairedRatio: expected as many subject as baseline samples, got ${subject.length} and ${baseline.length}`);
  }
  return summarize(subject.map((value, index) => divide(value, baseline[index]!)));
}

/** A single ratio of two single figures (computed, not measured: no spread). */
export function ratioOf(subject: number, baseline: number): Summary {
  return summarize([divide(subject, baseline)]);
}

export function single(value: number): Summary {
  return summarize([value]);
}

function divide(a: number, b: number): number {
  if (b === 0) return a === 0 ? 1 : Number.POSITIVE_INFINITY;
  return a / b;
}
