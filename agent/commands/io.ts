import type { Config } from '../config/schema.js';
import { createLog, type Log } from '../adapters/log.js';

/** What a command may touch of its process: streams and environment, passed in so tests can run commands. */
export interface CommandIo {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
}

/**
 * The logger for a command: JSON lines for the journal, pretty on a TTY. `toStderr` when stdout carries
 * the command's own output (`--json`). On a terminal the operator reads progress lines, so only warnings show.
 */
export async function commandLog(io: CommandIo, config: Pick<Config, 'log'>, options: { toStderr?: boolean; light?: boolean } = {}): Promise<Log> {
  const stream = options.toStderr ? io.stderr : io.stdout;
  const interactive = Boolean(stream.isTTY);
  const level = interactive && config.log.level === 'info' ? 'warn' : config.log.level;
  return createLog({ level, fd: options.toStderr ? 2 : 1, pretty: interactive, light: options.light });
}
