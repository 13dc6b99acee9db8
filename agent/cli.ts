import { parseArgs, type ParseArgsConfig } from 'node:util';
import { AgentError } from './errors.js';
import { HELP, helpText } from './cli-help.js';
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
      'agent run-now [--noop] [--no-sync] [--wait DUR | --no-wait] [--force] [--allow-downgrade] [--json] [--config PATH]\n' +
      '       agent run-now --plan PLAN_ID [--json] [--wait DUR | --no-wait] [--force]   (noop a plan\'s candidate, apply nothing)',
    options: {
      noop: { type: 'boolean' },
      'no-sync': { type: 'boolean' },
      wait: { type: 'string' },
      'no-wait': { type: 'boolean' },
      force: { type: 'boolean' },
      'allow-downgrade': { type: 'boolean' },
      json: { type: 'boolean' },
      trigger: { type: 'string' },
      plan: { type: 'string' },
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
      '       agent fleet run-now [--role R] [--result R] [--parallel N] [--max-failures K] [--noop | --plan PLAN_ID] [--ssh-user U] [--ssh-key K] [--ssh-port N]\n' +
      '       agent fleet prune [--older-than DUR] [--dry-run]\n' +
      '       agent fleet dashboard --out DIR|s3://BUCKET/PREFIX [--days N] | --serve [--out DIR] [--port N] [--every DUR]\n' +
      '       agent fleet query NAME --reports DIR [--json]   (NAME: drift-by-role, flapping-resources, failing-hosts, release-failure-rate)\n' +
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
      plan: { type: 'string' },
      bucket: { type: 'string' },
      prefix: { type: 'string' },
      endpoint: { type: 'string' },
      'path-style': { type: 'boolean' },
      region: { type: 'string' },
      out: { type: 'string' },
      days: { type: 'string' },
      serve: { type: 'boolean' },
      every: { type: 'string' },
      reports: { type: 'string' },
    },
    positionals: [1, 2],
  },
  keygen: {
    summary: 'write an Ed25519 key pair PREFIX.key (0600) and PREFIX.pub for signing releases',
    usage: 'agent keygen --out PREFIX',
    options: { out: { type: 'string' } },
    positionals: [0, 0],
  },
  publish: {
    summary: 'sign DIR as a release: into DIR/.release/ (rsync source) or uploaded --to s3://BUCKET/PREFIX',
    usage: 'agent publish DIR --key FILE [--to s3://BUCKET/PREFIX] [--serial N] [--endpoint URL] [--path-style] [--region R] [--config PATH]',
    options: {
      key: { type: 'string' },
      serial: { type: 'string' },
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
      'agent rollout start DIR|RELEASE_ID|--plan PLAN_ID --key K [--to s3://BUCKET/PREFIX] [--steps 1,10,50,100] [--bake 10m] [--max-failed N|P%] [--canary-role R] [--on-failure abort|pause]\n' +
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
      plan: { type: 'string' },
      json: { type: 'boolean' },
      watch: { type: 'boolean' },
      bucket: { type: 'string' },
      endpoint: { type: 'string' },
      'path-style': { type: 'boolean' },
      region: { type: 'string' },
    },
    positionals: [1, 2],
  },
  plan: {
    summary: 'plan start | show: the fleet nooping a candidate release on its real hosts, aggregated (S3 source)',
    usage:
      'agent plan start DIR|RELEASE_ID --key K [--to s3://BUCKET/PREFIX] [--role R[,R...]] [--sample PERCENT] [--expires DUR]\n' +
      '       agent plan show [PLAN_ID] [--json] [--by resource|role|host]\n' +
      '  each with [--config PATH] [--to s3://BUCKET/PREFIX] [--bucket REPORT_BUCKET] [--endpoint URL] [--path-style] [--region R]',
    options: {
      key: { type: 'string' },
      to: { type: 'string' },
      role: { type: 'string' },
      sample: { type: 'string' },
      expires: { type: 'string' },
      json: { type: 'boolean' },
      by: { type: 'string' },
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

export const FLEET_SUBCOMMANDS = ['status', 'hosts', 'targets', 'run-now', 'prune', 'dashboard', 'query'];

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
  if (parsed.values.help) return { name: 'help', text: helpText(spec.usage, spec.summary, HELP[name]) };
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
  if (command.name === 'plan') checkPlan(command, fail);
  if (typeof values.plan === 'string') checkPlanFlag(command, fail);
  // a rollout --to that is not s3:// is an rsync source: refused by the command with exit 1 (SPEC §9)
  if (command.name !== 'rollout' && command.name !== 'plan' && typeof values.to === 'string' && !/^s3:\/\/[^/]+/.test(values.to)) fail(`--to: expected s3://BUCKET/PREFIX, got "${values.to}"`);
  if (command.name === 'config' && command.positionals[0] !== 'check') fail(`unknown config subcommand "${command.positionals[0]}"`);
  if (command.name === 'fleet' && !FLEET_SUBCOMMANDS.includes(command.positionals[0] ?? '')) fail(`unknown fleet subcommand "${command.positionals[0]}"`);
  if (command.name === 'fleet') checkFleetDashboard(command, fail);
  for (const key of ['stale', 'older-than'] as const) {
    if (typeof values[key] === 'string' && parseDuration(values[key]) === undefined) fail(`--${key}: expected a duration like 30m or 1d, got "${values[key]}"`);
  }
  for (const key of ['port', 'parallel', 'max-failures', 'ssh-port', 'serial'] as const) {
    if (typeof values[key] === 'string' && !/^[1-9]\d*$/.test(values[key])) fail(`--${key}: expected a positive whole number, got "${values[key]}"`);
  }
  if (typeof values.serial === 'string' && !Number.isSafeInteger(Number(values.serial))) fail(`--serial: expected a whole number up to ${Number.MAX_SAFE_INTEGER}, got "${values.serial}"`);
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

/** `fleet dashboard` and `fleet query` (SPEC §11); every other fleet subcommand takes no argument. */
function checkFleetDashboard(command: ParsedCommand, fail: (message: string) => never): void {
  const { values, positionals } = command;
  const sub = positionals[0];
  if (sub === 'query') {
    if (positionals.length !== 2) fail('fleet query needs a query NAME');
    if (typeof values.reports !== 'string') fail('--reports DIR is required: a local copy of reports/ (aws s3 sync s3://BUCKET/reports/ DIR)');
    return;
  }
  if (positionals.length !== 1) fail(`fleet ${sub} takes no argument`);
  if (sub !== 'dashboard') return;
  if (!values.serve && typeof values.out !== 'string') fail('--out DIR|s3://BUCKET/PREFIX is required (or --serve)');
  if (values.serve && typeof values.out === 'string' && values.out.startsWith('s3://')) fail('--serve writes to a local directory: give --out DIR or no --out');
  if (typeof values.days === 'string' && !/^[1-9]\d*$/.test(values.days)) fail(`--days: expected a positive whole number of days, got "${values.days}"`);
  if (typeof values.every === 'string' && parseDuration(values.every) === undefined) fail(`--every: expected a duration like 1m, got "${values.every}"`);
}

function checkRollout(command: ParsedCommand, fail: (message: string) => never): void {
  const { values, positionals } = command;
  const sub = positionals[0] ?? '';
  if (!ROLLOUT_SUBCOMMANDS.includes(sub)) fail(`unknown rollout subcommand "${sub}"`);
  if (sub === 'start' && positionals.length !== 2 && typeof values.plan !== 'string') fail('rollout start needs DIR, RELEASE_ID or --plan PLAN_ID');
  if (sub === 'start' && positionals.length === 2 && typeof values.plan === 'string') fail('rollout start takes DIR|RELEASE_ID or --plan PLAN_ID, not both');
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

export const PLAN_SUBCOMMANDS = ['start', 'show'];

function checkPlan(command: ParsedCommand, fail: (message: string) => never): void {
  const { values, positionals } = command;
  const sub = positionals[0] ?? '';
  if (!PLAN_SUBCOMMANDS.includes(sub)) fail(`unknown plan subcommand "${sub}"`);
  if (sub === 'start') {
    if (positionals.length !== 2) fail('plan start needs DIR or RELEASE_ID');
    if (typeof values.key !== 'string') fail("--key FILE is required for plan start: the publisher's private key");
  }
  if (sub === 'show' && positionals[1] !== undefined && !PLAN_ID_PATTERN.test(positionals[1])) fail(`PLAN_ID: expected an id like p-20261206T120000Z-1a2b3c, got "${positionals[1]}"`);
  if (typeof values.sample === 'string' && parseSample(values.sample) === undefined) fail(`--sample: expected a percent of the hosts in scope, 1-100 (10 or 10%), got "${values.sample}"`);
  if (typeof values.expires === 'string' && !parseDuration(values.expires)) fail(`--expires: expected a duration like 30m or 2h, got "${values.expires}"`);
  if (typeof values.by === 'string' && !['resource', 'role', 'host'].includes(values.by)) fail(`--by: expected resource, role or host, got "${values.by}"`);
  if (typeof values.role === 'string' && values.role.split(',').some((role) => role.trim() === '')) fail(`--role: expected role names separated by commas, got "${values.role}"`);
}

const PLAN_ID_PATTERN = /^[A-Za-z0-9._-]{1,100}$/;

/** `--plan PLAN_ID` on run-now, fleet run-now and rollout start. */
function checkPlanFlag(command: ParsedCommand, fail: (message: string) => never): void {
  const { values, positionals } = command;
  if (!PLAN_ID_PATTERN.test(values.plan as string)) fail(`--plan: expected a plan id like p-20261206T120000Z-1a2b3c, got "${values.plan}"`);
  if (command.name === 'fleet' && positionals[0] !== 'run-now') fail('--plan goes with fleet run-now only');
  if (command.name === 'rollout' && positionals[0] !== 'start') fail('--plan goes with rollout start only');
  if ((command.name === 'run-now' || command.name === 'fleet') && values.noop) fail('--plan is a noop already: leave out --noop');
  if (command.name === 'run-now' && values['no-sync']) fail('--plan fetches the plan\'s candidate: it cannot run with --no-sync');
}

/** `--sample 10` or `10%`: a percent of the hosts in scope, more than 0 and at most 100. */
export function parseSample(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)%?$/.exec(text.trim());
  const value = match ? Number(match[1]) : Number.NaN;
  return value > 0 && value <= 100 ? value : undefined;
}

export function overview(): string {
  const rows = Object.entries(COMMANDS).map(([name, spec]) => `  ${name.padEnd(10)} ${spec.summary}`);
  return ['usage: agent <command> [options]', '', 'commands:', ...rows, '', 'Every command takes --config PATH and --help (its flags, defaults, exit codes and an example).'].join('\n');
}
