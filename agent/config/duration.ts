/** SPEC §3: a whole number with an optional unit; a bare number is seconds. */
const DURATION = /^(\d+)([smhd]?)$/;
const UNIT_MS = { '': 1000, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Milliseconds for `text`, or undefined when it is not a duration. */
export function parseDuration(text: string | number): number | undefined {
  const match = DURATION.exec(String(text).trim());
  if (!match) return undefined;
  const unit = (match[2] ?? '') as keyof typeof UNIT_MS;
  return Number(match[1]) * UNIT_MS[unit];
}

/** The shortest exact spelling of `ms` in the config's own units (for `config check` and messages). */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
