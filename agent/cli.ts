import { parseArgs, type ParseArgsConfig } from 'node:util';
import { AgentError } from './errors.js';
import { parseDuration } from './config/duration.js';
import { parseMaxFailed, stepsProblem } from './rollout/document.js';

/** argv → a command and its options. Pure: no file, no environment, no exit. */
type OptionSpec = NonNullable<ParseArgsConfig['options']>;

interface CommandSpec {
  summary: string;
  usage: string;
  options: OptionSpec;
  /** How many positional arguments the command takes: [min, max]. */
  positionals: [number, number];
}

const common: OptionSpec = {
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

export const COMMANDS = {
  'run-now': {
    summary: 'one run now, in this process, with progress on stderr',
    usage:
      'agent run-now [--noop] [--no-sync] [--wait DUR | --no-wait] [--force] [--allow-downgrade] [--json] [--config PATH]',
    options: {
      noop: { type: 'boolean' },
      'no-sync': { type: 'boolean' },
      wait: { type: 'string' },
      'no-wait': { type: 'boolean' },
      force: { type: 'boolean' },
      'allow-downgrade': { type: 'boolean' },
      json: { type: 'boolean' },
      trigger: { type: 'string' },
    },
    positionals: [0, 0],
  },
  daemon: {
    summary: 'the service systemd runs: registers, runs at boot and on schedule + splay',
    usage: 'agent daemon [--config PATH]',
    options: {},
    positionals: [0, 0],
  },
  disable: {
    summary: 'stop runs (with a reason, optionally --for a while) until `agent enable`',
    usage: 'agent disable [REASON...] [--for DUR] [--config PATH]',
    options: { for: { type: 'string' } },
    positionals: [0, 100],
  },
  enable: {
    summary: 'lift `agent disable`',
    usage: 'agent enable [--config PATH]',
    options: {},
    positionals: [0, 0],
  },
  register: {
    summary: 'write this host to registry/ in S3 (the daemon does this at start)',
    usage: 'agent register [--config PATH]',
    options: {},
    positionals: [0, 0],
  },
  deregister: {
    summary: 'remove this host from registry/ (the daemon does this on a clean stop)',
    usage: 'agent deregister [--config PATH]',
    options: {},
    positionals: [0, 0],
  },
  fleet: {
    summary: 'fleet status | hosts | targets | run-now | prune: the fleet as S3 tells it',
    usage:
      'agent fleet status [--json] [--stale DUR] [--role R] [--result R]\n' +
      '       agent fleet hosts [--role R] [--result R] [--ip private|public]\n' +
      '       agent fleet targets [--port N] [--role R]\n' +
      '       agent fleet run-now [--role R] [--result R] [--parallel N] [--max-failures K] [--noop] [--ssh-user U] [--ssh-key K] [--ssh-port N]\n' +
      '       agent fleet prune [--older-than DUR] [--dry-run]\n' +
      '  each with [--config PATH] [--bucket B] [--prefix P] [--endpoint URL] [--path-style] [--region R]',
    options: {
      json: { type: 'boolean' },
      stale: { type: 'string' },
      role: { type: 'string' },
      result: { type: 'string' },
      ip: { type: 'string' },
      port: { type: 'string' },
      parallel: { type: 'string' },
      'max-failures': { type: 'string' },
      noop: { type: 'boolean' },
      'ssh-user': { type: 'string' },
      'ssh-key': { type: 'string' },
      'ssh-port': { type: 'string' },
      'older-than': { type: 'string' },
      'dry-run': { type: 'boolean' },
      bucket: { type: 'string' },
      prefix: { type: 'string' },
      endpoint: { type: 'string' },
      'path-style': { type: 'boolean' },
      region: { type: 'string' },
    },
    positionals: [1, 1],
  },
  keygen: {
    summary: 'write an Ed25519 key pair PREFIX.key (0600) and PREFIX.pub for signing releases',
    usage: 'agent keygen --out PREFIX',
    options: { out: { type: 'string' } },
    positionals: [0, 0],
  },
  publish: {
    summary: 'sign DIR as a release: into DIR/.release/ (rsync source) or uploaded --to s3://BUCKET/PREFIX',
    usage: 'agent publish DIR --key FILE [--to s3://BUCKET/PREFIX] [--endpoint URL] [--path-style] [--region R] [--config PATH]',
    options: {
      key: { type: 'string' },
      to: { type: 'string' },
      endpoint: { type: 'string' },
      'path-style': { type: 'boolean' },
      region: { type: 'string' },
    },
    positionals: [1, 1],
  },
  rollout: {
    summary: 'rollout start | status | advance | pause | resume | abort | tick: a release in waves (S3 source)',
    usage:
      'agent rollout start DIR|RELEASE_ID --key K [--to s3://BUCKET/PREFIX] [--steps 1,10,50,100] [--bake 10m] [--max-failed N|P%] [--canary-role R] [--on-failure abort|pause]\n' +
      '       agent rollout status [--json] [--watch]\n' +
      '       agent rollout advance|pause|resume|abort|tick --key K\n' +
      '  each with [--config PATH] [--to s3://BUCKET/PREFIX] [--bucket REPORT_BUCKET] [--endpoint URL] [--path-style] [--region R]',
    options: {
      key: { type: 'string' },
      to: { type: 'string' },
      steps: { type: 'string' },
      bake: { type: 'string' },
      'max-failed': { type: 'string' },
      'canary-role': { type: 'string' },
      'on-failure': { type: 'string' },
      json: { type: 'boolean' },
      watch: { type: 'boolean' },
      bucket: { type: 'string' },
      endpoint: { type: 'string' },
      'path-style': { type: 'boolean' },
      region: { type: 'string' },
    },
    positionals: [1, 2],
  },
  status: {
    summary: 'the last run, the next one, the lock holder, the spool',
    usage: 'agent status [--json] [--config PATH]',
    options: { json: { type: 'boolean' } },
    positionals: [0, 0],
  },
  config: {
    summary: 'config check: validate the config file and print it resolved (secrets masked)',
    usage: 'agent config check [--json] [--config PATH]',
    options: { json: { type: 'boolean' } },
    positionals: [1, 1],
  },
} satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof COMMANDS;

export interface ParsedCommand {
  name: CommandName;
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

export type CommandLine = ParsedCommand | { name: 'help'; text: string } | { name: 'version' };

export const FLEET_SUBCOMMANDS = ['status', 'hosts', 'targets', 'run-now', 'prune'];

export const ROLLOUT_SUBCOMMANDS = ['start', 'status', 'advance', 'pause', 'resume', 'abort', 'tick'];

export const TRIGGERS = ['schedule', 'boot', 'run-now', 'fleet', 'signal'] as const;

export function parseCommandLine(argv: readonly string[]): CommandLine {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') return { name: 'help', text: overview() };
  if (name === '--version' || name === 'version') return { name: 'version' };
  if (!(name in COMMANDS)) throw new AgentError('usage', `unknown command "${name}"\n\n${overview()}`);
  const spec: CommandSpec = COMMANDS[name as CommandName];
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...rest], options: { ...common, ...spec.options }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new AgentError('usage', `${(error as Error).message}\nusage: ${spec.usage}`);
  }
  if (parsed.values.help) return { name: 'help', text: `usage: ${spec.usage}\n  ${spec.summary}` };
  const [min, max] = spec.positionals;
  if (parsed.positionals.length < min || parsed.positionals.length > max) {
    throw new AgentError('usage', `wrong number of arguments\nusage: ${spec.usage}`);
  }
  const command: ParsedCommand = { name: name as CommandName, values: parsed.values as ParsedCommand['values'], positionals: parsed.positionals };
  checkCommand(command, spec);
  return command;
}

