/** Requests counted in fixed buckets over a window, and how uneven they are (pure). */
export interface Load {
  buckets: number[];
  bucketMs: number;
  total: number;
  peak: number;
  mean: number;
  /** peak / mean: 1 is perfectly flat; everyone at one instant gives the number of buckets. */
  peakToMean: number;
}

export function bucketLoad(arrivals: readonly number[], from: number, until: number, bucketMs: number): Load {
  const buckets = new Array<number>(Math.ceil((until - from) / bucketMs)).fill(0);
  let total = 0;
  for (const at of arrivals) {
    if (at < from || at >= until) continue;
    buckets[Math.floor((at - from) / bucketMs)]! += 1;
    total += 1;
  }
  const peak = Math.max(...buckets);
  const mean = total / buckets.length;
  return { buckets, bucketMs, total, peak, mean, peakToMean: mean === 0 ? 0 : peak / mean };
}
