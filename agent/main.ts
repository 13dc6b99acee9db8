#!/usr/bin/env node
import './adapters/sdk-quiet.js';
import { parseCommandLine, type ParsedCommand, type CommandName } from './cli.js';
import { isAgentError, describeError } from './errors.js';
import { buildInfo } from './version.js';
import type { CommandIo } from './commands/io.js';

/** EX_USAGE (sysexits.h): never to be mistaken for run-now's 2 (SPEC §2). */
const EXIT_USAGE = 64;

type Handler = (command: ParsedCommand, io: CommandIo) => Promise<number>;

/** Commands load lazily: `agent status` must not pay for the S3 SDK or Puppet's report parser. */
const HANDLERS: Record<CommandName, () => Promise<Handler>> = {
  'run-now': async () => (await import('./commands/run-now.js')).runNowCommand,
  status: async () => (await import('./commands/status.js')).statusCommand,
  daemon: async () => (await import('./commands/daemon.js')).daemonCommand,
  disable: async () => (await import('./commands/disable.js')).disableCommand,
  enable: async () => (await import('./commands/disable.js')).enableCommand,
  fleet: async () => (await import('./commands/fleet.js')).fleetCommand,
  register: async () => (await import('./commands/register.js')).registerCommand,
  deregister: async () => (await import('./commands/register.js')).deregisterCommand,
  keygen: async () => (await import('./commands/keygen.js')).keygenCommand,
  publish: async () => (await import('./commands/publish.js')).publishCommand,
  rollout: async () => (await import('./commands/rollout.js')).rolloutCommand,
  plan: async () => (await import('./commands/plan.js')).planCommand,
  config: async () => (await import('./commands/config-check.js')).configCheckCommand,
};

/** argv → command → exit code. */
export async function main(argv: readonly string[], io: CommandIo): Promise<number> {
  try {
    const command = parseCommandLine(argv);
    if (command.name === 'help') {
      io.stdout.write(`${command.text}\n`);
      return 0;
    }
    if (command.name === 'version') {
      const { version, commit } = buildInfo();
      io.stdout.write(`agent ${version} (commit ${commit})\n`);
      return 0;
    }
    const handler = await HANDLERS[command.name]();
    return await handler(command, io);
  } catch (error) {
    if (isAgentError(error, 'usage')) {
      io.stderr.write(`agent: ${error.message}\n`);
      return EXIT_USAGE;
    }
    if (isAgentError(error, 'no_config')) {
      io.stderr.write(`agent: ${error.message}\n`);
      return 1;
    }
    if (isAgentError(error, 'config')) {
      io.stderr.write(`agent: invalid configuration:\n${error.message.replace(/^/gm, '  ')}\n`);
      return 1;
    }
    io.stderr.write(`agent: ${describeError(error)}\n`);
    return 1;
  }
}

const io: CommandIo = { stdout: process.stdout, stderr: process.stderr, env: process.env };
process.exitCode = await main(process.argv.slice(2), io);
