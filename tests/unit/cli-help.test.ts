import { describe, it, expect } from '@jest/globals';
import { COMMANDS, parseCommandLine, type CommandName } from '../../agent/cli.js';

/** `agent COMMAND --help` is the reference a newcomer reads: every flag, its default, exit codes, an example. */
const help = (name: string): string => {
  const parsed = parseCommandLine([name, '--help']);
  if (parsed.name !== 'help') throw new Error(`${name} --help did not give help`);
  return parsed.text;
};

describe('agent COMMAND --help', () => {
  it.each(Object.keys(COMMANDS) as CommandName[])('%s: names every flag the parser accepts, the exit codes and an example', (name) => {
    const text = help(name);
    for (const flag of Object.keys(COMMANDS[name].options)) expect(text).toMatch(new RegExp(`^  --${flag}\\b`, 'm'));
    expect(text).toMatch(/^ {2}--config PATH /m);
    expect(text).toMatch(/^exit codes: .*\b0\b/m);
    expect(text).toMatch(/\b64 usage error/);
    expect(text).toMatch(/^example: agent |^example: systemctl /m);
  });

  it('gives defaults, not a bare usage line (run-now)', () => {
    const text = help('run-now');
    expect(text).toMatch(/--wait DUR +wait up to DUR .*\(default 10m\)/);
    expect(text).toMatch(/2 changes applied/);
    expect(text).toMatch(/75 another run holds the lock/);
    expect(text.split('\n').length).toBeGreaterThan(12);
  });
});
