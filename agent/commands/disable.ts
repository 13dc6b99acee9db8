import type { ParsedCommand } from '../cli.js';
import type { CommandIo } from './io.js';
import { configFor } from './config-for.js';
import { statePaths } from '../run/paths.js';
import { disabledState, writeDisabled, removeDisabled, readDisabled } from '../run/disabled.js';
import { parseDuration } from '../config/duration.js';
import { describeDisabled } from '../run/disabled.js';

/** `agent disable [REASON] [--for DUR]`: scheduled runs and run-now stop until `enable` or the expiry. */
export async function disableCommand(command: ParsedCommand, io: CommandIo): Promise<number> {
  const { config } = configFor(command.values, io.env);
  const paths = statePaths(config);
  const forMs = typeof command.values.for === 'string' ? (parseDuration(command.values.for) ?? null) : null;
  const state = disabledState({
    reason: command.positionals.join(' ') || 'no reason given',
    by: io.env.SUDO_USER || io.env.USER || 'unknown',
    now: new Date(),
    forMs,
  });
  await writeDisabled(paths.disabledFile, state);
  io.stdout.write(`agent: ${describeDisabled(state)}\n`);
  return 0;
}

/** `agent enable`: lift a disable. */
export async function enableCommand(command: ParsedCommand, io: CommandIo): Promise<number> {
  const { config } = configFor(command.values, io.env);
  const paths = statePaths(config);
  const was = await readDisabled(paths.disabledFile, new Date());
  await removeDisabled(paths.disabledFile);
  io.stdout.write(was ? `agent: runs enabled (were disabled by ${was.by}: ${was.reason})\n` : 'agent: runs were not disabled\n');
  return 0;
}
