import { describe, it, expect } from '@jest/globals';
import { parseCommandLine } from '../../agent/cli.js';
import { AgentError } from '../../agent/errors.js';

function usageError(argv: string[]): string {
  try {
    parseCommandLine(argv);
  } catch (error) {
    expect((error as AgentError).code).toBe('usage');
    return (error as Error).message;
  }
  throw new Error('expected a usage error');
}

describe('parseCommandLine', () => {
  it('parses run-now with its flags', () => {
    expect(parseCommandLine(['run-now', '--noop', '--no-wait', '--json', '--config', '/tmp/a.yaml'])).toMatchObject({
      name: 'run-now',
      values: { noop: true, 'no-wait': true, json: true, config: '/tmp/a.yaml' },
    });
  });

  it.each([
    [['frobnicate'], 'unknown command "frobnicate"'],
    [['run-now', '--colour'], "Unknown option '--colour'"],
    [['run-now', '--wait', 'soon'], '--wait: expected a duration'],
    [['run-now', '--wait', '1m', '--no-wait'], 'exclude each other'],
    [['run-now', '--trigger', 'cron'], '--trigger: expected one of'],
    [['run-now', 'extra'], 'wrong number of arguments'],
    [['config'], 'wrong number of arguments'],
    [['keygen'], '--out PREFIX is required'],
    [['publish', '/srv/dist'], '--key FILE is required'],
    [['publish'], 'wrong number of arguments'],
    [['publish', '/srv/dist', '--key', 'k', '--to', 'bucket/prefix'], '--to: expected s3://BUCKET/PREFIX'],
    [['config', 'show'], 'unknown config subcommand'],
    [['status', '--config'], "Option '--config <value>' argument missing"],
  ])('rejects %j as a usage error', (argv, message) => {
    expect(usageError(argv)).toContain(message);
  });

  it('parses keygen and publish', () => {
    expect(parseCommandLine(['keygen', '--out', '/root/release'])).toMatchObject({ name: 'keygen', values: { out: '/root/release' } });
    expect(parseCommandLine(['publish', '/srv/dist', '--key', 'k.key', '--to', 's3://releases/puppet', '--path-style'])).toMatchObject({
      name: 'publish',
      positionals: ['/srv/dist'],
      values: { key: 'k.key', to: 's3://releases/puppet', 'path-style': true },
    });
  });

  it('answers --help for every command and on its own', () => {
    expect(parseCommandLine(['--help'])).toMatchObject({ name: 'help' });
    expect(parseCommandLine(['status', '--help'])).toMatchObject({ name: 'help', text: expect.stringContaining('agent status') });
  });
});
