/**
 * Next firing times of a cron expression in local time, for the daemon: node-cron (which the config
 * schema still uses to validate) costs the idle daemon about 14 MB of its 60 (it formats every date
 * through Intl with time zones, which pulls ICU's data into memory). This covers what a schedule
 * needs: 5 or 6 fields (seconds first), `*`, `?`, numbers, ranges, steps, lists, month and weekday
 * names, 7 for Sunday; day of month AND day of week must both match, as in node-cron. Anything else
 * (nicknames, L, W, #) returns null from parseCron, and the daemon falls back to node-cron itself.
 * tests/unit/cron-times.test.ts checks every answer against node-cron's.
 */

export interface CronFields {
  seconds: readonly number[];
  minutes: readonly number[];
  hours: readonly number[];
  days: ReadonlySet<number>;
  months: ReadonlySet<number>;
  weekdays: ReadonlySet<number>;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** The expression's fields, or null when it uses syntax this parser leaves to node-cron. */
export function parseCron(expression: string): CronFields | null {
  const parts = expression.trim().split(/\s+/);
  if (parts.length === 5) parts.unshift('0');
  if (parts.length !== 6) return null;
  const [second, minute, hour, day, month, weekday] = parts as [string, string, string, string, string, string];
  const seconds = field(second, 0, 59);
  const minutes = field(minute, 0, 59);
  const hours = field(hour, 0, 23);
  const days = field(day === '?' ? '*' : day, 1, 31);
  const months = field(names(month, MONTHS, 1), 1, 12);
  const weekdays = field(names(weekday === '?' ? '*' : weekday, WEEKDAYS, 0), 0, 7);
  if (!seconds || !minutes || !hours || !days || !months || !weekdays) return null;
  return {
    seconds,
    minutes,
    hours,
    days: new Set(days),
    months: new Set(months),
    weekdays: new Set(weekdays.map((value) => value % 7)),
  };
}

/** Month or weekday names (three letters or whole words) to numbers. */
function names(text: string, list: readonly string[], first: number): string {
  return text.toLowerCase().replace(/[a-z]+/g, (word) => {
    const index = list.findIndex((name) => word.startsWith(name));
    return index === -1 ? word : String(index + first);
  });
}

/** One field's allowed values, ascending; null for syntax left to node-cron or out of range. */
function field(text: string, min: number, max: number): number[] | null {
  const values = new Set<number>();
  for (const item of text.split(',')) {
    const match = /^(\*|\d+)(?:-(\d+))?(?:\/(\d+))?$/.exec(item);
    if (!match) return null;
    const [, start, end, step] = match;
    const from = start === '*' ? min : Number(start);
    const to = start === '*' ? max : end !== undefined ? Number(end) : from;
    const by = step === undefined ? 1 : Number(step);
    if ((start === '*' && end !== undefined) || (start !== '*' && end === undefined && step !== undefined)) return null; // `*-5`, `10/15`: node-cron refuses them too
    if (by < 1 || from < min || to > max || from > to) return null;
    for (let value = from; value <= to; value += by) values.add(value);
  }
  return [...values].sort((a, b) => a - b);
}

/** How far ahead to look: a schedule that never fires (Feb 30) gives up after this many days. */
const MAX_DAYS = 366 * 8;

/** The first firing strictly after `after` (to the second), or null when there is none in 8 years. */
export function nextCronTime(fields: CronFields, after: Date): Date | null {
  const base = Math.floor(after.getTime() / 1000) * 1000;
  const start = new Date(base);
  for (let offset = 0; offset < MAX_DAYS; offset++) {
    const day = new Date(start.getFullYear(), start.getMonth(), start.getDate() + offset);
    if (!fields.months.has(day.getMonth() + 1) || !fields.days.has(day.getDate()) || !fields.weekdays.has(day.getDay())) continue;
    for (const hour of fields.hours) {
      for (const minute of fields.minutes) {
        for (const second of fields.seconds) {
          const at = new Date(day.getFullYear(), day.getMonth(), day.getDate(), hour, minute, second);
          // a local time a DST jump skips does not exist: the Date moved, so it is no firing
          if (at.getTime() <= base || at.getHours() !== hour || at.getMinutes() !== minute || at.getDate() !== day.getDate()) continue;
          return at;
        }
      }
    }
  }
  return null;
}

/** Shortest gap between consecutive firings over the next `sample` (config/semantics pollIntervalMs, without node-cron). */
export function cronIntervalMs(fields: CronFields, from: Date, sample = 50): number {
  let shortest = Number.POSITIVE_INFINITY;
  let previous = nextCronTime(fields, from);
  for (let i = 1; previous && i < sample; i++) {
    const next = nextCronTime(fields, previous);
    if (!next) break;
    shortest = Math.min(shortest, next.getTime() - previous.getTime());
    previous = next;
  }
  return shortest;
}
