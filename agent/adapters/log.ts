import { writeSync } from 'node:fs';

type LogFn = {
  (fields: object, message?: string): void;
  (message: string): void;
};

/** What the agent logs through: pino's calling convention (fields first, message last). */
export interface Log {
  level: string;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  child(bindings: Record<string, unknown>): Log;
}

export interface LogOptions {
  level: string;
  /** 1 = stdout (journald), 2 = stderr (when stdout carries `--json` output). */
  fd?: 1 | 2;
  /** Human-readable lines instead of JSON (a TTY). */
  pretty?: boolean;
  /** The long-lived daemon: JSON lines written here, without pino (about 9 MB of an idle daemon's RSS). */
  light?: boolean;
  /** Plain `agent: warning  message (key=value)` lines, the same shape as run-now's progress lines. */
  text?: boolean;
}

/** Keys whose values never reach a log line (SPEC §7: no secrets in logs). */
const REDACT_PATHS = ['*.secretAccessKey', '*.sessionToken', '*.password', '*.token', '*.private_key', 'credentials'];

export async function createLog(options: LogOptions): Promise<Log> {
  const fd = options.fd ?? 1;
  if (options.text) return lineLog(options.level, fd, { pid: process.pid }, textLine);
  if (options.light && !options.pretty) return lineLog(options.level, fd);
  const { default: pino } = await import('pino'); // `default`: the bundle (esbuild) gives a CommonJS module no named exports
  if (options.pretty) {
    const { default: pretty } = await import('pino-pretty');
    const destination = pretty({ destination: fd, colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' });
    const log: Log = pino({ level: options.level, base: { pid: process.pid }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, destination);
    return log;
  }
  const log: Log = pino({ level: options.level, base: { pid: process.pid }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, pino.destination({ fd, sync: true }));
  return log;
}

const LEVEL_WORDS: Array<[number, string]> = [[50, 'error'], [40, 'warning'], [30, 'info'], [20, 'debug'], [0, 'trace']];

/** One pino JSON line as one line of text: level word, message, then the fields (pino's level numbers). */
export function textLine(json: string): string {
  const { level, msg, time: _time, pid: _pid, hostname: _hostname, ...fields } = JSON.parse(json) as Record<string, unknown>;
  const word = LEVEL_WORDS.find(([floor]) => Number(level) >= floor)?.[1] ?? 'log';
  const extra = Object.entries(fields)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(', ');
  return `agent: ${word.padEnd(8)} ${String(msg ?? '')}${extra ? ` (${extra})` : ''}\n`;
}

/** A logger that writes nothing: for unit tests and for commands that print their own output. */
export function silentLog(): Log {
  const nothing = () => undefined;
  const log: Log = { level: 'silent', debug: nothing, info: nothing, warn: nothing, error: nothing, child: () => log };
  return log;
}

const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

/**
 * pino's JSON lines (`{"level":30,"time":…,"pid":…,…fields,"msg":…}`, same redaction), written
 * synchronously like pino.destination({ sync: true }), from a few dozen lines of code.
 */
export function lineLog(level: string, fd: number, bindings: Record<string, unknown> = { pid: process.pid }, format: (json: string) => string = (json) => `${json}\n`): Log {
  const threshold = LEVELS[level] ?? LEVELS.info!;
  const at = (value: number): LogFn =>
    ((fields: object | string, message?: string) => {
      if (value < threshold) return;
      const own = typeof fields === 'string' ? {} : fields;
      const msg = typeof fields === 'string' ? fields : message;
      const line = { level: value, time: Date.now(), ...bindings, ...redacted(own), ...(msg === undefined ? {} : { msg }) };
      writeLine(fd, format(JSON.stringify(line, errorsAsObjects)));
    }) as LogFn;
  return {
    level,
    debug: at(LEVELS.debug!),
    info: at(LEVELS.info!),
    warn: at(LEVELS.warn!),
    error: at(LEVELS.error!),
    child: (more) => lineLog(level, fd, { ...bindings, ...redacted(more) }, format),
  };
}

const PAUSE = new Int32Array(new SharedArrayBuffer(4));

/**
 * Write a whole line to a descriptor that may be a non-blocking pipe or socket (the journal): on
 * EAGAIN wait 10 ms and go on, as pino's sonic-boom does, for up to 10 s; a log line is never worth
 * crashing the daemon, so one that cannot be written is dropped.
 */
function writeLine(fd: number, text: string): void {
  let rest = Buffer.from(text);
  for (let waited = 0; rest.length > 0; ) {
    try {
      rest = rest.subarray(writeSync(fd, rest));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN' || waited >= 10_000) return;
      Atomics.wait(PAUSE, 0, 0, 10);
      waited += 10;
    }
  }
}

const REDACTED_CHILDREN = new Set(REDACT_PATHS.filter((path) => path.startsWith('*.')).map((path) => path.slice(2)));
const REDACTED_TOP = new Set(REDACT_PATHS.filter((path) => !path.includes('.')));

function redacted(fields: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (REDACTED_TOP.has(key)) out[key] = '[redacted]';
    else if (value && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Error)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([child, inner]) => [child, REDACTED_CHILDREN.has(child) ? '[redacted]' : inner]));
    } else out[key] = value;
  }
  return out;
}

/** pino's err serializer, roughly: an Error as { type, message, stack }. */
function errorsAsObjects(_key: string, value: unknown): unknown {
  return value instanceof Error ? { type: value.name, message: value.message, stack: value.stack } : value;
}
