/** Distinct EC2-style instance ids from a seeded generator (pure): the same seed, the same fleet. */
export function instanceIds(count: number, seed: number): string[] {
  const random = seededRandom(seed);
  const ids = new Set<string>();
  while (ids.size < count) {
    let hex = '';
    for (let i = 0; i < 17; i++) hex += Math.floor(random() * 16).toString(16);
    ids.add(`i-${hex}`);
  }
  return [...ids];
}

/** mulberry32: small, fast, good enough to draw ids and Puppet's random splay reproducibly. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
