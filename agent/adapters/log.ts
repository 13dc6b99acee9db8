import { writeSync } from 'node:fs';
import { pino, type Logger, type DestinationStream } from 'pino';

export type Log = Logger;

export interface LogOptions {
  level: string;
  /** 1 = stdout (journald), 2 = stderr (when stdout carries `--json` output). */
  fd?: 1 | 2;
  /** Human-readable lines instead of JSON (a TTY). */
  pretty?: boolean;
  /** Plain `agent: warning  message (key=value)` lines, the same shape as run-now's progress lines. */
  text?: boolean;
}

/** Keys whose values never reach a log line (SPEC §7: no secrets in logs). */
const REDACT_PATHS = ['*.secretAccessKey', '*.sessionToken', '*.password', '*.token', '*.private_key', 'credentials'];

export async function createLog(options: LogOptions): Promise<Log> {
  const fd = options.fd ?? 1;
  let destination: DestinationStream;
  if (options.text) {
    destination = { write: (line: string) => void writeSync(fd, textLine(line)) };
  } else if (options.pretty) {
    const { default: pretty } = await import('pino-pretty');
    destination = pretty({ destination: fd, colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' });
  } else {
    destination = pino.destination({ fd, sync: true });
  }
  return pino({ level: options.level, base: { pid: process.pid }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, destination);
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
  return pino({ level: 'silent' });
}
