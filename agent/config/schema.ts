import { z } from 'zod';
import cron from 'node-cron';
import { parseDuration } from './duration.js';

/** A duration string or bare seconds (SPEC §3), as milliseconds. */
const duration = z
  .union([z.string(), z.number()])
  .transform((value, ctx) => {
    const ms = parseDuration(value);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected a duration like 30s, 10m, 1h, 2d, got ${JSON.stringify(value)}` });
      return z.NEVER;
    }
    return ms;
  });

const text = z.string({ error: (issue) => `expected a string, got ${describe(issue.input)}` });
const flag = z.boolean({ error: (issue) => `expected true or false, got ${describe(issue.input)}` });
const count = (max = Number.MAX_SAFE_INTEGER) =>
  z.number({ error: (issue) => `expected a whole number, got ${describe(issue.input)}` })
    .int({ error: (issue) => `expected a whole number, got ${describe(issue.input)}` })
    .min(0, { error: (issue) => `expected a whole number 0-${max}, got ${describe(issue.input)}` })
    .max(max, { error: (issue) => `expected a whole number 0-${max}, got ${describe(issue.input)}` });
const argv = z
  .array(text, { error: (issue) => `expected an argv list like ["/usr/local/bin/hook", "arg"], got ${describe(issue.input)}` })
  .min(1, { error: 'expected a non-empty argv list' });
const argvList = z.array(argv, {
  error: (issue) => `expected a list of argv lists like [["/usr/local/bin/hook", "arg"]], got ${describe(issue.input)}`,
});

export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'object') return Array.isArray(value) ? 'a list' : 'a mapping';
  return JSON.stringify(value);
}

const s3Location = {
  bucket: text.optional(),
  prefix: text.default(''),
  region: text.default('us-east-1'),
  endpoint: text.default(''),
  force_path_style: flag.default(false),
};

const sourceSchema = z
  .strictObject({
    type: z.enum(['rsync', 's3'], { error: (issue) => `expected rsync or s3, got ${describe(issue.input)}` }).default('rsync'),
    url: text.optional(),
    ssh_key: text.default('/etc/agent/ssh/id_ed25519'),
    known_hosts: text.default('/etc/agent/ssh/known_hosts'),
    port: z
      .number({ error: (issue) => `expected an integer 1-65535, got ${describe(issue.input)}` })
      .int({ error: (issue) => `expected an integer 1-65535, got ${describe(issue.input)}` })
      .min(1, { error: (issue) => `expected an integer 1-65535, got ${describe(issue.input)}` })
      .max(65535, { error: (issue) => `expected an integer 1-65535, got ${describe(issue.input)}` })
      .default(22),
    ...s3Location,
    timeout: duration.prefault('5m'),
  })
  .superRefine((source, ctx) => {
    if (source.type === 'rsync' && !source.url) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'required for type rsync: user@host:/path/ or a local path' });
    }
    if (source.type === 's3' && !source.bucket) {
      ctx.addIssue({ code: 'custom', path: ['bucket'], message: 'required for type s3: the bucket holding the releases' });
    }
  });

const reportSchema = z.strictObject({
  ...s3Location,
  bucket: text.min(1, { error: 'expected a bucket name' }),
  keep_local: count().default(50),
  spool_max: count().default(1000),
  /** SPEC §10: unified diffs of files in plan reports (false: checksums only), each cut at plan_diff_max bytes. */
  plan_diffs: flag.default(true),
  plan_diff_max: count(16 * 1024 * 1024).default(64 * 1024),
  redact: z
    .array(text)
    .default([])
    .superRefine((patterns, ctx) => {
      patterns.forEach((pattern, index) => {
        try {
          new RegExp(pattern);
        } catch (error) {
          ctx.addIssue({ code: 'custom', path: [index], message: `expected a regular expression: ${(error as Error).message}` });
        }
      });
    }),
});

export const configSchema = z.strictObject({
  instance_id: text.default('auto'),
  roles: z.array(text, { error: (issue) => `expected a list of role names, got ${describe(issue.input)}` }).default([]),
  schedule: text.default('*/5 * * * *').refine((expr) => cron.validate(expr), {
    error: (issue) => `expected a cron expression of 5 or 6 fields, got ${describe(issue.input)}`,
  }),
  splay: duration.prefault('5m'),
  drift_check_every: duration.prefault('30m'),
  stop_grace: duration.prefault('2m'),
  run_at_boot: flag.default(true),
  state_dir: text.default('/var/lib/agent'),
  stage_dir: text.default('/var/puppetstage'),
  source: sourceSchema,
  verify: z.strictObject({ public_keys: z.array(text).default([]) }).default({ public_keys: [] }),
  puppet: z
    .strictObject({
      bin: text.default('puppet'),
      manifest: text.default('manifests'),
      // Puppet's modulepath is a colon list (control repos use `site:modules`): a YAML list or that string
      modulepath: z
        .union([text, z.array(text)], { error: (issue) => `expected a directory, a colon list (site:modules) or a list of directories, got ${describe(issue.input)}` })
        .default('modules')
        .transform((value) => (Array.isArray(value) ? value : value.split(':')).filter((entry) => entry !== '')),
      mode: z.enum(['enforce', 'noop'], { error: (issue) => `expected enforce or noop, got ${describe(issue.input)}` }).default('enforce'),
      timeout: duration.prefault('30m'),
      hiera_config: text.default(''),
      extra_args: z.array(text).default([]),
    })
    .prefault({}),
  report: reportSchema,
  hooks: z
    .strictObject({ after_register: argvList.default([]), after_run: argvList.default([]), timeout: duration.prefault('30s') })
    .prefault({}),
  metrics: z.strictObject({ textfile: text.default('/var/lib/prometheus/node-exporter/agent.prom') }).prefault({}),
  log: z
    .strictObject({
      level: z
        .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal'], {
          error: (issue) => `expected one of trace, debug, info, warn, error, fatal, got ${describe(issue.input)}`,
        })
        .default('info'),
    })
    .prefault({}),
});

/** The validated config: durations in milliseconds, every default applied. */
export type Config = z.output<typeof configSchema>;
