import { pino, type Logger, type DestinationStream } from 'pino';

export type Log = Logger;

export interface LogOptions {
  level: string;
  /** 1 = stdout (journald), 2 = stderr (when stdout carries `--json` output). */
  fd?: 1 | 2;
  /** Human-readable lines instead of JSON (a TTY). */
  pretty?: boolean;
}

/** Keys whose values never reach a log line (SPEC §7: no secrets in logs). */
const REDACT_PATHS = ['*.secretAccessKey', '*.sessionToken', '*.password', '*.token', '*.private_key', 'credentials'];

export async function createLog(options: LogOptions): Promise<Log> {
  const fd = options.fd ?? 1;
  let destination: DestinationStream;
  if (options.pretty) {
    const { default: pretty } = await import('pino-pretty');
    destination = pretty({ destination: fd, colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' });
  } else {
    destination = pino.destination({ fd, sync: true });
  }
  return pino({ level: options.level, base: { pid: process.pid }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, destination);
}

/** A logger that writes nothing: for unit tests and for commands that print their own output. */
export function silentLog(): Log {
  return pino({ level: 'silent' });
}