/** Option rules parseArgs cannot express. */
function checkCommand(command: ParsedCommand, spec: CommandSpec): void {
  const { values } = command;
  const fail = (message: string): never => {
    throw new AgentError('usage', `${message}\nusage: ${spec.usage}`);
  };
  if (command.name === 'keygen' && typeof values.out !== 'string') fail('--out PREFIX is required');
  if (command.name === 'publish' && typeof values.key !== 'string') fail('--key FILE is required: the private key from `agent keygen`');
  if (command.name === 'rollout') checkRollout(command, fail);
  // a rollout --to that is not s3:// is an rsync source: refused by the command with exit 1 (SPEC §9)
  if (command.name !== 'rollout' && typeof values.to === 'string' && !/^s3:\/\/[^/]+/.test(values.to)) fail(`--to: expected s3://BUCKET/PREFIX, got "${values.to}"`);
  if (command.name === 'config' && command.positionals[0] !== 'check') fail(`unknown config subcommand "${command.positionals[0]}"`);
  if (command.name === 'fleet' && !FLEET_SUBCOMMANDS.includes(command.positionals[0] ?? '')) fail(`unknown fleet subcommand "${command.positionals[0]}"`);
  for (const key of ['stale', 'older-than'] as const) {
    if (typeof values[key] === 'string' && parseDuration(values[key]) === undefined) fail(`--${key}: expected a duration like 30m or 1d, got "${values[key]}"`);
  }
  for (const key of ['port', 'parallel', 'max-failures', 'ssh-port'] as const) {
    if (typeof values[key] === 'string' && !/^[1-9]\d*$/.test(values[key])) fail(`--${key}: expected a positive whole number, got "${values[key]}"`);
  }
  if (typeof values.ip === 'string' && values.ip !== 'private' && values.ip !== 'public') fail(`--ip: expected private or public, got "${values.ip}"`);
  if (typeof values.for === 'string' && parseDuration(values.for) === undefined) {
    fail(`--for: expected a duration like 30m or 2h, got "${values.for}"`);
  }
  if (typeof values.wait === 'string' && parseDuration(values.wait) === undefined) {
    fail(`--wait: expected a duration like 30s or 10m, got "${values.wait}"`);
  }
  if (values.wait !== undefined && values['no-wait']) fail('--wait and --no-wait exclude each other');
  if (typeof values.trigger === 'string' && !(TRIGGERS as readonly string[]).includes(values.trigger)) {
    fail(`--trigger: expected one of ${TRIGGERS.join(', ')}, got "${values.trigger}"`);
  }
}

