import type { Config } from '../config/schema.js';
import { createLog, type Log } from '../adapters/log.js';

/** What a command may touch of its process: streams and environment, passed in so tests can run commands. */
export interface CommandIo {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
}

/** Set by the daemon in its children's environment: their logs go to the journal with the daemon's. */
export const LOG_FORMAT_ENV = 'AGENT_LOG_FORMAT';

/**
 * The logger for a command. JSON lines on stdout are for the journal only: the daemon (`service`) and
 * the children it starts (AGENT_LOG_FORMAT=json), pretty when the daemon runs on a terminal. Anything
 * an operator starts (run-now over ssh, register by hand) gets plain text lines on stderr, whether
 * stderr is a terminal or a pipe, at `warn` unless the config asks for more: the operator is reading
 * the progress lines, and stdout keeps only the command's own output (`--json`).
 */
export async function commandLog(io: CommandIo, config: Pick<Config, 'log'>, options: { toStderr?: boolean; service?: boolean } = {}): Promise<Log> {
  const journal = options.service === true || io.env[LOG_FORMAT_ENV] === 'json';
  if (journal) {
    const stream = options.toStderr ? io.stderr : io.stdout;
    // the long-lived daemon carries no pino (light): its RSS is what an idle host pays
    return createLog({ level: config.log.level, fd: options.toStderr ? 2 : 1, pretty: Boolean(stream.isTTY) && options.service === true, light: options.service === true });
  }
  const level = config.log.level === 'info' ? 'warn' : config.log.level;
  return createLog({ level, fd: 2, text: true });
}
