/**
 * `agent COMMAND --help`: every flag with its default, the exit codes, one example. Kept apart from
 * cli.ts's parsing tables; tests/unit/cli-help.test.ts fails when a command or flag has no line here.
 */
export interface CommandHelp {
  /** flag (as typed, with its argument) → what it does, and its default. */
  flags: Array<[string, string]>;
  exits: string;
  example: string;
}

const CONFIG: [string, string] = ['--config PATH', 'the config file (default $AGENT_CONFIG, then /etc/agent/agent.yaml)'];
const S3_FLAGS: Array<[string, string]> = [
  ['--bucket B', 'the report bucket (default: report.bucket of the config)'],
  ['--prefix P', 'key prefix in the bucket (default: report.prefix, else none)'],
  ['--endpoint URL', 'an S3-compatible endpoint (default: the config\'s, then $AWS_ENDPOINT_URL_S3, else AWS)'],
  ['--path-style', 'path-style addressing (default: the config\'s force_path_style, else off)'],
  ['--region R', 'the bucket\'s region (default: the config\'s, then $AWS_REGION, else us-east-1)'],
];
const OPERATOR = '0 success, 1 failure (S3, a missing file), 64 usage error';

export const HELP: Record<string, CommandHelp> = {
  'run-now': {
    flags: [
      ['--noop', 'show what Puppet would change, change nothing (default: puppet.mode of the config)'],
      ['--no-sync', 'do not poll the source: apply the active release as it is (default: poll)'],
      ['--wait DUR', 'wait up to DUR for another run holding the lock (default 10m)'],
      ['--no-wait', 'give up at once when another run holds the lock (exit 75)'],
      ['--force', 'run even while runs are disabled (`agent disable`)'],
      ['--allow-downgrade', 'accept a release with a lower serial: a deliberate rollback (default: refused)'],
      ['--json', 'print the report on stdout (progress stays on stderr)'],
      ['--plan PLAN_ID', 'answer that plan: noop its candidate release beside the active one, apply nothing'],
      ['--trigger T', 'internal: schedule, boot, signal (the daemon), fleet (`fleet run-now`); default run-now'],
      CONFIG,
    ],
    exits:
      '0 nothing changed, 2 changes applied (or drift found with --noop), 4 failures (a resource, Puppet, or the source:\n' +
      '  the last good release was applied), 6 both 2 and 4, 1 the agent could not run (config, no good release),\n' +
      '  3 runs are disabled, 75 another run holds the lock, 64 usage error',
    example: 'agent run-now --noop          # what would change here, changing nothing',
  },
  daemon: {
    flags: [CONFIG],
    exits: '0 after a clean stop (SIGTERM/SIGINT), 78 bad or missing config (systemd does not restart it), 64 usage error',
    example: 'systemctl start agent         # systemd runs `agent daemon`; in a terminal: agent daemon --config ./agent.yaml',
  },
  disable: {
    flags: [
      ['REASON...', 'why, shown in `agent status` and the fleet view (default "no reason given")'],
      ['--for DUR', 'lift itself after DUR, e.g. 2h (default: until `agent enable`)'],
      CONFIG,
    ],
    exits: '0 done, 1 could not write state_dir, 64 usage error',
    example: 'agent disable "db migration" --for 2h',
  },
  enable: {
    flags: [CONFIG],
    exits: '0 done (also when runs were not disabled), 1 could not write state_dir, 64 usage error',
    example: 'agent enable',
  },
  register: {
    flags: [CONFIG],
    exits: '0 written, 1 S3 failure, 64 usage error',
    example: 'agent register',
  },
  deregister: {
    flags: [CONFIG],
    exits: '0 removed, 1 S3 failure, 64 usage error',
    example: 'agent deregister',
  },
  fleet: {
    flags: [
      ['--json', 'status: the rows as JSON'],
      ['--stale DUR', 'status: a report without next_due_at older than DUR is stale (default 2 x drift_check_every + splay)'],
      ['--role R', 'only instances with role R (default: all)'],
      ['--result R', 'only instances in state R: compliant, changed, corrected, drifted, failed, error, disabled, stale... (default: all)'],
      ['--ip private|public', 'hosts: which address to print (default private)'],
      ['--port N', 'targets: the port in each target (default 9100, node-exporter)'],
      ['--parallel N', 'run-now: hosts at once (default 10)'],
      ['--max-failures K', 'run-now: start no more hosts after K failures (default: no limit)'],
      ['--noop', 'run-now: `agent run-now --noop` on each host'],
      ['--plan PLAN_ID', 'run-now: each host answers that plan (`agent run-now --plan`), applying nothing'],
      ['--ssh-user U', 'run-now: ssh user, with `sudo -n` when not root (default root)'],
      ['--ssh-key K', 'run-now: ssh private key (default: ssh\'s own)'],
      ['--ssh-port N', 'run-now: ssh port (default 22)'],
      ['--older-than DUR', 'prune: entries of hosts silent this long (default 1d)'],
      ['--dry-run', 'prune: list what would be removed, remove nothing'],
      ['--out DIR|s3://B/P', 'dashboard: where the static site goes (with --serve: a temp dir unless given)'],
      ['--days N', 'dashboard: how many days of history.json snapshots to keep and draw (default 14)'],
      ['--serve', 'dashboard: serve the site on 127.0.0.1 (--port, default 8080) and rebuild it every minute'],
      ['--every DUR', 'dashboard --serve: how often to rebuild (default 1m)'],
      ['--reports DIR', 'query: a local copy of reports/ (dt=YYYY-MM-DD/<instance>/*.json) to query with DuckDB'],
      ...S3_FLAGS,
      CONFIG,
    ],
    exits: `${OPERATOR}; fleet run-now: 0 when every host returned 0 or 2, else 4; fleet dashboard: 0 (bad entries are counted as warnings), 1 when S3 cannot be read`,
    example: 'agent fleet status --role web --stale 2h',
  },
  keygen: {
    flags: [['--out PREFIX', 'required: writes PREFIX.key (0600, never overwritten) and PREFIX.pub'], ['--config PATH', 'accepted as everywhere; keygen reads no config']],
    exits: '0 written, 1 the key exists or cannot be written, 64 usage error',
    example: 'agent keygen --out ~/keys/release',
  },
  publish: {
    flags: [
      ['DIR', 'the tree to sign, as the hosts get it'],
      ['--key FILE', 'required: the private key from `agent keygen`'],
      ['--to s3://BUCKET/PREFIX', 'upload to an S3 source (default: write DIR/.release/ for an rsync source)'],
      ['--serial N', 'the release serial (default: the higher of the time in seconds and one past the last published)'],
      ['--endpoint URL', 'S3-compatible endpoint (default: the config\'s source:, then $AWS_ENDPOINT_URL_S3)'],
      ['--path-style', 'path-style addressing (default: the config\'s source.force_path_style)'],
      ['--region R', 'the bucket\'s region (default: the config\'s, then $AWS_REGION, else us-east-1)'],
      CONFIG,
    ],
    exits: OPERATOR,
    example: 'agent publish ./puppet --key ~/keys/release.key --to s3://releases/puppet',
  },
  rollout: {
    flags: [
      ['--key K', 'the publisher\'s private key (all but status)'],
      ['--to s3://BUCKET/PREFIX', 'the S3 source (default: the config\'s source:)'],
      ['--steps LIST', 'start: percents of the fleet per wave (default 1,10,50,100)'],
      ['--bake DUR', 'start: how long each wave runs before the next (default 10m)'],
      ['--max-failed N|P%', 'start: failed hosts tolerated before the rollout halts (default 0: the first failure halts it)'],
      ['--canary-role R', 'start: hosts with role R go first (default: none)'],
      ['--on-failure abort|pause', 'start: what a halt does (default abort)'],
      ['--plan PLAN_ID', 'start: roll out the release that plan nooped (default: none)'],
      ['--json', 'status: as JSON'],
      ['--watch', 'status: redraw until the rollout ends'],
      ['--bucket REPORT_BUCKET', 'the report bucket the controller reads (default: report.bucket of the config)'],
      ['--endpoint URL', 'S3-compatible endpoint (default: the config\'s, then $AWS_ENDPOINT_URL_S3)'],
      ['--path-style', 'path-style addressing (default: the config\'s)'],
      ['--region R', 'the buckets\' region (default: the config\'s, then $AWS_REGION, else us-east-1)'],
      CONFIG,
    ],
    exits: OPERATOR,
    example: 'agent rollout start ./puppet --key ~/keys/release.key --steps 5,50,100 --bake 15m',
  },
  plan: {
    flags: [
      ['--key K', 'start: the publisher\'s private key'],
      ['--to s3://BUCKET/PREFIX', 'the S3 source (default: the config\'s source:)'],
      ['--role R[,R...]', 'start: only hosts with these roles answer (default: all)'],
      ['--sample PERCENT', 'start: a stable sample of the hosts in scope (default: all of them)'],
      ['--expires DUR', 'start: hosts stop answering after DUR (default 1h)'],
      ['--json', 'show: as JSON'],
      ['--by resource|role|host', 'show: how the answers are grouped (default resource)'],
      ['--bucket REPORT_BUCKET', 'the report bucket the answers go to (default: report.bucket of the config)'],
      ['--endpoint URL', 'S3-compatible endpoint (default: the config\'s, then $AWS_ENDPOINT_URL_S3)'],
      ['--path-style', 'path-style addressing (default: the config\'s)'],
      ['--region R', 'the buckets\' region (default: the config\'s, then $AWS_REGION, else us-east-1)'],
      CONFIG,
    ],
    exits: OPERATOR,
    example: 'agent plan start ./puppet --key ~/keys/release.key --role web',
  },
  status: {
    flags: [['--json', 'as JSON (schema agent.status/v1)'], CONFIG],
    exits: '0 whatever the last run did (also "not configured" when there is no config file), 1 invalid config, 64 usage error',
    example: 'agent status',
  },
  config: {
    flags: [['--json', 'the resolved config as JSON (durations in ms)'], CONFIG],
    exits: '0 valid, 1 invalid or missing (every problem listed), 64 usage error',
    example: 'agent config check --config ./agent.yaml',
  },
};

/** The full help of one command. */
export function helpText(usage: string, summary: string, help: CommandHelp | undefined): string {
  if (!help) return `usage: ${usage}\n  ${summary}`;
  const width = Math.max(...help.flags.map(([flag]) => flag.length));
  return [
    `usage: ${usage}`,
    `  ${summary}`,
    '',
    'options:',
    ...help.flags.map(([flag, text]) => `  ${flag.padEnd(width)}  ${text}`),
    `  ${'-h, --help'.padEnd(width)}  this help`,
    '',
    `exit codes: ${help.exits}`,
    '',
    `example: ${help.example}`,
  ].join('\n');
}