function checkRollout(command: ParsedCommand, fail: (message: string) => never): void {
  const { values, positionals } = command;
  const sub = positionals[0] ?? '';
  if (!ROLLOUT_SUBCOMMANDS.includes(sub)) fail(`unknown rollout subcommand "${sub}"`);
  if (sub === 'start' && positionals.length !== 2) fail('rollout start needs DIR or RELEASE_ID');
  if (sub !== 'start' && positionals.length !== 1) fail(`rollout ${sub} takes no argument`);
  if (sub !== 'status' && typeof values.key !== 'string') fail(`--key FILE is required for rollout ${sub}: the publisher's private key`);
  if (typeof values.steps === 'string') {
    const steps = values.steps.split(',').map((part) => (/^\s*\d+(\.\d+)?\s*$/.test(part) ? Number(part) : Number.NaN));
    const problem = steps.some(Number.isNaN) ? `expected percents like 1,10,50,100, got "${values.steps}"` : stepsProblem(steps);
    if (problem) fail(`--steps: ${problem}`);
  }
  if (typeof values.bake === 'string' && parseDuration(values.bake) === undefined) fail(`--bake: expected a duration like 30s, 10m or 1h, got "${values.bake}"`);
  if (typeof values['max-failed'] === 'string' && !parseMaxFailed(values['max-failed'])) {
    fail(`--max-failed: expected a number of hosts (2) or a percent of the exposed hosts up to 100% (5%), got "${values['max-failed']}"`);
  }
  const onFailure = values['on-failure'];
  if (typeof onFailure === 'string' && onFailure !== 'abort' && onFailure !== 'pause') fail(`--on-failure: expected abort or pause, got "${onFailure}"`);
}

export function overview(): string {
  const rows = Object.entries(COMMANDS).map(([name, spec]) => `  ${name.padEnd(10)} ${spec.summary}`);
  return ['usage: agent <command> [options]', '', 'commands:', ...rows, '', 'Every command takes --config PATH and --help.'].join('\n');
}
